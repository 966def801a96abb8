import * as assert from "node:assert/strict";
import { DeleteObjectCommand, GetObjectTaggingCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { OperationsMetrics, PayloadLayout } from "../../messaging/contract";
import type { PublishResult } from "../../messaging/handlers/publish";
import { parsePointer } from "../../messaging/payload";
import {
  emulatorClientConfig,
  emulatorEnv,
  startFauxqs,
  startS3rver,
  type RunningEmulator,
  type RunningS3rver,
} from "../../local/emulators";
import { subscribeNewQueue } from "../../local/topics";
import { emitted, loadHandler, receiveMessages, sqsRecord, table, withEnv } from "./support";

// The metrics the real handler bundles emit (CloudWatch embedded metric format, one JSON line on
// stdout per dimension set), for a message published inline and one offloaded, and for a batch
// holding a delivered inline message, a delivered offloaded one, one whose payload fails its
// checksum and one whose payload object has expired.

const BUCKET = "payloads-metrics";
type Publish = (event: unknown) => Promise<PublishResult>;
type ConsumeQueue = (event: SQSEvent) => Promise<SQSBatchResponse>;

describe("handler metrics (EMF) for inline, offloaded, failed and expired-payload messages", function () {
  this.timeout(60_000);
  const env = withEnv();
  let fauxqs: RunningEmulator;
  let s3rver: RunningS3rver;
  let s3: S3Client;
  let sqs: SQSClient;
  let queue: { url: string; arn: string };
  let publish: Publish;
  let consumeQueue: ConsumeQueue;

  before(async () => {
    // S3 on s3rver, as the other handler tests: the store they trust for ranged and streamed reads.
    [fauxqs, s3rver] = await Promise.all([startFauxqs(), startS3rver({ buckets: [BUCKET] })]);
    const config = emulatorClientConfig(fauxqs.endpoint);
    s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
    sqs = new SQSClient(config);
    const sns = new SNSClient(config);
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: "metrics" }))).TopicArn!;
    queue = await subscribeNewQueue(sns, sqs, topicArn, "metrics-b");
    env.set({
      ...emulatorEnv({ s3: s3rver.endpoint, sns: fauxqs.endpoint, sqs: fauxqs.endpoint }),
      POWERTOOLS_LOG_LEVEL: "SILENT",
      [OperationsMetrics.namespaceEnv]: "fieldnotes-test",
      TOPIC_ARN: topicArn,
      PAYLOAD_BUCKET: BUCKET,
      PAYLOAD_KEY_PREFIX: PayloadLayout.payloadPrefix,
      OFFLOAD_THRESHOLD_BYTES: "1024",
      PAYLOAD_BUCKET_ALLOWLIST: BUCKET,
      PAYLOAD_KEY_PREFIX_ALLOWLIST: PayloadLayout.payloadPrefix,
      PAYLOAD_BUCKET_REGION: "us-east-1",
      SQS_RAW_DELIVERY: "true",
      SUBSCRIBER_NAME: "b",
      DOWNSTREAM: "none",
    });
    publish = loadHandler<Publish>("publish", {});
    consumeQueue = loadHandler<ConsumeQueue>("consume-queue", {});
  });

  after(async () => {
    env.restore();
    s3?.destroy();
    await Promise.all([fauxqs?.stop(), s3rver?.stop()]);
  });

  const event = (payload: string) => ({ id: "e", "detail-type": "PublishPayload", detail: { payload } });

  it("publish: one message per path with its size, and zero failures", async () => {
    const inline = await emitted(() => publish(event("small")));
    assert.equal(inline.result.offloaded, false);
    assert.deepEqual(table("fieldnotes-test", inline.emf), {
      "service=publisher,path=inline": {
        "messages (Count)": 1,
        "offloaded (Count)": 0,
        "payloadBytes (Bytes)": 5,
      },
      "service=publisher": { "failures (Count)": 0 },
    });
    const offloaded = await emitted(() => publish(event("x".repeat(4000))));
    assert.equal(offloaded.result.offloaded, true);
    assert.deepEqual(table("fieldnotes-test", offloaded.emf)["service=publisher,path=offloaded"], {
      "messages (Count)": 1,
      "offloaded (Count)": 1,
      "payloadBytes (Bytes)": 4000,
    });
  });

  it("publish: a refused event counts one failure and no message", async () => {
    const { emf } = await emitted(() => publish({ detail: {} }).catch((e: Error) => e));
    assert.deepEqual(table("fieldnotes-test", emf), { "service=publisher": { "failures (Count)": 1 } });
  });

  it("consume-queue: delivered messages by path with resolve time; a checksum failure and an expired payload counted apart; the batch's failures", async () => {
    // Four messages: two published above, and two more offloaded ones to spoil.
    await emitted(() => publish(event("y".repeat(3000))));
    await emitted(() => publish(event("z".repeat(2000))));
    const messages = await receiveMessages(sqs, queue.url, 4, 10);
    assert.equal(messages.length, 4, "4 messages on the queue");
    const bySize = (n: number) => {
      const found = messages.find((m) => m.MessageAttributes?.ExtendedPayloadSize?.StringValue === String(n));
      assert.ok(found, `message of ${n} bytes`);
      return found;
    };
    const inline = messages.find((m) => m.Body === "small");
    assert.ok(inline);
    const good = bySize(4000);
    const spoiled = bySize(3000);
    const expired = bySize(2000);
    // Same length, other bytes, the stored checksum kept: the reader must refuse it.
    const spoiledKey = parsePointer(spoiled.Body!).s3Key;
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: BUCKET, Key: spoiledKey }));
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: spoiledKey,
        Body: "Y".repeat(3000),
        Tagging: tags.TagSet!.map((t) => `${t.Key}=${t.Value}`).join("&"),
      }),
    );
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: parsePointer(expired.Body!).s3Key }));

    const records = [inline, good, spoiled, expired].map((m) => sqsRecord(m, queue.arn));
    const { result, emf } = await emitted(() => consumeQueue({ Records: records }));
    assert.deepEqual(
      result.batchItemFailures.map((f) => f.itemIdentifier).sort(),
      [spoiled.MessageId, expired.MessageId].sort(),
    );
    const t = table("fieldnotes-test", emf);
    assert.deepEqual(Object.keys(t).sort(), [
      "service=subscriber,subscriber=b",
      "service=subscriber,subscriber=b,path=inline",
      "service=subscriber,subscriber=b,path=offloaded",
    ]);
    assert.deepEqual(t["service=subscriber,subscriber=b"], { "failures (Count)": 2 });
    const inlineRow = t["service=subscriber,subscriber=b,path=inline"];
    assert.deepEqual(
      { ...inlineRow, "resolveMs (Milliseconds)": typeof inlineRow["resolveMs (Milliseconds)"] },
      {
        "messages (Count)": 1,
        "offloaded (Count)": 0,
        "payloadBytes (Bytes)": 5,
        "resolveMs (Milliseconds)": "number",
      },
    );
    const offRow = t["service=subscriber,subscriber=b,path=offloaded"];
    assert.deepEqual(
      { ...offRow, "resolveMs (Milliseconds)": typeof offRow["resolveMs (Milliseconds)"] },
      {
        "messages (Count)": 1,
        "offloaded (Count)": 1,
        "payloadBytes (Bytes)": 4000,
        "resolveMs (Milliseconds)": "number",
        "verifyFailed (Count)": 1,
        "expiredPayload (Count)": 1,
      },
    );
  });
});
