import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { PutObjectCommand, PutObjectTaggingCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand, SQSClient, type Message } from "@aws-sdk/client-sqs";
import type { SNSEvent, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { PayloadLayout } from "../../messaging/contract";
import type { PayloadSummary } from "../../messaging/handlers/downstream";
import type { PublishResult } from "../../messaging/handlers/publish";
import { MARKER_ATTRIBUTE_NAMES, formatPointer, publishToSns } from "../../messaging/payload";
import {
  emulatorClientConfig,
  emulatorEnv,
  startCountingProxy,
  startFauxqs,
  startS3rver,
  type RunningEmulator,
  type RunningS3rver,
} from "../support/emulators";
import { subscribeNewQueue } from "../support/topics";
import { payloadStream, sha256 } from "../payload/helpers";
import { loadHandler, snsRecord, sqsRecord, startDownstreamRecorder, withEnv } from "./support";

const BUCKET = "payloads-a";
const STAGING = "staging-a";
const STATE_MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:queue-b";
const MiB = 1024 * 1024;

type Publish = (event: unknown) => Promise<PublishResult>;
type ConsumeQueue = (event: SQSEvent) => Promise<SQSBatchResponse>;
type ConsumeTopic = (event: SNSEvent) => Promise<{ delivered: PayloadSummary[] }>;

describe("handler bundles end to end (fauxqs + s3rver, recorded downstream)", function () {
  const env = withEnv();
  let fauxqs: RunningEmulator;
  let s3rver: RunningS3rver;
  let s3dir: string;
  let proxy: Awaited<ReturnType<typeof startCountingProxy>>;
  let downstream: Awaited<ReturnType<typeof startDownstreamRecorder>>;
  let s3: S3Client;
  let sns: SNSClient;
  let sqs: SQSClient;
  let topicArn: string;
  const queues = { raw: { url: "", arn: "" }, envelope: { url: "", arn: "" } };
  let publish: Publish;
  let consumeQueue: ConsumeQueue;
  let consumeTopic: ConsumeTopic;
  // Every message handed to a subscriber ends delivered or reported failed; a retried one moves.
  const ledger = { sent: new Set<string>(), delivered: new Set<string>(), failed: new Set<string>() };

  before(async () => {
    s3dir = fs.mkdtempSync(path.join(os.tmpdir(), "handlers-s3-"));
    [fauxqs, s3rver, downstream] = await Promise.all([
      startFauxqs(),
      startS3rver({ buckets: [BUCKET, STAGING], dir: s3dir }),
      startDownstreamRecorder(),
    ]);
    proxy = await startCountingProxy(s3rver.endpoint);
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
        sns: fauxqs.endpoint,
        sqs: fauxqs.endpoint,
        sfn: downstream.endpoint,
        ecs: downstream.endpoint,
      }),
      POWERTOOLS_LOG_LEVEL: "SILENT",
      TOPIC_ARN: topicArn,
      PAYLOAD_BUCKET: BUCKET,
      PAYLOAD_KEY_PREFIX: PayloadLayout.payloadPrefix,
      SOURCE_ALLOWLIST: `${STAGING}/${PayloadLayout.incomingPrefix}`,
      PAYLOAD_BUCKET_ALLOWLIST: BUCKET,
      PAYLOAD_BUCKET_REGION: "us-east-1",
      SUMMARY_PREVIEW_BYTES: "16",
    });
    publish = loadHandler<Publish>("publish", {});
    consumeQueue = loadHandler<ConsumeQueue>("consume-queue", {
      SUBSCRIBER_NAME: "queue-b",
      DOWNSTREAM: "stepfunctions",
      STATE_MACHINE_ARN: STATE_MACHINE,
    });
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
    await proxy?.stop();
    await Promise.all([fauxqs?.stop(), s3rver?.stop(), downstream?.stop()]);
    fs.rmSync(s3dir, { recursive: true, force: true });
  });

  async function receive(kind: "raw" | "envelope", expected: number): Promise<Message[]> {
    const out: Message[] = [];
    for (let i = 0; i < 5 && out.length < expected; i++) {
      const got = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queues[kind].url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          MessageAttributeNames: [...MARKER_ATTRIBUTE_NAMES, "All"],
        }),
      );
      out.push(...(got.Messages ?? []));
    }
    assert.equal(out.length, expected, `${expected} message(s) on the ${kind} queue`);
    return out;
  }

  async function runQueue(records: SQSRecord[]): Promise<string[]> {
    records.forEach((r) => ledger.sent.add(r.messageId));
    const { batchItemFailures } = await consumeQueue({ Records: records });
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
      [{}, /event field detail must be an object/],
      [{ detail: {} }, /exactly one of payload, payloadBase64 or source, got none/],
      [{ detail: { payload: "x", source: { bucket: STAGING, key: "incoming/a" } } }, /got payload, source/],
      [{ detail: { payload: 42 } }, /detail.payload must be a string/],
      [{ detail: { payloadBase64: "not base64!" } }, /detail.payloadBase64 must be a base64 string/],
      [{ detail: { source: { bucket: STAGING } } }, /detail.source must be \{bucket, key\}/],
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
    env.set({ SUBSCRIBER_NAME: "s", PAYLOAD_BUCKET_ALLOWLIST: "b", DOWNSTREAM: "lambda" });
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
});
