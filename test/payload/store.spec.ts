// The store's own rules, in process: option bounds refused before any S3 call (the client points at
// a closed port, so a call that goes out fails with a network error, not a PayloadError), and how a
// PayloadStream hands bytes on, verifies them, and releases its source.
import * as assert from "node:assert/strict";
import { Readable } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import {
  PayloadError,
  PayloadStream,
  copyPayload,
  uploadPayload,
  type StoreOptions,
} from "../../messaging/payload";
import { sha256 } from "./helpers";

const MiB = 1024 * 1024;
const s3 = new S3Client({
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
  maxAttempts: 1,
});
const store: StoreOptions = { s3, bucket: "b" };

describe("store options: refused before any S3 call, the bounds themselves accepted", () => {
  const refused = (options: Partial<StoreOptions>, message: string) =>
    Promise.all(
      [
        uploadPayload("x", { ...store, ...options }),
        copyPayload({ bucket: "src", key: "k" }, { ...store, ...options }),
      ].map((call) =>
        assert.rejects(
          call,
          (e: unknown) => e instanceof PayloadError && e.code === "InvalidOption" && e.message === message,
        ),
      ),
    );
  /** Valid options: the call goes out to S3, which is not there. */
  const accepted = (options: Partial<StoreOptions>) =>
    assert.rejects(
      uploadPayload("x", { ...store, ...options }),
      (e: unknown) => !(e instanceof PayloadError),
    );

  it("bucket: a non-empty string", async () => {
    await refused({ bucket: "" }, 'bucket must be a non-empty string, got ""');
    await refused({ bucket: undefined as never }, "bucket must be a non-empty string, got undefined");
    await accepted({ bucket: "a" });
  });

  it("partSizeBytes: an integer from 5 MiB to 5 GiB", async () => {
    for (const part of [5 * MiB - 1, 5 * 1024 * MiB + 1, 6 * MiB + 0.5])
      await refused(
        { partSizeBytes: part },
        `partSizeBytes must be an integer from 5242880 to 5 GiB, got ${part}`,
      );
    for (const part of [5 * MiB, 5 * 1024 * MiB]) await accepted({ partSizeBytes: part });
  });

  it("queueSize: an integer from 1 to 64", async () => {
    for (const queue of [0, 65, 1.5])
      await refused({ queueSize: queue }, `queueSize must be an integer from 1 to 64, got ${queue}`);
    for (const queue of [1, 64]) await accepted({ queueSize: queue });
  });

  it("keyPrefix: the key prefix rules", async () => {
    await refused({ keyPrefix: "../up" }, 'keyPrefix "../up" must not start with "." or "/"');
    await refused({ keyPrefix: 5 as never }, "keyPrefix must be a string, got number");
  });
});

describe("PayloadStream", () => {
  const bytes = Buffer.alloc(4 * MiB + 3, "stream ");

  async function read(stream: PayloadStream): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return Buffer.concat(chunks);
  }

  it("knows its SHA-256 only once it ended", async () => {
    const stream = new PayloadStream(Readable.from([bytes]), undefined, undefined, "s3://b/k");
    assert.throws(() => stream.sha256, /^Error: PayloadStream.sha256 is only known after the stream ends$/);
    assert.ok((await read(stream)).equals(bytes));
    assert.deepEqual([stream.sha256, stream.bytes, stream.verified], [sha256(bytes), bytes.length, false]);
  });

  it("takes a stored checksum in upper case", async () => {
    const stream = new PayloadStream(
      Readable.from([bytes]),
      sha256(bytes).toUpperCase(),
      bytes.length,
      "s3://b/k",
    );
    assert.ok((await read(stream)).equals(bytes));
  });

  it("names the location and both counts when fewer bytes arrive than the marker says", async () => {
    const stream = new PayloadStream(Readable.from([bytes]), undefined, bytes.length + 1, "s3://b/k");
    await assert.rejects(
      read(stream),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "SizeMismatch" &&
        e.message === `s3://b/k: read ${bytes.length} bytes, the marker says ${bytes.length + 1}`,
    );
  });

  it("names the stored and the computed digest on a checksum mismatch", async () => {
    const stored = sha256("other");
    const stream = new PayloadStream(Readable.from([bytes]), stored, bytes.length, "s3://b/k");
    await assert.rejects(
      read(stream),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.message === `s3://b/k: SHA-256 ${sha256(bytes)} does not match the stored ${stored}`,
    );
  });

  it("names the limit when more than maxBytes arrive", async () => {
    const stream = new PayloadStream(Readable.from([bytes]), undefined, undefined, "s3://b/k", 1000);
    await assert.rejects(
      read(stream),
      (e: unknown) =>
        e instanceof PayloadError && e.message === "s3://b/k: more than the 1000-byte limit arrived",
    );
  });

  it("takes exactly the marker's size and exactly maxBytes", async () => {
    const stream = new PayloadStream(
      Readable.from([bytes]),
      sha256(bytes),
      bytes.length,
      "s3://b/k",
      bytes.length,
    );
    assert.ok((await read(stream)).equals(bytes));
  });

  it("pauses its source while the consumer does not read, so memory stays bounded", async () => {
    let produced = 0;
    const chunk = Buffer.alloc(64 * 1024, 1);
    const source = new Readable({
      read() {
        produced += chunk.length;
        this.push(produced > 16 * MiB ? null : chunk);
      },
    });
    const stream = new PayloadStream(source, undefined, undefined, "s3://b/k");
    stream.once("readable", () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(produced < 4 * MiB, `${produced} bytes produced while nobody read`);
    const read = await (async () => {
      let n = 0;
      for await (const c of stream) n += (c as Buffer).length;
      return n;
    })();
    assert.equal(read, 16 * MiB);
  });

  it("leaves a source that ended alone (a keep-alive socket), and releases one that did not", async () => {
    const ended = new Readable({ autoDestroy: false, read() {} });
    ended.push(bytes);
    ended.push(null);
    const done = new PayloadStream(ended, undefined, undefined, "s3://b/k");
    await read(done);
    done.destroy();
    assert.equal(ended.destroyed, false);
    const open = new Readable({ autoDestroy: false, read() {} });
    open.push(bytes);
    const cut = new PayloadStream(open, undefined, undefined, "s3://b/k");
    cut.destroy();
    assert.equal(open.destroyed, true);
  });
});
