// The demo run behind `npm start`: plan the stack, deploy its messaging resources on loopback
// emulators, run the real handler bundles, put sample payloads on the bus, wait until every
// subscriber has processed each one, and report how each got there.
import { PutObjectTaggingCommand, S3Client } from "@aws-sdk/client-s3";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Upload } from "@aws-sdk/lib-storage";
import { createHash, randomBytes, randomUUID } from "crypto";
import { Readable } from "stream";
import { PayloadLayout, PublisherEnv, SubscriberEnv } from "../messaging/contract";
import { emulatorClientConfig, startFauxqs, startS3rver } from "./emulators";
import { SCREEN_COLUMNS, wrap } from "./plan-view";
import { formatSize, KiB, MiB } from "./size";
import { deployLocally, LocalDeployError, type LocalDeployment, type LocalFunction } from "./deploy";
import { startDownstreamRecorder, type DownstreamCall } from "./downstream";
import { LambdaRuntime, type DeadLetter, type InvocationRecord } from "./lambda-runtime";
import { planStack, type Plan } from "./plan";
import {
  replicationRules,
  startReplication,
  type LocalReplication,
  type ReplicationLag,
} from "./replication";
import { unrunnablePlan } from "./wiring";
import { filterPolicyMatches, type FilterPolicy } from "../messaging/filter-policy";

export interface DemoOptions {
  stack?: string;
  /** Payload sizes in bytes; default 1 KiB, 300 KiB, 64 MiB. */
  sizes?: number[];
  /** Also publish a malformed pointer straight to the topic and expect it in each subscriber's DLQ. */
  malformed?: boolean;
  /** Where progress and the report go (default stdout). */
  out?: NodeJS.WritableStream;
  /** Per-message wait before giving up, in ms (default 60 s plus 1 s per 4 MiB). */
  timeoutMs?: number;
  /** Use an already computed plan (tests reuse one). */
  plan?: Plan;
  /**
   * How far emulated replication trails the origin (stacks with replicas): the object, and its
   * checksum tag after its own write. Default none: the replica is complete before the publisher
   * publishes, so every read is a replica hit, except in the lag step the demo adds.
   */
  replicaLag?: ReplicationLag;
}

/** The payload the replica-lag step publishes: offloaded, and quick. */
const REPLICA_LAG_SIZE = 300 * KiB;

export interface HopTimes {
  uploadMs?: number;
  publishMs: number;
  deliveryMs?: number;
  handlerMs?: number;
}

export interface DeliveryRow {
  subscriber: string;
  size: number;
  path: "inline" | "S3";
  sha256: string;
  /** The sha256 the subscriber reported in its downstream summary. */
  reportedSha256?: string;
  intact: boolean;
  downstream?: string;
  times: HopTimes;
  error?: string;
  /**
   * The subscriber's filter policy excludes the message's attributes: SNS does not deliver it, and
   * the run checked that nothing arrived. Not a loss.
   */
  filtered?: boolean;
  /** The row of the replica-lag step: published while the replica held the object without its tag. */
  replicaLag?: true;
  /** A subscriber with a replica: where it read the payload and why (its downstream summary). */
  readFrom?: { from: "replica" | "origin"; reason: string };
}

export interface MalformedOutcome {
  subscriber: string;
  fn: string;
  deadLetterQueue?: string;
  inQueue: boolean;
  attempts: number;
  reason?: string;
}

export interface DemoReport {
  stack: string;
  ok: boolean;
  /** Why the run failed, when it did. */
  reason?: string;
  rows: DeliveryRow[];
  malformed: MalformedOutcome[];
  downstreamCalls: DownstreamCall[];
  /** The metrics each function emitted (its EMF log lines), summed per dimension set and metric. */
  metrics: EmittedMetric[];
  elapsedMs: number;
}

/** One metric a function emitted during the run, over every invocation. */
export interface EmittedMetric {
  fn: string;
  /** e.g. "service=subscriber,subscriber=b,path=offloaded" */
  dimensions: string;
  name: string;
  unit: string;
  /** How many values were emitted, and their sum. */
  count: number;
  sum: number;
}

/**
 * Pure: the embedded-metric-format documents among a function's log lines, summed. Only for the
 * local report: in AWS, CloudWatch Logs extracts the same documents into metrics.
 */
export function emittedMetrics(fn: string, logs: readonly string[]): EmittedMetric[] {
  const totals = new Map<string, EmittedMetric>();
  for (const line of logs) {
    if (!line.includes('"_aws"')) continue;
    let doc: Record<string, unknown>;
    try {
      doc = JSON.parse(line) as Record<string, unknown>;
    } catch {
      continue;
    }
    const directives =
      (
        doc._aws as {
          CloudWatchMetrics?: { Dimensions?: string[][]; Metrics?: { Name: string; Unit?: string }[] }[];
        }
      )?.CloudWatchMetrics ?? [];
    for (const d of directives) {
      const dimensions = (d.Dimensions?.[0] ?? []).map((k) => `${k}=${String(doc[k])}`).join(",");
      for (const m of d.Metrics ?? []) {
        const raw = doc[m.Name];
        const values = (Array.isArray(raw) ? raw : [raw]).filter((x): x is number => typeof x === "number");
        const key = `${dimensions} ${m.Name}`;
        const t = totals.get(key) ?? {
          fn,
          dimensions,
          name: m.Name,
          unit: m.Unit ?? "None",
          count: 0,
          sum: 0,
        };
        t.count += values.length;
        t.sum += values.reduce((a, b) => a + b, 0);
        totals.set(key, t);
      }
    }
  }
  return [...totals.values()];
}

/** EventBridge refuses entries over 256 KiB; leave room for the envelope fields. */
const INLINE_EVENT_LIMIT = 200 * KiB;

/** Printable pseudo-random text of exactly `size` bytes, streamed, with its sha256 at the end. */
function payloadStream(size: number): { stream: Readable; sha256: Promise<string> } {
  const hash = createHash("sha256");
  let left = size;
  let done!: (hex: string) => void;
  const sha256 = new Promise<string>((r) => (done = r));
  const stream = new Readable({
    read() {
      if (left === 0) {
        done(hash.digest("hex"));
        this.push(null);
        return;
      }
      const n = Math.min(left, MiB);
      const chunk = Buffer.from(
        randomBytes(Math.ceil((n * 3) / 4) + 3)
          .toString("base64")
          .slice(0, n),
        "latin1",
      );
      left -= n;
      hash.update(chunk);
      this.push(chunk);
    },
  });
  return { stream, sha256 };
}

class Progress {
  private last = 0;
  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly label: string,
    private readonly total: number,
  ) {}
  update(done: number) {
    const pct = Math.floor((done / this.total) * 100);
    const tty = (this.out as { isTTY?: boolean }).isTTY === true;
    // On a terminal the bar redraws in place; in a log it prints every 25 %.
    if (tty ? pct === this.last : Math.floor(pct / 25) === Math.floor(this.last / 25)) return;
    this.last = pct;
    const width = 30;
    const filled = Math.round((pct / 100) * width);
    const bar = `${"#".repeat(filled)}${".".repeat(width - filled)}`;
    const line = `  ${this.label} [${bar}] ${String(pct).padStart(3)}% ${formatSize(Math.floor(done / MiB) * MiB || done)} of ${formatSize(this.total)}`;
    this.out.write(tty ? `\r${line}${pct >= 100 ? "\n" : ""}` : `${line}\n`);
  }
}

interface Subscriber {
  name: string;
  fn: LocalFunction;
  downstream: string;
  /** The filter policy of the subscription that feeds the function, as the program set it. */
  filterPolicy?: FilterPolicy;
}

/**
 * The attribute every demo event carries, so a stack's filter policy has something to select on
 * (stack fifo filters subscriber c on it).
 */
export const DEMO_SIZE_ATTRIBUTE = "demo-size";

function subscribersOf(d: LocalDeployment): Subscriber[] {
  return d.functions
    .filter((f) => f.handlerName === "consume-queue" || f.handlerName === "consume-topic")
    .map((fn) => {
      // sqs delivery: the subscription of the queue the function's mapping reads; lambda: its own.
      const queue = d.eventSources.find((e) => e.fn === fn)?.queue;
      const subscription = d.subscriptions.find((s) => s.fn === fn || (queue && s.queue === queue));
      const policy = subscription?.resource.inputs.filterPolicy;
      return {
        name: fn.plannedEnv[SubscriberEnv.subscriberName] ?? fn.name,
        fn,
        downstream: fn.plannedEnv[SubscriberEnv.downstream] ?? "none",
        ...(typeof policy === "string" && policy ? { filterPolicy: JSON.parse(policy) as FilterPolicy } : {}),
      };
    });
}

/** Runs the demo and returns its report; never throws for a failed delivery (see report.ok). */
export async function runDemo(opts: DemoOptions = {}): Promise<DemoReport> {
  const started = Date.now();
  const stack = opts.stack ?? "dev";
  const out = opts.out ?? process.stdout;
  const sizes = opts.sizes ?? [KiB, 300 * KiB, 64 * MiB];
  const report: DemoReport = {
    stack,
    ok: false,
    rows: [],
    malformed: [],
    downstreamCalls: [],
    metrics: [],
    elapsedMs: 0,
  };
  const fail = (reason: string) => {
    report.reason = reason;
    report.elapsedMs = Date.now() - started;
    return report;
  };

  const plan = opts.plan ?? (await planStack(stack));
  const unrunnable = unrunnablePlan(plan);
  if (unrunnable) return fail(unrunnable);

  const stops: Array<() => Promise<void>> = [];
  try {
    const fauxqs = await startFauxqs();
    stops.push(fauxqs.stop);
    const s3rver = await startS3rver();
    stops.push(s3rver.stop);
    const recorder = await startDownstreamRecorder();
    stops.push(recorder.stop);
    report.downstreamCalls = recorder.calls;
    const endpoints = {
      sqs: fauxqs.endpoint,
      sns: fauxqs.endpoint,
      s3: s3rver.endpoint,
      sfn: recorder.endpoint,
      ecs: recorder.endpoint,
    };

    let deployment: LocalDeployment;
    try {
      deployment = await deployLocally(plan, endpoints);
    } catch (err) {
      if (err instanceof LocalDeployError) return fail(`local deployment: ${err.message}`);
      throw err;
    }
    out.write(
      `Deployed locally: ${deployment.topics.length} topic(s), ${deployment.queues.length} queue(s), ` +
        `${deployment.subscriptions.length} subscription(s), ${deployment.buckets.length} bucket(s), ${deployment.functions.length} function(s)\n`,
    );
    // Replicas (PAYLOAD_REPLICAS of the subscriber functions): S3 Replication, emulated between
    // the functions and s3rver; the functions reach S3 through it.
    const rules = replicationRules(deployment.functions);
    let replication: LocalReplication | undefined;
    if (rules.length > 0) {
      const lag = opts.replicaLag ?? { objectMs: 0, tagMs: 0 };
      replication = await startReplication(s3rver.endpoint, rules, lag);
      stops.unshift(replication.stop);
      deployment = { ...deployment, endpoints: { ...deployment.endpoints, s3: replication.endpoint } };
      for (const rule of rules) {
        out.write(
          `Replication emulated: s3://${rule.origin}/${rule.prefix} → s3://${rule.replica}, object lag ${lag.objectMs} ms, tag lag ${lag.tagMs} ms\n`,
        );
      }
    }
    const runtime = new LambdaRuntime(deployment);
    // After the workers stopped, every line they wrote has arrived: then read the metrics.
    stops.unshift(async () => {
      await runtime.stop();
      report.metrics = deployment.functions.flatMap((fn) => emittedMetrics(fn.name, runtime.logsOf(fn.name)));
    });
    let runtimeError: Error | undefined;
    runtime.on("error", (err: Error) => (runtimeError ??= err));

    // Every function must start: each handler checks its environment at cold start.
    for (const fn of deployment.functions) {
      const probe = await runtime.instance(fn).coldStart();
      if (probe) return fail(`${fnLabel(fn)} fails at cold start: ${probe}`);
    }
    runtime.start();

    const route = deployment.routes[0];
    if (!route)
      return fail("the stack has no EventBridge rule targeting a function: nothing to put events to");
    const publisher = route.fn;
    const bucket = publisher.plannedEnv[PublisherEnv.payloadBucket];
    const subscribers = subscribersOf(deployment);
    if (subscribers.length === 0) return fail("the stack has no subscriber function");
    const pattern = route.pattern as { source?: unknown[]; "detail-type"?: unknown[] };
    const detailType =
      typeof pattern["detail-type"]?.[0] === "string"
        ? (pattern["detail-type"][0] as string)
        : "PublishPayload";
    const source = typeof pattern.source?.[0] === "string" ? (pattern.source[0] as string) : "local.demo";
    const s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
    stops.push(async () => s3.destroy());

    /** Puts one payload of `size` on the bus and waits for every subscriber; the failure, if any. */
    const deliver = async (size: number, lagStep = false): Promise<string | undefined> => {
      out.write(
        `\n▶ ${formatSize(size)} payload${lagStep ? ": the replica has the object but not yet its checksum tag (replication lags)" : ""}\n`,
      );
      const times: HopTimes = { publishMs: 0 };
      const attributes = { [DEMO_SIZE_ATTRIBUTE]: { DataType: "Number", StringValue: String(size) } };
      let detail: Record<string, unknown>;
      let sha256: string;
      if (size <= INLINE_EVENT_LIMIT) {
        const { stream, sha256: digest } = payloadStream(size);
        const chunks: Buffer[] = [];
        for await (const c of stream) chunks.push(c as Buffer);
        sha256 = await digest;
        detail = { payload: Buffer.concat(chunks).toString("latin1"), attributes };
      } else {
        // EventBridge events are at most 256 KiB: stage the payload under incoming/ and name it.
        const key = `${PayloadLayout.incomingPrefix}demo-${randomUUID()}`;
        const { stream, sha256: digest } = payloadStream(size);
        const t0 = Date.now();
        const upload = new Upload({
          client: s3,
          params: { Bucket: bucket, Key: key, Body: stream },
          partSize: 8 * MiB,
          queueSize: 2,
        });
        const progress =
          size >= 8 * MiB ? new Progress(out, `upload s3://${bucket}/${key.slice(0, 24)}…`, size) : undefined;
        upload.on("httpUploadProgress", (p) => progress?.update(p.loaded ?? 0));
        await upload.done();
        progress?.update(size);
        sha256 = await digest;
        // A producer that knows its payload's SHA-256 tags the staged object: the publisher's copy
        // carries the tag over, so every subscriber verifies the bytes, from a replica as well.
        await s3.send(
          new PutObjectTaggingCommand({
            Bucket: bucket,
            Key: key,
            Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: sha256 }] },
          }),
        );
        times.uploadMs = Date.now() - t0;
        detail = { source: { bucket, key }, attributes };
      }
      const t1 = Date.now();
      const [entry] = runtime.putEvents([
        {
          Source: source,
          DetailType: detailType,
          Detail: JSON.stringify(detail),
          EventBusName: route.busName,
        },
      ]);
      const [published] = await entry.delivered;
      if (!published) return `the ${formatSize(size)} event matched no rule on bus ${route.busName}`;
      times.publishMs = published.end - t1;
      if (!published.ok) {
        return `${fnLabel(publisher)} failed on the ${formatSize(size)} event: ${published.error?.errorMessage}`;
      }
      const result = published.result as {
        messageId: string;
        pointer?: { s3BucketName: string; s3Key: string };
        offloaded: boolean;
      };
      out.write(
        `  published ${result.offloaded ? `pointer s3://${result.pointer?.s3BucketName}/${result.pointer?.s3Key}` : "inline"} (message ${result.messageId})\n`,
      );

      const deadline = Date.now() + (opts.timeoutMs ?? 60_000 + Math.ceil(size / (4 * MiB)) * 1000);
      for (const sub of subscribers) {
        const row: DeliveryRow = {
          subscriber: sub.name,
          size,
          path: result.offloaded ? "S3" : "inline",
          sha256,
          intact: false,
          times: { ...times },
          ...(lagStep ? { replicaLag: true as const } : {}),
        };
        if (sub.filterPolicy && !filterPolicyMatches(sub.filterPolicy, attributes)) {
          // SNS drops the message for this subscription. Wait out a delivery (the emulator fans out
          // during Publish; the runtime polls every second) and check that none came.
          await new Promise((r) => setTimeout(r, 2_000));
          const arrived = runtime.invocations.some(
            (rec) => rec.fn === sub.fn.name && rec.records.some((r) => correlates(r, result, sha256)),
          );
          row.filtered = true;
          row.intact = !arrived;
          if (arrived) row.error = "delivered although its filter policy excludes the message's attributes";
          out.write(
            `  ${row.intact ? "○" : "✗"} subscriber ${sub.name}: ${row.error ?? `filtered out by its filter policy ${JSON.stringify(sub.filterPolicy)}, as SNS does (not delivered, not lost)`}\n`,
          );
          report.rows.push(row);
          continue;
        }
        const match = (rec: InvocationRecord) =>
          rec.fn === sub.fn.name &&
          rec.ok &&
          rec.records.some((r) => !rec.failedIds.includes(r.messageId) && correlates(r, result, sha256));
        const done = await waitFor(
          () => {
            const call = recorder.calls.find(
              (c) => c.summary?.subscriber === sub.name && c.summary?.sha256 === sha256,
            );
            const inv = runtime.invocations.find(match);
            const failed = runtime.deadLetters.find(
              (dl) => dl.fn === sub.fn.name && correlates({ messageId: "", body: dl.body }, result, sha256),
            );
            if (failed) return { failed };
            if (inv && (sub.downstream === "none" || call)) return { inv, call };
            return undefined;
          },
          deadline,
          () => runtimeError,
        );
        if (!done || "failed" in done) {
          row.error =
            done && "failed" in done
              ? `dead-lettered in ${done.failed!.queue}: ${done.failed!.reason}`
              : `not processed within the time limit${runtimeError ? ` (${runtimeError.message})` : ""}${lastError(runtime, sub.fn)}`;
        } else {
          const { inv, call } = done as { inv: InvocationRecord; call?: DownstreamCall };
          // SentTimestamp: when SNS fanned the message out into the subscriber's queue.
          const sent = inv.records.find((r) => correlates(r, result, sha256))?.sentAt;
          if (sent !== undefined) {
            row.times.publishMs = sent - t1;
            row.times.deliveryMs = inv.start - sent;
          }
          row.times.handlerMs = (call?.at ?? inv.end) - inv.start;
          row.reportedSha256 = call?.summary?.sha256 as string | undefined;
          const readFrom = call?.summary?.readFrom as DeliveryRow["readFrom"] | undefined;
          if (readFrom) row.readFrom = { from: readFrom.from, reason: readFrom.reason };
          row.downstream = call ? describeCall(call) : "none configured";
          row.intact = sub.downstream === "none" || row.reportedSha256 === sha256;
          if (!row.intact)
            row.error = `sha256 mismatch: sent ${sha256}, subscriber reported ${row.reportedSha256}`;
        }
        out.write(`  ${row.intact ? "✓" : "✗"} subscriber ${sub.name}${row.error ? `: ${row.error}` : ""}\n`);
        report.rows.push(row);
      }
      return undefined;
    };
    for (const size of sizes) {
      const failure = await deliver(size);
      if (failure) return fail(failure);
    }
    if (replication) {
      // The replica lags: it holds the object, not yet its checksum tag (written after the object,
      // replicated as a separate operation). The replica's subscribers must read the origin.
      replication.hold("tags");
      const failure = await deliver(REPLICA_LAG_SIZE, true);
      await replication.release();
      if (failure) return fail(failure);
    }

    if (opts.malformed)
      report.malformed = await injectMalformed(
        deployment,
        runtime,
        subscribers,
        out,
        opts.timeoutMs ?? 60_000,
      );

    const failures = report.rows.filter((r) => !r.intact);
    const malformedMissed = report.malformed.filter((m) => !m.inQueue);
    report.ok = failures.length === 0 && malformedMissed.length === 0;
    if (!report.ok) {
      report.reason = [
        ...failures.map(
          (r) =>
            `subscriber ${r.subscriber} did not get the ${formatSize(r.size)} payload intact: ${r.error}`,
        ),
        ...malformedMissed.map(
          (m) =>
            `the malformed record did not reach ${m.subscriber}'s dead-letter queue (${m.reason ?? "no failure recorded"})`,
        ),
      ].join("; ");
    }
    report.elapsedMs = Date.now() - started;
    return report;
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

/** Publishes a pointer without an s3Key straight to the topic: every subscriber must dead-letter it. */
async function injectMalformed(
  d: LocalDeployment,
  runtime: LambdaRuntime,
  subscribers: Subscriber[],
  out: NodeJS.WritableStream,
  timeoutMs: number,
): Promise<MalformedOutcome[]> {
  const topic = d.topics[0];
  const bucket = d.buckets[0] ?? "payload-bucket";
  const body = JSON.stringify([
    "software.amazon.payloadoffloading.PayloadS3Pointer",
    { s3BucketName: bucket },
  ]);
  out.write(`\n▶ malformed pointer published straight to the topic: ${body}\n`);
  const sns = new SNSClient({ ...emulatorClientConfig(d.endpoints.sns), region: topic.region });
  const sqs = new SQSClient(emulatorClientConfig(d.endpoints.sqs));
  try {
    await sns.send(
      new PublishCommand({
        TopicArn: topic.arn,
        Message: body,
        MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: "1024" } },
      }),
    );
    const outcomes: MalformedOutcome[] = [];
    for (const sub of subscribers) {
      const isThis = (dl: DeadLetter) => dl.fn === sub.fn.name && dl.body.includes("s3BucketName");
      const dead = await waitFor(
        () => runtime.deadLetters.find(isThis),
        Date.now() + timeoutMs,
        () => undefined,
      );
      const attempts = runtime.invocations.filter(
        (i) => i.fn === sub.fn.name && i.records.some((r) => r.body === body),
      ).length;
      const outcome: MalformedOutcome = {
        subscriber: sub.name,
        fn: sub.fn.name,
        attempts,
        inQueue: false,
        reason: dead?.reason,
        deadLetterQueue: dead?.queue,
      };
      if (dead) {
        // Look in the queue itself: the record must really be there, not just reported.
        const queue = d.queues.find((q) => q.name === dead.queue);
        if (queue) {
          const seen = await waitFor(
            async () => {
              const got = await sqs.send(
                new ReceiveMessageCommand({
                  QueueUrl: queue.url,
                  MaxNumberOfMessages: 10,
                  VisibilityTimeout: 0,
                  WaitTimeSeconds: 0,
                }),
              );
              return (
                (got.Messages ?? []).some(
                  (m) =>
                    (m.Body ?? "").includes(JSON.stringify(bucket).slice(1, -1)) &&
                    (m.Body ?? "").includes("s3BucketName"),
                ) || undefined
              );
            },
            Date.now() + 10_000,
            () => undefined,
          );
          outcome.inQueue = seen === true;
        }
      }
      out.write(
        `  ${outcome.inQueue ? "✓" : "✗"} subscriber ${sub.name}: ${outcome.inQueue ? `in ${outcome.deadLetterQueue} after ${attempts} attempt(s): ${outcome.reason}` : "not dead-lettered"}\n`,
      );
      outcomes.push(outcome);
    }
    return outcomes;
  } finally {
    sns.destroy();
    sqs.destroy();
  }
}

/** Whether a delivered record is this payload: same SNS message id, same pointer, or same bytes. */
function correlates(
  record: { messageId: string; body: string },
  published: { messageId: string; pointer?: { s3Key: string } },
  sha256: string,
): boolean {
  if (record.messageId === published.messageId || record.body.includes(published.messageId)) return true;
  // The key is a UUID: found even inside a dead-letter record that escapes the pointer's JSON again.
  if (published.pointer) return record.body.includes(published.pointer.s3Key);
  return createHash("sha256").update(record.body, "utf8").digest("hex") === sha256;
}

function describeCall(call: DownstreamCall): string {
  if (call.action === "states:StartExecution") {
    const arn = String(call.request.stateMachineArn ?? "");
    return `states:StartExecution ${arn.split(":").pop()} (execution ${call.request.name ?? "?"})`;
  }
  const td = String(call.request.taskDefinition ?? "");
  return `ecs:RunTask ${td.split("/").pop()} on ${String(call.request.cluster ?? "")
    .split("/")
    .pop()}`;
}

function fnLabel(fn: LocalFunction): string {
  return `Function "${fn.resource.name}" (${fn.name}, handler ${fn.handlerName})`;
}

function lastError(runtime: LambdaRuntime, fn: LocalFunction): string {
  const failed = [...runtime.invocations].reverse().find((i) => i.fn === fn.name && !i.ok);
  return failed ? `; last error: ${failed.error?.errorMessage}` : "";
}

async function waitFor<T>(
  probe: () => T | undefined | Promise<T | undefined>,
  deadline: number,
  abort: () => Error | undefined,
): Promise<T | undefined> {
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline || abort()) return undefined;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The delivery report as text, one screen wide (SCREEN_COLUMNS): one line per subscriber and size,
 * the malformed records, and the RESULT line last.
 */
export function renderReport(report: DemoReport): string {
  const lines: string[] = [];
  const ms = (v?: number) => (v === undefined ? "-" : v >= 10_000 ? `${(v / 1000).toFixed(1)}s` : `${v}ms`);
  lines.push(`Delivery report — stack ${report.stack}`);
  const header = [
    "sub",
    "size",
    "path",
    "upload",
    "publish",
    "deliver",
    "handler",
    "sha256",
    "downstream call",
  ];
  const rows = report.rows.map((r) => [
    r.subscriber,
    formatSize(r.size),
    // Which location served a replica subscriber is counted under the table (replicaReadLines):
    // a wider column would push the downstream call past 100 columns.
    r.path,
    ms(r.times.uploadMs),
    ms(r.times.publishMs),
    ms(r.times.deliveryMs),
    ms(r.times.handlerMs),
    r.filtered && r.intact
      ? "○ filtered out (filter policy)"
      : r.intact
        ? `✓ ${r.sha256.slice(0, 8)}`
        : `✗ ${r.error ?? ""}`,
    // "states:StartExecution fieldnotes-b-app (execution msg-…)" → "StartExecution fieldnotes-b-app":
    // the call and its target, short enough for one screen.
    (r.downstream ?? "-").split(/ \(| on /)[0].replace(/^[a-z]+:/, ""),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  const fmt = (row: string[]) =>
    clip(row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]))).join("  "));
  lines.push(fmt(header), clip(widths.map((w) => "-".repeat(w)).join("  ")));
  for (const row of rows) lines.push(fmt(row));
  if (report.malformed.length) {
    lines.push("", "Malformed record (pointer without s3Key, published straight to the topic):");
    for (const m of report.malformed) {
      lines.push(
        clip(
          `  ${m.inQueue ? "✓" : "✗"} ${m.subscriber}: ${m.inQueue ? `dead-lettered in ${m.deadLetterQueue} after ${m.attempts} attempt(s)` : "NOT dead-lettered"} — ${m.reason ?? "no error recorded"}`,
        ),
      );
    }
  }
  const replicaLines = replicaReadLines(report.rows);
  if (replicaLines.length) {
    // One line per replica subscriber, under the table: the report stays on one screen.
    lines.push("", ...replicaLines.flatMap((line) => wrap("Replica reads: ", line, SCREEN_COLUMNS)));
  }
  if (report.metrics.length) {
    // One wrapped line per function, summed over its dimension sets, so the report stays on one
    // screen; report.metrics (and --json) keep the per-dimension detail.
    lines.push("", "Metrics the handlers emitted (EMF; in AWS, CloudWatch namespace = the system name):");
    for (const [fn, metrics] of metricsByFunction(report.metrics)) {
      lines.push(...wrap(`  ${fn}: `, metrics.map(formatMetric).join(" · "), SCREEN_COLUMNS));
    }
  }
  lines.push(
    "",
    "Hops: upload = producer → incoming/ (S3); publish = PutEvents → fan-out into the subscriber's",
    "      queue (publisher invoke, offload, publish); deliver = fan-out → subscriber invoked (poll,",
    "      batch); handler = invoked → downstream call (resolve, stream, verify sha256, start it).",
    `Downstream calls recorded (not executed): ${report.downstreamCalls.length}`,
    ...wrap(
      "RESULT: ",
      report.ok
        ? `OK — every message reached every subscriber intact (${(report.elapsedMs / 1000).toFixed(1)} s)`
        : `FAILED — ${report.reason}`,
      SCREEN_COLUMNS,
    ),
  );
  return lines.join("\n");
}

/**
 * Pure: per subscriber that read through a replica, how many payloads the replica served and how
 * many the origin did, by reason: "b: replica 2 (replica-hit 2) · origin 1 (replica-untagged 1)".
 */
export function replicaReadLines(rows: readonly DeliveryRow[]): string[] {
  const bySubscriber = new Map<string, Map<string, Map<string, number>>>();
  for (const r of rows) {
    if (!r.readFrom) continue;
    const froms = bySubscriber.get(r.subscriber) ?? new Map<string, Map<string, number>>();
    bySubscriber.set(r.subscriber, froms);
    const reasons = froms.get(r.readFrom.from) ?? new Map<string, number>();
    froms.set(r.readFrom.from, reasons);
    reasons.set(r.readFrom.reason, (reasons.get(r.readFrom.reason) ?? 0) + 1);
  }
  return [...bySubscriber].map(([subscriber, froms]) => {
    const parts = (["replica", "origin"] as const).map((from) => {
      const reasons = [...(froms.get(from) ?? new Map<string, number>())];
      const total = reasons.reduce((n, [, count]) => n + count, 0);
      const why = reasons.map(([reason, count]) => `${reason} ${count}`).join(", ");
      return `${from} ${total}${why ? ` (${why})` : ""}`;
    });
    return `${subscriber}: ${parts.join(" · ")}`;
  });
}

/** A line cut to the screen width, with an ellipsis where it was cut. */
/** Pure: each function's metrics summed by name over its dimension sets, in first-seen order. */
function metricsByFunction(metrics: readonly EmittedMetric[]): Map<string, EmittedMetric[]> {
  const byFn = new Map<string, Map<string, EmittedMetric>>();
  for (const m of metrics) {
    const names = byFn.get(m.fn) ?? new Map<string, EmittedMetric>();
    byFn.set(m.fn, names);
    const total = names.get(m.name);
    if (total) {
      total.count += m.count;
      total.sum += m.sum;
    } else names.set(m.name, { ...m, dimensions: "" });
  }
  return new Map([...byFn].map(([fn, names]) => [fn, [...names.values()]]));
}

function formatMetric(m: EmittedMetric): string {
  if (m.unit === "Milliseconds") return `${m.name} avg ${(m.sum / Math.max(1, m.count)).toFixed(1)} ms`;
  if (m.unit === "Bytes") return `${m.name} ${formatSize(m.sum).replace(" ", "\u00a0")}`;
  return `${m.name} ${m.sum}`;
}

function clip(line: string): string {
  return line.length <= SCREEN_COLUMNS ? line : `${line.slice(0, SCREEN_COLUMNS - 1)}…`;
}
