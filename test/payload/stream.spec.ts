import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { PayloadError, PayloadStream } from "../../messaging/payload";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

describe("PayloadStream", () => {
  const bytes = Buffer.alloc(3 * 1024 * 1024 + 5, "payload ");
  const chunked = () => Readable.from([bytes.subarray(0, 1 << 20), bytes.subarray(1 << 20)]);

  it("passes the bytes through unchanged and knows their SHA-256 at the end", async () => {
    const stream = new PayloadStream(chunked(), sha256(bytes), bytes.length, "s3://b/k");
    assert.ok((await readAll(stream)).equals(bytes));
    assert.deepEqual([stream.sha256, stream.bytes, stream.verified], [sha256(bytes), bytes.length, true]);
  });

  it("errors instead of ending when the bytes do not match the stored SHA-256", async () => {
    const stream = new PayloadStream(chunked(), sha256(Buffer.from("other")), bytes.length, "s3://b/k");
    await assert.rejects(readAll(stream), (e: PayloadError) => e.code === "ChecksumMismatch");
  });

  it("errors, rather than waiting forever, when the source closes before its end without an error", async () => {
    const source = new Readable({ read() {} });
    source.push(bytes.subarray(0, 1000));
    setTimeout(() => source.destroy(), 20);
    const stream = new PayloadStream(source, undefined, bytes.length, "s3://b/k");
    await assert.rejects(
      readAll(stream),
      (e: PayloadError) =>
        e.code === "SizeMismatch" && /s3:\/\/b\/k: the read stopped after 1000 bytes/.test(e.message),
    );
  });

  it("a reader that stops early releases the source", async () => {
    const source = chunked();
    const stream = new PayloadStream(source, sha256(bytes), bytes.length, "s3://b/k");
    for await (const _ of stream) break;
    assert.ok(source.destroyed);
  });
});
