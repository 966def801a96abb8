// The publisher handler's source run in process against fauxqs and s3rver (both in this process),
// loaded inside each test so that what it does at load is part of the test: results, metrics and
// failures of one payload and of a payloads list, the deadline, and what a refused event publishes
// (nothing). The bundle runs the same code end to end in handlers.spec.ts and batch-fifo.spec.ts.
import * as assert from "node:assert/strict";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { OperationsMetrics, PublisherEnv } from "../../messaging/contract";
import type { PublishBatchResult, PublishResult } from "../../messaging/handlers/publish";
import { formatPointer } from "../../messaging/payload";
import { PROMPT_CALL_TIMEOUTS, S3_WRITE_TIMEOUTS } from "../../messaging/handlers/deadline";
import { s3Error, startFaultProxy } from "../../local/fault-proxy";
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
import { clientTimeouts, emitted, receiveMessages, table, withEnv, type LogLine } from "./support";

const BUCKET = "payloads-pub";
/** A staging bucket that answers only requests signed for eu-west-1, as S3 does for a bucket there. */
const STAGING_EU = "staging-eu";
const NAMESPACE = "fieldnotes-publisher";
type Publish = (event: unknown, context?: Context) => Promise<PublishResult & PublishBatchResult>;
type Clients = typeof import("../../messaging/handlers/publish").clients;

/** Loads the handler's source afresh with the environment as it is now (it reads it at load). */
function loadModule(): { handler: Publish; clients: Clients } {
  const file = require.resolve("../../messaging/handlers/publish");
  delete require.cache[file];
  return require(file) as { handler: Publish; clients: Clients };
}
const load = (): Publish => loadModule().handler;

describe("publisher handler in process (fauxqs + s3rver)", () => {
  const env = withEnv();
  let fauxqs: RunningEmulator;
  let s3rver: RunningS3rver;
  let s3: S3Client;
  let sqs: SQSClient;
  let topicArn: string;
  let queue: { url: string; arn: string };

  before(async () => {
    [fauxqs, s3rver] = await Promise.all([startFauxqs(), startS3rver({ buckets: [BUCKET, STAGING_EU] })]);
    s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
    sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    const sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
    topicArn = (await sns.send(new CreateTopicCommand({ Name: "publisher-entry" }))).TopicArn!;
    queue = await subscribeNewQueue(sns, sqs, topicArn, "publisher-entry-q");
    env.set({
      ...emulatorEnv({ s3: s3rver.endpoint, sns: fauxqs.endpoint }),
      POWERTOOLS_LOG_LEVEL: "SILENT",
      POWERTOOLS_TRACE_ENABLED: "false",
      [OperationsMetrics.namespaceEnv]: NAMESPACE,
      // Every variable the publisher reads, so none is left over from another suite.
      ...Object.fromEntries(Object.values(PublisherEnv).map((name) => [name, ""])),
      TOPIC_ARN: topicArn,
      PAYLOAD_BUCKET: BUCKET,
      PAYLOAD_KEY_PREFIX: "out/",
      OFFLOAD_THRESHOLD_BYTES: "8",
      SOURCE_ALLOWLIST: `${STAGING_EU}/incoming/`,
    });
  });
  after(async () => {
    env.restore();
    s3?.destroy();
    sqs?.destroy();
    await Promise.all([fauxqs?.stop(), s3rver?.stop()]);
  });

  const bodies = async (n: number) => (await receiveMessages(sqs, queue.url, n, n + 1)).map((m) => m.Body);
  const objectText = async (key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToString();

  it("one payload: inline under the threshold, offloaded under the key prefix above it; its metrics", async () => {
    const publish = load();
    const { result: small, emf } = await emitted(() => publish({ id: "e1", detail: { payload: "tiny" } }));
    assert.deepEqual(Object.keys(small).sort(), ["messageId", "offloaded", "size"]);
    assert.deepEqual([small.offloaded, small.size, typeof small.messageId], [false, 4, "string"]);
    assert.deepEqual(table(NAMESPACE, emf), {
      "service=publisher,path=inline": {
        "messages (Count)": 1,
        "offloaded (Count)": 0,
        "payloadBytes (Bytes)": 4,
      },
      "service=publisher": { "failures (Count)": 0 },
    });
    const large = await publish({ id: "e2", detail: { payload: "larger than eight" } });
    assert.equal(large.offloaded, true);
    assert.equal(large.pointer?.s3BucketName, BUCKET);
    assert.match(large.pointer!.s3Key, /^out\//);
    assert.equal(await objectText(large.pointer!.s3Key), "larger than eight");
    assert.deepEqual((await bodies(2)).sort(), [formatPointer(large.pointer!), "tiny"].sort());
  });

  it("ALWAYS_THROUGH_S3 offloads even the smallest payload", async () => {
    env.set({ ALWAYS_THROUGH_S3: "true" });
    try {
      const out = await load()({ detail: { payload: "x" } });
      assert.equal(out.offloaded, true);
      assert.equal(await objectText(out.pointer!.s3Key), "x");
      await bodies(1);
    } finally {
      env.set({ ALWAYS_THROUGH_S3: "false" });
    }
  });

  it("a payloads list: one result per entry, in order, each counted", async () => {
    const publish = load();
    const { result, emf } = await emitted(() =>
      publish({ detail: { payloads: [{ id: "a", payload: "hi" }, { payload: "over the threshold" }] } }),
    );
    assert.deepEqual(
      result.results.map((r) => [r.id, r.offloaded, r.size, Object.keys(r).sort().join()]),
      [
        ["a", false, 2, "id,messageId,offloaded,size"],
        ["p1", true, 18, "id,messageId,offloaded,pointer,size"],
      ],
    );
    assert.equal(await objectText(result.results[1].pointer!.s3Key), "over the threshold");
    const metrics = table(NAMESPACE, emf);
    assert.equal(metrics["service=publisher,path=inline"]["messages (Count)"], 1);
    assert.equal(metrics["service=publisher,path=offloaded"]["messages (Count)"], 1);
    assert.deepEqual(metrics["service=publisher"], { "failures (Count)": 0 });
    assert.equal((await bodies(2)).length, 2);
  });

  it("entries the topic refuses fail the event with each id, code and offloaded object; one failure counted", async () => {
    env.set({ TOPIC_ARN: `${topicArn}-missing` });
    try {
      const publish = load();
      const { result, emf } = await emitted(() =>
        publish({
          detail: {
            payloads: [
              { id: "one", payload: "1" },
              { id: "two", payload: "offloaded one" },
            ],
          },
        }).catch((e: Error) => e),
      );
      assert.match(
        String((result as unknown as Error).message),
        /^2 of 2 payloads were not published: one \(NotFound\w*: [^)]*\); two \(NotFound\w*: [^)]*\) offloaded to s3:\/\/payloads-pub\/out\/\S+$/,
      );
      assert.deepEqual(table(NAMESPACE, emf), { "service=publisher": { "failures (Count)": 1 } });
    } finally {
      env.set({ TOPIC_ARN: topicArn });
    }
  });

  it("a refused event and a passed deadline publish nothing and count one failure", async () => {
    const publish = load();
    const bad = await emitted(() => publish({ detail: {} }).catch((e: Error) => e));
    assert.match(String(bad.result), /^EventError: event field detail must have exactly one of/);
    assert.deepEqual(table(NAMESPACE, bad.emf), { "service=publisher": { "failures (Count)": 1 } });
    const context = { getRemainingTimeInMillis: () => 900 } as Context;
    const reason =
      "publish did not finish within 0 ms, the time left before the function's timeout (less a 1000 ms reserve)";
    const expected = [
      reason,
      `${reason}: 1 of 1 payloads were not published: p0 (AbortError: Request aborted)`,
    ];
    for (const [i, detail] of [{ payload: "late" }, { payloads: [{ payload: "late" }] }].entries()) {
      const late = await emitted(() => publish({ detail }, context).catch((e: Error) => e));
      assert.equal((late.result as unknown as Error).message, expected[i]);
      assert.deepEqual(table(NAMESPACE, late.emf)["service=publisher"], { "failures (Count)": 1 });
    }
    assert.deepEqual(await bodies(0), []);
    assert.equal((await receiveMessages(sqs, queue.url, 1, 1)).length, 0, "nothing was published");
  });

  /** The log lines, without the fields that change from run to run. */
  const lines = (logs: LogLine[]): Record<string, unknown>[] =>
    logs.map(({ timestamp: _t, sampling_rate: _r, messageId, ...rest }) => ({
      ...rest,
      ...(messageId !== undefined ? { messageId: typeof messageId } : {}),
    }));

  it("logs: each published payload with its size, path, SHA-256 and event id; each entry the topic refused", async () => {
    env.set({ POWERTOOLS_LOG_LEVEL: "INFO" });
    try {
      const publish = load();
      const one = await emitted(() => publish({ id: "ev-1", detail: { payload: "tiny" } }));
      assert.deepEqual(lines(one.logs), [
        {
          level: "INFO",
          message: "published",
          service: "payload-publish",
          messageId: "string",
          size: 4,
          offloaded: false,
          sha256: sha256("tiny"),
          eventId: "ev-1",
        },
      ]);
      const list = await emitted(() =>
        publish({
          id: "ev-2",
          detail: { payloads: [{ id: "a", payload: "hi" }, { payload: "over the threshold" }] },
        }),
      );
      const [, offloaded] = list.result.results;
      assert.deepEqual(lines(list.logs), [
        {
          level: "INFO",
          message: "published",
          service: "payload-publish",
          id: "a",
          messageId: "string",
          size: 2,
          offloaded: false,
          sha256: sha256("hi"),
          eventId: "ev-2",
        },
        {
          level: "INFO",
          message: "published",
          service: "payload-publish",
          id: "p1",
          messageId: "string",
          pointer: offloaded.pointer,
          size: 18,
          offloaded: true,
          sha256: sha256("over the threshold"),
          eventId: "ev-2",
        },
      ]);
      await bodies(3);

      env.set({ TOPIC_ARN: `${topicArn}-missing` });
      const refusing = load();
      const refused = await emitted(() =>
        refusing({ id: "ev-3", detail: { payloads: [{ id: "one", payload: "1" }] } }).catch((e: Error) => e),
      );
      assert.deepEqual(
        lines(refused.logs).map((l) => [l.level, l.message, l.service, l.id, typeof l.code, l.eventId]),
        [["ERROR", "entry not published", "payload-publish", "one", "string", "ev-3"]],
      );
    } finally {
      env.set({ POWERTOOLS_LOG_LEVEL: "SILENT", TOPIC_ARN: topicArn });
    }
  });

  it("clients: S3 writes bounded only on connect and idle sockets (the deadline bounds a long copy), SNS with the prompt-call timeouts", async () => {
    const { clients } = loadModule();
    assert.deepEqual(await clientTimeouts(clients.s3), {
      connectionTimeout: S3_WRITE_TIMEOUTS.connectionTimeout,
      requestTimeout: undefined,
      socketTimeout: S3_WRITE_TIMEOUTS.socketTimeout,
      throwOnRequestTimeout: undefined,
    });
    assert.deepEqual(await clientTimeouts(clients.sns), { ...PROMPT_CALL_TIMEOUTS });
  });

  it("an S3 source: copied when under SOURCE_ALLOWLIST, through S3's 301 to its bucket's Region; refused outside it", async () => {
    await s3.send(
      new PutObjectCommand({ Bucket: STAGING_EU, Key: "incoming/s1", Body: "staged in eu-west-1" }),
    );
    const proxy = await startFaultProxy(s3rver.endpoint);
    const signedFor = (r: { headers: Record<string, unknown> }) =>
      /Credential=[^/]+\/\d{8}\/([^/]+)\//.exec(String(r.headers.authorization ?? ""))?.[1];
    proxy.addFault({
      match: (r) => r.url.startsWith(`/${STAGING_EU}/`) && signedFor(r) !== "eu-west-1",
      action: s3Error(
        301,
        "PermanentRedirect",
        "The bucket must be addressed using the specified endpoint.",
        {
          "x-amz-bucket-region": "eu-west-1",
        },
      ),
    });
    env.set({ AWS_ENDPOINT_URL_S3: proxy.endpoint });
    try {
      const publish = load();
      const out = await publish({ detail: { source: { bucket: STAGING_EU, key: "incoming/s1" } } });
      assert.deepEqual([out.offloaded, out.size], [true, 19]);
      assert.equal(await objectText(out.pointer!.s3Key), "staged in eu-west-1");
      assert.ok(
        proxy.requests.some((r) => r.fault === "respond" && signedFor(r) === "us-east-1"),
        "first asked in the function's Region",
      );
      await bodies(1);
      await assert.rejects(publish({ detail: { source: { bucket: STAGING_EU, key: "private/s1" } } }), {
        message: new RegExp(
          `s3://${STAGING_EU}/private/s1 is not under an allowed source \\(${STAGING_EU}/incoming/\\)`,
        ),
      });
    } finally {
      env.set({ AWS_ENDPOINT_URL_S3: s3rver.endpoint });
      await proxy.stop();
    }
  });
});
