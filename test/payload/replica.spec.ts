// Read-through from a Region-local replica, against s3rver. The origin and the replica are two
// buckets of one s3rver, each reached through its own fault proxy: the requests each location saw
// are asserted, and either location can be made to fail on its own.
import * as assert from "node:assert/strict";
import { PutObjectCommand, PutObjectTaggingCommand, S3Client } from "@aws-sdk/client-s3";
import { PayloadLayout } from "../../messaging/contract";
import {
  PayloadError,
  digestPayload,
  formatPointer,
  openPayloadFrom,
  resolveMessage,
  uploadPayload,
  type PayloadPointer,
  type ReaderOptions,
  type ResolvedMessage,
} from "../../messaging/payload";
import { isUnavailable } from "../../messaging/payload/replica";
import { emulatorClientConfig, startS3rver, type RunningS3rver } from "../../local/emulators";
import { s3Error, startFaultProxy, type FaultProxy } from "../../local/fault-proxy";
import { sha256 } from "./helpers";

const ORIGIN = "fieldnotes-payloads-111111111111-us-east-1";
const REPLICA = "fieldnotes-payloads-111111111111-us-west-2";
const ELSEWHERE = "other-bucket";

describe("replica read-through (s3rver, one fault proxy per location)", function () {
  this.timeout(30_000);
  let s3rver: RunningS3rver;
  let originProxy: FaultProxy;
  let replicaProxy: FaultProxy;
  let origin: S3Client;
  let replica: S3Client;
  let reader: ReaderOptions;

  before(async () => {
    s3rver = await startS3rver({ buckets: [ORIGIN, REPLICA, ELSEWHERE] });
    [originProxy, replicaProxy] = await Promise.all([
      startFaultProxy(s3rver.endpoint),
      startFaultProxy(s3rver.endpoint),
    ]);
    // One attempt: an injected failure is seen once, not hidden (or slowed) by the SDK's retries.
    origin = new S3Client({ ...emulatorClientConfig(originProxy.endpoint), maxAttempts: 1 });
    replica = new S3Client({ ...emulatorClientConfig(replicaProxy.endpoint), maxAttempts: 1 });
    reader = {
      s3: origin,
      allowedBuckets: [ORIGIN, REPLICA],
      allowedKeyPrefixes: [PayloadLayout.payloadPrefix],
      replicas: { [ORIGIN]: { bucket: REPLICA, s3: replica } },
    };
  });

  afterEach(() => {
    originProxy.clearFaults();
    replicaProxy.clearFaults();
  });

  after(async () => {
    origin?.destroy();
    replica?.destroy();
    await Promise.all([originProxy?.stop(), replicaProxy?.stop()]);
    await s3rver?.stop();
  });

  /** A payload the publisher wrote to the origin: object, then its checksum tag. */
  async function published(body: string): Promise<{ pointer: PayloadPointer; size: number; sha256: string }> {
    const out = await uploadPayload(body, {
      s3: origin,
      bucket: ORIGIN,
      keyPrefix: PayloadLayout.payloadPrefix,
    });
    return { pointer: out.pointer, size: out.size, sha256: out.sha256! };
  }

  /** What replication has brought to the replica so far: the object, and maybe a tag. */
  async function replicate(pointer: PayloadPointer, bytes: string, tag?: string): Promise<void> {
    await replica.send(new PutObjectCommand({ Bucket: REPLICA, Key: pointer.s3Key, Body: bytes }));
    if (tag !== undefined) {
      await replica.send(
        new PutObjectTaggingCommand({
          Bucket: REPLICA,
          Key: pointer.s3Key,
          Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: tag }] },
        }),
      );
    }
  }

  function message(pointer: PayloadPointer, size: number, options = reader): ResolvedMessage {
    return resolveMessage(
      {
        body: formatPointer(pointer),
        attributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: String(size) } },
      },
      options,
    );
  }

  /** The S3 operations a proxy saw for one key since `from`. */
  function seen(proxy: FaultProxy, key: string, from: number): string[] {
    return proxy.requests
      .slice(from)
      .filter((r) => r.url.split("?")[0].endsWith(key))
      .map((r) => r.operation)
      .sort();
  }

  const downAt = (proxy: FaultProxy, key: string, action = s3Error(503, "ServiceUnavailable", "down")) =>
    proxy.addFault({ match: (r) => r.url.split("?")[0].endsWith(key), action });

  it("replica hit: the bytes come from the replica, verified; the origin is asked for its tag only", async () => {
    const p = await published("payload read in its own Region");
    await replicate(p.pointer, "payload read in its own Region", p.sha256);
    const [o, r] = [originProxy.requests.length, replicaProxy.requests.length];
    const m = message(p.pointer, p.size);
    const digest = await digestPayload(m);
    assert.deepEqual([digest.sha256, digest.size, digest.verified], [p.sha256, p.size, true]);
    assert.deepEqual(digest.readFrom, { from: "replica", bucket: REPLICA, reason: "replica-hit" });
    assert.deepEqual(m.readFrom, digest.readFrom);
    assert.deepEqual(seen(originProxy, p.pointer.s3Key, o), ["GetObjectTagging"], "no origin GetObject");
    assert.deepEqual(seen(replicaProxy, p.pointer.s3Key, r), ["GetObject", "GetObjectTagging"]);
    // The wire stays the origin's: the message's pointer names the origin.
    assert.equal(m.pointer?.s3BucketName, ORIGIN);
  });

  it("replica object missing (replication lags): the origin, with its tag read once", async () => {
    const p = await published("not replicated yet");
    const o = originProxy.requests.length;
    const m = message(p.pointer, p.size);
    assert.equal(await m.text(), "not replicated yet");
    assert.equal(m.readFrom?.from, "origin");
    assert.equal(m.readFrom?.reason, "replica-missing");
    assert.match(m.readFrom?.detail ?? "", /NoSuchKey/);
    assert.deepEqual(seen(originProxy, p.pointer.s3Key, o), ["GetObject", "GetObjectTagging"]);
  });

  it("replica present without its tag (the tag replicates later): the origin", async () => {
    const p = await published("tag still on its way");
    await replicate(p.pointer, "tag still on its way");
    const digest = await digestPayload(message(p.pointer, p.size));
    assert.equal(digest.sha256, p.sha256);
    assert.deepEqual(digest.readFrom, { from: "origin", bucket: ORIGIN, reason: "replica-untagged" });
    // A tag that is not a SHA-256 is no tag.
    const q = await published("tag garbled");
    await replicate(q.pointer, "tag garbled", "not-a-digest");
    const garbled = await digestPayload(message(q.pointer, q.size));
    assert.equal(garbled.readFrom?.reason, "replica-untagged");
    assert.match(garbled.readFrom?.detail ?? "", /"not-a-digest" is not a SHA-256/);
  });

  it("replica tag differs from the origin's: the replica's bytes are never delivered, the origin's are", async () => {
    const p = await published("the publisher's bytes");
    // A replica consistent with itself (tag of its own bytes), but not with the origin.
    await replicate(p.pointer, "someone else's bytes!", sha256("someone else's bytes!"));
    const m = message(p.pointer, p.size);
    const digest = await digestPayload(m);
    assert.equal(digest.sha256, p.sha256);
    assert.equal(digest.readFrom?.from, "origin");
    assert.equal(digest.readFrom?.reason, "replica-tag-mismatch");
    assert.match(digest.readFrom?.detail ?? "", new RegExp(`origin tag ${p.sha256}`));
  });

  it("replica tag equal to the origin's but bytes corrupt: refused, and the origin read instead (text and digest)", async () => {
    const p = await published("checksummed bytes");
    await replicate(p.pointer, "CHECKSUMMED BYTES", p.sha256);
    const m = message(p.pointer, p.size);
    assert.equal(await m.text(), "checksummed bytes");
    assert.equal(m.readFrom?.reason, "replica-verify-failed");
    assert.equal(m.readFrom?.from, "origin");
    assert.match(m.readFrom?.detail ?? "", /ChecksumMismatch|does not match/);
    const digest = await digestPayload(message(p.pointer, p.size));
    assert.deepEqual([digest.sha256, digest.readFrom?.reason], [p.sha256, "replica-verify-failed"]);
    // A replica of another size is refused before its body is read.
    const q = await published("short");
    await replicate(q.pointer, "shorter!", q.sha256);
    const sized = await digestPayload(message(q.pointer, q.size));
    assert.deepEqual([sized.sha256, sized.readFrom?.reason], [q.sha256, "replica-verify-failed"]);
  });

  it("a raw stream() of corrupt replica bytes errors, and the next stream() reads the origin", async () => {
    const p = await published("streamed bytes");
    await replicate(p.pointer, "STREAMED BYTES", p.sha256);
    const m = message(p.pointer, p.size);
    const first = await m.stream();
    await assert.rejects(
      (async () => {
        for await (const chunk of first) void chunk;
      })(),
      (e: unknown) => e instanceof PayloadError && e.code === "ChecksumMismatch",
    );
    const second = await m.stream();
    const chunks: Buffer[] = [];
    for await (const chunk of second) chunks.push(chunk as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), "streamed bytes");
    assert.equal(second.readFrom?.reason, "replica-verify-failed");
  });

  it("a replica body cut by the network is an error to retry, not read again from the origin, and the next read tries the replica again", async () => {
    const body = "x".repeat(200_000);
    const p = await published(body);
    await replicate(p.pointer, body, p.sha256);
    const removeCut = replicaProxy.addFault({
      match: (r) => r.url.split("?")[0].endsWith(p.pointer.s3Key) && r.operation === "GetObject",
      action: { kind: "cut-body", afterFraction: 0.5 },
    });
    const o = originProxy.requests.length;
    const m = message(p.pointer, p.size);
    await assert.rejects(m.text(), (e: unknown) => !(e instanceof PayloadError));
    assert.deepEqual(
      seen(originProxy, p.pointer.s3Key, o),
      ["GetObjectTagging"],
      "the origin's bytes were not read",
    );
    removeCut();
    assert.equal(await m.text(), body);
    assert.equal(m.readFrom?.reason, "replica-hit");
  });

  it("an origin read that fails verification does not stop the next read from trying the replica", async () => {
    const p = await published("origin tampered");
    await origin.send(
      new PutObjectTaggingCommand({
        Bucket: ORIGIN,
        Key: p.pointer.s3Key,
        Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: sha256("something else") }] },
      }),
    );
    const m = message(p.pointer, p.size);
    await assert.rejects(
      (async () => {
        for await (const chunk of await m.stream()) void chunk;
      })(),
      (e: unknown) => e instanceof PayloadError && e.code === "ChecksumMismatch",
    );
    assert.equal(m.readFrom?.reason, "replica-missing");
    await assert.rejects(
      m.text(),
      (e: unknown) => e instanceof PayloadError && e.code === "ChecksumMismatch",
    );
    assert.equal(m.readFrom?.reason, "replica-missing", "the replica is asked again, not skipped");
  });

  it("origin unreachable (5xx, connection cut): a tagged replica still serves, verified against its tag", async () => {
    for (const action of [s3Error(503, "ServiceUnavailable", "down"), { kind: "cut" as const }]) {
      const p = await published(`outage ${action.kind}`);
      await replicate(p.pointer, `outage ${action.kind}`, p.sha256);
      downAt(originProxy, p.pointer.s3Key, action);
      const digest = await digestPayload(message(p.pointer, p.size));
      assert.deepEqual([digest.sha256, digest.verified], [p.sha256, true]);
      assert.equal(digest.readFrom?.from, "replica");
      assert.equal(digest.readFrom?.reason, "origin-unavailable");
      assert.match(digest.readFrom?.detail ?? "", /the origin did not answer/);
    }
  });

  it("origin stalled: a tagged replica serves after originTagWaitMs, not after the SDK's timeouts", async () => {
    const p = await published("origin hangs");
    await replicate(p.pointer, "origin hangs", p.sha256);
    downAt(originProxy, p.pointer.s3Key, { kind: "stall" });
    const started = Date.now();
    const digest = await digestPayload(message(p.pointer, p.size, { ...reader, originTagWaitMs: 300 }));
    assert.ok(Date.now() - started < 10_000, "served without waiting for the stalled origin");
    assert.deepEqual([digest.sha256, digest.readFrom?.reason], [p.sha256, "origin-unavailable"]);
    assert.match(digest.readFrom?.detail ?? "", /did not arrive within 300 ms/);
  });

  it("origin unreachable and the replica untagged: OriginUnavailable (retry), nothing delivered", async () => {
    const p = await published("cannot verify");
    await replicate(p.pointer, "cannot verify");
    downAt(originProxy, p.pointer.s3Key);
    const m = message(p.pointer, p.size);
    await assert.rejects(
      digestPayload(m),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "OriginUnavailable" &&
        e.message.includes(`s3://${REPLICA}/${p.pointer.s3Key} has no valid payload-sha256 tag`) &&
        e.message.endsWith(
          "the origin did not answer: ServiceUnavailable (HTTP 503): down, and the replica " +
            `s3://${REPLICA}/${p.pointer.s3Key} has no valid payload-sha256 tag to verify it against; not delivered unverified (retry)`,
        ) &&
        (e.cause as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 503,
    );
  });

  it("origin unreachable and the replica's tag wrong for its bytes: refused, nothing delivered", async () => {
    const p = await published("tampered during an outage");
    await replicate(p.pointer, "TAMPERED during an outage", p.sha256);
    downAt(originProxy, p.pointer.s3Key);
    await assert.rejects(digestPayload(message(p.pointer, p.size)), (e: unknown) => {
      // The replica failed verification; the origin, asked next, did not answer.
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      return status === 503;
    });
  });

  it("replica unreadable (403): the origin", async () => {
    const p = await published("replica refuses");
    await replicate(p.pointer, "replica refuses", p.sha256);
    downAt(replicaProxy, p.pointer.s3Key, s3Error(403, "AccessDenied", "Access Denied"));
    const digest = await digestPayload(message(p.pointer, p.size));
    assert.deepEqual([digest.sha256, digest.readFrom?.reason], [p.sha256, "replica-unavailable"]);
    assert.match(digest.readFrom?.detail ?? "", /HTTP 403/);
  });

  it("an expired origin is expired, whatever the replica holds", async () => {
    const pointer = { s3BucketName: ORIGIN, s3Key: "payloads/expired-at-origin" };
    await replicate(pointer, "still here", sha256("still here"));
    await assert.rejects(
      digestPayload(message(pointer, 10)),
      (e: unknown) => e instanceof PayloadError && e.code === "PayloadMissing",
    );
  });

  it("both locations must be allowed, keys included, before any S3 call", () => {
    const before = [originProxy.requests.length, replicaProxy.requests.length];
    const pointer = { s3BucketName: ORIGIN, s3Key: "payloads/x" };
    const refused = (options: Partial<ReaderOptions>, pattern: RegExp) =>
      assert.throws(
        () => message(pointer, 1, { ...reader, ...options }),
        (e: unknown) => e instanceof PayloadError && e.code === "InvalidOption" && pattern.test(e.message),
      );
    refused(
      { allowedBuckets: [ORIGIN] },
      new RegExp(`replicas\\["${ORIGIN}"\\]: the replica bucket "${REPLICA}" is not in the allow-list`),
    );
    refused(
      { allowedBuckets: [REPLICA] },
      new RegExp(`replicas\\["${ORIGIN}"\\]: the origin bucket "${ORIGIN}" is not in the allow-list`),
    );
    refused({ replicas: { [ORIGIN]: { bucket: ORIGIN } } }, /names the origin itself as its replica/);
    refused({ replicas: { [ORIGIN]: { bucket: "" } } }, /\.bucket must be a non-empty string, got ""/);
    refused({ replicas: [] as never }, /replicas must be an object/);
    refused({ originTagWaitMs: -1 }, /originTagWaitMs must be an integer from 0 to 900000, got -1/);
    // The replica is read under the pointer's key, which the key-prefix rule covers for both.
    assert.throws(
      () => message({ s3BucketName: ORIGIN, s3Key: "incoming/x" }, 1),
      (e: unknown) => e instanceof PayloadError && e.code === "KeyNotAllowed",
    );
    assert.deepEqual([originProxy.requests.length, replicaProxy.requests.length], before);
  });

  it("a bucket without a replica is read as before, with no replica request", async () => {
    const out = await uploadPayload("no replica here", {
      s3: origin,
      bucket: ELSEWHERE,
      keyPrefix: "payloads/",
    });
    const r = replicaProxy.requests.length;
    const allowed = { ...reader, allowedBuckets: [...reader.allowedBuckets, ELSEWHERE] };
    const digest = await digestPayload(message(out.pointer, out.size, allowed));
    assert.deepEqual(digest.readFrom, { from: "origin", bucket: ELSEWHERE, reason: "no-replica" });
    // A reader with no replicas at all reads the same way.
    const plain = await digestPayload(message(out.pointer, out.size, { ...allowed, replicas: undefined }));
    assert.deepEqual(plain.readFrom, digest.readFrom);
    assert.equal(replicaProxy.requests.length, r);
  });

  it("replica options: the wait's bounds, and each malformed entry refused, naming it", () => {
    const pointer = { s3BucketName: ORIGIN, s3Key: "payloads/x" };
    for (const originTagWaitMs of [0, 900_000]) message(pointer, 1, { ...reader, originTagWaitMs });
    const refused = (options: Partial<ReaderOptions>, pattern: RegExp) =>
      assert.throws(
        () => message(pointer, 1, { ...reader, ...options }),
        (e: unknown) => e instanceof PayloadError && e.code === "InvalidOption" && pattern.test(e.message),
      );
    refused({ originTagWaitMs: 900_001 }, /originTagWaitMs must be an integer from 0 to 900000, got 900001/);
    refused({ originTagWaitMs: 1.5 }, /got 1\.5/);
    refused({ replicas: null as never }, /^replicas must be an object of originBucket: \{ bucket \}$/);
    refused({ replicas: "us-west-2" as never }, /^replicas must be an object/);
    refused({ replicas: { [ORIGIN]: null as never } }, /\.bucket must be a non-empty string, got undefined$/);
    refused(
      { replicas: { [ORIGIN]: { bucket: 5 as never } } },
      /\.bucket must be a non-empty string, got 5$/,
    );
    refused(
      { allowedBuckets: [ORIGIN, ELSEWHERE] },
      new RegExp(`the replica bucket "${REPLICA}" is not in the allow-list \\[${ORIGIN}, ${ELSEWHERE}\\]$`),
    );
  });

  it("the origin is unavailable without an answer or with a 5xx, not with a 4xx", () => {
    const status = (httpStatusCode?: number) => ({ $metadata: { httpStatusCode } });
    assert.deepEqual(
      [null, new Error("reset"), status(undefined), status(500), status(503)].map(isUnavailable),
      [true, true, true, true, true],
    );
    assert.deepEqual([status(403), status(404), status(499)].map(isUnavailable), [false, false, false]);
  });

  it("a replica client failing without an HTTP answer: the origin, the failure described by name and message", async () => {
    const p = await published("odd failures");
    await replicate(p.pointer, "odd failures", p.sha256);
    // A client of the caller's, with its own middleware: its error carries no $metadata.
    const odd = new S3Client({ ...emulatorClientConfig(replicaProxy.endpoint), maxAttempts: 1 });
    odd.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "GetObjectCommand") throw new RangeError("plain");
        return next(args);
      },
      { step: "initialize" },
    );
    const options = { ...reader, replicas: { [ORIGIN]: { bucket: REPLICA, s3: odd } } };
    const digest = await digestPayload(message(p.pointer, p.size, options));
    assert.deepEqual(digest.readFrom, {
      from: "origin",
      bucket: ORIGIN,
      reason: "replica-unavailable",
      detail: "RangeError: plain",
    });
    odd.destroy();
  });

  it("replica object readable but its tags not (403): the origin", async () => {
    const p = await published("tags refused");
    await replicate(p.pointer, "tags refused", p.sha256);
    replicaProxy.addFault({
      match: (r) => r.url.split("?")[0].endsWith(p.pointer.s3Key) && r.operation === "GetObjectTagging",
      action: s3Error(403, "AccessDenied", "Access Denied"),
    });
    const digest = await digestPayload(message(p.pointer, p.size));
    assert.deepEqual(digest.readFrom, {
      from: "origin",
      bucket: ORIGIN,
      reason: "replica-unavailable",
      detail: "AccessDenied (HTTP 403): Access Denied",
    });
  });

  /** An object written without a checksum tag, as AWS's Java and Python clients write. */
  async function untagged(bytes: string): Promise<PayloadPointer> {
    const pointer = { s3BucketName: ORIGIN, s3Key: `payloads/untagged-${sha256(bytes).slice(0, 12)}` };
    await origin.send(new PutObjectCommand({ Bucket: ORIGIN, Key: pointer.s3Key, Body: bytes }));
    return pointer;
  }

  it("neither location tagged (Java/Python writers): the replica, checked by size only", async () => {
    const pointer = await untagged("from the java client");
    await replicate(pointer, "from the java client");
    const digest = await digestPayload(message(pointer, 20));
    assert.deepEqual(
      [digest.sha256, digest.verified, digest.readFrom],
      [sha256("from the java client"), false, { from: "replica", bucket: REPLICA, reason: "replica-hit" }],
    );
  });

  it("a tagged replica of an untagged origin, or a replica tag that is no SHA-256: the origin", async () => {
    const pointer = await untagged("origin without a tag");
    await replicate(pointer, "origin without a tag", sha256("origin without a tag"));
    const tagged = await digestPayload(message(pointer, 20));
    assert.deepEqual(tagged.readFrom, {
      from: "origin",
      bucket: ORIGIN,
      reason: "replica-tag-mismatch",
      detail: `replica tag ${sha256("origin without a tag")}, origin tag (none)`,
    });
    await replicate(pointer, "origin without a tag", "garbage");
    const garbled = await digestPayload(message(pointer, 20));
    assert.deepEqual(garbled.readFrom, {
      from: "origin",
      bucket: ORIGIN,
      reason: "replica-tag-mismatch",
      detail: "the replica's tag is not a SHA-256 and the origin has none",
    });
  });

  it("a replica tag is a SHA-256 only if it is exactly 64 hex digits; a long one is quoted cut to 80", async () => {
    const p = await published("anchored digest");
    for (const tag of [`0${p.sha256}`, `${p.sha256}0`, "f".repeat(100)]) {
      await replicate(p.pointer, "anchored digest", tag);
      const digest = await digestPayload(message(p.pointer, p.size));
      assert.deepEqual(digest.readFrom, {
        from: "origin",
        bucket: ORIGIN,
        reason: "replica-untagged",
        detail: `its tag ${JSON.stringify(tag.slice(0, 80))} is not a SHA-256`,
      });
    }
  });

  it("origin unavailable and the replica of another size: SizeMismatch, the replica never read", async () => {
    const p = await published("sized during an outage");
    await replicate(p.pointer, "sized differently during an outage", p.sha256);
    downAt(originProxy, p.pointer.s3Key);
    await assert.rejects(
      digestPayload(message(p.pointer, p.size)),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "SizeMismatch" &&
        e.message === `s3://${REPLICA}/${p.pointer.s3Key}: the object is 34 bytes, the marker says ${p.size}`,
    );
  });

  it("a replica over maxBytes is refused as TooLarge, without reading the origin's bytes", async () => {
    const p = await published("too large for the caller");
    await replicate(p.pointer, "too large for the caller", p.sha256);
    const o = originProxy.requests.length;
    await assert.rejects(
      openPayloadFrom(p.pointer, { ...reader, maxBytes: 4 }),
      (e: unknown) =>
        e instanceof PayloadError && e.code === "TooLarge" && /over the 4-byte limit/.test(e.message),
    );
    assert.deepEqual(seen(originProxy, p.pointer.s3Key, o), ["GetObjectTagging"]);
  });

  it("a deadline already passed: the signal's reason, nothing read", async () => {
    const p = await published("too late");
    await replicate(p.pointer, "too late", p.sha256);
    const deadline = new AbortController();
    const reason = new Error("the caller's deadline passed");
    deadline.abort(reason);
    await assert.rejects(
      openPayloadFrom(p.pointer, { ...reader, signal: deadline.signal }),
      (e) => e === reason,
    );
  });

  it("a deadline passing while the origin's tag is awaited: the signal's reason, not the replica", async () => {
    const p = await published("deadline while waiting");
    await replicate(p.pointer, "deadline while waiting", p.sha256);
    downAt(originProxy, p.pointer.s3Key, { kind: "stall" });
    const deadline = new AbortController();
    const reason = new Error("the caller's deadline passed");
    setTimeout(() => deadline.abort(reason), 300);
    await assert.rejects(
      openPayloadFrom(p.pointer, { ...reader, originTagWaitMs: 60_000, signal: deadline.signal }),
      (e) => e === reason,
    );
  });

  it("a stalled origin's tag is awaited for DEFAULT_ORIGIN_TAG_WAIT_MS (3 s) when the reader sets no wait", async () => {
    const p = await published("default wait");
    await replicate(p.pointer, "default wait", p.sha256);
    downAt(originProxy, p.pointer.s3Key, { kind: "stall" });
    const started = Date.now();
    const digest = await digestPayload(message(p.pointer, p.size, { ...reader, originTagWaitMs: undefined }));
    assert.ok(Date.now() - started >= 2_900, `served after ${Date.now() - started} ms`);
    assert.equal(digest.readFrom?.detail, "the origin's tag did not arrive within 3000 ms");
  });

  it("the wait for the origin's tag leaves no timer behind once the tag arrived", async () => {
    const p = await published("no timer left");
    await replicate(p.pointer, "no timer left", p.sha256);
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;
    const before = timers();
    const digest = await digestPayload(message(p.pointer, p.size, { ...reader, originTagWaitMs: 600_000 }));
    assert.equal(digest.readFrom?.reason, "replica-hit");
    assert.equal(timers(), before);
  });
});
