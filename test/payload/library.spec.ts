import * as assert from "node:assert/strict";
import {
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { PayloadLayout } from "../../messaging/contract";
import {
  MARKER_ATTRIBUTE_NAMES,
  PayloadError,
  formatPointer,
  publishToSns,
  receiveFromSqs,
  resolveSqsMessage,
  sendToSqs,
  type ReaderOptions,
  type ResolvedMessage,
  type WriterOptions,
} from "../../messaging/payload";
import {
  emulatorClientConfig,
  startCountingProxy,
  startFauxqs,
  startS3rver,
  type RunningEmulator,
  type RunningS3rver,
} from "../../local/emulators";
import { s3Error } from "../../local/fault-proxy";
import { subscribeNewQueue } from "../../local/topics";
import { drain, payloadStream, sha256 } from "./helpers";

const BUCKET = "payloads-a";
const OTHER = "incoming-a";

describe("payload library against fauxqs (SNS/SQS) and s3rver (S3)", function () {
  let fauxqs: RunningEmulator;
  let s3rver: RunningS3rver;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let s3: S3Client;
  let sns: SNSClient;
  let sqs: SQSClient;
  let topicArn: string;
  let queueUrl: string;
  let writer: WriterOptions;
  let reader: ReaderOptions;
  const receiveInputs: Record<string, unknown>[] = [];

  before(async () => {
    [fauxqs, s3rver] = await Promise.all([startFauxqs(), startS3rver({ buckets: [BUCKET, OTHER] })]);
    proxy = await startCountingProxy(s3rver.endpoint);
    s3 = new S3Client(emulatorClientConfig(proxy.endpoint));
    sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
    sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    // Record what the reader asks SQS for: fauxqs returns every attribute whatever was asked, unlike SQS.
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "ReceiveMessageCommand")
          receiveInputs.push({ ...(args.input as object) });
        return next(args);
      },
      { step: "initialize" },
    );
    topicArn = (await sns.send(new CreateTopicCommand({ Name: "lib-topic" }))).TopicArn!;
    queueUrl = (await subscribeNewQueue(sns, sqs, topicArn, "lib-queue")).url;
    writer = { s3, bucket: BUCKET, keyPrefix: PayloadLayout.payloadPrefix };
    reader = { s3, allowedBuckets: [BUCKET] };
  });

  after(async () => {
    s3?.destroy();
    await proxy?.stop();
    await Promise.all([fauxqs?.stop(), s3rver?.stop()]);
  });

  /**
   * Receives as a consumer does, deleting what arrived. Every test shares the queue: a message left
   * undeleted comes back after the visibility timeout (30 s), and on a loaded machine, where this
   * suite takes longer than that, it reached a later test as a second (or eighth) message.
   */
  async function receive(waitSeconds: number): ReturnType<typeof receiveFromSqs> {
    const got = await receiveFromSqs(
      sqs,
      { QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: waitSeconds },
      reader,
    );
    for (const { receiptHandle } of got)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receiptHandle }));
    return got;
  }

  async function receiveOne(): Promise<ResolvedMessage> {
    const got = await receive(1);
    assert.equal(got.length, 1, "exactly one message delivered");
    const only = got[0];
    if ("error" in only) throw only.error;
    return only.message;
  }

  it("publishes 1 KiB inline with no S3 request, and it resolves to the same text", async () => {
    const before = proxy.requests.length;
    const body = "x".repeat(1024);
    const out = await publishToSns(
      sns,
      { topicArn, body, attributes: { traceId: { DataType: "String", StringValue: "abc" } } },
      writer,
    );
    assert.equal(out.offloaded, false);
    assert.equal(out.pointer, undefined);
    const message = await receiveOne();
    assert.equal(await message.text(), body);
    assert.deepEqual(message.attributes.traceId, {
      DataType: "String",
      StringValue: "abc",
      BinaryValue: undefined,
    });
    assert.equal(proxy.requests.length, before, "no S3 request for an inline message");
  });

  it("asks ReceiveMessage for both marker names beside the caller's attribute names, each once", async () => {
    await receive(0);
    assert.deepEqual(receiveInputs.at(-1)?.MessageAttributeNames, [...MARKER_ATTRIBUTE_NAMES, "All"]);
    await receiveFromSqs(
      sqs,
      { QueueUrl: queueUrl, WaitTimeSeconds: 0, attributeNames: ["traceId", MARKER_ATTRIBUTE_NAMES[0]] },
      reader,
    );
    assert.deepEqual(receiveInputs.at(-1)?.MessageAttributeNames, [...MARKER_ATTRIBUTE_NAMES, "traceId"]);
  });

  it("offloads 262,145 bytes with the marker, a checksum tag, and resolves them intact", async () => {
    const body = Buffer.alloc(262_145, "a");
    const out = await publishToSns(sns, { topicArn, body }, writer);
    assert.equal(out.offloaded, true);
    assert.match(out.pointer!.s3Key, /^payloads\/[0-9a-f-]{36}$/);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: out.pointer!.s3Key }));
    assert.deepEqual(tags.TagSet, [{ Key: PayloadLayout.sha256Tag, Value: sha256(body) }]);
    const message = await receiveOne();
    assert.deepEqual([message.offloaded, message.size, message.pointer], [true, 262_145, out.pointer]);
    const stream = await message.stream();
    const read = await drain(stream);
    assert.deepEqual(read, { bytes: 262_145, sha256: sha256(body) });
    assert.equal(stream.verified, true);
  });

  it("keeps the size boundary: 262,128 + 16-byte attribute inline, 262,129 offloaded, é×131072 inline", async () => {
    const traceId = { traceId: { DataType: "String", StringValue: "abc" } };
    const before = proxy.requests.length;
    const atLimit = await publishToSns(
      sns,
      { topicArn, body: "a".repeat(262_128), attributes: traceId },
      writer,
    );
    const accented = await publishToSns(sns, { topicArn, body: "é".repeat(131072) }, writer);
    assert.equal(proxy.requests.length, before, "inline messages make no S3 request");
    const over = await publishToSns(
      sns,
      { topicArn, body: "a".repeat(262_129), attributes: traceId },
      writer,
    );
    assert.deepEqual([atLimit.offloaded, accented.offloaded, over.offloaded], [false, false, true]);
    const got = await receive(1);
    assert.equal(got.length, 3, "SNS accepted both inline messages at its 256 KiB limit");
  });

  it("offloads every payload with alwaysThroughS3, and writes the legacy marker when asked", async () => {
    const out = await sendToSqs(
      sqs,
      { queueUrl, body: "tiny" },
      { ...writer, alwaysThroughS3: true, legacyMarker: true },
    );
    assert.equal(out.offloaded, true);
    const got = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MessageAttributeNames: ["All"], WaitTimeSeconds: 1 }),
    );
    const m = got.Messages![0];
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    assert.deepEqual(m.MessageAttributes?.SQSLargePayloadSize, { DataType: "Number", StringValue: "4" });
    assert.equal(m.MessageAttributes?.ExtendedPayloadSize, undefined);
    assert.equal(m.Body, formatPointer(out.pointer!));
    assert.equal(await resolveSqsMessage(m, reader).text(), "tiny");
  });

  it("offloads a small body that is not UTF-8, since SNS and SQS bodies are text", async () => {
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x80]);
    const out = await sendToSqs(sqs, { queueUrl, body: bytes }, writer);
    assert.deepEqual([out.offloaded, out.size], [true, 4]);
    const message = await receiveOne();
    assert.deepEqual(await drain(await message.stream()), { bytes: 4, sha256: sha256(bytes) });
    // text() refuses it rather than hand back U+FFFD in place of the bytes.
    await assert.rejects(
      message.text(),
      (e: unknown) =>
        e instanceof PayloadError && e.code === "InvalidBody" && /is not UTF-8 text/.test(e.message),
    );
  });

  it("streams a Readable of unknown length in bounded parts and verifies it on read", async () => {
    const size = 20 * 1024 * 1024 + 3;
    const source = payloadStream(size);
    const before = proxy.requests.length;
    const out = await sendToSqs(
      sqs,
      { queueUrl, body: source },
      { ...writer, partSizeBytes: 5 * 1024 * 1024 },
    );
    const calls = proxy.requests
      .slice(before)
      .map((r) => `${r.method} ${r.url.replace(/\?.*uploadId.*/, "?upload")}`);
    assert.equal(
      calls.filter((c) => c.startsWith("PUT") && c.endsWith("?upload")).length,
      5,
      "five parts of ≤ 5 MiB",
    );
    assert.deepEqual([out.offloaded, out.size, out.sha256], [true, size, source.sha256()]);
    const message = await receiveOne();
    assert.deepEqual(await drain(await message.stream()), { bytes: size, sha256: source.sha256() });
  });

  it("refuses a pointer outside the allow-list before any S3 call", async () => {
    const before = proxy.requests.length;
    assert.throws(
      () =>
        resolveSqsMessage(
          {
            Body: formatPointer({ s3BucketName: OTHER, s3Key: "secret" }),
            MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: "6" } },
          },
          reader,
        ),
      (e: unknown) => e instanceof PayloadError && e.code === "BucketNotAllowed",
    );
    assert.equal(proxy.requests.length, before);
  });

  it("fails the read of a tampered object (checksum), a short one (size) and a missing one", async () => {
    const out = await sendToSqs(
      sqs,
      { queueUrl, body: "original payload" },
      { ...writer, alwaysThroughS3: true },
    );
    await receiveOne();
    const marker = (n: number) => ({ ExtendedPayloadSize: { DataType: "Number", StringValue: String(n) } });
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: BUCKET,
        Key: out.pointer!.s3Key,
        Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: sha256("other") }] },
      }),
    );
    const tampered = resolveSqsMessage(
      { Body: formatPointer(out.pointer!), MessageAttributes: marker(out.size) },
      reader,
    );
    await assert.rejects(
      tampered.text(),
      (e: unknown) =>
        e instanceof PayloadError && e.code === "ChecksumMismatch" && /does not match/.test(e.message),
    );
    const short = resolveSqsMessage(
      { Body: formatPointer(out.pointer!), MessageAttributes: marker(out.size + 1) },
      reader,
    );
    await assert.rejects(
      short.text(),
      (e: unknown) => e instanceof PayloadError && e.code === "SizeMismatch",
    );
    const missing = resolveSqsMessage(
      { Body: formatPointer({ s3BucketName: BUCKET, s3Key: "payloads/nope" }), MessageAttributes: marker(1) },
      reader,
    );
    // A 404 is named for what it means: the payload expired or never existed (S3's error is the cause).
    await assert.rejects(
      missing.text(),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "PayloadMissing" &&
        /s3:\/\/payloads-a\/payloads\/nope does not exist: it expired/.test(e.message) &&
        (e.cause as Error).name === "NoSuchKey",
    );
  });

  it("reads an object without a checksum tag (Java/Python writers) unverified", async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: "payloads/from-java", Body: "hello from java" }),
    );
    const m = resolveSqsMessage(
      {
        Body: formatPointer({ s3BucketName: BUCKET, s3Key: "payloads/from-java" }),
        MessageAttributes: { SQSLargePayloadSize: { DataType: "Number", StringValue: "15" } },
      },
      reader,
    );
    const stream = await m.stream();
    assert.deepEqual(await drain(stream), { bytes: 15, sha256: sha256("hello from java") });
    assert.equal(stream.verified, false);
  });

  it("copies an S3 source server-side: no GetObject of its bytes, checksum tag carried over", async () => {
    const bytes = Buffer.alloc(300_000, "s");
    await s3.send(new PutObjectCommand({ Bucket: OTHER, Key: "incoming/big", Body: bytes }));
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: OTHER,
        Key: "incoming/big",
        Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: sha256(bytes) }] },
      }),
    );
    const before = proxy.requests.length;
    const out = await sendToSqs(sqs, { queueUrl, source: { bucket: OTHER, key: "incoming/big" } }, writer);
    const calls = proxy.requests.slice(before);
    assert.ok(
      !calls.some((r) => r.method === "GET" && r.url === `/${OTHER}/incoming/big`),
      "the source's bytes were not fetched",
    );
    assert.ok(
      calls.some((r) => r.method === "PUT" && r.url.startsWith(`/${BUCKET}/payloads/`)),
      "a server-side copy was made",
    );
    assert.deepEqual([out.size, out.sha256], [300_000, sha256(bytes)]);
    const message = await receiveOne();
    const stream = await message.stream();
    assert.deepEqual(await drain(stream), { bytes: 300_000, sha256: sha256(bytes) });
    assert.equal(stream.verified, true);
  });

  it("sends SSE-KMS and canned-ACL headers when configured", async () => {
    const seen: Record<string, unknown>[] = [];
    const client = new S3Client(emulatorClientConfig(proxy.endpoint));
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "PutObjectCommand") seen.push({ ...(args.input as object) });
        // s3rver has no KMS: stop here, the request is what is under test.
        if (context.commandName === "PutObjectCommand") throw new Error("stop before sending");
        return next(args);
      },
      { step: "initialize" },
    );
    await assert.rejects(
      sendToSqs(
        sqs,
        { queueUrl, body: "k" },
        {
          ...writer,
          s3: client,
          alwaysThroughS3: true,
          kmsKeyId: "alias/payloads",
          acl: "bucket-owner-full-control",
        },
      ),
      /stop before sending/,
    );
    assert.deepEqual(
      [seen[0].ServerSideEncryption, seen[0].SSEKMSKeyId, seen[0].ACL],
      ["aws:kms", "alias/payloads", "bucket-owner-full-control"],
    );
    client.destroy();
  });

  it("refuses bad writer input before any S3 call, naming the field", async () => {
    const before = proxy.requests.length;
    const ten = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "v" }]),
    );
    await assert.rejects(
      publishToSns(sns, { topicArn, body: "x", attributes: ten }, writer),
      /at most 9 user attributes/,
    );
    await assert.rejects(
      publishToSns(
        sns,
        {
          topicArn,
          body: "x",
          attributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: "1" } },
        },
        writer,
      ),
      /"ExtendedPayloadSize" is reserved/,
    );
    await assert.rejects(
      publishToSns(sns, { topicArn, body: "x" }, { ...writer, keyPrefix: "../up" }),
      /keyPrefix "..\/up"/,
    );
    await assert.rejects(
      publishToSns(sns, { topicArn, body: "x" }, { ...writer, threshold: 2_000_000 }),
      /threshold must be an integer from 0 to 1048576, got 2000000/,
    );
    await assert.rejects(publishToSns(sns, { topicArn }, writer), /exactly one of body or source/);
    await assert.rejects(publishToSns(sns, { topicArn, body: "" }, writer), /body is empty/);
    assert.equal(proxy.requests.length, before);
  });

  it("counts UTF-8 bytes, not characters, just over the threshold", async () => {
    const before = proxy.requests.length;
    // 131,073 characters, 262,146 bytes: a character count would keep it inline.
    const accented = await publishToSns(sns, { topicArn, body: "é".repeat(131073) }, writer);
    // 65,537 characters (131,074 UTF-16 units), 262,148 bytes.
    const emoji = await publishToSns(sns, { topicArn, body: "😀".repeat(65537) }, writer);
    const fits = await publishToSns(sns, { topicArn, body: "😀".repeat(65536) }, writer);
    assert.deepEqual([accented.offloaded, emoji.offloaded, fits.offloaded], [true, true, false]);
    assert.deepEqual([accented.size, emoji.size, fits.size], [262_146, 262_148, 262_144]);
    assert.ok(proxy.requests.length > before);
    const got = await receive(1);
    assert.equal(got.length, 3);
  });

  it("offloads UTF-8 bodies SQS refuses (NUL, C0 controls, U+FFFE, U+FFFF) on the SQS and SNS paths, intact", async () => {
    const bodies = ["a\u0000b", "\u0001", "x\uFFFE", "\uFFFFy", "tab\tand\u001f"];
    for (const body of bodies) {
      const viaSqs = await sendToSqs(sqs, { queueUrl, body }, writer);
      assert.equal(await (await receiveOne()).text(), body);
      const viaSns = await publishToSns(sns, { topicArn, body }, writer);
      assert.equal(await (await receiveOne()).text(), body);
      assert.deepEqual([viaSqs.offloaded, viaSns.offloaded], [true, true], JSON.stringify(body));
    }
    // Tab, newline and carriage return are allowed: they stay inline.
    const allowed = await sendToSqs(sqs, { queueUrl, body: "a\tb\nc\rd" }, writer);
    assert.equal(allowed.offloaded, false);
    assert.equal(await (await receiveOne()).text(), "a\tb\nc\rd");
  });

  it("refuses a string with a lone surrogate, which has no UTF-8 form, before any S3 call", async () => {
    const before = proxy.requests.length;
    for (const body of ["a\uD800b", "\uDC00", "x".repeat(300_000) + "\uD83D"]) {
      await assert.rejects(
        publishToSns(sns, { topicArn, body }, writer),
        (e: unknown) =>
          e instanceof PayloadError && e.code === "InvalidBody" && /lone UTF-16 surrogate/.test(e.message),
      );
    }
    assert.equal(proxy.requests.length, before);
  });

  it("refuses attributes that leave no room for the pointer and marker, naming the attribute, before any S3 call", async () => {
    const before = proxy.requests.length;
    const big = (n: number) => ({
      small: { DataType: "String", StringValue: "v" },
      notes: { DataType: "String", StringValue: "n".repeat(n) },
    });
    // SNS: 262,144 bytes in all; the attributes alone fit under the threshold, the pointer does not.
    await assert.rejects(
      publishToSns(sns, { topicArn, body: "b".repeat(1000), attributes: big(262_000) }, writer),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "InvalidAttribute" &&
        /the largest, "notes", 262011\).*over the SNS limit of 262144/.test(e.message),
    );
    await assert.rejects(
      publishToSns(sns, { topicArn, body: payloadStream(300_000), attributes: big(262_000) }, writer),
      /"notes".*over the SNS limit/,
    );
    // SQS allows 1 MiB, so the same attributes fit there; 1,048,500 bytes of them do not.
    await assert.rejects(
      sendToSqs(
        sqs,
        { queueUrl, source: { bucket: OTHER, key: "incoming/none" }, attributes: big(1_048_500) },
        writer,
      ),
      /"notes".*over the SQS limit of 1048576/,
    );
    assert.equal(proxy.requests.length, before, "nothing uploaded, so no orphan object");
    const fits = await sendToSqs(
      sqs,
      { queueUrl, body: "b".repeat(300_000), attributes: big(262_000) },
      writer,
    );
    assert.equal(fits.offloaded, true);
    assert.equal((await receiveOne()).attributes.notes.StringValue?.length, 262_000);
  });

  it("an attribute named __proto__ is sent, and never silently lost on receive (SQS)", async () => {
    const attributes = JSON.parse('{"__proto__":{"DataType":"String","StringValue":"p"}}');
    const before = receiveInputs.length;
    await sendToSqs(sqs, { queueUrl, body: "proto", attributes }, writer);
    assert.equal(receiveInputs.length, before);
    const [got] = await receive(1);
    // The SDK's JSON deserializer drops the value of a map key named __proto__ (the wire has it):
    // the reader then refuses the message, naming the attribute, rather than drop it.
    if ("error" in got) {
      assert.ok(
        got.error instanceof PayloadError && got.error.code === "InvalidAttribute",
        String(got.error),
      );
      assert.match(got.error.message, /attribute "__proto__" arrived without a value/);
    } else {
      assert.deepEqual(Object.keys(got.message.attributes), ["__proto__"]);
      assert.equal(got.message.attributes["__proto__"].StringValue, "p");
    }
  });

  it("text(maxBytes) refuses a larger marker before any S3 call, and a lying marker costs no transfer", async () => {
    const size = 8 * 1024 * 1024;
    const out = await sendToSqs(sqs, { queueUrl, body: payloadStream(size) }, writer);
    await receiveOne();
    const withMarker = (n: number) =>
      resolveSqsMessage(
        {
          Body: formatPointer(out.pointer!),
          MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: String(n) } },
        },
        reader,
      );
    const before = proxy.requests.length;
    await assert.rejects(
      withMarker(size).text(1024),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "TooLarge" &&
        /8388608 bytes, over the 1024-byte limit/.test(e.message),
    );
    assert.equal(proxy.requests.length, before, "refused before any S3 call");
    // A 16-byte claim on an 8 MiB object: GetObject's Content-Length gives it away before the body.
    await assert.rejects(
      withMarker(16).text(),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "SizeMismatch" &&
        /is 8388608 bytes, the marker says 16/.test(e.message),
    );
    const get = proxy.requests.slice(before).find((r) => r.method === "GET" && !r.url.includes("tagging"))!;
    assert.ok(get.responseBytes < 1024 * 1024, `read ${get.responseBytes} bytes of the body`);
  });

  it("a multipart upload failing midway (one part refused) is aborted, and nothing is published", async () => {
    const removeFault = proxy.addFault({
      match: (r) => r.method === "PUT" && /[?&]partNumber=3(&|$)/.test(r.url),
      action: s3Error(503, "SlowDown", "Please reduce your request rate."),
    });
    const before = proxy.requests.length;
    try {
      await assert.rejects(
        publishToSns(
          sns,
          { topicArn, body: payloadStream(24 * 1024 * 1024) },
          { ...writer, partSizeBytes: 5 * 1024 * 1024, queueSize: 1 },
        ),
        (e: unknown) => (e as Error).name === "SlowDown",
      );
    } finally {
      removeFault();
    }
    const calls = proxy.requests.slice(before);
    const created = calls.find((r) => r.method === "POST" && r.url.includes("?uploads"));
    const uploadId = /uploadId=([^&]+)/.exec(calls.find((r) => r.url.includes("uploadId="))!.url)![1];
    assert.ok(created, "a multipart upload was started");
    assert.ok(
      calls.some((r) => r.method === "DELETE" && r.url.includes(`uploadId=${uploadId}`)),
      "AbortMultipartUpload was sent for it",
    );
    assert.ok(!calls.some((r) => r.method === "POST" && r.url.includes("uploadId=")), "never completed");
    const got = await receive(0);
    assert.equal(got.length, 0, "nothing published");
  });

  it("a server-side copy replaces the producer's tags: only the checksum tag is written", async () => {
    await s3.send(new PutObjectCommand({ Bucket: OTHER, Key: "incoming/tagged", Body: "tagged source" }));
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: OTHER,
        Key: "incoming/tagged",
        Tagging: {
          TagSet: [
            { Key: "owner", Value: "team-x" },
            { Key: PayloadLayout.sha256Tag, Value: sha256("tagged source") },
          ],
        },
      }),
    );
    const before = proxy.requests.length;
    const out = await sendToSqs(sqs, { queueUrl, source: { bucket: OTHER, key: "incoming/tagged" } }, writer);
    await receiveOne();
    const calls = proxy.requests.slice(before);
    const copy = calls.find((r) => r.method === "PUT" && r.headers["x-amz-copy-source"] !== undefined)!;
    // Neither emulator copies tags, so the request is what shows what S3 would do: REPLACE with no
    // x-amz-tagging header writes the copy with no tags (COPY, S3's default, would keep "owner").
    assert.equal(copy.headers["x-amz-tagging-directive"], "REPLACE");
    assert.equal(copy.headers["x-amz-tagging"], undefined);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: out.pointer!.s3Key }));
    assert.deepEqual(tags.TagSet, [{ Key: PayloadLayout.sha256Tag, Value: sha256("tagged source") }]);
  });

  it("a failed publish returns the error and leaves no message", async () => {
    const missingTopic = topicArn.replace(/lib-topic$/, "no-such-topic");
    await assert.rejects(
      publishToSns(sns, { topicArn: missingTopic, body: Buffer.alloc(300_000, 1) }, writer),
    );
    const got = await receive(0);
    assert.equal(got.length, 0);
  });
});

describe("payload library when S3 goes down", function () {
  it("S3 stopped during a streaming upload: the publish fails and no SNS message exists", async () => {
    const fauxqs = await startFauxqs();
    const s3rver = await startS3rver({ buckets: [BUCKET] });
    const s3 = new S3Client({ ...emulatorClientConfig(s3rver.endpoint), maxAttempts: 2 });
    const sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
    const sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    try {
      const topicArn = (await sns.send(new CreateTopicCommand({ Name: "fault-topic" }))).TopicArn!;
      const queueUrl = (await subscribeNewQueue(sns, sqs, topicArn, "fault-queue")).url;
      let stopping: Promise<void> | undefined;
      const source = payloadStream(48 * 1024 * 1024, (n) => {
        if (n >= 12 * 1024 * 1024) stopping ??= s3rver.stop();
      });
      await assert.rejects(
        publishToSns(sns, { topicArn, body: source }, { s3, bucket: BUCKET, partSizeBytes: 5 * 1024 * 1024 }),
      );
      await stopping;
      const got = await receiveFromSqs(
        sqs,
        { QueueUrl: queueUrl, WaitTimeSeconds: 1 },
        { s3, allowedBuckets: [BUCKET] },
      );
      assert.equal(got.length, 0, "no message was published");
    } finally {
      s3.destroy();
      await Promise.all([fauxqs.stop(), s3rver.stop()]);
    }
  });
});
