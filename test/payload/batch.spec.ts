import * as assert from "node:assert/strict";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import {
  PayloadError,
  openPayload,
  publishBatchToSns,
  publishToSns,
  resolveSqsMessage,
  sendBatchToSqs,
  type BatchOptions,
  type ResolvedMessage,
  type SnsBatchEntry,
} from "../../messaging/payload";
import {
  emulatorClientConfig,
  startFauxqs,
  startS3rver,
  type RunningEmulator,
  type RunningS3rver,
} from "../../local/emulators";
import { awsError, startFaultProxy, type FaultProxy } from "../../local/fault-proxy";
import { subscribeNewQueue } from "../../local/topics";
import { packRequests } from "../../messaging/payload/batch";
import { drain, sha256 } from "./helpers";

const BUCKET = "batch-payloads";
const KiB = 1024;

/** Distinct text of `size` bytes, so no two entries are equal by accident. */
const text = (size: number, tag: string) => `${tag}:`.padEnd(size, "x");

describe("batch writers against fauxqs (SNS, SQS) and s3rver (S3)", function () {
  let fauxqs: RunningEmulator;
  let s3rver: RunningS3rver;
  let s3: S3Client;
  let sns: SNSClient;
  let sqs: SQSClient;
  let options: BatchOptions;
  /** Bytes (bodies plus attributes) and entry count of each batch request sent. */
  const requests: { command: string; entries: number; bytes: number }[] = [];

  before(async () => {
    [fauxqs, s3rver] = await Promise.all([startFauxqs(), startS3rver({ buckets: [BUCKET] })]);
    s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
    sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
    sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    options = { s3, bucket: BUCKET, keyPrefix: "payloads/" };
    const record = (command: string, entries: { body: string; attrs?: Record<string, unknown> }[]) =>
      requests.push({
        command,
        entries: entries.length,
        bytes: entries.reduce(
          (n, e) => n + Buffer.byteLength(e.body) + Buffer.byteLength(JSON.stringify(e.attrs ?? {})),
          0,
        ),
      });
    sns.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { PublishBatchRequestEntries?: { Message: string }[] };
        if (context.commandName === "PublishBatchCommand")
          record(
            "PublishBatch",
            (input.PublishBatchRequestEntries ?? []).map((e) => ({ body: e.Message })),
          );
        return next(args);
      },
      { step: "initialize" },
    );
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Entries?: { MessageBody: string }[] };
        if (context.commandName === "SendMessageBatchCommand")
          record(
            "SendMessageBatch",
            (input.Entries ?? []).map((e) => ({ body: e.MessageBody })),
          );
        return next(args);
      },
      { step: "initialize" },
    );
  });

  after(async () => {
    s3?.destroy();
    await Promise.all([fauxqs?.stop(), s3rver?.stop()]);
  });

  beforeEach(() => {
    requests.length = 0;
  });

  /** Receives (and deletes) until `expected` messages came or the queue stayed empty for a while. */
  async function receiveAll(
    queueUrl: string,
    expected: number,
    tries = 3,
  ): Promise<{ raw: Message; message: ResolvedMessage }[]> {
    const out: { raw: Message; message: ResolvedMessage }[] = [];
    for (let n = 0; out.length < expected && n < tries; n++) {
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: ["All"],
          MessageSystemAttributeNames: ["All"],
        }),
      );
      for (const raw of got.Messages ?? []) {
        out.push({ raw, message: resolveSqsMessage(raw, { s3, allowedBuckets: [BUCKET] }) });
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: raw.ReceiptHandle }));
      }
    }
    return out;
  }

  async function digestOf(message: ResolvedMessage): Promise<string> {
    return (await drain(await message.stream())).sha256;
  }

  it("publishes 25 entries in 3 requests of at most 10, offloading the large ones, and every payload arrives intact", async () => {
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: "batch-std" }))).TopicArn!;
    const queue = await subscribeNewQueue(sns, sqs, topicArn, "batch-std-q");
    const entries: SnsBatchEntry[] = Array.from({ length: 25 }, (_, i) => ({
      id: `e${i}`,
      body: text(i % 5 === 0 ? 300 * KiB : 1 * KiB, `m${i}`),
      attributes: { n: { DataType: "Number", StringValue: String(i) } },
    }));
    const out = await publishBatchToSns(sns, topicArn, entries, options);
    assert.equal(out.failed.length, 0, JSON.stringify(out.failed));
    assert.equal(out.requests, 3);
    assert.deepEqual(
      requests.map((r) => r.entries),
      [10, 10, 5],
    );
    assert.deepEqual(
      out.successful.map((s) => s.id),
      entries.map((e) => e.id),
    );
    assert.deepEqual(
      out.successful.filter((s) => s.offloaded).map((s) => s.id),
      ["e0", "e5", "e10", "e15", "e20"],
    );
    const received = await receiveAll(queue.url, 25);
    assert.equal(received.length, 25);
    const sent = new Map(entries.map((e) => [sha256(e.body as string), e]));
    for (const { message } of received) {
      const digest = await digestOf(message);
      const entry = sent.get(digest);
      assert.ok(entry, `received a payload that was not sent (sha256 ${digest})`);
      assert.equal(message.attributes.n.StringValue, entry.id.slice(1));
      sent.delete(digest);
    }
    assert.equal(sent.size, 0);
  });

  it("splits SQS requests at the 1 MiB aggregate limit instead of failing them (4 × 250,000 fit, the fifth goes alone)", async () => {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "batch-agg" }))).QueueUrl!;
    const entries = Array.from({ length: 5 }, (_, i) => ({ id: `big${i}`, body: text(250_000, `b${i}`) }));
    const out = await sendBatchToSqs(sqs, queueUrl, entries, options);
    assert.equal(out.failed.length, 0, JSON.stringify(out.failed));
    assert.deepEqual(
      requests.map((r) => r.entries),
      [4, 1],
    );
    assert.ok(requests.every((r) => r.bytes <= 1_048_576));
    assert.ok(out.successful.every((s) => !s.offloaded));
  });

  it("keeps SNS requests under 262,144 bytes counting attributes and the marker: exactly the limit fits one request, one byte more splits it", async () => {
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: "batch-agg" }))).TopicArn!;
    // attribute "k" String "v": 1 + 6 + 1 = 8 bytes counted per entry.
    const attributes = { k: { DataType: "String", StringValue: "v" } };
    const half = 131_072 - 8;
    const fits = await publishBatchToSns(
      sns,
      topicArn,
      [
        { id: "a", body: text(half, "a"), attributes },
        { id: "b", body: text(half, "b"), attributes },
      ],
      options,
    );
    assert.equal(fits.requests, 1);
    const over = await publishBatchToSns(
      sns,
      topicArn,
      [
        { id: "a", body: text(half, "a"), attributes },
        { id: "b", body: text(half + 1, "b"), attributes },
      ],
      options,
    );
    assert.equal(over.requests, 2);
    assert.equal(over.successful.length, 2);
  });

  it("reports a partial failure per entry: the refused entry with its code, the others sent; an offloaded entry of a failed request names its object", async () => {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "batch-partial" }))).QueueUrl!;
    const out = await sendBatchToSqs(
      sqs,
      queueUrl,
      [
        { id: "ok1", body: "fine" },
        // An entry the transport refuses alone. Characters SQS refuses (U+0001) are offloaded by the
        // writer now, so this uses a character outside the BMP, which fauxqs refuses in SQS bodies
        // (real SQS accepts it): a stand-in for any per-entry refusal.
        { id: "ctl", body: "emoji \u{1F600}" },
        {
          id: "attr",
          body: "x",
          attributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: "1" } },
        },
        { id: "ok2", body: text(300 * KiB, "ok2") },
      ],
      options,
    );
    assert.deepEqual(
      out.successful.map((s) => s.id),
      ["ok1", "ok2"],
    );
    assert.deepEqual(
      out.failed.map((f) => [f.id, f.code, f.senderFault]),
      [
        ["ctl", "InvalidMessageContents", true],
        ["attr", "InvalidAttribute", true],
      ],
    );
    assert.match(out.failed[1].reason, /ExtendedPayloadSize.*reserved/);

    // A request that fails as a whole (the queue does not exist): every entry is reported, and the
    // offloaded one names its orphaned object, which is still there to delete.
    const missing = queueUrl.replace(/batch-partial$/, "no-such-queue");
    const lost = await sendBatchToSqs(
      sqs,
      missing,
      [
        { id: "small", body: "s" },
        { id: "large", body: text(300 * KiB, "large") },
      ],
      options,
    );
    assert.equal(lost.successful.length, 0);
    assert.deepEqual(
      lost.failed.map((f) => f.id),
      ["small", "large"],
    );
    assert.equal(lost.failed[0].pointer, undefined);
    const orphan = lost.failed[1].pointer;
    assert.ok(orphan, "the offloaded entry's object is named for cleanup");
    const stored = await openPayload(orphan, { s3, allowedBuckets: [BUCKET] });
    assert.equal((await drain(stored)).sha256, sha256(text(300 * KiB, "large")));
  });

  it("stops at the caller's deadline: a request under an aborted signal reports every entry failed, none dropped", async () => {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "batch-abort" }))).QueueUrl!;
    const deadline = new AbortController();
    deadline.abort();
    const out = await sendBatchToSqs(
      sqs,
      queueUrl,
      [
        { id: "a", body: "1" },
        { id: "b", body: "2" },
      ],
      { ...options, signal: deadline.signal },
    );
    assert.equal(out.successful.length, 0);
    assert.deepEqual(
      out.failed.map((f) => [f.id, f.code]),
      [
        ["a", "AbortError"],
        ["b", "AbortError"],
      ],
    );
  });

  it("stops an SNS batch at the caller's deadline too", async () => {
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: "batch-abort" }))).TopicArn!;
    const deadline = new AbortController();
    deadline.abort();
    const out = await publishBatchToSns(sns, topicArn, [{ id: "a", body: "1" }], {
      ...options,
      signal: deadline.signal,
    });
    assert.deepEqual(
      out.failed.map((f) => [f.id, f.code]),
      [["a", "AbortError"]],
    );
  });

  it("refuses duplicate or invalid entry ids and a threshold above the aggregate limit before any upload", async () => {
    const queueUrl = "http://127.0.0.1:1/000000000000/never";
    await assert.rejects(
      () =>
        sendBatchToSqs(
          sqs,
          queueUrl,
          [
            { id: "a", body: "1" },
            { id: "a", body: "2" },
          ],
          options,
        ),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "InvalidOption" &&
        /entries\[1\]\.id "a" is a duplicate/.test(e.message),
    );
    await assert.rejects(
      () => sendBatchToSqs(sqs, queueUrl, [{ id: "a b", body: "1" }], options),
      /entries\[0\]\.id must be 1-80 of \[A-Za-z0-9_-\], got "a b"/,
    );
    await assert.rejects(
      () =>
        publishBatchToSns(sns, "arn:aws:sns:us-east-1:000000000000:t", [{ id: "a", body: "1" }], {
          ...options,
          threshold: 300_000,
        }),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "InvalidOption" &&
        /threshold 300000 is above maxBatchBytes 262144/.test(e.message),
    );
  });

  it("refuses a bad target, entry list or option, naming it, before any upload", async () => {
    const url = "http://127.0.0.1:1/000000000000/never";
    for (const topicArn of ["my-topic", 5])
      assert.throws(
        () => publishBatchToSns(sns, topicArn as string, [], options),
        (e: unknown) =>
          e instanceof PayloadError &&
          e.code === "InvalidOption" &&
          e.message === `topicArn must be an SNS topic ARN, got ${JSON.stringify(topicArn)}`,
      );
    for (const queueUrl of ["my-queue", "ftp://host/q", "xhttp://host/q", undefined as unknown as string])
      assert.throws(
        () => sendBatchToSqs(sqs, queueUrl, [], options),
        (e: unknown) =>
          e instanceof PayloadError &&
          e.code === "InvalidOption" &&
          e.message === `queueUrl must be an SQS queue URL, got ${JSON.stringify(queueUrl)}`,
      );
    const refused = (entries: unknown, extra: Partial<BatchOptions>, message: string) =>
      assert.rejects(
        () => sendBatchToSqs(sqs, url, entries as never, { ...options, ...extra }),
        (e: unknown) => e instanceof PayloadError && e.code === "InvalidOption" && e.message === message,
      );
    await refused("x", {}, "entries must be a list, got string");
    await refused([null], {}, "entries[0].id must be 1-80 of [A-Za-z0-9_-], got undefined");
    const one = [{ id: "a", body: "1" }];
    await refused(
      one,
      { threshold: 0, maxBatchBytes: 0 },
      "maxBatchBytes must be an integer from 1 to 1048576, got 0",
    );
    await refused(
      one,
      { maxBatchBytes: 1_048_577 },
      "maxBatchBytes must be an integer from 1 to 1048576, got 1048577",
    );
    await refused(
      one,
      { maxBatchBytes: 300_000.5 },
      "maxBatchBytes must be an integer from 1 to 1048576, got 300000.5",
    );
    await refused(one, { uploadConcurrency: 0 }, "uploadConcurrency must be a positive integer, got 0");
    await refused(one, { uploadConcurrency: 1.5 }, "uploadConcurrency must be a positive integer, got 1.5");
  });

  it("takes the bounds themselves: 1 byte per request with everything offloaded, a threshold equal to maxBatchBytes", async () => {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "batch-bounds" }))).QueueUrl!;
    const tiny = await sendBatchToSqs(sqs, queueUrl, [{ id: "a", body: "1" }], {
      ...options,
      threshold: 0,
      maxBatchBytes: 1,
      uploadConcurrency: 1,
    });
    assert.deepEqual([tiny.successful.length, tiny.successful[0].offloaded], [1, true]);
    const equal = await sendBatchToSqs(sqs, queueUrl, [{ id: "b", body: "2" }], {
      ...options,
      threshold: 1_048_576,
      maxBatchBytes: 1_048_576,
    });
    assert.equal(equal.successful.length, 1);
    await receiveAll(queueUrl, 2);
  });

  it("packs requests of at most 10 entries and maxBytes, in order, an entry over maxBytes alone", () => {
    const items = (...bytes: number[]) => bytes.map((n, i) => ({ i, bytes: n }));
    const shape = (requests: { bytes: number }[][]) => requests.map((r) => r.map((item) => item.bytes));
    assert.deepEqual(packRequests([], 10), []);
    assert.deepEqual(shape(packRequests(items(...Array(11).fill(1)), 100)), [Array(10).fill(1), [1]]);
    assert.deepEqual(shape(packRequests(items(5, 5), 10)), [[5, 5]]);
    assert.deepEqual(shape(packRequests(items(5, 6), 10)), [[5], [6]]);
    assert.deepEqual(shape(packRequests(items(20, 1), 10)), [[20], [1]]);
    assert.deepEqual(shape(packRequests(items(1, 20, 3, 4), 10)), [[1], [20], [3, 4]]);
  });

  it("counts an SNS subject's bytes in the request size, and sends it", async () => {
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: "batch-subject" }))).TopicArn!;
    const sent: { Subject?: string }[] = [];
    sns.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "PublishBatchCommand")
          sent.push(
            ...(args.input as { PublishBatchRequestEntries: { Subject?: string }[] })
              .PublishBatchRequestEntries,
          );
        return next(args);
      },
      { step: "initialize", name: "subjects" },
    );
    try {
      const attributes = { k: { DataType: "String", StringValue: "v" } };
      // Each entry: body + 8 bytes of attribute + 10 bytes of subject = 131,072, two of them 262,144.
      const entries = (subject: string) =>
        ["a", "b"].map((id) => ({ id, body: text(131_072 - 8 - 10, id), attributes, subject }));
      assert.equal((await publishBatchToSns(sns, topicArn, entries("ten bytes!"), options)).requests, 1);
      assert.equal((await publishBatchToSns(sns, topicArn, entries("eleven byte"), options)).requests, 2);
      assert.deepEqual(
        sent.map((e) => e.Subject),
        ["ten bytes!", "ten bytes!", "eleven byte", "eleven byte"],
      );
    } finally {
      sns.middlewareStack.remove("subjects");
    }
  });

  it("uploads at most uploadConcurrency entries at once, and passes each entry's delay on", async () => {
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "batch-lanes" }))).QueueUrl!;
    let inFlight = 0;
    let most = 0;
    s3.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName !== "PutObjectCommand") return next(args);
        most = Math.max(most, ++inFlight);
        try {
          return await next(args);
        } finally {
          inFlight--;
        }
      },
      { step: "initialize", name: "lanes" },
    );
    const delays: (number | undefined)[] = [];
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === "SendMessageBatchCommand")
          delays.push(
            ...(args.input as { Entries: { DelaySeconds?: number }[] }).Entries.map((e) => e.DelaySeconds),
          );
        return next(args);
      },
      { step: "initialize", name: "delays" },
    );
    try {
      const entries = Array.from({ length: 6 }, (_, i) => ({
        id: `l${i}`,
        body: text(300 * KiB, `l${i}`),
        ...(i === 0 ? { delaySeconds: 0 } : i === 1 ? { delaySeconds: 2 } : {}),
      }));
      const out = await sendBatchToSqs(sqs, queueUrl, entries, { ...options, uploadConcurrency: 2 });
      assert.equal(out.successful.length, 6);
      assert.ok(most <= 2, `${most} uploads at once`);
      assert.deepEqual(delays, [0, 2, undefined, undefined, undefined, undefined]);
    } finally {
      s3.middlewareStack.remove("lanes");
      sqs.middlewareStack.remove("delays");
    }
  });

  describe("what the transport answers, entry by entry (answers crafted by a proxy)", () => {
    let proxy: FaultProxy;
    let viaProxy: SQSClient;
    let queueUrl: string;

    before(async () => {
      proxy = await startFaultProxy(fauxqs.endpoint);
      // One attempt, and no MD5 check of the crafted answers: the batch writer's reading is under test.
      viaProxy = new SQSClient({ ...emulatorClientConfig(proxy.endpoint), maxAttempts: 1, md5: false });
      queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "batch-crafted" }))).QueueUrl!;
    });
    afterEach(() => proxy.clearFaults());
    after(async () => {
      viaProxy?.destroy();
      await proxy?.stop();
    });

    const answer = (reply: object) =>
      proxy.addFault({
        match: (r) => r.operation === "SendMessageBatch",
        action: {
          kind: "respond",
          status: 200,
          headers: { "content-type": "application/x-amz-json-1.0" },
          body: JSON.stringify(reply),
        },
      });

    it("reads each entry's outcome: unknown ids ignored, a success without a MessageId or an entry in neither list has no result, a failure after a success ignored", async () => {
      answer({
        Successful: [{ Id: "a", MessageId: "m-a" }, { Id: "b" }, { Id: "ghost", MessageId: "m-g" }],
        Failed: [
          { Id: "a", Code: "Late", SenderFault: true, Message: "after the success" },
          { Id: "c" },
          { Id: "d", Code: "Refused", SenderFault: true, Message: "no" },
          { Id: "ghost2", Code: "X" },
          { Id: "big", Code: "Refused", SenderFault: false, Message: "server side" },
        ],
      });
      const out = await sendBatchToSqs(
        viaProxy,
        queueUrl,
        [
          { id: "a", body: "1" },
          { id: "b", body: "2" },
          { id: "c", body: "3" },
          { id: "d", body: "4" },
          { id: "e", body: "5" },
          { id: "big", body: text(300 * KiB, "big") },
        ],
        options,
      );
      assert.deepEqual(
        out.successful.map((s) => [s.id, s.messageId]),
        [["a", "m-a"]],
      );
      const noResult = "the response listed this entry neither as successful nor as failed";
      const { pointer, ...big } = out.failed[4];
      assert.deepEqual(out.failed.slice(0, 4), [
        { id: "b", code: "NoResult", reason: noResult, senderFault: false },
        { id: "c", code: "Unknown", reason: "no reason given", senderFault: false },
        { id: "d", code: "Refused", reason: "no", senderFault: true },
        { id: "e", code: "NoResult", reason: noResult, senderFault: false },
      ]);
      assert.deepEqual(big, { id: "big", code: "Refused", reason: "server side", senderFault: false });
      assert.match(pointer?.s3Key ?? "", /^payloads\//, "the offloaded entry names its object");
      assert.equal(out.requests, 1);
    });

    it("an answer with neither list: every entry without a result, offloaded ones naming their object", async () => {
      answer({});
      const out = await sendBatchToSqs(
        viaProxy,
        queueUrl,
        [
          { id: "s", body: "small" },
          { id: "l", body: text(300 * KiB, "l") },
        ],
        options,
      );
      assert.deepEqual(
        out.failed.map((f) => [f.id, f.code, f.pointer !== undefined]),
        [
          ["s", "NoResult", false],
          ["l", "NoResult", true],
        ],
      );
    });

    it("FIFO: after a request fails, the group's entries in later requests are held back, naming its earliest failed entry", async () => {
      const fifoUrl = (
        await sqs.send(
          new CreateQueueCommand({ QueueName: "batch-crafted.fifo", Attributes: { FifoQueue: "true" } }),
        )
      ).QueueUrl!;
      proxy.addFault({
        match: (r) => r.operation === "SendMessageBatch",
        action: (r) => awsError(r, "server"),
        times: 1,
      });
      const entries = [
        ...Array.from({ length: 11 }, (_, i) => ({ id: `g${i}`, body: `g-${i}`, messageGroupId: "g" })),
        // Refused before any request: the group is broken from here first, then from g0 when the
        // first request fails, and the earlier entry is the one that holds the group back.
        {
          id: "g11",
          body: "g-11",
          messageGroupId: "g",
          attributes: { "aws.x": { DataType: "String", StringValue: "1" } },
        },
        { id: "h0", body: "h-0", messageGroupId: "h" },
      ];
      const out = await sendBatchToSqs(viaProxy, fifoUrl, entries, options);
      assert.equal(out.requests, 2);
      assert.deepEqual(
        out.successful.map((s) => s.id),
        ["h0"],
      );
      assert.deepEqual(
        out.failed.map((f) => [f.id, f.code]),
        [
          ...entries.slice(0, 10).map((e) => [e.id, "InternalFailure"]),
          ["g10", "PrecedingEntryFailed"],
          ["g11", "InvalidAttribute"],
        ],
      );
      assert.equal(
        out.failed[10].reason,
        'not sent: entry g0 of message group "g" failed before it, and FIFO order forbids sending past it',
      );
      assert.equal(out.failed[10].senderFault, false);
    });

    it("a request refused as a whole: each entry with the error's name, a sender fault only for the client's", async () => {
      for (const [kind, code, senderFault] of [
        ["throttle", "ThrottlingException", true],
        ["server", "InternalFailure", false],
      ] as const) {
        proxy.clearFaults();
        proxy.addFault({
          match: (r) => r.operation === "SendMessageBatch",
          action: (r) => awsError(r, kind),
        });
        const out = await sendBatchToSqs(viaProxy, queueUrl, [{ id: "x", body: "1" }], options);
        assert.deepEqual(
          out.failed.map((f) => [f.id, f.code, f.senderFault]),
          [["x", code, senderFault]],
          kind,
        );
        assert.equal(out.failed[0].reason, "injected by the fault proxy");
      }
    });
  });

  describe("FIFO", () => {
    let topicArn: string;
    let queueUrl: string;

    before(async () => {
      topicArn = (
        await sns.send(new CreateTopicCommand({ Name: "batch.fifo", Attributes: { FifoTopic: "true" } }))
      ).TopicArn!;
      const url = (
        await sqs.send(
          new CreateQueueCommand({ QueueName: "batch-q.fifo", Attributes: { FifoQueue: "true" } }),
        )
      ).QueueUrl!;
      const { SubscribeCommand } = await import("@aws-sdk/client-sns");
      await sns.send(
        new SubscribeCommand({
          TopicArn: topicArn,
          Protocol: "sqs",
          Endpoint: `arn:aws:sqs:us-east-1:000000000000:batch-q.fifo`,
          Attributes: { RawMessageDelivery: "true" },
        }),
      );
      queueUrl = url;
    });

    it("deduplicates the same offloaded payload published twice (single and batch) by its SHA-256, though the pointers differ", async () => {
      const payload = text(300 * KiB, "same");
      const first = await publishToSns(sns, { topicArn, body: payload, messageGroupId: "g" }, options);
      const second = await publishBatchToSns(
        sns,
        topicArn,
        [{ id: "again", body: payload, messageGroupId: "g" }],
        options,
      );
      assert.equal(second.failed.length, 0, JSON.stringify(second.failed));
      assert.notEqual(first.pointer?.s3Key, second.successful[0].pointer?.s3Key);
      // fauxqs fans out during Publish: what was delivered is on the queue by now.
      const received = await receiveAll(queueUrl, 2, 2);
      assert.equal(received.length, 1, "the second publish of the same payload was deduplicated");
      assert.equal(await digestOf(received[0].message), sha256(payload));
      assert.equal(received[0].raw.Attributes?.MessageDeduplicationId, sha256(payload));
    });

    it("deduplicates a staged S3 source without a checksum tag by its ETag and size, sent twice", async () => {
      const source = { bucket: BUCKET, key: "incoming/staged-once" };
      await s3.send(
        new PutObjectCommand({ Bucket: source.bucket, Key: source.key, Body: text(5 * KiB, "staged") }),
      );
      const out = await publishBatchToSns(
        sns,
        topicArn,
        [
          { id: "first", source, messageGroupId: "s" },
          { id: "again", source, messageGroupId: "s" },
        ],
        options,
      );
      assert.equal(out.failed.length, 0, JSON.stringify(out.failed));
      assert.equal(out.successful[0].sha256, undefined, "no checksum tag: the SHA-256 is unknown");
      const received = await receiveAll(queueUrl, 2, 2);
      assert.equal(received.length, 1, "the second copy was deduplicated");
      assert.match(received[0].raw.Attributes?.MessageDeduplicationId ?? "", /^[0-9a-f]{64}$/);
    });

    it("sends a group's entries in every request while none of them failed", async () => {
      const entries = Array.from({ length: 11 }, (_, i) => ({
        id: `k${i}`,
        body: `k-${i}`,
        messageGroupId: "k",
      }));
      const out = await publishBatchToSns(sns, topicArn, entries, options);
      assert.deepEqual([out.requests, out.successful.length, out.failed.length], [2, 11, 0]);
      // fauxqs hands out one message of a FIFO group per receive.
      assert.equal((await receiveAll(queueUrl, 11, 15)).length, 11);
    });

    it("fails every later entry of a group after one of its entries failed, and still sends other groups", async () => {
      const out = await publishBatchToSns(
        sns,
        topicArn,
        [
          { id: "a1", body: "a-1", messageGroupId: "a" },
          {
            id: "a2",
            body: "a-2",
            messageGroupId: "a",
            attributes: { "aws.x": { DataType: "String", StringValue: "1" } },
          },
          { id: "b1", body: "b-1", messageGroupId: "b" },
          { id: "a3", body: text(300 * KiB, "a-3"), messageGroupId: "a" },
          { id: "b2", body: "b-2", messageGroupId: "b" },
          { id: "nogroup", body: "n" },
        ],
        options,
      );
      assert.deepEqual(
        out.successful.map((s) => s.id),
        ["a1", "b1", "b2"],
      );
      assert.deepEqual(
        out.failed.map((f) => [f.id, f.code]),
        [
          ["a2", "InvalidAttribute"],
          ["a3", "PrecedingEntryFailed"],
          ["nogroup", "InvalidOption"],
        ],
      );
      assert.ok(out.failed[1].pointer, "a3 was offloaded before it was held back: its object is named");
      assert.match(out.failed[2].reason, /messageGroupId is required/);
      const bodies = (await receiveAll(queueUrl, 3)).map((m) => m.raw.Body);
      assert.deepEqual(bodies.sort(), ["a-1", "b-1", "b-2"]);
    });
  });
});
