import * as assert from "node:assert/strict";
import { S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { PayloadLayout } from "../../messaging/contract";
import type { PublishBatchResult, PublishResult } from "../../messaging/handlers/publish";
import { formatPointer } from "../../messaging/payload";
import {
  emulatorClientConfig,
  emulatorEnv,
  startFauxqs,
  startS3rver,
  type RunningEmulator,
  type RunningS3rver,
} from "../../local/emulators";
import { subscribeNewQueue } from "../../local/topics";
import { sha256 } from "../payload/helpers";
import { loadHandler, receiveMessages, sqsRecord, startDownstreamRecorder, withEnv } from "./support";

const BUCKET = "payloads-bf";
const KiB = 1024;
const STATE_MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:fifo-b";

type Publish = (event: unknown) => Promise<PublishResult & PublishBatchResult>;
type ConsumeQueue = (event: SQSEvent) => Promise<SQSBatchResponse>;

describe("handler bundles: batch events, FIFO topic and queue (fauxqs + s3rver)", function () {
  const env = withEnv();
  let fauxqs: RunningEmulator;
  let s3rver: RunningS3rver;
  let downstream: Awaited<ReturnType<typeof startDownstreamRecorder>>;
  let s3: S3Client;
  let sns: SNSClient;
  let sqs: SQSClient;
  let standard: { topicArn: string; queueUrl: string };
  let fifo: { topicArn: string; queueUrl: string; queueArn: string };

  before(async () => {
    [fauxqs, s3rver, downstream] = await Promise.all([
      startFauxqs(),
      startS3rver({ buckets: [BUCKET] }),
      startDownstreamRecorder(),
    ]);
    s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
    sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
    sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: "bf-standard" }))).TopicArn!;
    standard = { topicArn, queueUrl: (await subscribeNewQueue(sns, sqs, topicArn, "bf-standard-q")).url };
    // As the stacks create them: FIFO topic and queue, no content-based deduplication.
    const fifoTopic = (
      await sns.send(
        new CreateTopicCommand({
          Name: "bf-messages.fifo",
          Attributes: { FifoTopic: "true", ContentBasedDeduplication: "false" },
        }),
      )
    ).TopicArn!;
    const queueUrl = (
      await sqs.send(
        new CreateQueueCommand({
          QueueName: "bf-queue.fifo",
          Attributes: { FifoQueue: "true", ContentBasedDeduplication: "false" },
        }),
      )
    ).QueueUrl!;
    const queueArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    await sns.send(
      new SubscribeCommand({
        TopicArn: fifoTopic,
        Protocol: "sqs",
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    fifo = { topicArn: fifoTopic, queueUrl, queueArn };
    env.set({
      ...emulatorEnv({
        s3: s3rver.endpoint,
        sns: fauxqs.endpoint,
        sqs: fauxqs.endpoint,
        sfn: downstream.endpoint,
      }),
      POWERTOOLS_LOG_LEVEL: "SILENT",
      PAYLOAD_BUCKET: BUCKET,
      PAYLOAD_KEY_PREFIX: PayloadLayout.payloadPrefix,
      SOURCE_ALLOWLIST: `${BUCKET}/${PayloadLayout.incomingPrefix}`,
      PAYLOAD_BUCKET_ALLOWLIST: BUCKET,
      PAYLOAD_BUCKET_REGION: "us-east-1",
    });
  });

  after(async () => {
    env.restore();
    s3?.destroy();
    await Promise.all([fauxqs?.stop(), s3rver?.stop(), downstream?.stop()]);
  });

  const publisherFor = (topicArn: string) => loadHandler<Publish>("publish", { TOPIC_ARN: topicArn });

  it("a payloads event is published with PublishBatch: one result per entry, in order, every payload on the queue", async () => {
    const publish = publisherFor(standard.topicArn);
    const large = "L".repeat(300 * KiB);
    const out = await publish({
      id: "evt-batch",
      source: "test.batch",
      detail: {
        payloads: [
          { id: "small", payload: "hello", attributes: { kind: { DataType: "String", StringValue: "a" } } },
          { payloadBase64: Buffer.from([0xff, 0x00, 0x01]).toString("base64") },
          { id: "large", payload: large },
        ],
      },
    });
    assert.deepEqual(
      out.results.map((r) => [r.id, r.offloaded, r.size]),
      [
        ["small", false, 5],
        ["p1", true, 3],
        ["large", true, 300 * KiB],
      ],
    );
    const got = await receiveMessages(sqs, standard.queueUrl, 3, 3);
    const pointers = out.results.filter((r) => r.pointer).map((r) => formatPointer(r.pointer!));
    assert.deepEqual(got.map((m) => m.Body).sort(), ["hello", ...pointers].sort());
  });

  it("a payloads event with one bad entry is refused whole, naming the entry, before anything is published", async () => {
    const publish = publisherFor(standard.topicArn);
    await assert.rejects(
      publish({
        detail: {
          payloads: [
            { payload: "fine" },
            { payload: "x", attributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: "1" } } },
          ],
        },
      }),
      /event field detail.payloads\[1\].attributes attribute name "ExtendedPayloadSize" is reserved/,
    );
    await assert.rejects(publish({ detail: { payloads: [] } }), /detail.payloads must be a non-empty list/);
    await assert.rejects(
      publish({
        detail: {
          payloads: [
            { id: "a", payload: "1" },
            { id: "a", payload: "2" },
          ],
        },
      }),
      /detail.payloads\[1\].id "a" is a duplicate/,
    );
    await assert.rejects(
      publish({ detail: { payload: "x", messageGroupId: "g" } }),
      /detail.messageGroupId is set but topic .* is not a FIFO topic/,
    );
    assert.equal((await receiveMessages(sqs, standard.queueUrl, 1, 1)).length, 0, "nothing was published");
  });

  it("entries the topic refuses make the event fail with each id, code and offloaded object, so it is retried, not dropped", async () => {
    const publish = publisherFor(standard.topicArn.replace(/bf-standard$/, "no-such-topic"));
    await assert.rejects(
      publish({
        detail: {
          payloads: [
            { id: "one", payload: "1" },
            { id: "two", payload: "T".repeat(300 * KiB) },
          ],
        },
      }),
      /2 of 2 payloads were not published: one \(NotFound\w*: .*\); two \(NotFound\w*: .*\) offloaded to s3:\/\/payloads-bf\/payloads\//,
    );
  });

  it("FIFO: the same payload in two events is delivered once (deduplicated by its SHA-256); the group comes from the event", async () => {
    const publish = publisherFor(fifo.topicArn);
    const payload = "F".repeat(300 * KiB);
    const first = await publish({ source: "orders", detail: { payload } });
    const second = await publish({ source: "orders", detail: { payloads: [{ payload }] } });
    assert.ok(first.offloaded && second.results[0].offloaded);
    assert.notDeepEqual(first.pointer, second.results[0].pointer, "two objects, two pointers");
    const got = await receiveMessages(sqs, fifo.queueUrl, 2, 2);
    assert.equal(got.length, 1);
    assert.equal(got[0].Attributes?.MessageGroupId, "orders");
    assert.equal(got[0].Attributes?.MessageDeduplicationId, sha256(payload));
    await sqs.send(
      new DeleteMessageCommand({ QueueUrl: fifo.queueUrl, ReceiptHandle: got[0].ReceiptHandle }),
    );
  });

  it("FIFO consumer: a failed record fails every later record of its group in the batch; other groups are delivered", async () => {
    const consume = loadHandler<ConsumeQueue>("consume-queue", {
      SUBSCRIBER_NAME: "fifo-b",
      SQS_RAW_DELIVERY: "true",
      DOWNSTREAM: "stepfunctions",
      STATE_MACHINE_ARN: STATE_MACHINE,
    });
    // The second record of group g points at a bucket the subscriber may not read: it fails before
    // any S3 call. Lambda hands a FIFO batch with groups interleaved in queue order; fauxqs gives out
    // one group per receive, so the batch is built with the record builder the local runtime uses.
    const bad = formatPointer({ s3BucketName: "not-allowed", s3Key: "k" });
    const sends: [string, string][] = [
      ["g", "g-0"],
      ["g", bad],
      ["h", "h-0"],
      ["g", "g-2"],
      ["h", "h-1"],
    ];
    const records = sends.map(([group, body], i) =>
      sqsRecord(
        {
          MessageId: `m-${i}`,
          ReceiptHandle: `rh-${i}`,
          Body: body,
          Attributes: {
            MessageGroupId: group,
            MessageDeduplicationId: sha256(body),
            SequenceNumber: String(i + 1),
          },
          ...(body === bad
            ? { MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: "1" } } }
            : {}),
        },
        fifo.queueArn,
      ),
    );
    const before = downstream.calls.length;
    const { batchItemFailures } = await consume({ Records: records });
    const failedBodies = batchItemFailures
      .map((f) => records.find((r) => r.messageId === f.itemIdentifier)!.body)
      .sort();
    assert.deepEqual(failedBodies, [bad, "g-2"].sort());
    const started = downstream.calls
      .slice(before)
      .map((c) => JSON.parse(c.input.input as string).preview ?? "")
      .sort();
    assert.deepEqual(started, ["g-0", "h-0", "h-1"]);
  });
});
