// The subscriber handlers' sources run in process with offloaded payloads in s3rver (in this process)
// and a Region-local replica: where each payload was read from, a replica refused for holding other
// bytes, an expired payload and one that fails verification each failing only its own record, and
// what an operator reads in the logs and metrics for each. Each test loads the handler afresh, so
// what it does at load is part of the test. The bundles run the replica paths against the emulators
// behind a fault proxy in replica.spec.ts.
import * as assert from "node:assert/strict";
import { PutObjectCommand, PutObjectTaggingCommand, S3Client } from "@aws-sdk/client-s3";
import type { Context, SNSEvent, SQSEvent, SQSRecord } from "aws-lambda";
import { OperationsMetrics, PayloadLayout } from "../../messaging/contract";
import { MARKER_ATTRIBUTE, formatPointer } from "../../messaging/payload";
import { emulatorClientConfig, emulatorEnv, startS3rver, type RunningS3rver } from "../../local/emulators";
import { snsEventRecord, sqsEventRecord } from "../../local/lambda-events";
import { sha256 } from "../payload/helpers";
import {
  emitted,
  loadSource,
  startDownstreamRecorder,
  startedSummaries,
  table,
  withEnv,
  type ConsumeQueue,
  type ConsumeTopic,
  type LogLine,
  UNSET_SUBSCRIBER_VARIABLES,
} from "./support";

const ORIGIN = "entry-origin";
const REPLICA = "entry-replica";
const PLAIN = "entry-plain";
const NAMESPACE = "fieldnotes-offloaded";
const QUEUE = "arn:aws:sqs:us-east-1:000000000000:offloaded-b";
const TOPIC = "arn:aws:sns:us-east-1:000000000000:offloaded";
const STATE_MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:offloaded";
const OFFLOADED = "service=subscriber,subscriber=off-b,path=offloaded";

const pointerOf = (bucket: string, key: string) => ({ s3BucketName: bucket, s3Key: key });

/** An SQS record whose body points at `bucket/key`, with a marker claiming `size` bytes. */
function offloaded(id: string, bucket: string, key: string, size: number): SQSRecord {
  return sqsEventRecord(
    {
      MessageId: id,
      ReceiptHandle: `rh-${id}`,
      Body: formatPointer(pointerOf(bucket, key)),
      MessageAttributes: { [MARKER_ATTRIBUTE]: { DataType: "Number", StringValue: String(size) } },
    },
    { queueArn: QUEUE, region: "us-east-1" },
  );
}

/** Log lines by message ID: the records of a batch are read concurrently, so they log in any order. */
const byMessageId = (a: Record<string, unknown>, b: Record<string, unknown>) =>
  String(a.messageId).localeCompare(String(b.messageId));

/** The log lines with this message, without the fields that change from run to run. */
function logged(logs: LogLine[], message: string): Record<string, unknown>[] {
  return logs
    .filter((l) => l.message === message)
    .map(({ timestamp: _t, executionArn: _e, startDate: _s, sampling_rate: _r, ...rest }) => rest)
    .sort(byMessageId);
}

describe("subscriber handlers in process with offloaded payloads (s3rver, a replica, logs)", () => {
  const env = withEnv();
  let s3rver: RunningS3rver;
  let s3: S3Client;
  let recorder: Awaited<ReturnType<typeof startDownstreamRecorder>>;

  before(async () => {
    [s3rver, recorder] = await Promise.all([
      startS3rver({ buckets: [ORIGIN, REPLICA, PLAIN] }),
      startDownstreamRecorder(),
    ]);
    s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
    env.set({
      ...emulatorEnv({ s3: s3rver.endpoint, sfn: recorder.endpoint }),
      POWERTOOLS_LOG_LEVEL: "INFO",
      POWERTOOLS_TRACE_ENABLED: "false",
      [OperationsMetrics.namespaceEnv]: NAMESPACE,
      ...UNSET_SUBSCRIBER_VARIABLES,
      SUBSCRIBER_NAME: "off-b",
      PAYLOAD_BUCKET_ALLOWLIST: `${ORIGIN},${REPLICA},${PLAIN}`,
      PAYLOAD_KEY_PREFIX_ALLOWLIST: "payloads/",
      PAYLOAD_REPLICAS: `${ORIGIN}=${REPLICA}`,
      SQS_RAW_DELIVERY: "true",
      SUMMARY_PREVIEW_BYTES: "3",
      DOWNSTREAM: "stepfunctions",
      STATE_MACHINE_ARN: STATE_MACHINE,
    });
  });
  afterEach(() => {
    recorder.calls.length = 0;
    recorder.reply = undefined;
  });
  after(async () => {
    env.restore();
    s3?.destroy();
    await Promise.all([s3rver?.stop(), recorder?.stop()]);
  });

  /** Stores `body` at `bucket/key`, tagged with `tag` as its SHA-256 when given. */
  async function put(bucket: string, key: string, body: string | Buffer, tag?: string): Promise<void> {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    if (tag) {
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket: bucket,
          Key: key,
          Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: tag }] },
        }),
      );
    }
  }

  const started = () => startedSummaries(recorder.calls);

  it("consume-queue: read from the replica, from the origin, from a bucket without one; a refused replica is logged and counted", async () => {
    const consume = loadSource<ConsumeQueue>("consume-queue");
    const hit = "payloads/hit";
    const lagging = "payloads/lagging";
    const refused = "payloads/refused";
    const plain = "payloads/plain";
    await put(ORIGIN, hit, "hit body", sha256("hit body"));
    await put(REPLICA, hit, "hit body", sha256("hit body"));
    await put(ORIGIN, lagging, "lagging body", sha256("lagging body"));
    // A replica object whose tag is not the origin's: someone wrote other bytes there.
    await put(ORIGIN, refused, "refused body", sha256("refused body"));
    await put(REPLICA, refused, "other bytes!", sha256("other bytes!"));
    // A replica object tagged as the origin's but holding other bytes: its read fails verification.
    const forged = "payloads/forged";
    await put(ORIGIN, forged, "forged body", sha256("forged body"));
    await put(REPLICA, forged, "forged-body", sha256("forged body"));
    await put(PLAIN, plain, "plain body", sha256("plain body"));
    const before = performance.now();
    const { result, emf, logs } = await emitted(() =>
      consume({
        Records: [
          offloaded("o1", ORIGIN, hit, 8),
          offloaded("o2", ORIGIN, lagging, 12),
          offloaded("o3", ORIGIN, refused, 12),
          offloaded("o4", PLAIN, plain, 10),
          offloaded("o5", ORIGIN, forged, 11),
        ],
      }),
    );
    assert.deepEqual(result, { batchItemFailures: [] });
    const summaries = started();
    const seen = (id: string) => ({
      sha256: summaries[id].sha256,
      size: summaries[id].size,
      preview: summaries[id].preview,
      readFrom: summaries[id].readFrom,
    });
    assert.deepEqual(seen("o1"), {
      sha256: sha256("hit body"),
      size: 8,
      preview: "hit",
      readFrom: { from: "replica", reason: "replica-hit" },
    });
    assert.deepEqual(seen("o2").readFrom, { from: "origin", reason: "replica-missing" });
    assert.deepEqual(seen("o5").readFrom, { from: "origin", reason: "replica-verify-failed" });
    assert.deepEqual(seen("o3"), {
      sha256: sha256("refused body"),
      size: 12,
      preview: "ref",
      readFrom: { from: "origin", reason: "replica-tag-mismatch" },
    });
    // Without a replica for its bucket, every read is the origin's: the summary says nothing.
    assert.equal("readFrom" in summaries.o4, false);
    assert.deepEqual(summaries.o4.pointer, pointerOf(PLAIN, plain));

    const refusedFrom = {
      from: "origin",
      reason: "replica-tag-mismatch",
      bucket: ORIGIN,
      detail: `replica tag ${sha256("other bytes!")}, origin tag ${sha256("refused body")}`,
    };
    const forgedFrom = {
      from: "origin",
      reason: "replica-verify-failed",
      bucket: ORIGIN,
      detail: `s3://${REPLICA}/${forged}: SHA-256 ${sha256("forged-body")} does not match the stored ${sha256("forged body")}`,
    };
    // The only warnings: the refused replicas, with where each message was read from instead.
    assert.deepEqual(
      logs
        .filter((l) => l.level !== "INFO")
        .sort(byMessageId)
        .map((l) => [l.level, l.message, l.messageId, l.readFrom]),
      [
        ["WARN", "replica refused: its object is not the origin's", "o3", refusedFrom],
        ["WARN", "replica refused: its object is not the origin's", "o5", forgedFrom],
      ],
    );
    const delivered = logged(logs, "payload delivered");
    assert.deepEqual(delivered[0], {
      level: "INFO",
      message: "payload delivered",
      service: "payload-consume-queue",
      subscriber: "off-b",
      messageId: "o1",
      pointer: pointerOf(ORIGIN, hit),
      size: 8,
      sha256: sha256("hit body"),
      verified: true,
      readFrom: { from: "replica", reason: "replica-hit", bucket: REPLICA },
      downstream: "stepfunctions",
      id: `${STATE_MACHINE.replace(":stateMachine:", ":execution:")}:msg-o1`,
    });
    assert.deepEqual(
      delivered.map((l) => [l.messageId, l.readFrom]),
      // The log keeps the details the summary leaves out: the bucket read, and why not the replica.
      [
        ["o1", { from: "replica", reason: "replica-hit", bucket: REPLICA }],
        [
          "o2",
          {
            from: "origin",
            reason: "replica-missing",
            bucket: ORIGIN,
            detail: "NoSuchKey (HTTP 404): The specified key does not exist.",
          },
        ],
        ["o3", refusedFrom],
        ["o4", { from: "origin", reason: "no-replica", bucket: PLAIN }],
        ["o5", forgedFrom],
      ],
    );
    assert.deepEqual(logged(logs, "resolving payload"), [
      ...["o1", "o2", "o3"].map((id, i) => ({
        level: "INFO",
        message: "resolving payload",
        service: "payload-consume-queue",
        subscriber: "off-b",
        messageId: id,
        pointer: pointerOf(ORIGIN, [hit, lagging, refused][i]),
        size: [8, 12, 12][i],
      })),
      {
        level: "INFO",
        message: "resolving payload",
        service: "payload-consume-queue",
        subscriber: "off-b",
        messageId: "o4",
        pointer: pointerOf(PLAIN, plain),
        size: 10,
      },
      {
        level: "INFO",
        message: "resolving payload",
        service: "payload-consume-queue",
        subscriber: "off-b",
        messageId: "o5",
        pointer: pointerOf(ORIGIN, forged),
        size: 11,
      },
    ]);

    const sum = (t: Record<string, unknown>, name: string) =>
      ([t[name]].flat() as (number | undefined)[]).reduce<number>((a, b) => a + (b ?? 0), 0);
    const m = table(NAMESPACE, emf)[OFFLOADED];
    assert.deepEqual(
      ["messages", "payloadBytes", "replicaReads", "replicaFallbacks", "replicaRefused"].map((n) =>
        sum(m, `${n} (${n === "payloadBytes" ? "Bytes" : "Count"})`),
      ),
      [5, 8 + 12 + 12 + 10 + 11, 1, 3, 2],
    );
    // Each resolve time is a part of the batch's.
    const elapsed = performance.now() - before;
    for (const ms of [m["resolveMs (Milliseconds)"]].flat() as number[])
      assert.ok(ms >= 0 && ms <= elapsed, `${ms}`);
  });

  it("consume-queue: an expired payload and payloads that fail verification fail only their own record, each logged and counted by kind", async () => {
    const consume = loadSource<ConsumeQueue>("consume-queue");
    await put(PLAIN, "payloads/good", "good body", sha256("good body"));
    await put(PLAIN, "payloads/short", "short", sha256("short"));
    // Not replicated yet, and the origin's bytes are not those its tag names.
    await put(ORIGIN, "payloads/unreplicated", "short", sha256("other"));
    const { result, emf, logs } = await emitted(() =>
      consume({
        Records: [
          offloaded("f1", PLAIN, "payloads/good", 9),
          offloaded("f2", PLAIN, "payloads/expired", 7),
          // The marker claims more bytes than the object holds.
          offloaded("f3", PLAIN, "payloads/short", 6),
          offloaded("f4", ORIGIN, "payloads/unreplicated", 5),
        ],
      }),
    );
    assert.deepEqual(result.batchItemFailures.map((f) => f.itemIdentifier).sort(), ["f2", "f3", "f4"]);
    assert.deepEqual(Object.keys(started()), ["f1"]);
    const failures = logged(logs, "message failed").map((l) => {
      const error = l.error as Record<string, unknown>;
      return { ...l, error: { name: error.name, code: error.code } };
    });
    assert.deepEqual(failures, [
      {
        level: "ERROR",
        message: "message failed",
        service: "payload-consume-queue",
        subscriber: "off-b",
        messageId: "f2",
        error: { name: "PayloadError", code: "PayloadMissing" },
      },
      {
        level: "ERROR",
        message: "message failed",
        service: "payload-consume-queue",
        subscriber: "off-b",
        messageId: "f3",
        error: { name: "PayloadError", code: "SizeMismatch" },
      },
      {
        level: "ERROR",
        message: "message failed",
        service: "payload-consume-queue",
        subscriber: "off-b",
        messageId: "f4",
        error: { name: "PayloadError", code: "ChecksumMismatch" },
        // Where the failed read came from: the origin, the replica not having the object yet.
        readFrom: {
          from: "origin",
          reason: "replica-missing",
          bucket: ORIGIN,
          detail: "NoSuchKey (HTTP 404): The specified key does not exist.",
        },
      },
    ]);
    const metrics = table(NAMESPACE, emf);
    assert.equal(metrics[OFFLOADED]["expiredPayload (Count)"], 1);
    assert.deepEqual(metrics[OFFLOADED]["verifyFailed (Count)"], [1, 1]);
    assert.deepEqual(metrics["service=subscriber,subscriber=off-b"], { "failures (Count)": 3 });
  });

  it("consume-queue: a record stalled past the deadline fails alone, logged with the record's deadline reason", async () => {
    const consume = loadSource<ConsumeQueue>("consume-queue");
    await put(PLAIN, "payloads/a", "a body", sha256("a body"));
    recorder.reply = (call) => (String(call.input.name) === "msg-s1" ? "stall" : undefined);
    const { result, logs } = await emitted(() =>
      consume(
        { Records: [offloaded("s1", PLAIN, "payloads/a", 6), offloaded("s2", PLAIN, "payloads/a", 6)] },
        { getRemainingTimeInMillis: () => 3_000 } as Context,
      ),
    );
    assert.deepEqual(result.batchItemFailures, [{ itemIdentifier: "s1" }]);
    const [failure] = logged(logs, "message failed");
    assert.equal(failure.messageId, "s1");
    assert.match(
      String((failure.error as { message: string }).message),
      /^record did not finish within \d+ ms, the time left before the function's timeout/,
    );
  });

  it("consume-queue: an event without Records is refused by the batch processor; an empty batch has no failures", async () => {
    const consume = loadSource<ConsumeQueue>("consume-queue");
    const refused = await emitted(() => consume({} as SQSEvent).catch((e: Error) => e));
    assert.equal((refused.result as Error).name, "UnexpectedBatchTypeError");
    const empty = await emitted(() => consume({ Records: [] }));
    assert.deepEqual(empty.result, { batchItemFailures: [] });
    assert.deepEqual(table(NAMESPACE, empty.emf)["service=subscriber,subscriber=off-b"], {
      "failures (Count)": 0,
    });
  });

  it("consume-topic: an offloaded payload that is not text has no preview; logs name the service", async () => {
    const consume = loadSource<ConsumeTopic>("consume-topic");
    const bytes = Buffer.from([0xff, 0xfe, 0x00, 0x01]);
    await put(PLAIN, "payloads/binary", bytes, sha256(bytes));
    const record = snsEventRecord(
      {
        Type: "Notification",
        MessageId: "t1",
        TopicArn: TOPIC,
        Message: formatPointer(pointerOf(PLAIN, "payloads/binary")),
        Timestamp: new Date(0).toISOString(),
        SignatureVersion: "1",
        Signature: "",
        SigningCertURL: "",
        UnsubscribeURL: "",
        MessageAttributes: { [MARKER_ATTRIBUTE]: { Type: "Number", Value: "4" } },
      },
      { subscriptionArn: `${TOPIC}:sub` },
    );
    const { result, logs } = await emitted(() => consume({ Records: [record] } as SNSEvent));
    const [summary] = result.delivered;
    assert.equal("preview" in summary, false);
    assert.equal(summary.sha256, sha256(bytes));
    assert.deepEqual(
      logs.map((l) => [l.service, l.message, l.messageId]),
      [
        ["payload-consume-topic", "resolving payload", "t1"],
        ["payload-consume-topic", "payload delivered", "t1"],
      ],
    );
  });
});
