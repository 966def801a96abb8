// The store's own rules: option bounds refused before any S3 call (the client points at a closed
// port, so a call that goes out fails with a network error, not a PayloadError), how a PayloadStream
// hands bytes on, verifies them, and releases its source, and the store's requests against s3rver
// seen on the wire by a fault proxy (uploads, multipart and its abort, copies, reads and their bounds).
import * as assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { Readable } from "node:stream";
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  type GetObjectCommandOutput,
  PutObjectTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { emulatorClientConfig, startS3rver, type RunningS3rver } from "../../local/emulators";
import { s3Error, startFaultProxy, type FaultProxy, type ProxiedRequest } from "../../local/fault-proxy";
import {
  PayloadError,
  PayloadStream,
  copyPayload,
  uploadPayload,
  type PayloadPointer,
  type StoreOptions,
} from "../../messaging/payload";
import {
  discardObject,
  getObject,
  isMissingObject,
  openPayload,
  readChecksumTag,
  verifyingStream,
  validateLocationRules,
  type OpenOptions,
  type PayloadLocationRules,
} from "../../messaging/payload/store";
import { payloadStream, sha256 } from "./helpers";

async function readAll(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c);
  return Buffer.concat(chunks);
}

const MiB = 1024 * 1024;

/** A source that pushes `chunk` until `total` bytes, counting what it was asked to produce. */
function countingSource(chunk: Buffer, total: number): { source: Readable; produced: () => number } {
  let produced = 0;
  const source = new Readable({
    read() {
      produced += chunk.length;
      this.push(produced > total ? null : chunk);
    },
  });
  return { source, produced: () => produced };
}
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
    const chunk = Buffer.alloc(64 * 1024, 1);
    const { source, produced } = countingSource(chunk, 16 * MiB);
    const stream = new PayloadStream(source, undefined, undefined, "s3://b/k");
    stream.once("readable", () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.ok(produced() < 4 * MiB, `${produced()} bytes produced while nobody read`);
    const read = await (async () => {
      let n = 0;
      for await (const c of stream) n += (c as Buffer).length;
      return n;
    })();
    assert.equal(read, 16 * MiB);
  });

  it("reads nothing beyond its source's own buffer before the consumer asks", async () => {
    const chunk = Buffer.alloc(64 * 1024, 1);
    const { source, produced } = countingSource(chunk, 16 * MiB);
    const stream = new PayloadStream(source, undefined, undefined, "s3://b/k");
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(produced() <= 2 * chunk.length, `${produced()} bytes produced before anyone read`);
    stream.destroy();
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

const BUCKET = "store";
const SOURCE = "staging";
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * The store's requests against s3rver, each seen on the wire by a recording fault proxy: the
 * headers and parameters that reach S3, the order of the calls, the abort of a multipart upload
 * that fails midway, and what a GetObject is checked against. Objects stay small (a multipart
 * upload is S3's 5 MiB floor plus a byte); a copy beyond 5 GiB gets its size from a HEAD answered
 * by the proxy, its part copies answered there too, since no test moves gigabytes.
 */
describe("store against s3rver, through a recording proxy", function () {
  this.timeout(30_000);
  let s3rver: RunningS3rver;
  let proxy: FaultProxy;
  let s3: S3Client;
  before(async () => {
    s3rver = await startS3rver({ buckets: [BUCKET, SOURCE] });
    proxy = await startFaultProxy(s3rver.endpoint);
  });
  after(async () => {
    await proxy?.stop();
    await s3rver?.stop();
  });
  beforeEach(() => {
    proxy.clearFaults();
    proxy.requests.length = 0;
    // A request the signal should have ended fails on its own after 10 s, not at mocha's timeout.
    s3 = new S3Client({
      ...emulatorClientConfig(proxy.endpoint),
      maxAttempts: 1,
      requestHandler: { requestTimeout: 10_000 },
    });
  });
  /**
   * A signal that fires 50 ms after the next `operation` reached the proxy, which never answers it:
   * the request can only end through the signal.
   */
  function stalledUntilAborted(operation: string): AbortSignal {
    const controller = new AbortController();
    proxy.addFault({
      match: (r) => {
        if (r.operation !== operation) return false;
        setTimeout(() => controller.abort(new Error(`deadline during ${operation}`)), 50);
        return true;
      },
      action: { kind: "stall" },
      times: 1,
    });
    return controller.signal;
  }
  /** Rejects through the signal: within seconds, as an abort, not the client's own timeout. */
  async function abortedSoon(call: Promise<unknown>): Promise<void> {
    const started = Date.now();
    await assert.rejects(call, (e: Error) => e.name === "AbortError" || /^deadline during/.test(e.message));
    assert.ok(Date.now() - started < 8000, `ended after ${Date.now() - started} ms`);
  }

  const operations = () => proxy.requests.map((r) => r.operation);
  const of = (operation: string) => proxy.requests.filter((r) => r.operation === operation);
  const keyOf = (r: ProxiedRequest) => decodeURIComponent(new URL(r.url, "http://x").pathname.slice(1));
  const query = (r: ProxiedRequest, name: string) => new URL(r.url, "http://x").searchParams.get(name);
  const fail = (operation: string, times = 1) =>
    proxy.addFault({
      match: (r) => r.operation === operation,
      action: s3Error(500, "InternalError", `injected ${operation}`),
      times,
    });
  const answer = (operation: string, body = "", headers: Record<string, string> = {}) =>
    proxy.addFault({
      match: (r) => r.operation === operation,
      action: {
        kind: "respond",
        status: 200,
        headers: { "content-type": "application/xml", ...headers },
        body,
      },
    });
  async function stored(key: string): Promise<{ bytes: Buffer; tags: Record<string, string> }> {
    const direct = new S3Client({ ...emulatorClientConfig(s3rver.endpoint), maxAttempts: 1 });
    const got = await direct.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    const tagging = await direct.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: key }));
    return { bytes, tags: Object.fromEntries((tagging.TagSet ?? []).map((t) => [t.Key, t.Value])) };
  }
  async function putSource(key: string, body: Buffer | string, tags: Record<string, string>) {
    const direct = new S3Client({ ...emulatorClientConfig(s3rver.endpoint), maxAttempts: 1 });
    await direct.send(new PutObjectCommand({ Bucket: SOURCE, Key: key, Body: body }));
    const TagSet = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
    if (TagSet.length)
      await direct.send(new PutObjectTaggingCommand({ Bucket: SOURCE, Key: key, Tagging: { TagSet } }));
  }

  describe("uploadPayload", () => {
    it("a string: one PutObject of its UTF-8 bytes under prefix + UUID, then its checksum tag", async () => {
      const text = "héllo, payload";
      const out = await uploadPayload(text, { s3, bucket: BUCKET, keyPrefix: "payloads/" });
      const bytes = Buffer.from(text, "utf8");
      assert.equal(out.pointer.s3BucketName, BUCKET);
      assert.match(out.pointer.s3Key.slice("payloads/".length), UUID);
      assert.ok(out.pointer.s3Key.startsWith("payloads/"));
      assert.deepEqual([out.size, out.sha256], [bytes.length, sha256(bytes)]);
      assert.deepEqual(operations(), ["PutObject", "PutObjectTagging"]);
      const [put] = of("PutObject");
      assert.equal(put.headers["content-length"], String(bytes.length));
      assert.equal(put.headers["x-amz-server-side-encryption"], undefined);
      assert.equal(put.headers["x-amz-acl"], undefined);
      assert.deepEqual(await stored(out.pointer.s3Key), {
        bytes,
        tags: { "payload-sha256": sha256(bytes) },
      });
    });

    it("without a prefix the key is the UUID; a byte view uploads only its own bytes", async () => {
      const backing = Buffer.from("0123456789abcdef");
      const view = new Uint8Array(backing.buffer, backing.byteOffset + 4, 6);
      const out = await uploadPayload(view, { s3, bucket: BUCKET });
      assert.match(out.pointer.s3Key, UUID);
      assert.deepEqual((await stored(out.pointer.s3Key)).bytes, Buffer.from("456789"));
      assert.equal(out.size, 6);
    });

    it("an iterable of strings and byte views, counted in UTF-8 bytes", async () => {
      const backing = Buffer.from("xxABCxx");
      async function* parts() {
        yield "é";
        yield new Uint8Array(backing.buffer, backing.byteOffset + 2, 3);
        yield "€";
      }
      const out = await uploadPayload(parts(), { s3, bucket: BUCKET });
      const bytes = Buffer.from("éABC€", "utf8");
      assert.deepEqual([out.size, out.sha256], [bytes.length, sha256(bytes)]);
      assert.deepEqual((await stored(out.pointer.s3Key)).bytes, bytes);
    });

    it("an empty body is one empty object, tagged", async () => {
      const out = await uploadPayload(Readable.from([]), { s3, bucket: BUCKET });
      assert.deepEqual([out.size, out.sha256], [0, sha256("")]);
      assert.deepEqual(operations(), ["PutObject", "PutObjectTagging"]);
    });

    it("a stream over one part: multipart in parts of partSizeBytes, the last one short, then the tag", async () => {
      const body = payloadStream(5 * MiB + 1);
      const out = await uploadPayload(body, { s3, bucket: BUCKET, partSizeBytes: 5 * MiB, queueSize: 1 });
      assert.deepEqual(operations(), [
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPart",
        "CompleteMultipartUpload",
        "PutObjectTagging",
      ]);
      const parts = of("UploadPart");
      assert.deepEqual(
        parts.map((r) => [query(r, "partNumber"), r.headers["content-length"]]),
        [
          ["1", String(5 * MiB)],
          ["2", "1"],
        ],
      );
      const uploadId = query(parts[0], "uploadId");
      assert.ok(uploadId);
      for (const r of [...parts, ...of("CompleteMultipartUpload")])
        assert.equal(query(r, "uploadId"), uploadId);
      const complete = of("CompleteMultipartUpload")[0].body;
      assert.match(complete, /<PartNumber>1<\/PartNumber>[\s\S]*<PartNumber>2<\/PartNumber>/);
      assert.equal((complete.match(/<ETag>/g) ?? []).length, 2);
      assert.deepEqual([out.size, out.sha256], [5 * MiB + 1, body.sha256()]);
      const back = await stored(out.pointer.s3Key);
      assert.equal(sha256(back.bytes), body.sha256());
      assert.deepEqual(back.tags, { "payload-sha256": body.sha256() });
    });

    it("exactly one part's bytes, in one buffer: a one-part upload", async () => {
      const bytes = Buffer.alloc(5 * MiB, "p");
      const out = await uploadPayload(bytes, { s3, bucket: BUCKET, partSizeBytes: 5 * MiB });
      assert.deepEqual(operations(), [
        "CreateMultipartUpload",
        "UploadPart",
        "CompleteMultipartUpload",
        "PutObjectTagging",
      ]);
      assert.equal(sha256((await stored(out.pointer.s3Key)).bytes), sha256(bytes));
    });

    /** When each UploadPart reached the proxy, with the answer to part 1 held back `holdMs`. */
    async function partArrivals(queueSize: number, holdMs: number): Promise<number> {
      const arrivals = new Map<string | null, number>();
      proxy.addFault({
        match: (r) => r.operation === "UploadPart" && query(r, "partNumber") === "1",
        action: { kind: "stall-body", afterBytes: 0, resumeAfterMs: holdMs },
        times: 1,
      });
      proxy.addFault({
        match: (r) => {
          if (r.operation === "UploadPart") arrivals.set(query(r, "partNumber"), Date.now());
          return false;
        },
        action: { kind: "cut" },
      });
      await uploadPayload(payloadStream(5 * MiB + 1), {
        s3,
        bucket: BUCKET,
        partSizeBytes: 5 * MiB,
        queueSize,
      });
      return arrivals.get("2")! - arrivals.get("1")!;
    }

    it("queueSize bounds the parts in flight: with 1, a part goes out only after the one before is answered", async () => {
      const gap = await partArrivals(1, 600);
      assert.ok(gap >= 590, `part 2 went out ${gap} ms after part 1`);
    });

    it("with a queue of 2, the next part goes out while the first is unanswered", async () => {
      const gap = await partArrivals(2, 2000);
      assert.ok(gap < 1900, `part 2 went out ${gap} ms after part 1`);
    });

    it("a part refused midway: the upload is aborted under its id, nothing completed or tagged, the error thrown", async () => {
      fail("UploadPart");
      await assert.rejects(
        uploadPayload(payloadStream(5 * MiB + 1), {
          s3,
          bucket: BUCKET,
          partSizeBytes: 5 * MiB,
          queueSize: 1,
        }),
        /injected UploadPart/,
      );
      assert.deepEqual(operations(), ["CreateMultipartUpload", "UploadPart", "AbortMultipartUpload"]);
      const [abort] = of("AbortMultipartUpload");
      assert.equal(query(abort, "uploadId"), query(of("UploadPart")[0], "uploadId"));
      assert.equal(keyOf(abort), keyOf(of("CreateMultipartUpload")[0]));
    });

    it("the last part refused: aborted too", async () => {
      proxy.addFault({
        match: (r) => r.operation === "UploadPart" && query(r, "partNumber") === "2",
        action: s3Error(500, "InternalError", "injected last part"),
      });
      await assert.rejects(
        uploadPayload(payloadStream(5 * MiB + 1), {
          s3,
          bucket: BUCKET,
          partSizeBytes: 5 * MiB,
          queueSize: 4,
        }),
        /injected last part/,
      );
      assert.deepEqual(operations().slice(-1), ["AbortMultipartUpload"]);
      assert.equal(of("CompleteMultipartUpload").length, 0);
    });

    it("the abort waits for the parts still in flight, so none lands after it", async () => {
      const arrivals = new Map<string, number>();
      proxy.addFault({
        match: (r) => r.operation === "UploadPart" && query(r, "partNumber") === "1",
        action: { kind: "stall-body", afterBytes: 0, resumeAfterMs: 800 },
        times: 1,
      });
      proxy.addFault({
        match: (r) => r.operation === "UploadPart" && query(r, "partNumber") === "2",
        action: s3Error(500, "InternalError", "injected part 2"),
      });
      proxy.addFault({
        match: (r) => {
          arrivals.set(
            r.operation === "UploadPart" ? `part ${query(r, "partNumber")}` : r.operation,
            Date.now(),
          );
          return false;
        },
        action: { kind: "cut" },
      });
      await assert.rejects(
        uploadPayload(payloadStream(5 * MiB + 1), {
          s3,
          bucket: BUCKET,
          partSizeBytes: 5 * MiB,
          queueSize: 2,
        }),
        /injected part 2/,
      );
      const gap = arrivals.get("AbortMultipartUpload")! - arrivals.get("part 1")!;
      assert.ok(gap >= 780, `the abort went out ${gap} ms after part 1, before its answer`);
    });

    it("CompleteMultipartUpload refused: aborted; a refused PutObject has nothing to abort", async () => {
      fail("CompleteMultipartUpload");
      await assert.rejects(
        uploadPayload(payloadStream(5 * MiB + 1), { s3, bucket: BUCKET, partSizeBytes: 5 * MiB }),
        /injected CompleteMultipartUpload/,
      );
      assert.deepEqual(operations().slice(-2), ["CompleteMultipartUpload", "AbortMultipartUpload"]);
      proxy.requests.length = 0;
      fail("PutObject");
      await assert.rejects(uploadPayload("small", { s3, bucket: BUCKET }), /injected PutObject/);
      assert.deepEqual(operations(), ["PutObject"]);
    });

    it("a source that errors after a part: aborted, the source's error thrown", async () => {
      const broken = new Readable({
        read() {
          if (this.readableLength === 0 && !(this as { sent?: boolean }).sent) {
            (this as { sent?: boolean }).sent = true;
            this.push(Buffer.alloc(5 * MiB, 1));
          } else setTimeout(() => this.destroy(new Error("source broke")), 200);
        },
      });
      await assert.rejects(
        uploadPayload(broken, { s3, bucket: BUCKET, partSizeBytes: 5 * MiB }),
        /source broke/,
      );
      assert.deepEqual(operations(), ["CreateMultipartUpload", "UploadPart", "AbortMultipartUpload"]);
    });

    it("the caller's signal aborts the upload, and the multipart abort still goes out after it", async () => {
      const controller = new AbortController();
      proxy.addFault({
        match: (r) => {
          if (r.operation === "UploadPart") setImmediate(() => controller.abort(new Error("deadline")));
          return r.operation === "UploadPart";
        },
        action: { kind: "stall" },
        times: 1,
      });
      await assert.rejects(
        uploadPayload(payloadStream(5 * MiB + 1), {
          s3,
          bucket: BUCKET,
          partSizeBytes: 5 * MiB,
          queueSize: 1,
          signal: controller.signal,
        }),
      );
      assert.deepEqual(operations(), ["CreateMultipartUpload", "UploadPart", "AbortMultipartUpload"]);
    });

    it("the signal reaches PutObject and the tag: a stalled request ends when it fires", async () => {
      for (const operation of ["PutObject", "PutObjectTagging"]) {
        proxy.requests.length = 0;
        const signal = stalledUntilAborted(operation);
        await abortedSoon(uploadPayload("x", { s3, bucket: BUCKET, signal }));
        assert.equal(operations().at(-1), operation);
      }
    });

    it("SSE-KMS, a key id and a canned ACL reach PutObject and CreateMultipartUpload, never the parts", async () => {
      // s3rver has no KMS: the proxy answers, the request is what is under test.
      answer("PutObject", "", { etag: '"e"' });
      answer("PutObjectTagging");
      answer(
        "CreateMultipartUpload",
        "<InitiateMultipartUploadResult><UploadId>u1</UploadId></InitiateMultipartUploadResult>",
      );
      answer("UploadPart", "", { etag: '"p"' });
      answer(
        "CompleteMultipartUpload",
        '<CompleteMultipartUploadResult><ETag>"c"</ETag></CompleteMultipartUploadResult>',
      );
      const sse = (r: ProxiedRequest) => [
        r.headers["x-amz-server-side-encryption"],
        r.headers["x-amz-server-side-encryption-aws-kms-key-id"],
        r.headers["x-amz-acl"],
      ];
      await uploadPayload("x", { s3, bucket: BUCKET, sseKms: true });
      await uploadPayload("x", {
        s3,
        bucket: BUCKET,
        kmsKeyId: "alias/payloads",
        acl: "bucket-owner-full-control",
      });
      await uploadPayload("x", { s3, bucket: BUCKET, sseKms: false, acl: "private" });
      assert.deepEqual(of("PutObject").map(sse), [
        ["aws:kms", undefined, undefined],
        ["aws:kms", "alias/payloads", "bucket-owner-full-control"],
        [undefined, undefined, "private"],
      ]);
      proxy.requests.length = 0;
      await uploadPayload(payloadStream(5 * MiB + 1), {
        s3,
        bucket: BUCKET,
        partSizeBytes: 5 * MiB,
        kmsKeyId: "k",
      });
      assert.deepEqual(sse(of("CreateMultipartUpload")[0]), ["aws:kms", "k", undefined]);
      for (const r of [...of("UploadPart"), ...of("CompleteMultipartUpload"), ...of("PutObjectTagging")])
        assert.deepEqual(sse(r), [undefined, undefined, undefined]);
    });
  });

  describe("copyPayload", () => {
    it("up to 5 GiB: one CopyObject replacing the producer's tags, then the checksum tag; the source's ETag returned", async () => {
      const body = Buffer.from("staged bytes");
      await putSource("runs/a b/é.h5", body, { "payload-sha256": sha256(body), producer: "lab" });
      const out = await copyPayload(
        { bucket: SOURCE, key: "runs/a b/é.h5" },
        { s3, bucket: BUCKET, keyPrefix: "payloads/" },
      );
      assert.deepEqual(operations().sort(), [
        "CopyObject",
        "GetObjectTagging",
        "HeadObject",
        "PutObjectTagging",
      ]);
      assert.deepEqual(operations().slice(2), ["CopyObject", "PutObjectTagging"]);
      const [copy] = of("CopyObject");
      assert.equal(copy.headers["x-amz-copy-source"], "staging/runs/a%20b/%C3%A9.h5");
      assert.equal(copy.headers["x-amz-tagging-directive"], "REPLACE");
      assert.equal(copy.headers["x-amz-server-side-encryption"], undefined);
      assert.match(out.pointer.s3Key, /^payloads\//);
      assert.match(out.pointer.s3Key.slice(9), UUID);
      assert.equal(out.pointer.s3BucketName, BUCKET);
      assert.deepEqual([out.size, out.sha256], [body.length, sha256(body)]);
      assert.match(out.sourceETag ?? "", /^"[0-9a-f]{32}"$/);
      assert.deepEqual(await stored(out.pointer.s3Key), {
        bytes: body,
        tags: { "payload-sha256": sha256(body) },
      });
    });

    it("a source without a checksum tag: copied with no tag at all, and no SHA-256 claimed", async () => {
      await putSource("untagged", "plain", { producer: "lab" });
      // s3rver has no KMS: the proxy answers the copy, the request is what is under test.
      const stop = answer("CopyObject", '<CopyObjectResult><ETag>"c"</ETag></CopyObjectResult>');
      await copyPayload(
        { bucket: SOURCE, key: "untagged" },
        { s3, bucket: BUCKET, sseKms: true, acl: "bucket-owner-full-control" },
      );
      stop();
      const [copy] = of("CopyObject");
      assert.equal(copy.headers["x-amz-server-side-encryption"], "aws:kms");
      assert.equal(copy.headers["x-amz-acl"], "bucket-owner-full-control");
      proxy.requests.length = 0;
      const plain = await copyPayload({ bucket: SOURCE, key: "untagged" }, { s3, bucket: BUCKET });
      assert.equal(plain.sha256, undefined);
      assert.equal(of("PutObjectTagging").length, 0);
      assert.deepEqual((await stored(plain.pointer.s3Key)).tags, {});
    });

    it("a HEAD without an ETag gives no sourceETag", async () => {
      await putSource("etagless", "x", {});
      proxy.addFault({
        match: (r) => r.operation === "HeadObject",
        action: { kind: "respond", status: 200, headers: { "content-length": "1" } },
      });
      const out = await copyPayload({ bucket: SOURCE, key: "etagless" }, { s3, bucket: BUCKET });
      assert.equal("sourceETag" in out, false);
      assert.equal(out.size, 1);
    });

    it("the signal reaches the HEAD and the copy", async () => {
      await putSource("signal", "x", {});
      for (const operation of ["HeadObject", "CopyObject"]) {
        const signal = stalledUntilAborted(operation);
        await abortedSoon(copyPayload({ bucket: SOURCE, key: "signal" }, { s3, bucket: BUCKET, signal }));
      }
    });

    /** A source the proxy says is `size` bytes; its tags are read from s3rver. */
    async function largeSource(size: number) {
      await putSource("large", "stand-in", { "payload-sha256": "ab".repeat(32) });
      proxy.addFault({
        match: (r) => r.operation === "HeadObject",
        action: { kind: "respond", status: 200, headers: { "content-length": String(size), etag: '"big"' } },
      });
      proxy.addFault({
        match: (r) => r.operation === "UploadPartCopy",
        action: (r) => ({
          kind: "respond",
          status: 200,
          headers: { "content-type": "application/xml" },
          body: `<CopyPartResult><ETag>"part-${query(r, "partNumber")}"</ETag></CopyPartResult>`,
        }),
      });
      answer(
        "CompleteMultipartUpload",
        '<CompleteMultipartUploadResult><ETag>"c"</ETag></CompleteMultipartUploadResult>',
      );
      answer("PutObjectTagging");
    }

    for (const [size, parts] of [
      [5 * 1024 * MiB + 1, 11],
      [6 * 1024 * MiB, 12],
    ]) {
      it(`over 5 GiB (${size} bytes): ${parts} UploadPartCopy of 512 MiB ranges covering every byte once, completed with each part's ETag`, async () => {
        await largeSource(size);
        const out = await copyPayload(
          { bucket: SOURCE, key: "large" },
          { s3, bucket: BUCKET, kmsKeyId: "k" },
        );
        const copies = of("UploadPartCopy");
        assert.equal(copies.length, parts);
        copies.forEach((r, i) => {
          assert.equal(query(r, "partNumber"), String(i + 1));
          const end = i === parts - 1 ? size - 1 : (i + 1) * 512 * MiB - 1;
          assert.equal(r.headers["x-amz-copy-source-range"], `bytes=${i * 512 * MiB}-${end}`);
          assert.equal(r.headers["x-amz-copy-source"], "staging/large");
          assert.equal(keyOf(r), `${BUCKET}/${out.pointer.s3Key}`);
        });
        const ids = new Set(copies.map((r) => query(r, "uploadId")));
        assert.equal(ids.size, 1);
        assert.ok([...ids][0]);
        const [complete] = of("CompleteMultipartUpload");
        assert.equal(query(complete, "uploadId"), [...ids][0]);
        const listed = [...complete.body.matchAll(/<ETag>"?(?:&quot;)?(part-\d+)/g)].map((m) => m[1]);
        assert.deepEqual(
          listed,
          copies.map((_, i) => `part-${i + 1}`),
        );
        assert.match(complete.body, new RegExp(`<PartNumber>${parts}</PartNumber>`));
        assert.equal(
          of("CreateMultipartUpload")[0].headers["x-amz-server-side-encryption-aws-kms-key-id"],
          "k",
        );
        assert.equal(of("CopyObject").length, 0);
        assert.deepEqual([out.size, out.sha256, out.sourceETag], [size, "ab".repeat(32), '"big"']);
        assert.deepEqual(operations().slice(-2), ["CompleteMultipartUpload", "PutObjectTagging"]);
      });
    }

    it("a HEAD without a Content-Length is refused, naming the source, before any write", async () => {
      await putSource("lengthless", "x", {});
      proxy.addFault({
        match: (r) => r.operation === "HeadObject",
        action: { kind: "respond", status: 200, headers: { etag: '"e"' } },
      });
      await assert.rejects(
        copyPayload({ bucket: SOURCE, key: "lengthless" }, { s3, bucket: BUCKET }),
        (e: unknown) =>
          e instanceof PayloadError &&
          e.code === "InvalidBody" &&
          e.message === "HeadObject of s3://staging/lengthless returned no Content-Length",
      );
      assert.deepEqual(operations().sort(), ["GetObjectTagging", "HeadObject"]);
    });

    it("exactly 5 GiB is still one CopyObject", async () => {
      await largeSource(5 * 1024 * MiB);
      answer("CopyObject", '<CopyObjectResult><ETag>"c"</ETag></CopyObjectResult>');
      await copyPayload({ bucket: SOURCE, key: "large" }, { s3, bucket: BUCKET });
      assert.deepEqual([of("CopyObject").length, of("UploadPartCopy").length], [1, 0]);
    });

    it("a part copy refused midway: the upload is aborted under its id, the error thrown", async () => {
      await largeSource(6 * 1024 * MiB);
      proxy.addFault({
        match: (r) => r.operation === "UploadPartCopy" && query(r, "partNumber") === "3",
        action: s3Error(500, "InternalError", "injected part copy"),
      });
      await assert.rejects(
        copyPayload({ bucket: SOURCE, key: "large" }, { s3, bucket: BUCKET }),
        /injected part copy/,
      );
      assert.equal(of("UploadPartCopy").length, 3);
      const [abort] = of("AbortMultipartUpload");
      assert.ok(abort);
      assert.equal(query(abort, "uploadId"), query(of("UploadPartCopy")[0], "uploadId"));
      assert.equal(keyOf(abort), keyOf(of("UploadPartCopy")[0]));
      assert.equal(of("CompleteMultipartUpload").length + of("PutObjectTagging").length, 0);
    });

    it("a source over 5 TiB is refused before any write", async () => {
      await largeSource(5 * 1024 * 1024 * MiB + 1);
      await assert.rejects(
        copyPayload({ bucket: SOURCE, key: "large" }, { s3, bucket: BUCKET }),
        (e: unknown) => e instanceof PayloadError && e.code === "TooLarge",
      );
      assert.deepEqual(operations().sort(), ["GetObjectTagging", "HeadObject"]);
    });
  });

  describe("openPayload", () => {
    let pointer: PayloadPointer;
    const body = Buffer.from("the payload's bytes");
    beforeEach(async () => {
      pointer = (await uploadPayload(body, { s3, bucket: BUCKET, keyPrefix: "payloads/" })).pointer;
      proxy.requests.length = 0;
    });
    const opened = (extra: Partial<OpenOptions> = {}) =>
      openPayload(pointer, { s3, allowedBuckets: [BUCKET], ...extra });

    it("reads the bytes verified against the tag, from the origin, asking GetObject and the tag once each", async () => {
      const stream = await opened({ expectedSize: body.length, maxBytes: body.length });
      assert.deepEqual(await readAll(stream), body);
      assert.deepEqual([stream.verified, stream.sha256], [true, sha256(body)]);
      assert.deepEqual(stream.readFrom, { from: "origin", bucket: BUCKET, reason: "no-replica" });
      assert.deepEqual(operations().sort(), ["GetObject", "GetObjectTagging"]);
      for (const r of proxy.requests) assert.equal(keyOf(r), `${BUCKET}/${pointer.s3Key}`);
    });

    it("a tag read already under way is used, not asked again", async () => {
      const tag = readChecksumTag(s3, pointer);
      await tag;
      proxy.requests.length = 0;
      const stream = await openPayload(pointer, { s3, allowedBuckets: [BUCKET] }, tag);
      await readAll(stream);
      assert.deepEqual(operations(), ["GetObject"]);
      assert.equal(stream.expectedSha256, sha256(body));
    });

    it("a pointer outside the rules is refused before any request", async () => {
      await assert.rejects(
        openPayload(pointer, { s3, allowedBuckets: [BUCKET], allowedKeyPrefixes: ["other/"] }),
        (e: unknown) => e instanceof PayloadError && e.code === "KeyNotAllowed",
      );
      assert.deepEqual(operations(), []);
    });

    it("a Content-Length other than the marker's, or over maxBytes, is refused before the body is read", async () => {
      await assert.rejects(opened({ expectedSize: body.length + 1 }), (e: unknown) => {
        assert.ok(e instanceof PayloadError);
        assert.equal(e.code, "SizeMismatch");
        assert.equal(
          e.message,
          `s3://${BUCKET}/${pointer.s3Key}: the object is ${body.length} bytes, the marker says ${body.length + 1}`,
        );
        return true;
      });
      await assert.rejects(opened({ maxBytes: body.length - 1 }), (e: unknown) => {
        assert.ok(e instanceof PayloadError);
        assert.equal(e.code, "TooLarge");
        assert.equal(
          e.message,
          `s3://${BUCKET}/${pointer.s3Key}: the object is ${body.length} bytes, over the ${body.length - 1}-byte limit`,
        );
        return true;
      });
    });

    it("the body of a refused response is released, not left holding its connection", async () => {
      const object = await getObject(s3, pointer);
      assert.ok(object.ok);
      const source = object.value.Body as Readable;
      assert.throws(
        () => verifyingStream(pointer, object.value, undefined, { expectedSize: 1 }),
        /marker says 1/,
      );
      assert.equal(source.destroyed, true);
      const again = await getObject(s3, pointer);
      assert.ok(again.ok);
      assert.throws(() => verifyingStream(pointer, again.value, undefined, { maxBytes: 1 }), /1-byte limit/);
      assert.equal((again.value.Body as Readable).destroyed, true);
      const kept = await getObject(s3, pointer);
      assert.ok(kept.ok);
      discardObject(kept);
      assert.equal((kept.value.Body as Readable).destroyed, true);
      discardObject({ ok: false, error: new Error("x") });
    });

    it("a missing object is PayloadMissing, naming the location and the cause", async () => {
      const gone = { s3BucketName: BUCKET, s3Key: "payloads/gone" };
      await assert.rejects(openPayload(gone, { s3, allowedBuckets: [BUCKET] }), (e: unknown) => {
        assert.ok(e instanceof PayloadError);
        assert.equal(e.code, "PayloadMissing");
        assert.equal(
          e.message,
          `payload s3://${BUCKET}/payloads/gone does not exist: it expired under the bucket's lifecycle rule ` +
            "(a message kept or redriven longer than the payload retention) or was never written",
        );
        assert.equal((e.cause as Error).name, "NoSuchKey");
        return true;
      });
    });

    it("a failed GetObject or tag read is thrown as S3 gave it; a 404 tag read is PayloadMissing", async () => {
      fail("GetObject");
      await assert.rejects(
        opened(),
        (e: Error) => !(e instanceof PayloadError) && /injected GetObject/.test(e.message),
      );
      proxy.clearFaults();
      fail("GetObjectTagging");
      await assert.rejects(
        opened(),
        (e: Error) => !(e instanceof PayloadError) && /injected GetObjectTagging/.test(e.message),
      );
      proxy.clearFaults();
      proxy.addFault({
        match: (r) => r.operation === "GetObjectTagging",
        action: s3Error(404, "NoSuchKey", "gone"),
      });
      await assert.rejects(
        opened(),
        (e: unknown) => e instanceof PayloadError && e.code === "PayloadMissing",
      );
    });

    it("the signal fails a stalled read with its reason", async () => {
      proxy.addFault({
        match: (r) => r.operation === "GetObject",
        action: { kind: "stall-body", afterBytes: 4 },
      });
      const controller = new AbortController();
      const stream = await opened({ signal: controller.signal });
      setTimeout(() => controller.abort(new Error("deadline passed")), 100);
      await assert.rejects(readAll(stream), /^Error: deadline passed$/);
    });

    it("a stalled GetObject or tag read ends with the signal", async () => {
      for (const operation of ["GetObject", "GetObjectTagging"]) {
        await abortedSoon(opened({ signal: stalledUntilAborted(operation) }));
      }
    });

    it("a read that completes leaves no listener on the signal", async () => {
      const controller = new AbortController();
      await readAll(await opened({ signal: controller.signal }));
      await new Promise((r) => setImmediate(r));
      assert.equal(getEventListeners(controller.signal, "abort").length, 0);
    });
  });

  it("readChecksumTag: the checksum tag among others, undefined without one, the error settled", async () => {
    await putSource("tags", "x", { producer: "lab", "payload-sha256": "cd".repeat(32) });
    await putSource("notag", "x", { producer: "lab" });
    const at = (key: string) => ({ s3BucketName: SOURCE, s3Key: key });
    assert.deepEqual(await readChecksumTag(s3, at("tags")), { ok: true, value: "cd".repeat(32) });
    assert.deepEqual(await readChecksumTag(s3, at("notag")), { ok: true, value: undefined });
    const missing = await readChecksumTag(s3, at("missing"));
    assert.equal(missing.ok, false);
    assert.ok(!missing.ok && isMissingObject(missing.error));
  });

  it("a tagging answer without a TagSet is no tag, for a read and for a copy's source", async () => {
    await putSource("tagless", "x", {});
    answer("GetObjectTagging", "<Tagging></Tagging>");
    assert.deepEqual(await readChecksumTag(s3, { s3BucketName: SOURCE, s3Key: "tagless" }), {
      ok: true,
      value: undefined,
    });
    const copied = await copyPayload({ bucket: SOURCE, key: "tagless" }, { s3, bucket: BUCKET });
    assert.equal(copied.sha256, undefined);
    assert.equal(of("PutObjectTagging").length, 0);
  });
});

describe("verifyingStream without a Content-Length", () => {
  const pointer = { s3BucketName: "b", s3Key: "k" };
  const response = (bytes: Buffer) =>
    ({ Body: Readable.from([bytes]), $metadata: {} }) as unknown as GetObjectCommandOutput;

  it("checks the marker's size and maxBytes on the bytes as they arrive instead", async () => {
    await assert.rejects(
      readAll(verifyingStream(pointer, response(Buffer.from("abc")), undefined, { expectedSize: 4 })),
      (e: unknown) => e instanceof PayloadError && e.message === "s3://b/k: read 3 bytes, the marker says 4",
    );
    await assert.rejects(
      readAll(verifyingStream(pointer, response(Buffer.from("abcde")), undefined, { maxBytes: 4 })),
      (e: unknown) =>
        e instanceof PayloadError && e.message === "s3://b/k: more than the 4-byte limit arrived",
    );
    const bytes = Buffer.from("abcd");
    const ok = verifyingStream(pointer, response(bytes), sha256(bytes), { expectedSize: 4, maxBytes: 4 });
    assert.deepEqual(await readAll(ok), bytes);
  });
});

describe("validateLocationRules", () => {
  const refused = (rules: unknown, message: string) =>
    assert.throws(
      () => validateLocationRules(rules as PayloadLocationRules),
      (e: unknown) => e instanceof PayloadError && e.code === "InvalidOption" && e.message === message,
    );

  it("bucket names: an array of non-empty strings", () => {
    refused({ allowedBuckets: "payloads" }, "allowedBuckets must be an array of bucket names");
    refused({}, "allowedBuckets must be an array of bucket names");
    for (const [bucket, shown] of [
      ["", '""'],
      [5, "5"],
      [null, "null"],
    ] as const)
      refused(
        { allowedBuckets: ["ok", bucket] },
        `allowedBuckets entries must be non-empty strings, got ${shown}`,
      );
    validateLocationRules({ allowedBuckets: [] });
    validateLocationRules({ allowedBuckets: ["a", "payloads-b"] });
  });

  it("key prefixes: non-empty, each under the key prefix rules, named as the reader's", () => {
    refused(
      { allowedBuckets: ["a"], allowedKeyPrefixes: ["payloads/", ""] },
      "allowedKeyPrefixes entries must be non-empty (leave the list out to allow every key)",
    );
    refused(
      { allowedBuckets: ["a"], allowedKeyPrefixes: ["payloads/", "/abs"] },
      'allowedKeyPrefixes: keyPrefix "/abs" must not start with "." or "/"',
    );
    validateLocationRules({ allowedBuckets: ["a"], allowedKeyPrefixes: ["payloads/", "p"] });
  });
});

describe("isMissingObject", () => {
  it("NoSuchKey, NotFound or any 404; not a 403, another error or nothing", () => {
    for (const e of [
      { name: "NoSuchKey" },
      { name: "NotFound" },
      { name: "X", $metadata: { httpStatusCode: 404 } },
    ])
      assert.equal(isMissingObject(e), true, JSON.stringify(e));
    for (const e of [
      { name: "AccessDenied", $metadata: { httpStatusCode: 403 } },
      { name: "X" },
      null,
      undefined,
    ])
      assert.equal(isMissingObject(e), false, JSON.stringify(e));
  });
});
