import * as assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { Readable } from "node:stream";
import { PayloadError, PayloadStream } from "../../messaging/payload";
import {
  LAMBDA_MB_PER_VCPU,
  PARALLEL_HASH_MIN_BYTES,
  stopHashWorker,
  streamHash,
  usableCores,
} from "../../messaging/payload/sha256";

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** `bytes` in chunks of uneven sizes, none aligned with the worker's 1 MiB batches. */
function* uneven(bytes: Buffer): Generator<Buffer> {
  const sizes = [1, 65_536, 333_333, 1_048_577, 7];
  for (let at = 0, i = 0; at < bytes.length; i++) {
    const n = Math.min(sizes[i % sizes.length], bytes.length - at);
    yield bytes.subarray(at, at + n);
    at += n;
  }
}

describe("SHA-256 of a large payload on the worker thread", function () {
  const multiCore = availableParallelism() > 1;
  const bytes = randomBytes(PARALLEL_HASH_MIN_BYTES + 3 * MiB + 17);

  before(function () {
    // A single-core machine hashes in the thread (nothing to gain from a worker): nothing to test.
    if (!multiCore) this.skip();
  });

  it("is used from PARALLEL_HASH_MIN_BYTES up, and not below or for an unknown small size", () => {
    const hashes = [
      streamHash(PARALLEL_HASH_MIN_BYTES),
      streamHash(PARALLEL_HASH_MIN_BYTES - 1),
      streamHash(undefined),
    ];
    assert.deepEqual(
      hashes.map((h) => h.where),
      ["worker", "thread", "thread"],
    );
    for (const h of hashes) h.dispose();
  });

  it("gives the digest of every byte, for streams hashed at the same time", async () => {
    const other = randomBytes(PARALLEL_HASH_MIN_BYTES + 5);
    const [a, b] = [streamHash(bytes.length), streamHash(other.length)];
    const ia = uneven(bytes);
    const ib = uneven(other);
    // Interleaved, so both streams' batches are in the worker's queue together.
    for (let ra = ia.next(), rb = ib.next(); !ra.done || !rb.done; ra = ia.next(), rb = ib.next()) {
      if (!ra.done) a.update(ra.value);
      if (!rb.done) b.update(rb.value);
    }
    assert.deepEqual(await Promise.all([a.digest(), b.digest()]), [sha256(bytes), sha256(other)]);
  });

  it("holds the feeder back when the worker is behind, and lets it go on when it catches up", async () => {
    const hash = streamHash(bytes.length);
    let waits = 0;
    for (const chunk of uneven(bytes)) {
      hash.update(chunk);
      if (hash.backlogged) {
        waits++;
        await new Promise<void>((drained) => hash.onDrain(drained));
        assert.equal(hash.backlogged, false);
      }
    }
    assert.equal(await hash.digest(), sha256(bytes));
    // Fed without pause, 19 MiB is more than the bound (8 batches of 1 MiB) can take at once.
    assert.ok(waits > 0, "the feeder never had to wait");
  });

  it("sends whole 1 MiB batches: backlogged at 8 outstanding, not at 7, and never from small chunks", async () => {
    const hash = streamHash(bytes.length);
    for (let i = 0; i < 1024; i++) hash.update(bytes.subarray(i * 1023, (i + 1) * 1023));
    assert.equal(hash.backlogged, false, "1,023 small chunks fill less than one batch");
    // Replies need this thread's event loop: until it turns, every batch sent is outstanding.
    hash.update(bytes.subarray(1024 * 1023, 7 * MiB));
    assert.equal(hash.backlogged, false, "7 batches");
    let called = false;
    hash.onDrain(() => (called = true));
    assert.equal(called, true, "onDrain calls back at once when the hash is not backlogged");
    hash.update(bytes.subarray(7 * MiB, 8 * MiB));
    assert.equal(hash.backlogged, true, "8 batches");
    assert.equal(await hash.digest(), sha256(bytes.subarray(0, 8 * MiB)));
  });

  it("digests a payload of whole batches (nothing left over to send)", async () => {
    const whole = bytes.subarray(0, PARALLEL_HASH_MIN_BYTES);
    const hash = streamHash(whole.length);
    hash.update(whole);
    assert.equal(await hash.digest(), sha256(whole));
  });

  /** A worker counts as a MessagePort among the handles that keep the process alive, while ref'd. */
  const workerRefs = () => process.getActiveResourcesInfo().filter((r) => r === "MessagePort").length;

  it("keeps the process alive only while a stream hashes on the worker", async () => {
    const idle = workerRefs();
    const [a, b] = [streamHash(PARALLEL_HASH_MIN_BYTES), streamHash(PARALLEL_HASH_MIN_BYTES)];
    assert.equal(workerRefs(), idle + 1);
    a.dispose();
    assert.equal(workerRefs(), idle + 1, "b still hashes");
    b.update(bytes.subarray(0, 10));
    assert.equal(await b.digest(), sha256(bytes.subarray(0, 10)));
    assert.equal(workerRefs(), idle);
    a.dispose();
    b.dispose();
    assert.equal(workerRefs(), idle);
  });

  it("a worker that exits fails the streams hashing on it, and the next stream starts a new one", async () => {
    const underWay = streamHash(bytes.length);
    underWay.update(bytes.subarray(0, 3 * MiB));
    const backlogged = streamHash(bytes.length);
    for (let i = 0; i < 8; i++) backlogged.update(bytes.subarray(i * MiB, (i + 1) * MiB));
    let drained = false;
    backlogged.onDrain(() => (drained = true));
    await stopHashWorker();
    await assert.rejects(underWay.digest(), /^Error: the SHA-256 worker thread exited \(code \d+\)$/);
    await assert.rejects(backlogged.digest(), /worker thread exited/);
    assert.equal(drained, true, "a feeder waiting for the worker is let go");
    assert.equal(backlogged.backlogged, false, "a failed hash holds nobody back");
    underWay.update(bytes.subarray(0, MiB));
    underWay.dispose();
    const next = streamHash(bytes.length);
    assert.equal(next.where, "worker");
    next.update(bytes);
    assert.equal(await next.digest(), sha256(bytes));
    await stopHashWorker();
  });

  it("PayloadStream verifies a large payload hashed on the worker, and refuses a wrong one", async () => {
    const good = new PayloadStream(Readable.from(uneven(bytes)), sha256(bytes), bytes.length, "s3://b/k");
    const chunks: Buffer[] = [];
    for await (const c of good) chunks.push(c);
    assert.ok(Buffer.concat(chunks).equals(bytes));
    assert.equal(good.sha256, sha256(bytes));

    const corrupt = Buffer.from(bytes);
    corrupt[corrupt.length - 1] ^= 1;
    const bad = new PayloadStream(Readable.from(uneven(corrupt)), sha256(bytes), bytes.length, "s3://b/k");
    await assert.rejects(
      (async () => {
        for await (const _ of bad);
      })(),
      (e: PayloadError) => e.code === "ChecksumMismatch",
    );
  });
});

describe("cores a Lambda function may use for hashing", () => {
  const visible = availableParallelism();

  it("follows the memory setting on Lambda, not the cores the sandbox shows", () => {
    // The default 512 MB function has about 0.29 vCPU: a worker would only add the copy.
    assert.equal(usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "512" }), 0);
    assert.equal(
      usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(2 * LAMBDA_MB_PER_VCPU - 1) }),
      Math.min(visible, 1),
    );
    assert.equal(
      usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(2 * LAMBDA_MB_PER_VCPU) }),
      Math.min(visible, 2),
    );
    assert.equal(usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "10240" }), Math.min(visible, 5));
  });

  it("is the visible cores off Lambda or with a memory value that is not a positive integer", () => {
    assert.equal(usableCores({}), visible);
    for (const memory of ["lots", "0", "-512", "1769.5"])
      assert.equal(usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: memory }), visible, memory);
  });

  it("an in-thread hash never holds the feeder back", async () => {
    const hash = streamHash(10);
    assert.deepEqual([hash.where, hash.backlogged], ["thread", false]);
    let called = false;
    hash.onDrain(() => (called = true));
    assert.equal(called, true);
    hash.update(Buffer.from("0123456789"));
    assert.equal(await hash.digest(), sha256(Buffer.from("0123456789")));
  });

  it("hashes a large payload in the thread of a 512 MB function", () => {
    const saved = process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
    process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = "512";
    try {
      const hash = streamHash(PARALLEL_HASH_MIN_BYTES * 4);
      assert.equal(hash.where, "thread");
      hash.dispose();
    } finally {
      if (saved === undefined) delete process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE;
      else process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE = saved;
    }
  });
});
