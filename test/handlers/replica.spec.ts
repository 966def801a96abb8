// The queue consumer bundle with a Region-local replica (PAYLOAD_REPLICAS), against fauxqs and
// s3rver behind a fault proxy: one batch holds a replica hit, a replica that lags, a replica
// without its tag while the origin is down (retried, not delivered) and a tagged replica while the
// origin is down (delivered). The summary, the log and the metrics say where each was read.
import * as assert from "node:assert/strict";
import { PutObjectCommand, PutObjectTaggingCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { OperationsMetrics, PayloadLayout } from "../../messaging/contract";
import type { PayloadSummary } from "../../messaging/handlers/downstream";
import { parsePointer, publishToSns } from "../../messaging/payload";
import {
  emulatorClientConfig,
  emulatorEnv,
  startFauxqs,
  startS3rver,
  type RunningEmulator,
  type RunningS3rver,
} from "../../local/emulators";
import { s3Error, startFaultProxy, type FaultProxy } from "../../local/fault-proxy";
import { subscribeNewQueue } from "../../local/topics";
import {
  emitted,
  loadHandler,
  receiveMessages,
  sqsRecord,
  startDownstreamRecorder,
  table,
  withEnv,
} from "./support";

const ORIGIN = "fieldnotes-payloads-111111111111-us-east-1";
const REPLICA = "fieldnotes-payloads-111111111111-us-west-2";
const STATE_MACHINE = "arn:aws:states:us-west-2:000000000000:stateMachine:b";
type ConsumeQueue = (event: SQSEvent) => Promise<SQSBatchResponse>;

describe("queue consumer bundle reading a Region-local replica", function () {
  this.timeout(60_000);
  const env = withEnv();
  let fauxqs: RunningEmulator;
  let s3rver: RunningS3rver;
  let proxy: FaultProxy;
  let downstream: Awaited<ReturnType<typeof startDownstreamRecorder>>;
  let s3: S3Client;
  let sns: SNSClient;
  let sqs: SQSClient;
  let topicArn: string;
  let queue: { url: string; arn: string };
  let consume: ConsumeQueue;

  before(async () => {
    [fauxqs, s3rver, downstream] = await Promise.all([
      startFauxqs(),
      startS3rver({ buckets: [ORIGIN, REPLICA] }),
      startDownstreamRecorder(),
    ]);
    proxy = await startFaultProxy(s3rver.endpoint);
    s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
    sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
    sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    topicArn = (await sns.send(new CreateTopicCommand({ Name: "replica-payloads" }))).TopicArn!;
    queue = await subscribeNewQueue(sns, sqs, topicArn, "replica-b", true);
    env.set({
      ...emulatorEnv({
        s3: proxy.endpoint,
        sns: fauxqs.endpoint,
        sqs: fauxqs.endpoint,
        sfn: downstream.endpoint,
      }),
      AWS_REGION: "us-west-2",
      POWERTOOLS_LOG_LEVEL: "SILENT",
      [OperationsMetrics.namespaceEnv]: "fieldnotes-replica",
      SUBSCRIBER_NAME: "b",
      PAYLOAD_BUCKET_ALLOWLIST: `${ORIGIN},${REPLICA}`,
      PAYLOAD_KEY_PREFIX_ALLOWLIST: PayloadLayout.payloadPrefix,
      PAYLOAD_BUCKET_REGION: "us-east-1",
      PAYLOAD_REPLICAS: `${ORIGIN}=${REPLICA}`,
      SQS_RAW_DELIVERY: "true",
      DOWNSTREAM: "stepfunctions",
      STATE_MACHINE_ARN: STATE_MACHINE,
    });
    consume = loadHandler<ConsumeQueue>("consume-queue", {});
  });

  after(async () => {
    env.restore();
    s3?.destroy();
    await proxy?.stop();
    await Promise.all([fauxqs?.stop(), s3rver?.stop(), downstream?.stop()]);
  });

  async function replicate(key: string, body: string, tag?: string): Promise<void> {
    await s3.send(new PutObjectCommand({ Bucket: REPLICA, Key: key, Body: body }));
    if (tag) {
      await s3.send(
        new PutObjectTaggingCommand({
          Bucket: REPLICA,
          Key: key,
          Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: tag }] },
        }),
      );
    }
  }

  it("one batch: hit, lagging replica, origin down with and without the replica's tag; only the unverifiable one is retried", async () => {
    const bodies = ["hit", "lagging", "untagged-outage", "tagged-outage"].map((n) => `${n} `.repeat(100));
    const sent: Awaited<ReturnType<typeof publishToSns>>[] = [];
    for (const body of bodies) {
      sent.push(
        await publishToSns(
          sns,
          { topicArn, body },
          { s3, bucket: ORIGIN, keyPrefix: "payloads/", alwaysThroughS3: true },
        ),
      );
    }
    const [hit, lagging, untagged, tagged] = sent;
    await replicate(hit.pointer!.s3Key, bodies[0], hit.sha256);
    await replicate(untagged.pointer!.s3Key, bodies[2]);
    await replicate(tagged.pointer!.s3Key, bodies[3], tagged.sha256);
    for (const out of [untagged, tagged]) {
      proxy.addFault({
        match: (r) => r.url.startsWith(`/${ORIGIN}/${out.pointer!.s3Key}`),
        action: s3Error(503, "ServiceUnavailable", "Service Unavailable"),
      });
    }
    const messages = await receiveMessages(sqs, queue.url, 4, 10);
    assert.equal(messages.length, 4, "4 messages on the queue");
    const byKey = (key: string) => messages.find((m) => parsePointer(m.Body!).s3Key === key)!;
    const from = proxy.requests.length;
    const { result, emf } = await emitted(() =>
      consume({ Records: sent.map((s) => sqsRecord(byKey(s.pointer!.s3Key), queue.arn)) }),
    );

    // The untagged replica during the outage: reported failed (SQS retries it), never delivered.
    assert.deepEqual(
      result.batchItemFailures.map((f) => f.itemIdentifier),
      [byKey(untagged.pointer!.s3Key).MessageId],
    );
    const summaries = downstream.calls.map((c) => JSON.parse(c.input.input as string) as PayloadSummary);
    const summaryOf = (key: string) => summaries.find((s) => s.pointer?.s3Key === key);
    assert.equal(summaryOf(untagged.pointer!.s3Key), undefined, "no downstream for the unverifiable one");
    const seen = (key: string) => ({
      sha256: summaryOf(key)?.sha256,
      readFrom: summaryOf(key)?.readFrom,
      bucket: summaryOf(key)?.pointer?.s3BucketName,
    });
    assert.deepEqual(seen(hit.pointer!.s3Key), {
      sha256: hit.sha256,
      readFrom: { from: "replica", reason: "replica-hit" },
      bucket: ORIGIN,
    });
    assert.deepEqual(seen(lagging.pointer!.s3Key), {
      sha256: lagging.sha256,
      readFrom: { from: "origin", reason: "replica-missing" },
      bucket: ORIGIN,
    });
    assert.deepEqual(seen(tagged.pointer!.s3Key), {
      sha256: tagged.sha256,
      readFrom: { from: "replica", reason: "origin-unavailable" },
      bucket: ORIGIN,
    });
    // The hit cost the origin one tag request, no GetObject.
    const originOps = (key: string) =>
      proxy.requests
        .slice(from)
        .filter((r) => r.url.startsWith(`/${ORIGIN}/${key}`))
        .map((r) => r.operation);
    assert.deepEqual(originOps(hit.pointer!.s3Key), ["GetObjectTagging"]);
    assert.deepEqual(originOps(lagging.pointer!.s3Key).sort(), ["GetObject", "GetObjectTagging"]);

    // Powertools writes the values of one dimension set as one list: summed per metric.
    const t = table("fieldnotes-replica", emf)["service=subscriber,subscriber=b,path=offloaded"];
    const sum = (name: string) => ([t[`${name} (Count)`]].flat() as number[]).reduce((a, b) => a + b, 0);
    assert.deepEqual(
      [sum("messages"), sum("replicaReads"), sum("replicaFallbacks"), t["replicaRefused (Count)"]],
      [3, 2, 1, undefined],
    );
  });
});
