// The subscriber handlers' entry code run in process (the TypeScript sources, loaded inside each test
// so that what they do at load is part of the test): each record's summary and downstream call, the
// per-record and per-group failures of a batch, the invocation deadline, the delivery mode, the
// metrics. Inline messages need no S3; the downstream is the recording Step Functions / ECS endpoint.
// The bundles run the same code against the emulators in handlers.spec.ts and batch-fifo.spec.ts.
import * as assert from "node:assert/strict";
import type { S3Client } from "@aws-sdk/client-s3";
import type { Context, SNSEvent, SQSBatchResponse, SQSRecord } from "aws-lambda";
import { OperationsMetrics } from "../../messaging/contract";
import { PROMPT_CALL_TIMEOUTS } from "../../messaging/handlers/deadline";
import { MARKER_ATTRIBUTE, formatPointer } from "../../messaging/payload";
import { emulatorEnv } from "../../local/emulators";
import { snsEventRecord, sqsEventRecord, type SnsEnvelope } from "../../local/lambda-events";
import { sha256 } from "../payload/helpers";
import {
  clientTimeouts,
  emitted,
  loadSource,
  startDownstreamRecorder,
  startedSummaries,
  table,
  withEnv,
  type ConsumeQueue,
  type ConsumeTopic,
  UNSET_SUBSCRIBER_VARIABLES,
} from "./support";

const NAMESPACE = "fieldnotes-entry";
const STATE_MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:entry";
const QUEUE = "arn:aws:sqs:us-east-1:000000000000:entry-b";
const TOPIC = "arn:aws:sns:us-east-1:000000000000:entry";

function lambdaContext(remainingMs: number): Context {
  return { getRemainingTimeInMillis: () => remainingMs } as Context;
}

/** The batch's failed ids, sorted: a standard queue's records run in parallel. */
const failedIds = (response: SQSBatchResponse) =>
  response.batchItemFailures.map((f) => f.itemIdentifier).sort();

/** A summary as the downstream received it (JSON, so the attribute map has a plain prototype). */
const plain = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/** An SQS record of an inline message, with its attributes; `group` makes it a FIFO queue's. */
function inline(id: string, body: string, group?: string): SQSRecord {
  return sqsEventRecord(
    {
      MessageId: id,
      ReceiptHandle: `rh-${id}`,
      Body: body,
      MessageAttributes: { traceId: { DataType: "String", StringValue: `t-${id}` } },
      ...(group ? { Attributes: { MessageGroupId: group } } : {}),
    },
    { queueArn: group ? `${QUEUE}.fifo` : QUEUE, region: "us-east-1" },
  );
}

/** An SQS record whose pointer names a bucket outside the allow-list: refused before any S3 call. */
function foreignPointer(id: string, group?: string): SQSRecord {
  const record = inline(id, formatPointer({ s3BucketName: "not-allowed", s3Key: "payloads/x" }), group);
  record.messageAttributes[MARKER_ATTRIBUTE] = {
    dataType: "Number",
    stringValue: "5",
    stringListValues: [],
    binaryListValues: [],
  };
  return record;
}

function envelope(id: string, message: string): SnsEnvelope {
  return {
    Type: "Notification",
    MessageId: id,
    TopicArn: TOPIC,
    Message: message,
    Timestamp: new Date(0).toISOString(),
    SignatureVersion: "1",
    Signature: "",
    SigningCertURL: "",
    UnsubscribeURL: "",
    MessageAttributes: { traceId: { Type: "String", Value: `t-${id}` } },
  };
}

describe("subscriber handlers in process (inline messages, recorded downstream)", () => {
  const env = withEnv();
  let recorder: Awaited<ReturnType<typeof startDownstreamRecorder>>;

  before(async () => {
    recorder = await startDownstreamRecorder();
    env.set({
      ...emulatorEnv({ sfn: recorder.endpoint, ecs: recorder.endpoint }),
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_TRACE_ENABLED: "false",
      [OperationsMetrics.namespaceEnv]: NAMESPACE,
      ...UNSET_SUBSCRIBER_VARIABLES,
      SUBSCRIBER_NAME: "entry-b",
      PAYLOAD_BUCKET_ALLOWLIST: "payloads-e",
      SQS_RAW_DELIVERY: "true",
      SUMMARY_PREVIEW_BYTES: "4",
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
    await recorder.stop();
  });

  const started = () => startedSummaries(recorder.calls);

  it("consume-queue: each record's summary to its own execution; a bad record fails alone; metrics by path", async () => {
    const consume = loadSource<ConsumeQueue>("consume-queue");
    const { result, emf } = await emitted(() =>
      consume({ Records: [inline("m1", "hello"), foreignPointer("m2"), inline("m3", "héllo wörld")] }),
    );
    assert.deepEqual(failedIds(result), ["m2"]);
    assert.deepEqual(started(), {
      m1: {
        subscriber: "entry-b",
        messageId: "m1",
        pointer: null,
        size: 5,
        sha256: sha256("hello"),
        attributes: { traceId: { DataType: "String", StringValue: "t-m1" } },
        preview: "hell",
      },
      m3: {
        subscriber: "entry-b",
        messageId: "m3",
        pointer: null,
        size: 13,
        sha256: sha256("héllo wörld"),
        attributes: { traceId: { DataType: "String", StringValue: "t-m3" } },
        preview: "hél",
      },
    });
    assert.deepEqual(recorder.calls.map((c) => c.input.name).sort(), ["msg-m1", "msg-m3"]);
    const metrics = table(NAMESPACE, emf);
    const inlinePath = metrics["service=subscriber,subscriber=entry-b,path=inline"];
    assert.deepEqual(inlinePath["messages (Count)"], [1, 1]);
    assert.deepEqual(
      (inlinePath["payloadBytes (Bytes)"] as number[]).sort((a, b) => a - b),
      [5, 13],
    );
    assert.equal(typeof (inlinePath["resolveMs (Milliseconds)"] as number[])[0], "number");
    assert.deepEqual(metrics["service=subscriber,subscriber=entry-b"], { "failures (Count)": 1 });
  });

  it("consume-queue: a batch where every record failed is answered record by record", async () => {
    const consume = loadSource<ConsumeQueue>("consume-queue");
    const { result, emf } = await emitted(() =>
      consume({ Records: [foreignPointer("x1"), foreignPointer("x2")] }),
    );
    assert.deepEqual(failedIds(result), ["x1", "x2"]);
    assert.deepEqual(recorder.calls, []);
    assert.deepEqual(table(NAMESPACE, emf)["service=subscriber,subscriber=entry-b"], {
      "failures (Count)": 2,
    });
  });

  it("consume-queue, FIFO: a failed record fails the later records of its group; other groups go on", async () => {
    const consume = loadSource<ConsumeQueue>("consume-queue");
    const result = await consume({
      Records: [
        inline("g1-a", "a", "g1"),
        foreignPointer("g1-b", "g1"),
        inline("g2-a", "c", "g2"),
        inline("g1-c", "d", "g1"),
        inline("g2-b", "e", "g2"),
      ],
    });
    assert.deepEqual(result, { batchItemFailures: [{ itemIdentifier: "g1-b" }, { itemIdentifier: "g1-c" }] });
    // In order, one after the other: a FIFO group's order is the point.
    assert.deepEqual(
      recorder.calls.map((c) => c.input.name),
      ["msg-g1-a", "msg-g2-a", "msg-g2-b"],
    );
  });

  it("consume-queue: the invocation deadline bounds every record; a stalled call fails its record with the deadline's reason", async () => {
    const consume = loadSource<ConsumeQueue>("consume-queue");
    // Less time left than the 1 s reserve: the deadline has passed when the records start.
    const late = await consume({ Records: [inline("d1", "a"), inline("d2", "b")] }, lambdaContext(900));
    assert.deepEqual(failedIds(late), ["d1", "d2"]);
    // StartExecution never answers for d3: it fails once the deadline (2 s here, room for d4 on a loaded machine) fires; d4 goes through.
    recorder.reply = (call) => (String(call.input.name) === "msg-d3" ? "stall" : undefined);
    const started = performance.now();
    const stalled = await consume({ Records: [inline("d3", "a"), inline("d4", "b")] }, lambdaContext(3_000));
    assert.deepEqual(failedIds(stalled), ["d3"]);
    assert.ok(performance.now() - started < 3_000, "answered before the function's timeout");
    // Without a context, the longest a function may run bounds the batch: the same records go through.
    recorder.reply = undefined;
    assert.deepEqual(failedIds(await consume({ Records: [inline("d5", "a"), inline("d6", "b")] })), []);
  });

  it("consume-queue: the subscription's delivery mode decides whether a body is an SNS envelope", async () => {
    const notification = JSON.stringify(envelope("inner", "the inner message"));
    const raw = loadSource<ConsumeQueue>("consume-queue");
    await raw({ Records: [inline("r1", notification)] });
    assert.equal(started().r1.sha256, sha256(notification), "raw delivery: the body is the message");
    env.set({ SQS_RAW_DELIVERY: "false" });
    try {
      const unwrapping = loadSource<ConsumeQueue>("consume-queue");
      await unwrapping({ Records: [inline("e1", notification)] });
      assert.equal(started().e1.sha256, sha256("the inner message"), "envelope delivery: its Message");
    } finally {
      env.set({ SQS_RAW_DELIVERY: "true" });
    }
  });

  it("consume-queue: refuses to load without SQS_RAW_DELIVERY", () => {
    env.set({ SQS_RAW_DELIVERY: "" });
    try {
      assert.throws(() => loadSource("consume-queue"), {
        message:
          'environment variable SQS_RAW_DELIVERY is required by the queue consumer: "true" when its subscription has RawMessageDelivery on, "false" when off',
      });
    } finally {
      env.set({ SQS_RAW_DELIVERY: "true" });
    }
  });

  it("consume-topic: delivers the SNS message and returns its summary; zero failures", async () => {
    const consume = loadSource<ConsumeTopic>("consume-topic");
    const record = snsEventRecord(envelope("s1", "from sns"), { subscriptionArn: `${TOPIC}:sub` });
    const { result, emf } = await emitted(() => consume({ Records: [record] } as SNSEvent));
    const summary = {
      subscriber: "entry-b",
      messageId: "s1",
      pointer: null,
      size: 8,
      sha256: sha256("from sns"),
      attributes: { traceId: { DataType: "String", StringValue: "t-s1" } },
      preview: "from",
    };
    assert.deepEqual(plain(result), { delivered: [summary] });
    assert.deepEqual(started(), { s1: summary });
    const metrics = table(NAMESPACE, emf);
    assert.deepEqual(metrics["service=subscriber,subscriber=entry-b"], { "failures (Count)": 0 });
    assert.equal(metrics["service=subscriber,subscriber=entry-b,path=inline"]["messages (Count)"], 1);
  });

  it("consume-topic: a bad event, a record that fails and a passed deadline throw, counting one failure", async () => {
    const consume = loadSource<ConsumeTopic>("consume-topic");
    const bad = await emitted(() => consume({ Records: [] } as unknown as SNSEvent).catch((e: Error) => e));
    assert.match(String(bad.result), /^EventError: event field Records must be a non-empty array/);
    assert.deepEqual(table(NAMESPACE, bad.emf)["service=subscriber,subscriber=entry-b"], {
      "failures (Count)": 1,
    });

    const pointer = formatPointer({ s3BucketName: "not-allowed", s3Key: "payloads/x" });
    const record = snsEventRecord(envelope("s2", pointer), { subscriptionArn: `${TOPIC}:sub` });
    record.Sns.MessageAttributes[MARKER_ATTRIBUTE] = { Type: "Number", Value: "5" };
    const failed = await emitted(() => consume({ Records: [record] } as SNSEvent).catch((e: Error) => e));
    assert.match(String(failed.result), /not-allowed/);
    assert.deepEqual(table(NAMESPACE, failed.emf)["service=subscriber,subscriber=entry-b"], {
      "failures (Count)": 1,
    });

    // A StartExecution that never answers: the invocation fails when the deadline fires, saying so.
    recorder.reply = () => "stall";
    const stalled = snsEventRecord(envelope("s3", "stalled"), { subscriptionArn: `${TOPIC}:sub` });
    await assert.rejects(consume({ Records: [stalled] } as SNSEvent, lambdaContext(1_100)), {
      name: "PayloadError",
      code: "Timeout",
      message:
        "SNS message did not finish within 100 ms, the time left before the function's timeout (less a 1000 ms reserve)",
    });
    // The downstream's own errors stay its own.
    recorder.reply = () => ({ status: 400, body: { __type: "StateMachineDoesNotExist", message: "gone" } });
    const refused = snsEventRecord(envelope("s4", "refused"), { subscriptionArn: `${TOPIC}:sub` });
    await assert.rejects(consume({ Records: [refused] } as SNSEvent, lambdaContext(60_000)), {
      name: "StateMachineDoesNotExist",
    });
  });
});

describe("createSubscriber: what both subscriber handlers share", () => {
  const env = withEnv();
  afterEach(() => env.restore());

  function subscriber(vars: Record<string, string>) {
    env.set({
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_TRACE_ENABLED: "false",
      AWS_REGION: "us-east-1",
      // Every variable the subscriber reads, so none is left over from another suite.
      ...UNSET_SUBSCRIBER_VARIABLES,
      ...vars,
    });
    const { createSubscriber } =
      require("../../messaging/handlers/subscriber") as typeof import("../../messaging/handlers/subscriber");
    return createSubscriber("test");
  }

  it("an S3 client for the payload bucket's Region that follows redirects, with the prompt-call timeouts", async () => {
    const { readerOptions } = subscriber({
      SUBSCRIBER_NAME: "s",
      PAYLOAD_BUCKET_ALLOWLIST: "bkt",
      PAYLOAD_KEY_PREFIX_ALLOWLIST: "payloads/",
      PAYLOAD_BUCKET_REGION: "eu-west-1",
      SQS_RAW_DELIVERY: "false",
    });
    const s3 = readerOptions.s3 as S3Client;
    assert.equal(await s3.config.region(), "eu-west-1");
    assert.equal(s3.config.followRegionRedirects, true);
    assert.deepEqual(await clientTimeouts(s3), { ...PROMPT_CALL_TIMEOUTS });
    assert.deepEqual(
      { ...readerOptions, s3: undefined },
      {
        s3: undefined,
        allowedBuckets: ["bkt"],
        allowedKeyPrefixes: ["payloads/"],
        sqsDelivery: "envelope",
      },
    );
  });

  it("without a bucket Region, the function's own; replicas read with one client in the function's Region", async () => {
    const { readerOptions } = subscriber({
      SUBSCRIBER_NAME: "s",
      PAYLOAD_BUCKET_ALLOWLIST: "origin-a,replica-a,origin-b,replica-b",
      PAYLOAD_REPLICAS: "origin-a=replica-a,origin-b=replica-b",
      AWS_REGION: "ap-southeast-2",
    });
    assert.equal(await (readerOptions.s3 as S3Client).config.region(), "ap-southeast-2");
    assert.equal("sqsDelivery" in readerOptions, false, "a direct subscriber's delivery is not a queue's");
    const replicas = readerOptions.replicas!;
    assert.deepEqual(Object.keys(replicas), ["origin-a", "origin-b"]);
    assert.deepEqual([replicas["origin-a"].bucket, replicas["origin-b"].bucket], ["replica-a", "replica-b"]);
    const replicaS3 = replicas["origin-a"].s3 as S3Client;
    assert.equal(replicas["origin-b"].s3, replicaS3, "one client for every replica");
    assert.notEqual(replicaS3, readerOptions.s3);
    assert.equal(await replicaS3.config.region(), "ap-southeast-2");
    assert.equal(replicaS3.config.followRegionRedirects, true);
    assert.deepEqual(await clientTimeouts(replicaS3), { ...PROMPT_CALL_TIMEOUTS });
    const none = subscriber({
      SUBSCRIBER_NAME: "s",
      PAYLOAD_BUCKET_ALLOWLIST: "origin-a",
      PAYLOAD_REPLICAS: "",
    });
    assert.equal("replicas" in none.readerOptions, false);
  });
});
