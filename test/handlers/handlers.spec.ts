import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PutObjectCommand, PutObjectTaggingCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import type { Context, SNSEvent, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { PayloadLayout } from "../../messaging/contract";
import type { PayloadSummary } from "../../messaging/handlers/downstream";
import type { PublishResult } from "../../messaging/handlers/publish";
import { formatPointer, publishToSns } from "../../messaging/payload";
import {
  emulatorClientConfig,
  emulatorEnv,
  startCountingProxy,
  startFauxqs,
  startS3rver,
  type RunningEmulator,
  type RunningS3rver,
} from "../../local/emulators";
import { subscribeNewQueue } from "../../local/topics";
import { payloadStream, sha256 } from "../payload/helpers";
import {
  loadHandler,
  receiveMessages,
  snsRecord,
  sqsRecord,
  startDownstreamRecorder,
  withEnv,
} from "./support";
import { s3Error, startFaultProxy, type FaultProxy } from "../../local/fault-proxy";

const BUCKET = "payloads-a";
const STAGING = "staging-a";
/** An extraSources bucket in another Region than the publisher's client. */
const EXTRA_EU = "extra-eu";
const STATE_MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:queue-b";
const MiB = 1024 * 1024;

type Publish = (event: unknown) => Promise<PublishResult>;
type ConsumeQueue = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;

/** The part of Lambda's context the handlers read: the time left before the function's timeout. */
function lambdaContext(remainingMs: number): Context {
  const end = Date.now() + remainingMs;
  return { getRemainingTimeInMillis: () => end - Date.now() } as Context;
}
type ConsumeTopic = (event: SNSEvent) => Promise<{ delivered: PayloadSummary[] }>;

describe("handler bundles end to end (fauxqs + s3rver, recorded downstream)", function () {
  const env = withEnv();
  let fauxqs: RunningEmulator;
  let s3rver: RunningS3rver;
  let s3dir: string;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let snsProxy: FaultProxy;
  let downstreamProxy: FaultProxy;
  let downstream: Awaited<ReturnType<typeof startDownstreamRecorder>>;
  let s3: S3Client;
  let sns: SNSClient;
  let sqs: SQSClient;
  let topicArn: string;
  const queues = { raw: { url: "", arn: "" }, envelope: { url: "", arn: "" } };
  let publish: Publish;
  let consumeQueue: ConsumeQueue;
  let consumeEnvelopeQueue: ConsumeQueue;
  let consumeTopic: ConsumeTopic;
  // Every message handed to a subscriber ends delivered or reported failed; a retried one moves.
  const ledger = { sent: new Set<string>(), delivered: new Set<string>(), failed: new Set<string>() };

  before(async () => {
    s3dir = fs.mkdtempSync(path.join(os.tmpdir(), "handlers-s3-"));
    [fauxqs, s3rver, downstream] = await Promise.all([
      startFauxqs(),
      startS3rver({ buckets: [BUCKET, STAGING, EXTRA_EU], dir: s3dir }),
      startDownstreamRecorder(),
    ]);
    proxy = await startCountingProxy(s3rver.endpoint);
    // The handlers reach SNS and the downstream services through fault proxies too, so a test can
    // see what was sent and stall a call.
    snsProxy = await startFaultProxy(fauxqs.endpoint);
    downstreamProxy = await startFaultProxy(downstream.endpoint);
    s3 = new S3Client(emulatorClientConfig(proxy.endpoint));
    sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
    sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    topicArn = (await sns.send(new CreateTopicCommand({ Name: "payloads" }))).TopicArn!;
    for (const [kind, raw] of [
      ["raw", true],
      ["envelope", false],
    ] as const) {
      queues[kind] = await subscribeNewQueue(sns, sqs, topicArn, `sub-${kind}`, raw);
    }
    env.set({
      ...emulatorEnv({
        s3: proxy.endpoint,
        sns: snsProxy.endpoint,
        sqs: fauxqs.endpoint,
        sfn: downstreamProxy.endpoint,
        ecs: downstreamProxy.endpoint,
      }),
      POWERTOOLS_LOG_LEVEL: "SILENT",
      TOPIC_ARN: topicArn,
      PAYLOAD_BUCKET: BUCKET,
      PAYLOAD_KEY_PREFIX: PayloadLayout.payloadPrefix,
      SOURCE_ALLOWLIST: `${STAGING}/${PayloadLayout.incomingPrefix},${EXTRA_EU}/${PayloadLayout.incomingPrefix}`,
      PAYLOAD_BUCKET_ALLOWLIST: BUCKET,
      PAYLOAD_KEY_PREFIX_ALLOWLIST: PayloadLayout.payloadPrefix,
      PAYLOAD_BUCKET_REGION: "us-east-1",
      SUMMARY_PREVIEW_BYTES: "16",
    });
    publish = loadHandler<Publish>("publish", {});
    consumeQueue = loadHandler<ConsumeQueue>("consume-queue", {
      SUBSCRIBER_NAME: "queue-b",
      SQS_RAW_DELIVERY: "true",
      DOWNSTREAM: "stepfunctions",
      STATE_MACHINE_ARN: STATE_MACHINE,
    });
    consumeEnvelopeQueue = loadHandler<ConsumeQueue>("consume-queue", { SQS_RAW_DELIVERY: "false" });
    consumeTopic = loadHandler<ConsumeTopic>("consume-topic", {
      SUBSCRIBER_NAME: "direct-c",
      DOWNSTREAM: "ecs",
      ECS_CLUSTER_ARN: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
      ECS_TASK_DEFINITION_ARN: "arn:aws:ecs:us-east-1:000000000000:task-definition/consumer:1",
      ECS_CONTAINER_NAME: "consumer",
      ECS_SUBNET_IDS: "subnet-1,subnet-2",
      ECS_SECURITY_GROUP_IDS: "sg-1",
    });
  });

  after(async () => {
    env.restore();
    s3?.destroy();
    await Promise.all([proxy?.stop(), snsProxy?.stop(), downstreamProxy?.stop()]);
    await Promise.all([fauxqs?.stop(), s3rver?.stop(), downstream?.stop()]);
    fs.rmSync(s3dir, { recursive: true, force: true });
  });

  async function receive(kind: "raw" | "envelope", expected: number): Promise<Message[]> {
    const out = await receiveMessages(sqs, queues[kind].url, expected);
    assert.equal(out.length, expected, `${expected} message(s) on the ${kind} queue`);
    return out;
  }

  async function runQueue(
    records: SQSRecord[],
    opts: { consumer?: ConsumeQueue; remainingMs?: number } = {},
  ): Promise<string[]> {
    records.forEach((r) => ledger.sent.add(r.messageId));
    const context = opts.remainingMs === undefined ? undefined : lambdaContext(opts.remainingMs);
    const { batchItemFailures } = await (opts.consumer ?? consumeQueue)({ Records: records }, context);
    const failed = batchItemFailures.map((f) => f.itemIdentifier);
    for (const r of records) {
      if (failed.includes(r.messageId)) ledger.failed.add(r.messageId);
      else {
        ledger.failed.delete(r.messageId);
        ledger.delivered.add(r.messageId);
      }
    }
    return failed;
  }

  async function runTopic(event: SNSEvent): Promise<{ delivered: PayloadSummary[] }> {
    const id = event.Records[0]?.Sns?.MessageId ?? "no-id";
    ledger.sent.add(id);
    try {
      const out = await consumeTopic(event);
      ledger.failed.delete(id);
      ledger.delivered.add(id);
      return out;
    } catch (error) {
      ledger.failed.add(id);
      throw error;
    }
  }

  const executions = () => downstream.calls.filter((c) => c.service === "stepfunctions");
  const tasks = () => downstream.calls.filter((c) => c.service === "ecs");
  const summaryOf = (
    call: { input: Record<string, unknown> },
    service: "stepfunctions" | "ecs",
  ): PayloadSummary =>
    service === "stepfunctions"
      ? JSON.parse(call.input.input as string)
      : JSON.parse(
          (call.input as { overrides: { containerOverrides: { environment: { value: string }[] }[] } })
            .overrides.containerOverrides[0].environment[0].value,
        );

  it("publish: an inline event is published with no S3 request and reaches both subscribers", async () => {
    const before = proxy.requests.length;
    const out = await publish({
      id: "evt-1",
      detail: {
        payload: "hello, subscribers",
        attributes: { traceId: { DataType: "String", StringValue: "abc" } },
      },
    });
    assert.deepEqual([out.offloaded, out.size, out.pointer], [false, 18, undefined]);
    assert.equal(proxy.requests.length, before, "no S3 request");

    const [raw] = await receive("raw", 1);
    assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)]), []);
    const execution = executions().at(-1)!;
    assert.equal(execution.input.stateMachineArn, STATE_MACHINE);
    assert.equal(execution.input.name, `msg-${raw.MessageId}`);
    assert.deepEqual(summaryOf(execution, "stepfunctions"), {
      subscriber: "queue-b",
      messageId: raw.MessageId,
      pointer: null,
      size: 18,
      sha256: sha256("hello, subscribers"),
      attributes: { traceId: { DataType: "String", StringValue: "abc" } },
      preview: "hello, subscribe",
    });

    const [envelope] = await receive("envelope", 1);
    const { delivered } = await runTopic({ Records: [snsRecord(envelope.Body!, `${topicArn}:sub`)] });
    assert.equal(delivered[0].messageId, out.messageId, "the SNS message id reaches the direct subscriber");
    const task = tasks().at(-1)!.input as {
      launchType: string;
      networkConfiguration: { awsvpcConfiguration: { subnets: string[] } };
      overrides: { containerOverrides: { name: string; environment: { name: string }[] }[] };
    };
    assert.equal(task.launchType, "FARGATE");
    assert.deepEqual(task.networkConfiguration.awsvpcConfiguration.subnets, ["subnet-1", "subnet-2"]);
    assert.equal(task.overrides.containerOverrides[0].name, "consumer");
    assert.equal(task.overrides.containerOverrides[0].environment[0].name, "PAYLOAD_SUMMARY");
    assert.equal(summaryOf(tasks().at(-1)!, "ecs").sha256, sha256("hello, subscribers"));
  });

  it("publish: an S3 source is copied server-side into payloads/, a source outside SOURCE_ALLOWLIST is refused first", async () => {
    const bytes = Buffer.alloc(2 * MiB, "z");
    await s3.send(new PutObjectCommand({ Bucket: STAGING, Key: "incoming/batch-1", Body: bytes }));
    const before = proxy.requests.length;
    const out = await publish({ detail: { source: { bucket: STAGING, key: "incoming/batch-1" } } });
    assert.equal(out.offloaded, true);
    assert.equal(out.size, bytes.length);
    assert.match(out.pointer!.s3Key, /^payloads\//);
    assert.ok(
      !proxy.requests
        .slice(before)
        .some((r) => r.method === "GET" && r.url === `/${STAGING}/incoming/batch-1`),
      "source bytes not read",
    );

    const refusedBefore = proxy.requests.length;
    await assert.rejects(
      publish({ detail: { source: { bucket: STAGING, key: "private/x" } } }),
      /event field detail.source s3:\/\/staging-a\/private\/x is not under an allowed source/,
    );
    await assert.rejects(
      publish({ detail: { source: { bucket: BUCKET, key: "incoming/x" } } }),
      /detail.source/,
    );
    assert.equal(proxy.requests.length, refusedBefore, "refused before any S3 call");

    // Both subscribers get the copied payload.
    const [raw] = await receive("raw", 1);
    assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)]), []);
    assert.deepEqual(
      [
        summaryOf(executions().at(-1)!, "stepfunctions").sha256,
        summaryOf(executions().at(-1)!, "stepfunctions").size,
      ],
      [sha256(bytes), bytes.length],
    );
    const [envelope] = await receive("envelope", 1);
    await runTopic({ Records: [snsRecord(envelope.Body!, `${topicArn}:sub`)] });
  });

  it("publish: payloadBase64 carries bytes; binary attributes arrive intact", async () => {
    const bytes = Buffer.from([0xde, 0xad, 0xbe, 0xef]);
    const out = await publish({
      detail: {
        payloadBase64: bytes.toString("base64"),
        attributes: { blob: { DataType: "Binary", BinaryValue: Buffer.from([1, 2]).toString("base64") } },
      },
    });
    assert.deepEqual([out.offloaded, out.size], [true, 4], "bytes that are not UTF-8 go through S3");
    const [raw] = await receive("raw", 1);
    assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)]), []);
    const summary = summaryOf(executions().at(-1)!, "stepfunctions");
    assert.deepEqual([summary.sha256, summary.preview], [sha256(bytes), undefined]);
    assert.deepEqual(summary.attributes.blob, { DataType: "Binary", BinaryValue: "AQI=" });
    const [envelope] = await receive("envelope", 1);
    await runTopic({ Records: [snsRecord(envelope.Body!, `${topicArn}:sub`)] });
  });

  it("publish: bad events get an error naming the field, with no S3 request and no message", async () => {
    const before = proxy.requests.length;
    const ten = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "v" }]),
    );
    const cases: [unknown, RegExp][] = [
      [{}, /event field detail is required/],
      [{ detail: "x" }, /event field detail must be an object, got "x"/],
      [{ detail: {} }, /exactly one of payload, payloadBase64 or source, got none/],
      [{ detail: { payload: "x", source: { bucket: STAGING, key: "incoming/a" } } }, /got payload, source/],
      [{ detail: { payload: 42 } }, /detail.payload must be a string/],
      [
        { detail: { payload: "x", attributes: { b: { DataType: "Binary", BinaryValue: "AAE" } } } },
        /detail.attributes.b.BinaryValue must be a base64 string/,
      ],
      [{ detail: { payloadBase64: "not base64!" } }, /detail.payloadBase64 must be a base64 string/],
      [{ detail: { source: { bucket: STAGING } } }, /detail.source.key is required/],
      [
        { detail: { source: { bucket: STAGING, key: "incoming/../private/x" } } },
        /detail.source key "incoming\/..\/private\/x" is refused: it has a "\.\." path segment/,
      ],
      [
        { detail: { payload: "x", attributes: { a: { DataType: "Text", StringValue: "v" } } } },
        /detail.attributes.a.DataType/,
      ],
      [{ detail: { payload: "x", attributes: ten } }, /at most 9 user attributes/],
      [
        {
          detail: {
            payload: "x",
            attributes: { SQSLargePayloadSize: { DataType: "Number", StringValue: "1" } },
          },
        },
        /"SQSLargePayloadSize" is reserved/,
      ],
    ];
    for (const [event, message] of cases)
      await assert.rejects(publish(event), message, JSON.stringify(event).slice(0, 80));
    assert.equal(proxy.requests.length, before, "no S3 request");
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.raw.url, WaitTimeSeconds: 0 }));
    assert.equal(got.Messages, undefined, "no message published");
  });

  it("a 64 MiB stream of unknown length goes SNS → SQS (raw) → consume-queue and SNS → consume-topic intact", async () => {
    const source = payloadStream(64 * MiB);
    const out = await publishToSns(
      sns,
      { topicArn, body: source },
      { s3, bucket: BUCKET, keyPrefix: PayloadLayout.payloadPrefix },
    );
    assert.equal(out.offloaded, true);
    const [raw] = await receive("raw", 1);
    assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)]), []);
    const queued = summaryOf(executions().at(-1)!, "stepfunctions");
    assert.deepEqual([queued.sha256, queued.size, queued.pointer], [source.sha256(), 64 * MiB, out.pointer]);
    assert.equal(queued.preview, undefined, "random bytes are not previewed as text");

    const [envelope] = await receive("envelope", 1);
    const { delivered } = await runTopic({ Records: [snsRecord(envelope.Body!, `${topicArn}:sub`)] });
    assert.deepEqual([delivered[0].sha256, delivered[0].size], [source.sha256(), 64 * MiB]);
    assert.equal(summaryOf(tasks().at(-1)!, "ecs").sha256, source.sha256());
  });

  it("consume-queue: each bad record fails alone with no downstream call; the others succeed", async () => {
    const good = await publishToSns(
      sns,
      { topicArn, body: Buffer.alloc(300_000, "g") },
      { s3, bucket: BUCKET, keyPrefix: "payloads/" },
    );
    const [goodRaw] = await receive("raw", 1);
    await receive("envelope", 1);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: "payloads/tampered", Body: "tampered bytes" }));
    await s3.send(
      new PutObjectTaggingCommand({
        Bucket: BUCKET,
        Key: "payloads/tampered",
        Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: sha256("original bytes") }] },
      }),
    );
    const marker = (n: number) => ({ ExtendedPayloadSize: { DataType: "Number", StringValue: String(n) } });
    const ten = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "v" }]),
    );
    const fake = (
      id: string,
      body: string | undefined,
      attrs: Record<string, { DataType: string; StringValue: string }>,
    ): SQSRecord =>
      ({
        ...sqsRecord(
          { MessageId: id, ReceiptHandle: `rh-${id}`, Body: body, MessageAttributes: attrs },
          queues.raw.arn,
        ),
        ...(body === undefined ? { body: undefined } : {}),
      }) as SQSRecord;
    const records = [
      sqsRecord(goodRaw, queues.raw.arn),
      fake("bad-pointer", '{"s3BucketName":"payloads-a","s3Key":"k"}', marker(5)),
      fake("bad-bucket", formatPointer({ s3BucketName: STAGING, s3Key: "incoming/secret" }), marker(5)),
      fake("missing-object", formatPointer({ s3BucketName: BUCKET, s3Key: "payloads/nope" }), marker(5)),
      fake("bad-checksum", formatPointer({ s3BucketName: BUCKET, s3Key: "payloads/tampered" }), marker(14)),
      fake("ten-attributes", formatPointer(good.pointer!), { ...ten, ...marker(300_000) }),
      fake("reserved-misused", formatPointer(good.pointer!), {
        SQSLargePayloadSize: { DataType: "String", StringValue: "large" },
      }),
      fake("no-body", undefined, {}),
      fake("good-inline", "inline payload", {}),
    ];
    const callsBefore = executions().length;
    const requestsBefore = proxy.requests.length;
    const failed = await runQueue(records);
    assert.deepEqual(failed.sort(), [
      "bad-bucket",
      "bad-checksum",
      "bad-pointer",
      "missing-object",
      "no-body",
      "reserved-misused",
      "ten-attributes",
    ]);
    const started = executions()
      .slice(callsBefore)
      .map((c) => summaryOf(c, "stepfunctions").messageId);
    assert.deepEqual(
      started.sort(),
      [goodRaw.MessageId, "good-inline"].sort(),
      "downstream only for the good records",
    );
    assert.ok(
      !proxy.requests.slice(requestsBefore).some((r) => r.url.startsWith(`/${STAGING}`)),
      "no S3 call for the bucket outside the allow-list",
    );
  });

  it("consume-queue: a redelivered record starts no second execution and still succeeds", async () => {
    await publishToSns(sns, { topicArn, body: "deliver me twice" }, { s3, bucket: BUCKET });
    const [raw] = await receive("raw", 1);
    await receive("envelope", 1);
    const before = executions().length;
    assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)]), []);
    assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)]), []);
    const names = executions()
      .slice(before)
      .map((c) => c.input.name);
    assert.deepEqual(
      names,
      [`msg-${raw.MessageId}`, `msg-${raw.MessageId}`],
      "same deterministic name both times",
    );
  });

  it("consume-topic: throws on a bad message or event, with no ECS task", async () => {
    const before = tasks().length;
    const bad = snsRecord(
      JSON.stringify({
        Type: "Notification",
        MessageId: "bad-topic-1",
        TopicArn: topicArn,
        Message: "not a pointer",
        MessageAttributes: { ExtendedPayloadSize: { Type: "Number", Value: "10" } },
      }),
      `${topicArn}:sub`,
    );
    await assert.rejects(runTopic({ Records: [bad] }), /pointer is not JSON/);
    await assert.rejects(consumeTopic({} as SNSEvent), /event field Records must be a non-empty array/);
    assert.equal(tasks().length, before);
  });

  it("S3 stopped during resolve: the record fails, and succeeds when retried after S3 is back", async () => {
    const out = await publishToSns(
      sns,
      { topicArn, body: Buffer.alloc(400_000, "r") },
      { s3, bucket: BUCKET, keyPrefix: "payloads/" },
    );
    const [raw] = await receive("raw", 1);
    const [envelope] = await receive("envelope", 1);
    await s3rver.stop();
    const record = sqsRecord(raw, queues.raw.arn);
    const before = executions().length;
    assert.deepEqual(await runQueue([record]), [raw.MessageId]);
    await assert.rejects(runTopic({ Records: [snsRecord(envelope.Body!, `${topicArn}:sub`)] }));
    assert.equal(executions().length, before, "no downstream while S3 is down");

    s3rver = await startS3rver({ dir: s3dir });
    proxy.retarget(s3rver.endpoint);
    assert.deepEqual(await runQueue([record]), []);
    assert.equal(summaryOf(executions().at(-1)!, "stepfunctions").pointer?.s3Key, out.pointer!.s3Key);
    await runTopic({ Records: [snsRecord(envelope.Body!, `${topicArn}:sub`)] });
  });

  it("an inline payload that is itself SNS-notification JSON reaches both subscribers byte for byte, with its attributes", async () => {
    // A forwarded S3 event notification, as SNS delivers it: exactly what a raw-delivery queue
    // consumer must not take for its own subscription's envelope.
    const payload = JSON.stringify({
      Type: "Notification",
      MessageId: "0f6ab0d2-6d41-4c4a-9b2f-41e1c5d3a001",
      TopicArn: "arn:aws:sns:us-east-1:222222222222:s3-events",
      Message: '{"Records":[{"eventName":"ObjectCreated:Put","s3":{"object":{"key":"data.csv"}}}]}',
      Timestamp: "2026-01-01T00:00:00.000Z",
      MessageAttributes: { source: { Type: "String", Value: "s3" } },
    });
    const attributes = { traceId: { DataType: "String", StringValue: "fwd-1" } };
    await publish({ detail: { payload, attributes } });
    const [raw] = await receive("raw", 1);
    assert.equal(raw.Body, payload, "raw delivery: SQS holds the payload as published");
    assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)]), []);
    const queued = summaryOf(executions().at(-1)!, "stepfunctions");
    const [envelope] = await receive("envelope", 1);
    const { delivered } = await runTopic({ Records: [snsRecord(envelope.Body!, `${topicArn}:sub`)] });
    for (const summary of [queued, JSON.parse(JSON.stringify(delivered[0])) as PayloadSummary]) {
      assert.deepEqual(
        [summary.size, summary.sha256, summary.attributes],
        [Buffer.byteLength(payload), sha256(payload), attributes],
        `${summary.subscriber} got the payload as published`,
      );
    }
    // The same subscription with raw delivery off, told so, unwraps SNS's envelope to the same payload.
    assert.deepEqual(
      await runQueue([sqsRecord(envelope, queues.envelope.arn)], { consumer: consumeEnvelopeQueue }),
      [],
    );
    const unwrapped = summaryOf(executions().at(-1)!, "stepfunctions");
    assert.deepEqual([unwrapped.sha256, unwrapped.attributes], [sha256(payload), attributes]);
  });

  it("attributes named __proto__ and constructor reach SNS from the publisher and the downstream from the consumer", async () => {
    const before = snsProxy.requests.length;
    const detail = JSON.parse(
      '{"payload":"proto","attributes":{"__proto__":{"DataType":"String","StringValue":"p"},"constructor":{"DataType":"String","StringValue":"c"}}}',
    );
    await publish({ detail });
    const publishCall = snsProxy.requests.slice(before).find((r) => r.body.includes("Action=Publish"))!;
    const params = new URLSearchParams(publishCall.body);
    const names = [...params.entries()].filter(([k]) => /^MessageAttributes\.entry\.\d+\.Name$/.test(k));
    assert.deepEqual(names.map(([, v]) => v).sort(), ["__proto__", "constructor"]);
    // fauxqs drops __proto__ when it fans out to SQS, so the consumer's side is fed by a record
    // with the attributes SQS would deliver.
    await receive("raw", 1);
    await receive("envelope", 1);
    const record = {
      ...sqsRecord({ MessageId: "proto-1", ReceiptHandle: "rh", Body: "proto" }, queues.raw.arn),
      messageAttributes: JSON.parse(
        '{"__proto__":{"dataType":"String","stringValue":"p"},"constructor":{"dataType":"String","stringValue":"c"}}',
      ),
    } as SQSRecord;
    assert.deepEqual(await runQueue([record]), []);
    const summary = summaryOf(executions().at(-1)!, "stepfunctions");
    assert.deepEqual(Object.keys(summary.attributes).sort(), ["__proto__", "constructor"]);
    assert.equal(summary.attributes["__proto__"].StringValue, "p");
  });

  it("publish: an extraSources bucket in another Region is followed through S3's 301 to its Region", async () => {
    await s3.send(new PutObjectCommand({ Bucket: EXTRA_EU, Key: "incoming/eu-1", Body: "from eu-west-1" }));
    // Like S3 for a bucket in eu-west-1: a request signed for any other Region gets 301
    // PermanentRedirect naming the bucket's Region (s3rver itself has no Regions).
    const signedFor = (r: { headers: Record<string, unknown> }) =>
      /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(r.headers.authorization ?? ""))?.[1];
    const removeFault = proxy.addFault({
      match: (r) => r.url.startsWith(`/${EXTRA_EU}/`) && signedFor(r) !== "eu-west-1",
      action: s3Error(
        301,
        "PermanentRedirect",
        "The bucket you are attempting to access must be addressed using the specified endpoint.",
        {
          "x-amz-bucket-region": "eu-west-1",
        },
      ),
    });
    const before = proxy.requests.length;
    try {
      const out = await publish({ detail: { source: { bucket: EXTRA_EU, key: "incoming/eu-1" } } });
      assert.deepEqual([out.offloaded, out.size], [true, 14]);
    } finally {
      removeFault();
    }
    const toSource = proxy.requests.slice(before).filter((r) => r.url.startsWith(`/${EXTRA_EU}/`));
    assert.ok(
      toSource.some((r) => r.fault === "respond" && signedFor(r) === "us-east-1"),
      "first asked in us-east-1",
    );
    assert.ok(
      toSource.some((r) => r.fault === undefined && signedFor(r) === "eu-west-1"),
      "then retried signed for eu-west-1",
    );
    const [raw] = await receive("raw", 1);
    assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)]), []);
    assert.equal(summaryOf(executions().at(-1)!, "stepfunctions").sha256, sha256("from eu-west-1"));
    await receive("envelope", 1);
  });

  it("consume-queue: a GetObject that never answers, and one that stops mid-body, fail only their records, well before the function's timeout", async function () {
    this.timeout(20_000);
    const offload = { s3, bucket: BUCKET, keyPrefix: PayloadLayout.payloadPrefix };
    const hung = await publishToSns(sns, { topicArn, body: Buffer.alloc(300_000, "h") }, offload);
    const halted = await publishToSns(sns, { topicArn, body: Buffer.alloc(1024 * 1024, "m") }, offload);
    const fine = await publishToSns(sns, { topicArn, body: Buffer.alloc(300_000, "f") }, offload);
    await publishToSns(sns, { topicArn, body: "inline and fine" }, offload);
    const raws = await receive("raw", 4);
    await receive("envelope", 4);
    const isGet = (key: string) => (r: { method: string; url: string }) =>
      r.method === "GET" && r.url.split("?")[0] === `/${BUCKET}/${key}` && !r.url.includes("tagging");
    const removeStall = proxy.addFault({ match: isGet(hung.pointer!.s3Key), action: { kind: "stall" } });
    const removeHalt = proxy.addFault({
      match: isGet(halted.pointer!.s3Key),
      action: { kind: "stall-body", afterBytes: 64 * 1024 },
    });
    const byBody = new Map(raws.map((m) => [m.Body!, m.MessageId!]));
    const idOf = (pointer: { s3BucketName: string; s3Key: string }) => byBody.get(formatPointer(pointer))!;
    const before = executions().length;
    const started = Date.now();
    let failed: string[];
    try {
      // 3 s left: the records must be failed by the deadline (2 s), not by Lambda's timeout.
      failed = await runQueue(
        raws.map((m) => sqsRecord(m, queues.raw.arn)),
        { remainingMs: 3_000 },
      );
    } finally {
      removeStall();
      removeHalt();
    }
    const elapsed = Date.now() - started;
    // The property Lambda needs: an answer while the context still had time left (the deadline is 2 s).
    assert.ok(elapsed < 3_000, `answered in ${elapsed} ms, before the 3 s the function had`);
    assert.deepEqual(failed.sort(), [idOf(hung.pointer!), idOf(halted.pointer!)].sort());
    const delivered = executions()
      .slice(before)
      .map((c) => summaryOf(c, "stepfunctions").messageId);
    assert.deepEqual(
      delivered.sort(),
      raws
        .map((m) => m.MessageId!)
        .filter((id) => !failed.includes(id))
        .sort(),
    );
    assert.ok(delivered.includes(idOf(fine.pointer!)));
    // Once S3 answers again, the failed records succeed when redelivered.
    const retried = raws.filter((m) => failed.includes(m.MessageId!));
    assert.deepEqual(await runQueue(retried.map((m) => sqsRecord(m, queues.raw.arn))), []);
  });

  it("consume-queue: a StartExecution that never answers fails its record before the deadline, and succeeds when retried", async function () {
    this.timeout(20_000);
    await publishToSns(sns, { topicArn, body: "downstream stalls" }, { s3, bucket: BUCKET });
    const [raw] = await receive("raw", 1);
    await receive("envelope", 1);
    const removeStall = downstreamProxy.addFault({
      match: (r) => r.headers["x-amz-target"] === "AWSStepFunctions.StartExecution",
      action: { kind: "stall" },
    });
    const started = Date.now();
    try {
      assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)], { remainingMs: 3_000 }), [
        raw.MessageId,
      ]);
    } finally {
      removeStall();
    }
    assert.ok(Date.now() - started < 3_000, "answered before the 3 s the function had");
    assert.deepEqual(await runQueue([sqsRecord(raw, queues.raw.arn)]), []);
  });

  it("for the whole run, messages sent = delivered + reported failed", () => {
    assert.ok(ledger.sent.size >= 15);
    for (const id of ledger.delivered)
      assert.ok(!ledger.failed.has(id), `${id} is not both delivered and failed`);
    assert.equal(ledger.sent.size, ledger.delivered.size + ledger.failed.size);
  });
});

describe("handler configuration errors name the variable", () => {
  const env = withEnv();
  afterEach(() => env.restore());
  it("refuses an unknown DOWNSTREAM, a missing allow-list and a bad threshold at load", () => {
    env.set({
      SUBSCRIBER_NAME: "s",
      PAYLOAD_BUCKET_ALLOWLIST: "bkt",
      SQS_RAW_DELIVERY: "true",
      DOWNSTREAM: "lambda",
    });
    assert.throws(
      () => loadHandler("consume-queue", {}),
      /DOWNSTREAM must be "stepfunctions", "ecs" or "none", got "lambda"/,
    );
    env.set({ DOWNSTREAM: "stepfunctions", STATE_MACHINE_ARN: "" });
    assert.throws(() => loadHandler("consume-queue", {}), /STATE_MACHINE_ARN is required/);
    env.set({ DOWNSTREAM: "none", PAYLOAD_BUCKET_ALLOWLIST: " , " });
    assert.throws(
      () => loadHandler("consume-topic", {}),
      /PAYLOAD_BUCKET_ALLOWLIST must name at least one bucket/,
    );
    env.set({
      TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:t",
      PAYLOAD_BUCKET: "b",
      OFFLOAD_THRESHOLD_BYTES: "2000000",
    });
    assert.throws(
      () => loadHandler("publish", {}),
      /OFFLOAD_THRESHOLD_BYTES must be an integer from 0 to 1048576, got "2000000"/,
    );
    env.set({ OFFLOAD_THRESHOLD_BYTES: "1000", PAYLOAD_KEY_PREFIX: "/abs/" });
    assert.throws(() => loadHandler("publish", {}), /PAYLOAD_KEY_PREFIX: keyPrefix "\/abs\/" must not start/);
    env.set({ PAYLOAD_KEY_PREFIX: "payloads/", SOURCE_ALLOWLIST: "Not_A_Bucket/x" });
    assert.throws(() => loadHandler("publish", {}), /SOURCE_ALLOWLIST: entry "Not_A_Bucket\/x"/);
  });

  it("refuses a queue consumer that is not told how its subscription delivers, and bad location rules", () => {
    env.set({ SUBSCRIBER_NAME: "s", PAYLOAD_BUCKET_ALLOWLIST: "bkt", DOWNSTREAM: "none" });
    delete process.env.SQS_RAW_DELIVERY;
    assert.throws(
      () => loadHandler("consume-queue", {}),
      /environment variable SQS_RAW_DELIVERY is required by the queue consumer/,
    );
    assert.throws(
      () => loadHandler("consume-queue", { SQS_RAW_DELIVERY: "yes" }),
      /SQS_RAW_DELIVERY must be "true" or "false", got "yes"/,
    );
    env.set({ SQS_RAW_DELIVERY: "true", PAYLOAD_KEY_PREFIX_ALLOWLIST: "payloads/,../up/" });
    assert.throws(
      () => loadHandler("consume-queue", {}),
      /PAYLOAD_KEY_PREFIX_ALLOWLIST: keyPrefix "..\/up\/" must not start with/,
    );
    env.set({ PAYLOAD_KEY_PREFIX_ALLOWLIST: "payloads/", PAYLOAD_BUCKET_ALLOWLIST: "bkt,Other_Bucket" });
    assert.throws(
      () => loadHandler("consume-topic", {}),
      /PAYLOAD_BUCKET_ALLOWLIST: "Other_Bucket" is not an S3 bucket name/,
    );
  });
});
