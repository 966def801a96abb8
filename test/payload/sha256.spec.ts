import * as assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import { Readable } from "node:stream";
import { PayloadError, PayloadStream } from "../../messaging/payload";
import {
  LAMBDA_MB_PER_VCPU,
  PARALLEL_HASH_MIN_BYTES,
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

  it("is the visible cores off Lambda or with a memory value that is not a number", () => {
    assert.equal(usableCores({}), visible);
    assert.equal(usableCores({ AWS_LAMBDA_FUNCTION_MEMORY_SIZE: "lots" }), visible);
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
