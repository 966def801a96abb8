// The soak behind `npm run soak`: the dev stack as `npm start` runs it (the real program's plan under
// the mock engine, the real handler bundles, the loopback emulators) under a steady load of mixed
// payloads and seeded faults, then an exact account of every message at every subscriber:
// delivered intact, dead-lettered with a reason, or lost.
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Upload } from "@aws-sdk/lib-storage";
import { createCipheriv, createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { PayloadLayout, PublisherEnv, SubscriberEnv } from "../messaging/contract";
import { formatPointer, MARKER_ATTRIBUTE } from "../messaging/payload";
import { emulatorClientConfig, startFauxqs, startS3rver } from "./emulators";
import { formatSize, KiB, MiB } from "./size";
import { deployLocally, type LocalDeployment, type LocalFunction, type LocalQueue } from "./deploy";
import { startDownstreamRecorder, type DownstreamCall } from "./downstream";
import {
  seededFaults,
  seededRandom,
  startFaultProxy,
  type AwsService,
  type FaultKind,
  type SeededFaults,
} from "./fault-proxy";
import { LambdaRuntime, type InvocationRecord } from "./lambda-runtime";
import { planStack, type Plan } from "./plan";
import { unrunnablePlan } from "./wiring";

/** Fault classes `--faults` selects: the HTTP services behind the proxies, and Lambda crashes. */
export type FaultClass = AwsService | "lambda";
export const FAULT_CLASSES: readonly FaultClass[] = ["s3", "sqs", "sns", "lambda", "downstream"];

/** A defect planted on purpose, to show that the soak detects it. */
export type PlantedDefect = "ack-before-downstream";
export const PLANTED_DEFECTS: readonly PlantedDefect[] = ["ack-before-downstream"];

export interface SoakOptions {
  stack?: string;
  /** Messages to send; with durationMs, whichever ends first. */
  messages?: number;
  durationMs?: number;
  /** Messages per second the producers offer. */
  rate: number;
  seed: string;
  faults: readonly FaultClass[];
  /** Probability that an S3/SQS/SNS request meets a fault. */
  faultRate: number;
  /** Probability that an invocation's worker is killed part-way. */
  crashRate: number;
  /** Probability that a downstream call (StartExecution, RunTask) fails. */
  downstreamFailRate: number;
  /** How long a stalled answer pauses. */
  stallMs: number;
  /** Large (tens of MiB) payloads among the messages; default about one per hundred, 1 to 10. */
  large?: number;
  /** Give up waiting for stragglers after this long without progress. */
  drainTimeoutMs: number;
  plantedDefect?: PlantedDefect;
  out?: NodeJS.WritableStream;
  plan?: Plan;
}

export type PayloadKind =
  | "inline"
  | "inline-binary"
  | "inline-near-threshold"
  | "source"
  | "source-medium"
  | "source-large"
  /** A pointer to an object that does not exist, published straight to the topic: must be dead-lettered. */
  | "poison";

interface SentMessage {
  id: string;
  seq: number;
  kind: PayloadKind;
  size: number;
  sha256: string;
  /** PutEvents time; undefined if the producer gave up before putting the event. */
  sentAt?: number;
  notSent?: string;
  stageMs?: number;
  eventId?: string;
  publisherAttempts: number;
  /** End of the publisher invocation that succeeded. */
  publishedAt?: number;
  publishError?: string;
  pointerKey?: string;
}

export interface Percentiles {
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

export interface SubscriberAccount {
  subscriber: string;
  function: string;
  deadLetterQueue?: string;
  sent: number;
  delivered: number;
  deadLettered: number;
  /** Of deadLettered: in the publisher's on-failure destination (never published). */
  deadLetteredAtPublisher: number;
  lost: number;
  /** Downstream starts beyond the first for a message (at-least-once delivery). */
  duplicates: number;
  /** Downstream starts whose size or SHA-256 differ from what was sent. */
  corrupt: number;
  /** Dead-letter records without a reason. */
  withoutReason: number;
  /** Messages both delivered and found in the dead-letter queue (a later copy failed). */
  deliveredAndDeadLettered: number;
  lostIds: string[];
  deadLetters: Array<{ id: string; queue: string; reason?: string }>;
}

export interface SoakReport {
  ok: boolean;
  failures: string[];
  stack: string;
  seed: string;
  options: Omit<SoakOptions, "out" | "plan">;
  elapsedMs: number;
  productionMs: number;
  drainMs: number;
  sent: number;
  notSent: Array<{ id: string; reason: string }>;
  bytesSent: number;
  byKind: Record<string, { count: number; bytes: number }>;
  throughput: { offeredMsgPerSec: number; deliveredMsgPerSec: number; deliveredMiBPerSec: number };
  latencyMs: Record<string, Percentiles>;
  faults: {
    byKind: Record<FaultKind | "crash", number>;
    byOperation: Record<string, Record<string, number>>;
    crashesByFunction: Record<string, number>;
    failedInvocations: Record<string, number>;
    runtimeErrors: number;
  };
  accounts: SubscriberAccount[];
  publisherDeadLetters: Array<{ id: string; reason?: string }>;
  orphans: {
    objects: number;
    referenced: number;
    stagedSources: number;
    /** Objects of a publish attempt that failed, named with their message. */
    named: Array<{ key: string; id: string; why: string }>;
    unexplained: Array<{ key: string; why: string }>;
    /** Why the keys came from s3rver's store directory instead of ListObjectsV2, if they did. */
    listedFromStore?: string;
  };
  downstreamRepeatsAbsorbed: number;
}

const ATTR_ID = "soakId";
/** EventBridge's entry limit (PutEvents), of which the payload is most. */
const EVENT_LIMIT = 256 * KiB;
const SNS_THRESHOLD = 256 * KiB;

/** The payload of a message: seeded bytes after a header naming it, so the same seed gives the same bytes. */
function* payloadChunks(seed: string, id: string, size: number, binary: boolean): Generator<Buffer> {
  const key = createHash("sha256").update(`${seed}|${id}`).digest();
  const cipher = createCipheriv("aes-128-ctr", key.subarray(0, 16), key.subarray(16, 32));
  const header = Buffer.from(`soak ${id} `, "latin1");
  let left = size;
  let first = true;
  while (left > 0) {
    const n = Math.min(left, MiB);
    const raw = cipher.update(Buffer.alloc(binary ? n : Math.ceil((n * 3) / 4) + 3));
    let chunk = binary ? raw : Buffer.from(raw.toString("base64").slice(0, n), "latin1");
    if (first) {
      chunk = Buffer.concat([header, chunk]).subarray(0, n);
      // Bytes that are not UTF-8: such a body can only travel through S3.
      if (binary && n > header.length) chunk[header.length] = 0xff;
      first = false;
    }
    left -= n;
    yield chunk;
  }
}

function payloadBuffer(seed: string, id: string, size: number, binary: boolean): Buffer {
  return Buffer.concat([...payloadChunks(seed, id, size, binary)]);
}

function sha256Of(seed: string, id: string, size: number, binary: boolean): string {
  const h = createHash("sha256");
  for (const c of payloadChunks(seed, id, size, binary)) h.update(c);
  return h.digest("hex");
}

/** The mix: many small, some either side of the 256 KiB threshold, a few of medium and tens of MiB. */
export function planMessages(
  seed: string,
  count: number,
  large: number,
): Array<{ seq: number; id: string; kind: PayloadKind; size: number }> {
  const rnd = seededRandom(`${seed}|mix`);
  const between = (lo: number, hi: number) => Math.floor(lo + rnd() * (hi - lo + 1));
  const logBetween = (lo: number, hi: number) =>
    Math.floor(Math.exp(Math.log(lo) + rnd() * Math.log(hi / lo)));
  const largeAt = new Set(
    Array.from({ length: Math.min(large, count) }, (_, k) => Math.floor(((k + 0.5) * count) / large)),
  );
  return Array.from({ length: count }, (_, seq) => {
    const id = `${seed}-${String(seq).padStart(6, "0")}`;
    const r = rnd();
    let kind: PayloadKind;
    let size: number;
    if (largeAt.has(seq)) [kind, size] = ["source-large", between(16 * MiB, 48 * MiB)];
    else if (r < 0.68) [kind, size] = ["inline", logBetween(64, 16 * KiB)];
    else if (r < 0.76) [kind, size] = ["inline-binary", logBetween(64, 48 * KiB)];
    // Inline payloads ride in the event: up to EventBridge's limit less the envelope and attributes.
    else if (r < 0.86) [kind, size] = ["inline-near-threshold", between(240 * KiB, EVENT_LIMIT - KiB)];
    // Sources straddle the SNS threshold: the publisher offloads them whatever their size.
    else if (r < 0.97) [kind, size] = ["source", between(SNS_THRESHOLD - 16 * KiB, 300 * KiB)];
    else if (r < 0.98) [kind, size] = ["poison", between(KiB, MiB)];
    else [kind, size] = ["source-medium", between(MiB, 12 * MiB)];
    return { seq, id, kind, size };
  });
}

export function percentiles(values: number[]): Percentiles {
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => (v.length ? v[Math.min(v.length - 1, Math.ceil(q * v.length) - 1)] : 0);
  return { count: v.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: v.length ? v[v.length - 1] : 0 };
}

interface Subscriber {
  name: string;
  fn: LocalFunction;
  dlq?: LocalQueue;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Replaces a subscriber bundle by one that answers its batch before the records are delivered. */
function plantDefect(defect: PlantedDefect, fn: LocalFunction, dir: string): void {
  if (defect !== "ack-before-downstream") return;
  const file = path.join(dir, `${fn.handlerName}-defect.js`);
  fs.writeFileSync(
    file,
    [
      `// Planted defect: every record is reported done before it is resolved and handed downstream.`,
      `const real = require(${JSON.stringify(fn.file)});`,
      `exports[${JSON.stringify(fn.exportName)}] = async (event, context) => {`,
      `  real[${JSON.stringify(fn.exportName)}](event, context).catch(() => undefined);`,
      `  return { batchItemFailures: [] };`,
      `};`,
    ].join("\n"),
  );
  fn.file = file;
}

/** The soak id a dead-letter or downstream record is about, from the attributes or the payload header. */
function idFromBody(body: string, keyToId: Map<string, string>): { id?: string; reason?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  // A Lambda on-failure destination record: the event that failed and the error it failed with.
  const record = parsed as {
    requestPayload?: {
      detail?: { attributes?: Record<string, { StringValue?: string }> };
      Records?: Array<{ Sns?: { Message?: string; MessageAttributes?: Record<string, { Value?: string }> } }>;
    };
    responsePayload?: { errorMessage?: string };
  };
  if (record && typeof record === "object" && !Array.isArray(record) && record.requestPayload) {
    const reason = record.responsePayload?.errorMessage;
    const fromDetail = record.requestPayload.detail?.attributes?.[ATTR_ID]?.StringValue;
    if (fromDetail) return { id: fromDetail, reason };
    const sns = record.requestPayload.Records?.[0]?.Sns;
    const fromSns = sns?.MessageAttributes?.[ATTR_ID]?.Value;
    if (fromSns) return { id: fromSns, reason };
    if (sns?.Message) return { ...idFromBody(sns.Message, keyToId), reason };
    return { reason };
  }
  if (Array.isArray(parsed) && typeof parsed[1] === "object") {
    const key = (parsed[1] as { s3Key?: string }).s3Key;
    return { id: key ? keyToId.get(key) : undefined };
  }
  const m = /^soak (\S+) /.exec(body);
  return { id: m?.[1] };
}

// s3rver keeps each object as `<bucket>/<key>._S3rver_object` beside its metadata (POSIX paths).
const S3RVER_OBJECT = "._S3rver_object";
function storedObjectFile(dir: string, bucket: string, key: string): string {
  return path.join(dir, bucket, `${key}${S3RVER_OBJECT}`);
}
/** The key of a path-style S3 request (`/bucket/key?query`), or undefined for a bucket request. */
function objectKeyOf(url: string): string | undefined {
  const [, , ...rest] = new URL(url, "http://x").pathname.split("/");
  const key = rest.join("/");
  return key ? decodeURIComponent(key) : undefined;
}
function storedKeys(dir: string, bucket: string): string[] {
  const root = path.join(dir, bucket);
  const keys: string[] = [];
  const walk = (sub: string) => {
    for (const e of fs.readdirSync(path.join(root, sub), { withFileTypes: true })) {
      const rel = sub ? `${sub}/${e.name}` : e.name;
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(S3RVER_OBJECT)) keys.push(rel.slice(0, -S3RVER_OBJECT.length));
    }
  };
  walk("");
  return keys;
}

/** Runs the soak and returns its report; never throws for a failed delivery (see report.ok). */
export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const started = Date.now();
  const stack = opts.stack ?? "dev";
  const out = opts.out ?? process.stdout;
  const seed = opts.seed;
  const faults = new Set(opts.faults);
  const count = opts.messages ?? Number.MAX_SAFE_INTEGER;
  const { out: _o, plan: _p, ...optionsEcho } = opts;

  const plan = opts.plan ?? (await planStack(stack));
  const unrunnable = unrunnablePlan(plan);
  if (unrunnable) throw new Error(unrunnable);

  const stops: Array<() => Promise<void>> = [];
  try {
    const fauxqs = await startFauxqs();
    stops.push(fauxqs.stop);
    const s3rver = await startS3rver();
    stops.push(s3rver.stop);
    const recorder = await startDownstreamRecorder();
    stops.push(recorder.stop);
    const httpFaults = (["s3", "sqs", "sns"] as const).filter((s) => faults.has(s));
    const network = seededFaults({ seed, rate: opts.faultRate, stallMs: opts.stallMs, services: httpFaults });
    // A downstream that fails sometimes: errors and throttling, which its SDK client retries.
    const failing = seededFaults({
      seed,
      services: faults.has("downstream") ? ["downstream"] : [],
      rate: opts.downstreamFailRate,
      stallMs: opts.stallMs,
      kinds: ["error5xx", "throttle"],
    });
    const sources = [network, failing];
    const proxyFor = async (target: string, f: SeededFaults) => {
      const p = await startFaultProxy(target, { record: false });
      stops.push(p.stop);
      p.addFault(f.rule);
      return p;
    };
    // Every S3 request on an object, by key, with the fault drawn for it: an object the accounting
    // cannot explain is reported with the requests that made it.
    const s3History = new Map<string, string[]>();
    network.onDraw = (r, outcome) => {
      if (r.service !== "s3") return;
      const key = objectKeyOf(r.url);
      if (key) (s3History.get(key) ?? s3History.set(key, []).get(key)!).push(`${r.operation}:${outcome}`);
    };
    const s3Proxy = await proxyFor(s3rver.endpoint, network);
    const mqProxy = await proxyFor(fauxqs.endpoint, network);
    const dsProxy = await proxyFor(recorder.endpoint, failing);

    const deployment: LocalDeployment = await deployLocally(
      plan,
      {
        s3: s3Proxy.endpoint,
        sqs: mqProxy.endpoint,
        sns: mqProxy.endpoint,
        sfn: dsProxy.endpoint,
        ecs: dsProxy.endpoint,
      },
      { maxVisibilitySeconds: 15 },
    );
    const route = deployment.routes[0];
    if (!route) throw new Error(`stack ${stack} has no EventBridge rule targeting a function`);
    const publisher = route.fn;
    const bucket = publisher.plannedEnv[PublisherEnv.payloadBucket];
    const subscribers: Subscriber[] = deployment.functions
      .filter((f) => f.handlerName === "consume-queue" || f.handlerName === "consume-topic")
      .map((fn) => ({
        name: fn.plannedEnv[SubscriberEnv.subscriberName] ?? fn.name,
        fn,
        dlq:
          deployment.eventSources.find((e) => e.fn === fn)?.queue.redrive?.dlq ??
          fn.onFailureQueue ??
          fn.deadLetterQueue,
      }));
    if (subscribers.length === 0) throw new Error(`stack ${stack} has no subscriber function`);
    for (const s of subscribers) {
      if ((s.fn.plannedEnv[SubscriberEnv.downstream] ?? "none") === "none")
        throw new Error(
          `subscriber ${s.name} has downstream "none": the soak counts deliveries at the downstream call`,
        );
    }
    let defectDir: string | undefined;
    if (opts.plantedDefect) {
      defectDir = fs.mkdtempSync(path.join(os.tmpdir(), "soak-defect-"));
      const dir = defectDir;
      stops.push(async () => fs.rmSync(dir, { recursive: true, force: true }));
      const target = subscribers.find((s) => s.fn.handlerName === "consume-queue") ?? subscribers[0];
      plantDefect(opts.plantedDefect, target.fn, defectDir);
    }

    const crashDraws = new Map<string, () => number>();
    const runtime = new LambdaRuntime(deployment, {
      crashAfterMs: faults.has("lambda")
        ? (fn) => {
            let next = crashDraws.get(fn.name);
            if (!next) crashDraws.set(fn.name, (next = seededRandom(`${seed}|crash|${fn.name}`)));
            const [a, b] = [next(), next()];
            return a < opts.crashRate ? Math.floor(b * 80) : undefined;
          }
        : undefined,
    });
    stops.unshift(() => runtime.stop());
    let runtimeErrors = 0;
    runtime.on("error", () => runtimeErrors++);
    // The runtime keeps every invocation with the bodies it handed over (up to 256 KiB each);
    // the soak needs only ids and outcomes, and a long run would otherwise hold gigabytes.
    runtime.on("invocation", (rec: InvocationRecord) => {
      for (const r of rec.records) r.body = "";
    });
    for (const fn of deployment.functions) {
      const problem = await runtime.instance(fn).coldStart();
      if (problem) throw new Error(`function ${fn.name} fails at cold start: ${problem}`);
    }
    for (const f of sources) f.enabled = true;
    runtime.start();

    // Direct clients (no faults) for the soak's own staging checks and final inspection.
    const s3Direct = new S3Client(emulatorClientConfig(s3rver.endpoint));
    const sqsDirect = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    const s3Faulty = new S3Client(emulatorClientConfig(s3Proxy.endpoint));
    const snsFaulty = new SNSClient({
      ...emulatorClientConfig(mqProxy.endpoint),
      region: deployment.topics[0].region,
    });
    stops.push(async () => [s3Direct, sqsDirect, s3Faulty, snsFaulty].forEach((c) => c.destroy()));

    // What arrives downstream, by message and subscriber.
    const keyToId = new Map<string, string>();
    const calls = new Map<string, DownstreamCall[]>();
    const noteCall = (call: DownstreamCall) => {
      const s = call.summary as
        | {
            subscriber?: string;
            attributes?: Record<string, { StringValue?: string }>;
            pointer?: { s3Key?: string };
          }
        | undefined;
      const id = s?.attributes?.[ATTR_ID]?.StringValue;
      if (!id || !s?.subscriber) return;
      if (s.pointer?.s3Key) keyToId.set(s.pointer.s3Key, id);
      const k = `${id}|${s.subscriber}`;
      (calls.get(k) ?? calls.set(k, []).get(k)!).push(call);
    };
    recorder.onCall(noteCall);
    const sent = new Map<string, SentMessage>();
    const eventToId = new Map<string, string>();
    const intact = (m: SentMessage, c: DownstreamCall) =>
      c.summary?.sha256 === m.sha256 && c.summary?.size === m.size;
    const deliveredTo = (m: SentMessage, sub: Subscriber) =>
      (calls.get(`${m.id}|${sub.name}`) ?? []).some((c) => intact(m, c));
    const deadLetteredIds = () => {
      const ids = new Map<string, Set<string>>();
      for (const d of runtime.deadLetters) {
        const { id } = idFromBody(d.body, keyToId);
        if (id) (ids.get(d.fn) ?? ids.set(d.fn, new Set()).get(d.fn)!).add(id);
      }
      return ids;
    };

    // Progress: one line, redrawn on a terminal, every 5 s in a log.
    const tty = (out as { isTTY?: boolean }).isTTY === true;
    let lastProgress = 0;
    const progress = (phase: string, force = false) => {
      const now = Date.now();
      if (!force && now - lastProgress < (tty ? 500 : 5000)) return;
      lastProgress = now;
      const dl = deadLetteredIds();
      // Delivered (intact, first copy), duplicates beyond it and dead letters, per subscriber; the
      // delivery rate over the run so far, per subscriber as in the final table.
      let deliveries = 0;
      let bytes = 0;
      const subs = subscribers
        .map((s) => {
          let d = 0;
          let dup = 0;
          for (const m of sent.values()) {
            if (m.sentAt === undefined) continue;
            const good = (calls.get(`${m.id}|${s.name}`) ?? []).filter((c) => intact(m, c)).length;
            if (!good) continue;
            d++;
            dup += good - 1;
            bytes += m.size;
          }
          deliveries += d;
          return `${s.name} ${d} ✓ ${dup} dup ${dl.get(s.fn.name)?.size ?? 0} DLQ`;
        })
        .join(" · ");
      const secs = Math.max(0.001, (now - started) / 1000);
      const rate = `${(deliveries / subscribers.length / secs).toFixed(1)} msg/s ${(bytes / MiB / secs).toFixed(2)} MiB/s`;
      const published = [...sent.values()].filter((m) => m.publishedAt !== undefined).length;
      const f = sources.reduce((n, p) => n + Object.values(p.byKind()).reduce((a, b) => a + b, 0), 0);
      const crashes = runtime.invocations.filter((i) => i.error?.errorType === "Runtime.ExitError").length;
      const line = `[${((now - started) / 1000).toFixed(1).padStart(6)} s] ${phase}: sent ${[...sent.values()].filter((m) => m.sentAt).length}${opts.messages ? `/${opts.messages}` : ""} · published ${published} · ${subs} · ${rate} · faults ${f} · crashes ${crashes}`;
      out.write(tty ? `\r${line.padEnd(120)}` : `${line}\n`);
    };

    // Producers: a steady offered rate, with a bound on messages waiting for the publisher.
    const large = opts.large ?? Math.max(1, Math.min(10, Math.round((opts.messages ?? 300) / 100)));
    const mix = planMessages(seed, opts.messages ?? 1_000_000, large);
    const pattern = route.pattern as { source?: unknown[]; "detail-type"?: unknown[] };
    const detailType =
      typeof pattern["detail-type"]?.[0] === "string" ? pattern["detail-type"][0] : "PublishPayload";
    const source = typeof pattern.source?.[0] === "string" ? pattern.source[0] : "local.soak";
    const inFlight = new Set<Promise<void>>();
    const maxInFlight = 64;
    let stagingSlots = 3;

    const produce = async (plan: (typeof mix)[number]): Promise<void> => {
      const binary = plan.kind === "inline-binary";
      const m: SentMessage = {
        id: plan.id,
        seq: plan.seq,
        kind: plan.kind,
        size: plan.size,
        sha256: "",
        publisherAttempts: 0,
      };
      sent.set(m.id, m);
      const attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }> = {
        [ATTR_ID]: { DataType: "String", StringValue: m.id },
        seq: { DataType: "Number", StringValue: String(m.seq) },
        kind: { DataType: "String", StringValue: m.kind },
      };
      if (m.seq % 7 === 0)
        attributes.tag = { DataType: "Binary", BinaryValue: Buffer.from(m.id).toString("base64") };
      let detail: Record<string, unknown>;
      if (plan.kind === "poison") {
        // Another application's publish, straight to the topic, naming an object that is not there:
        // no retry can resolve it, so every subscriber must dead-letter it with the reason.
        const key = `${PayloadLayout.payloadPrefix}missing-${m.id}`;
        keyToId.set(key, m.id);
        await snsFaulty.send(
          new PublishCommand({
            TopicArn: deployment.topics[0].arn,
            Message: formatPointer({ s3BucketName: bucket, s3Key: key }),
            MessageAttributes: {
              [MARKER_ATTRIBUTE]: { DataType: "Number", StringValue: String(m.size) },
              [ATTR_ID]: { DataType: "String", StringValue: m.id },
            },
          }),
        );
        m.sentAt = m.publishedAt = Date.now();
        return;
      }
      if (plan.kind.startsWith("source")) {
        // EventBridge entries are at most 256 KiB: the producer stages the payload and names it.
        const key = `${PayloadLayout.incomingPrefix}soak-${m.id}`;
        while (stagingSlots === 0) await sleep(20);
        stagingSlots--;
        const t0 = Date.now();
        try {
          let lastError: unknown;
          for (let attempt = 1; attempt <= 5; attempt++) {
            try {
              const upload = new Upload({
                client: s3Faulty,
                params: {
                  Bucket: bucket,
                  Key: key,
                  Body: Readable.from(payloadChunks(seed, m.id, m.size, false)),
                },
                partSize: 5 * MiB,
                queueSize: 2,
              });
              await upload.done();
              lastError = undefined;
              break;
            } catch (err) {
              lastError = err;
              await sleep(100 * attempt);
            }
          }
          if (lastError) {
            m.notSent = `staging upload failed 5 times: ${(lastError as Error).message}`;
            return;
          }
        } finally {
          stagingSlots++;
        }
        m.stageMs = Date.now() - t0;
        m.sha256 = sha256Of(seed, m.id, m.size, false);
        detail = { source: { bucket, key }, attributes };
      } else {
        const bytes = payloadBuffer(seed, m.id, m.size, binary);
        m.sha256 = createHash("sha256").update(bytes).digest("hex");
        detail = binary
          ? { payloadBase64: bytes.toString("base64"), attributes }
          : { payload: bytes.toString("latin1"), attributes };
      }
      let entry;
      try {
        [entry] = runtime.putEvents([
          {
            Source: source,
            DetailType: detailType,
            Detail: JSON.stringify(detail),
            EventBusName: route.busName,
          },
        ]);
      } catch (err) {
        m.notSent = (err as Error).message;
        return;
      }
      m.sentAt = Date.now();
      m.eventId = entry.EventId;
      eventToId.set(entry.EventId, m.id);
      const [inv] = await entry.delivered;
      m.publisherAttempts = inv?.attempt ?? 0;
      if (inv?.ok) {
        m.publishedAt = inv.end;
        const key = (inv.result as { pointer?: { s3Key?: string } }).pointer?.s3Key;
        if (key) {
          m.pointerKey = key;
          keyToId.set(key, m.id);
        }
      } else m.publishError = inv?.error?.errorMessage ?? "the event matched no rule";
    };

    const t0 = Date.now();
    const endBy = opts.durationMs !== undefined ? t0 + opts.durationMs : Infinity;
    for (let i = 0; i < Math.min(count, mix.length); i++) {
      const due = t0 + (i * 1000) / opts.rate;
      while (Date.now() < due || inFlight.size >= maxInFlight) {
        progress("sending");
        await sleep(Math.max(1, Math.min(50, due - Date.now())));
      }
      if (Date.now() >= endBy) break;
      const p = produce(mix[i]).catch((err: Error) => {
        const m = sent.get(mix[i].id);
        if (m) m.notSent = `producer failed: ${err.message}`;
      });
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p));
    }
    while (inFlight.size) {
      progress("publishing");
      await sleep(50);
    }
    const productionMs = Date.now() - t0;
    const produced = [...sent.values()].filter((m) => m.sentAt !== undefined);

    // Drain: until every message is delivered or dead-lettered at every subscriber and the queues
    // are empty, or until nothing has moved for drainTimeoutMs.
    const drainStart = Date.now();
    let lastMove = Date.now();
    let lastState = "";
    let emptyChecks = 0;
    const watched = [
      ...deployment.eventSources.map((e) => e.queue),
      ...deployment.subscriptions.filter((s) => s.fn).map((s) => s.queue),
    ];
    for (;;) {
      progress("draining");
      const dl = deadLetteredIds();
      const open = produced.filter((m) =>
        m.publishedAt === undefined && m.publishError === undefined
          ? true
          : subscribers.some(
              (s) => !deliveredTo(m, s) && !dl.get(s.fn.name)?.has(m.id) && m.publishError === undefined,
            ),
      ).length;
      // Every message is in a queue until its subscriber is done with it (and producers are done):
      // once the queues are empty nothing more can arrive, whatever is still open.
      let queued = 0;
      {
        for (const q of watched) {
          const a = await sqsDirect.send(
            new GetQueueAttributesCommand({
              QueueUrl: q.url,
              AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            }),
          );
          queued +=
            Number(a.Attributes?.ApproximateNumberOfMessages ?? 0) +
            Number(a.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0);
        }
        emptyChecks = queued === 0 ? emptyChecks + 1 : 0;
        // Open messages with empty queues: give work already handed over 2 s to land, then stop.
        if (queued === 0 && (open === 0 || emptyChecks >= 10)) break;
      }
      const state = `${open}|${queued}|${runtime.invocations.length}|${recorder.calls.length}`;
      if (state !== lastState) [lastState, lastMove] = [state, Date.now()];
      if (Date.now() - lastMove > opts.drainTimeoutMs) {
        out.write(
          `${tty ? "\n" : ""}nothing moved for ${opts.drainTimeoutMs / 1000} s: accounting what arrived\n`,
        );
        break;
      }
      await sleep(200);
    }
    progress("drained", true);
    if (tty) out.write("\n");
    const drainMs = Date.now() - drainStart;
    for (const f of sources) f.enabled = false;
    await runtime.stop();

    // The inspection sees the emulators without faults; s3rver still answers a rare 500 (its
    // store is plain files, read while a retried upload may be rewriting one), so retry a little.
    const inspect = async <R>(what: string, call: () => Promise<R>): Promise<R> => {
      for (let attempt = 1; ; attempt++) {
        try {
          return await call();
        } catch (err) {
          if (attempt >= 5) throw new Error(`${what}: ${(err as Error).name}: ${(err as Error).message}`);
          await sleep(200 * attempt);
        }
      }
    };
    // Dead-letter queues, read as they are, without faults.
    const readQueue = async (q: LocalQueue) => {
      const got: Array<{ body: string; attrId?: string }> = [];
      for (let empty = 0; empty < 2;) {
        const r = await inspect(`ReceiveMessage from ${q.name}`, () =>
          sqsDirect.send(
            new ReceiveMessageCommand({
              QueueUrl: q.url,
              MaxNumberOfMessages: 10,
              VisibilityTimeout: 600,
              WaitTimeSeconds: 0,
              MessageAttributeNames: ["All"],
            }),
          ),
        );
        const msgs = r.Messages ?? [];
        if (msgs.length === 0) empty++;
        for (const m of msgs)
          got.push({ body: m.Body ?? "", attrId: m.MessageAttributes?.[ATTR_ID]?.StringValue });
      }
      return got;
    };
    const reasonFor = (fn: LocalFunction, body: string) => {
      const recorded = runtime.deadLetters.find((d) => d.fn === fn.name && d.body === body)?.reason;
      const last = runtime.lastFailure.get(`${fn.name}|${body}`);
      // Redriven on a receive whose answer was lost: the failure before it is the reason.
      return recorded ?? (last && `redriven after a lost receive; last failure: ${last}`);
    };

    const publisherDlq = publisher.onFailureQueue ?? publisher.deadLetterQueue;
    const publisherDeadLetters: SoakReport["publisherDeadLetters"] = [];
    if (publisherDlq) {
      for (const e of await readQueue(publisherDlq)) {
        const { id, reason } = idFromBody(e.body, keyToId);
        publisherDeadLetters.push({ id: id ?? "(unknown)", reason: reason ?? reasonFor(publisher, e.body) });
      }
    }
    const failures: string[] = [];
    const accounts: SubscriberAccount[] = [];
    for (const sub of subscribers) {
      const dead = new Map<string, { queue: string; reason?: string }>();
      const deadList: SubscriberAccount["deadLetters"] = [];
      if (sub.dlq) {
        for (const e of await readQueue(sub.dlq)) {
          const parsed = idFromBody(e.body, keyToId);
          const id = e.attrId ?? parsed.id ?? "(unknown)";
          const reason = parsed.reason ?? reasonFor(sub.fn, e.body);
          deadList.push({ id, queue: sub.dlq.name, reason });
          if (!dead.has(id)) dead.set(id, { queue: sub.dlq.name, reason });
        }
      }
      const acct: SubscriberAccount = {
        subscriber: sub.name,
        function: sub.fn.name,
        deadLetterQueue: sub.dlq?.name,
        sent: produced.length,
        delivered: 0,
        deadLettered: 0,
        deadLetteredAtPublisher: 0,
        lost: 0,
        duplicates: 0,
        corrupt: 0,
        withoutReason: deadList.filter((d) => !d.reason).length,
        deliveredAndDeadLettered: 0,
        lostIds: [],
        deadLetters: deadList,
      };
      for (const m of produced) {
        const got = calls.get(`${m.id}|${sub.name}`) ?? [];
        const good = got.filter((c) => intact(m, c));
        acct.corrupt += got.length - good.length;
        if (good.length) {
          acct.delivered++;
          acct.duplicates += good.length - 1;
          if (dead.has(m.id)) acct.deliveredAndDeadLettered++;
        } else if (dead.has(m.id)) acct.deadLettered++;
        else if (publisherDeadLetters.some((d) => d.id === m.id)) {
          acct.deadLettered++;
          acct.deadLetteredAtPublisher++;
        } else {
          acct.lost++;
          acct.lostIds.push(m.id);
        }
      }
      if (acct.lost)
        failures.push(
          `subscriber ${sub.name}: ${acct.lost} message(s) lost (${acct.lostIds.slice(0, 5).join(", ")}${acct.lost > 5 ? ", …" : ""})`,
        );
      if (acct.corrupt)
        failures.push(
          `subscriber ${sub.name}: ${acct.corrupt} downstream start(s) with a size or SHA-256 other than sent`,
        );
      if (acct.withoutReason)
        failures.push(`subscriber ${sub.name}: ${acct.withoutReason} dead-letter record(s) without a reason`);
      if (acct.sent !== acct.delivered + acct.deadLettered + acct.lost)
        failures.push(
          `subscriber ${sub.name}: sent ${acct.sent} ≠ delivered ${acct.delivered} + dead-lettered ${acct.deadLettered} + lost ${acct.lost}`,
        );
      const foreign = deadList.filter((d) => !sent.has(d.id)).length;
      if (foreign)
        failures.push(
          `subscriber ${sub.name}: ${foreign} dead-letter record(s) for no message the soak sent`,
        );
      accounts.push(acct);
    }
    const publisherWithoutReason = publisherDeadLetters.filter((d) => !d.reason).length;
    if (publisherWithoutReason)
      failures.push(`publisher: ${publisherWithoutReason} dead-letter record(s) without a reason`);

    // Payload objects: each must be named by a message that arrived or was dead-lettered, or be
    // the upload of a publish attempt that failed (the lifecycle rule expires those).
    for (const sub of accounts)
      for (const d of sub.deadLetters) {
        const m = sent.get(d.id);
        if (m?.pointerKey) keyToId.set(m.pointerKey, m.id);
      }
    const shaToId = new Map([...sent.values()].map((m) => [m.sha256, m.id]));
    const failedPublishes = new Map<string, number>();
    for (const inv of runtime.invocations.filter((i: InvocationRecord) => i.fn === publisher.name && !i.ok)) {
      const id = eventToId.get(inv.records[0]?.messageId ?? "");
      if (id) failedPublishes.set(id, (failedPublishes.get(id) ?? 0) + 1);
    }
    const referenced = new Set<string>(keyToId.keys());
    // What is known about an object that matches no message: whose payload it begins with (every
    // payload starts with "soak <id> "), how much of it is stored, the S3 requests on its key and
    // that message's publisher attempts.
    const explainUnmatched = (head: string, storedSize: number | undefined, key: string): string => {
      const facts: string[] = [];
      const m = sent.get(/^soak (\S+) /.exec(head)?.[1] ?? "");
      if (m && storedSize !== undefined)
        facts.push(`holds the first ${storedSize} of the ${m.size} bytes of ${m.id}'s payload`);
      else if (storedSize !== undefined)
        facts.push(`holds ${storedSize} bytes, beginning ${JSON.stringify(head.slice(0, 24))}`);
      facts.push(`S3 requests on the key: ${s3History.get(key)?.join(", ") ?? "none through the proxy"}`);
      if (m) {
        const attempts = runtime.invocations
          .filter((i) => i.fn === publisher.name && eventToId.get(i.records[0]?.messageId ?? "") === m.id)
          .map((i) =>
            i.ok
              ? `${i.attempt} ok`
              : `${i.attempt} ${i.error?.errorType}: ${i.error?.errorMessage.slice(0, 120)}`,
          );
        facts.push(`publisher attempts of ${m.id}: ${attempts.join("; ") || "none"}`);
      }
      return `; ${facts.join("; ")}`;
    };
    const orphans: SoakReport["orphans"] = {
      objects: 0,
      referenced: 0,
      stagedSources: 0,
      named: [],
      unexplained: [],
    };
    // The keys: from ListObjectsV2, or, when s3rver cannot list (a metadata file it cannot parse
    // makes the whole listing a 500), from its store directory, with the failure reported.
    const keys: string[] = [];
    try {
      let token: string | undefined;
      do {
        const page = await inspect(`ListObjectsV2 of ${bucket}`, () =>
          s3Direct.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token })),
        );
        token = page.NextContinuationToken;
        keys.push(...(page.Contents ?? []).map((o) => o.Key!));
      } while (token);
    } catch (err) {
      orphans.listedFromStore = (err as Error).message;
      keys.push(...storedKeys(s3rver.dir, bucket));
    }
    for (const key of keys) {
      if (key.startsWith(PayloadLayout.incomingPrefix)) {
        orphans.stagedSources++;
        continue;
      }
      orphans.objects++;
      if (referenced.has(key)) {
        orphans.referenced++;
        continue;
      }
      let sha: string | undefined;
      let why = "its checksum tag";
      // The first bytes and the size of what is stored, read when there is no checksum tag.
      let head = "";
      let storedSize: number | undefined;
      const digest = async (body: AsyncIterable<Uint8Array>) => {
        const h = createHash("sha256");
        storedSize = 0;
        for await (const c of body) {
          if (head.length < 64) head += Buffer.from(c).subarray(0, 64).toString("latin1");
          h.update(c);
          storedSize += c.length;
        }
        return h.digest("hex");
      };
      try {
        const tags = await inspect(`GetObjectTagging ${key}`, () =>
          s3Direct.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key })),
        );
        sha = tags.TagSet?.find((t) => t.Key === PayloadLayout.sha256Tag)?.Value;
        if (!sha) {
          // The tag is written after the upload: an attempt that died in between left none.
          why = "its content (no checksum tag)";
          sha = await inspect(`GetObject ${key}`, async () => {
            head = "";
            const body = await s3Direct.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
            return digest(body.Body as Readable);
          });
        }
      } catch (err) {
        const file = storedObjectFile(s3rver.dir, bucket, key);
        if (!fs.existsSync(file)) {
          orphans.unexplained.push({ key, why: `could not be read: ${(err as Error).message}` });
          continue;
        }
        head = "";
        sha = await digest(fs.createReadStream(file));
        why = `its content, read from s3rver's store (S3 answered ${(err as Error).message})`;
      }
      const id = shaToId.get(sha);
      if (id && failedPublishes.get(id))
        orphans.named.push({
          key,
          id,
          why: `${failedPublishes.get(id)} failed publisher attempt(s); matched by ${why}`,
        });
      else
        orphans.unexplained.push({
          key,
          why: id
            ? `payload of ${id}, whose publisher never failed`
            : `matches no message sent (by ${why})${explainUnmatched(head, storedSize, key)}`,
        });
    }
    if (orphans.unexplained.length)
      failures.push(
        `${orphans.unexplained.length} payload object(s) no message points at: ${orphans.unexplained
          .slice(0, 3)
          .map((o) => `${o.key} (${o.why})`)
          .join("; ")}`,
      );

    // Figures.
    const bytesSent = produced.reduce((n, m) => n + m.size, 0);
    const byKind: SoakReport["byKind"] = {};
    for (const m of produced) {
      const k = (byKind[m.kind] ??= { count: 0, bytes: 0 });
      k.count++;
      k.bytes += m.size;
    }
    const latency: Record<string, number[]> = { stage: [], publish: [] };
    let lastDelivery = t0;
    let deliveredBytes = 0;
    let deliveries = 0;
    for (const m of produced) {
      if (m.stageMs !== undefined) latency.stage.push(m.stageMs);
      if (m.publishedAt !== undefined && m.kind !== "poison") latency.publish.push(m.publishedAt - m.sentAt!);
      for (const sub of subscribers) {
        const first = (calls.get(`${m.id}|${sub.name}`) ?? [])
          .filter((c) => intact(m, c))
          .sort((a, b) => a.at - b.at)[0];
        if (!first) continue;
        deliveries++;
        deliveredBytes += m.size;
        lastDelivery = Math.max(lastDelivery, first.at);
        (latency[`deliver→${sub.name}`] ??= []).push(first.at - (m.publishedAt ?? m.sentAt!));
        (latency[`end-to-end→${sub.name}`] ??= []).push(first.at - m.sentAt!);
      }
    }
    for (const sub of subscribers)
      latency[`handler ${sub.name}`] = runtime.invocations
        .filter((i) => i.fn === sub.fn.name)
        .map((i) => i.end - i.start);
    const span = Math.max(1, lastDelivery - t0) / 1000;
    const crashesByFunction: Record<string, number> = {};
    const failedInvocations: Record<string, number> = {};
    for (const inv of runtime.invocations) {
      if (inv.error?.errorType === "Runtime.ExitError")
        crashesByFunction[inv.fn] = (crashesByFunction[inv.fn] ?? 0) + 1;
      if (!inv.ok || inv.failedIds.length) failedInvocations[inv.fn] = (failedInvocations[inv.fn] ?? 0) + 1;
    }
    const byKindTotals = { crash: 0 } as Record<FaultKind | "crash", number>;
    for (const p of sources)
      for (const [k, n] of Object.entries(p.byKind()))
        byKindTotals[k as FaultKind] = (byKindTotals[k as FaultKind] ?? 0) + n;
    byKindTotals.crash = Object.values(crashesByFunction).reduce((a, b) => a + b, 0);
    const byOperation: Record<string, Record<string, number>> = {};
    for (const p of sources)
      for (const [op, c] of Object.entries(p.counts)) byOperation[op] = { ...(byOperation[op] ?? {}), ...c };
    const notSent = [...sent.values()]
      .filter((m) => m.notSent)
      .map((m) => ({ id: m.id, reason: m.notSent! }));
    if (notSent.length)
      failures.push(
        `${notSent.length} message(s) the producers could not put on the bus (${notSent[0].reason})`,
      );
    if (produced.length === 0) failures.push("no message was sent");

    return {
      ok: failures.length === 0,
      failures,
      stack,
      seed,
      options: optionsEcho,
      elapsedMs: Date.now() - started,
      productionMs,
      drainMs,
      sent: produced.length,
      notSent,
      bytesSent,
      byKind,
      throughput: {
        offeredMsgPerSec: produced.length / Math.max(0.001, productionMs / 1000),
        deliveredMsgPerSec: deliveries / subscribers.length / span,
        deliveredMiBPerSec: deliveredBytes / MiB / span,
      },
      latencyMs: Object.fromEntries(Object.entries(latency).map(([k, v]) => [k, percentiles(v)])),
      faults: { byKind: byKindTotals, byOperation, crashesByFunction, failedInvocations, runtimeErrors },
      accounts,
      publisherDeadLetters,
      orphans,
      downstreamRepeatsAbsorbed: recorder.repeats(),
    };
  } finally {
    for (const stop of stops) await stop().catch(() => undefined);
  }
}

/** The final table. */
export function renderSoak(r: SoakReport): string {
  const lines: string[] = [];
  const table = (header: string[], rows: string[][]) => {
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
    const fmt = (row: string[]) =>
      row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  ");
    lines.push(fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...rows.map(fmt));
  };
  const o = r.options;
  lines.push(
    `Soak — stack ${r.stack}, seed ${r.seed}, faults ${o.faults.join(",") || "none"} (HTTP ${o.faultRate}, crash ${o.crashRate}, downstream ${o.downstreamFailRate}, stall ${o.stallMs} ms)`,
    `${r.sent} messages, ${formatSize(r.bytesSent)} (${Object.entries(r.byKind)
      .map(([k, v]) => `${v.count} ${k}`)
      .join(", ")}); ` +
      `${(r.elapsedMs / 1000).toFixed(1)} s in all, sending ${(r.productionMs / 1000).toFixed(1)} s, draining ${(r.drainMs / 1000).toFixed(1)} s`,
    `Throughput: offered ${r.throughput.offeredMsgPerSec.toFixed(1)} msg/s; delivered ${r.throughput.deliveredMsgPerSec.toFixed(1)} msg/s per subscriber, ${r.throughput.deliveredMiBPerSec.toFixed(2)} MiB/s over all subscribers`,
    "",
    "Latency (ms)",
  );
  table(
    ["hop", "n", "p50", "p90", "p99", "max"],
    Object.entries(r.latencyMs).map(([k, p]) => [
      k,
      String(p.count),
      String(p.p50),
      String(p.p90),
      String(p.p99),
      String(p.max),
    ]),
  );
  lines.push("", "Faults injected");
  table(
    ["kind", "count"],
    Object.entries(r.faults.byKind).map(([k, n]) => [k, String(n)]),
  );
  const faulted = Object.entries(r.faults.byOperation)
    .filter(([, c]) => Object.keys(c).some((k) => k !== "ok"))
    .map(
      ([op, c]) =>
        `${op} ${Object.entries(c)
          .filter(([k]) => k !== "ok")
          .map(([k, n]) => `${k}×${n}`)
          .join(" ")} (of ${Object.values(c).reduce((a, b) => a + b, 0)})`,
    );
  if (faulted.length) lines.push(`by operation: ${faulted.join("; ")}`);
  lines.push(
    `failed invocations: ${
      Object.entries(r.faults.failedInvocations)
        .map(([f, n]) => `${f} ${n}`)
        .join(", ") || "none"
    }; runtime poller errors: ${r.faults.runtimeErrors}; downstream repeats absorbed by idempotency: ${r.downstreamRepeatsAbsorbed}`,
    "",
    "Accounting",
  );
  table(
    [
      "subscriber",
      "sent",
      "delivered",
      "dead-lettered",
      "(at publisher)",
      "lost",
      "duplicates",
      "corrupt",
      "no reason",
    ],
    r.accounts.map((a) =>
      [
        a.subscriber,
        a.sent,
        a.delivered,
        a.deadLettered,
        a.deadLetteredAtPublisher,
        a.lost,
        a.duplicates,
        a.corrupt,
        a.withoutReason,
      ].map(String),
    ),
  );
  const reasons = new Map<string, number>();
  for (const a of r.accounts)
    for (const d of a.deadLetters)
      reasons.set(
        `${a.subscriber}: ${d.reason ?? "NO REASON"}`,
        (reasons.get(`${a.subscriber}: ${d.reason ?? "NO REASON"}`) ?? 0) + 1,
      );
  for (const d of r.publisherDeadLetters)
    reasons.set(
      `publisher: ${d.reason ?? "NO REASON"}`,
      (reasons.get(`publisher: ${d.reason ?? "NO REASON"}`) ?? 0) + 1,
    );
  if (reasons.size) {
    lines.push("Dead-letter reasons:");
    for (const [k, n] of reasons) lines.push(`  ${n}× ${k.length > 200 ? `${k.slice(0, 200)}…` : k}`);
  }
  lines.push(
    ...(r.orphans.listedFromStore
      ? [
          `Payload objects listed from s3rver's store directory: ListObjectsV2 failed (${r.orphans.listedFromStore})`,
        ]
      : []),
    `Payload objects: ${r.orphans.objects} (${r.orphans.referenced} named by a message, ${r.orphans.named.length} from failed publish attempts, ${r.orphans.unexplained.length} unexplained); ${r.orphans.stagedSources} staged sources under ${PayloadLayout.incomingPrefix}`,
  );
  for (const n of r.orphans.named) lines.push(`  left by a failed publish of ${n.id}: ${n.key} (${n.why})`);
  for (const u of r.orphans.unexplained) lines.push(`  UNEXPLAINED ${u.key}: ${u.why}`);
  lines.push(
    r.ok
      ? `RESULT: OK — lost 0, every message delivered intact or dead-lettered with its reason`
      : `RESULT: FAILED — ${r.failures.join("; ")}`,
  );
  return lines.join("\n");
}
