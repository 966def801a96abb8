// Payload benchmark (not a test). On loopback s3rver (S3) and fauxqs (SNS/SQS), for each size:
//  (a) bare @aws-sdk/lib-storage Upload vs the library's offload (publishToSns) of the same stream;
//  (b) bare streaming GetObject, and one that also hashes, vs the library's resolve (GetObject +
//      tag, SHA-256 verification), all three reading the same object;
// then the p50 of an inline publish vs a bare SNS Publish, and the handlers' cold start.
// Every transfer runs in its own child process, so its peak RSS is its own. Each round runs every
// candidate beside its baseline, in an order rotated round by round, and a ratio is computed per
// round: its median over the rounds, with the spread, is the figure (targets: docs/benchmarks.md).
//
//   npm run bench:payload -- --help
// The pinned SDK warns at every client that its releases after January 2027 need Node 22: noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { failed, integerFlag, readFlags, UsageError } from "../common/args";
import { buildSync } from "esbuild";
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { emulatorClientConfig, startFauxqs, type RunningEmulator } from "../local/emulators";
import { parseSize, parseSizes } from "../local/size";
import { subscribeNewQueue } from "../local/topics";
import { measureColdStarts, type ColdStartFigure } from "./cold-start";
import { formatSpread, rotation, spread, type Spread } from "./stats";
import type { WorkerJob, WorkerResult } from "./worker";

const MiB = 1024 * 1024;
const ROOT = path.resolve(__dirname, "..");
const BUCKET = "bench-payloads";

/** The targets of docs/benchmarks.md, as the benchmark checks them (medians over the rounds). */
export const TARGETS = {
  offloadRatio: 0.9,
  resolveRatio: 0.9,
  peakRssMiB: 256,
  inlineRatio: 1.05,
  coldStartMs: 100,
} as const;

const SECTIONS = ["transfers", "inline", "cold"] as const;
type Section = (typeof SECTIONS)[number];

export interface Options {
  sizes: number[];
  /** Rounds per size (and inline and cold-start rounds). */
  repeat: number;
  coldRepeat: number;
  json: string;
  partSize: number;
  queueSize: number;
  sections: Section[];
  /**
   * V8's initial old-generation size for every measured process, in MiB (0: V8's own default).
   * @default 64
   */
  initialOldSpaceMiB: number;
}

export const USAGE = `usage: npm run bench:payload -- [options]
  --sizes LIST        payload sizes, comma-separated (default 64MiB,512MiB,2GiB)
  --repeat N          interleaved rounds per size and for the inline publish (default 5)
  --cold-repeat N     fresh processes per handler for the cold start (default 11)
  --part-size SIZE    multipart part size for both uploaders, 5MiB-10MiB (default 8MiB)
  --queue-size N      parts in flight for both uploaders (default 4)
  --only LIST         sections to run: ${SECTIONS.join(",")} (default all)
  --initial-old-space MIB
                      V8's initial old generation for every transfer process, baseline and
                      candidate alike, so that none falls into a mark-compact per scavenge
                      (docs/benchmarks.md); 0 leaves V8's default (default 64)
  --json FILE         where to write the figures (default bench/results/payload-<time>.json)
  -h, --help          this text`;

/** Parses argv (without node and script). Returns undefined for --help. */
export function parseArgs(argv: string[]): Options | undefined {
  const { values } = readFlags(argv, {
    sizes: { type: "string" },
    repeat: { type: "string" },
    "cold-repeat": { type: "string" },
    "part-size": { type: "string" },
    "queue-size": { type: "string" },
    only: { type: "string" },
    json: { type: "string" },
    "initial-old-space": { type: "string" },
  });
  if (values.help) return undefined;
  const opts: Options = {
    sizes: parseSizes(values.sizes ?? "64MiB,512MiB,2GiB", "--sizes"),
    repeat: integerFlag("--repeat", values.repeat ?? "5", 1, 1000),
    coldRepeat: integerFlag("--cold-repeat", values["cold-repeat"] ?? "11", 1, 1000),
    json: path.resolve(
      values.json ??
        path.join(ROOT, "bench", "results", `payload-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
    ),
    partSize: parseSize(values["part-size"] ?? "8MiB", "--part-size"),
    queueSize: integerFlag("--queue-size", values["queue-size"] ?? "4", 1, 64),
    sections: [...SECTIONS],
    initialOldSpaceMiB: integerFlag("--initial-old-space", values["initial-old-space"] ?? "64", 0, 4096),
  };
  if (values.only !== undefined) {
    opts.sections = values.only.split(",").map((s) => {
      if (!(SECTIONS as readonly string[]).includes(s.trim())) {
        throw new UsageError(`--only: unknown section ${JSON.stringify(s)}; use ${SECTIONS.join(", ")}`);
      }
      return s.trim() as Section;
    });
  }
  // S3's floor for a part is 5 MiB; fauxqs and s3rver take larger ones, but parts over 10 MiB only
  // add memory (about (queueSize + 1) × partSize).
  if (opts.partSize < 5 * MiB || opts.partSize > 10 * MiB) {
    throw new UsageError(
      `--part-size must be from 5MiB to 10MiB, got ${values["part-size"]} (${opts.partSize} bytes)`,
    );
  }
  return opts;
}

/** Bundles bench/worker.ts (also used by the payload memory test) and returns the file. */
export function bundleWorker(): string {
  return bundle("worker");
}

function bundle(name: "worker" | "s3-server"): string {
  const outfile = path.join(ROOT, ".build", "bench", `${name}.js`);
  buildSync({
    entryPoints: [path.join(ROOT, "bench", `${name}.ts`)],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // The SDK (and lib-storage for the baseline) from node_modules, the same code for both sides;
    // s3rver loads its own files by path.
    external: ["@aws-sdk/*", "s3rver", "s3rver/*"],
    logLevel: "silent",
  });
  return outfile;
}

/**
 * Starts s3rver in a child process with the transfer processes' flags (bench/s3-server.ts), so that
 * the stand-in for S3 has a heap of its own, as S3 has hosts of its own.
 */
async function startS3Process(flags: string[]): Promise<RunningEmulator> {
  const child = spawn(process.execPath, [...flags, bundle("s3-server"), BUCKET], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
  const endpoint = await new Promise<string>((resolve, reject) => {
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d;
      // Only a complete line: a chunk may end inside the JSON.
      const line = out
        .split("\n")
        .slice(0, -1)
        .find((l) => l.startsWith("{"));
      if (line) resolve((JSON.parse(line) as { endpoint: string }).endpoint);
    });
    void exited.then((code) => reject(new Error(`the S3 stand-in exited (code ${code}) before listening`)));
  });
  return {
    endpoint,
    stop: async () => {
      child.stdin.end();
      await exited;
    },
  };
}

/** The Node flags of every transfer process: the same for a baseline and its candidate. */
export function workerFlags(initialOldSpaceMiB: number): string[] {
  return [
    "--no-warnings",
    ...(initialOldSpaceMiB > 0 ? [`--initial-old-space-size=${initialOldSpaceMiB}`] : []),
  ];
}

/**
 * Writes the page cache's dirty pages out before a transfer starts. An upload of 2 GiB leaves
 * several GiB of s3rver's files to be written (spool, parts, object); without this, the kernel
 * writes them during whatever transfer runs next, on that transfer's clock.
 */
function settleDisk(): void {
  try {
    execFileSync("sync", { stdio: "ignore" });
  } catch {
    // No sync(1) here: the transfers run as they are.
  }
}

function runWorker(bench: Pick<Bench, "worker" | "flags">, job: WorkerJob): Promise<WorkerResult> {
  settleDisk();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...bench.flags, bench.worker, JSON.stringify(job)], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${job.mode} worker failed (exit ${code}): ${err.trim()}`));
      resolve(JSON.parse(out.trim().split("\n").at(-1)!) as WorkerResult);
    });
  });
}

const label = (bytes: number) =>
  bytes >= 1024 * MiB ? `${+(bytes / 1024 / MiB).toFixed(2)}GiB` : `${+(bytes / MiB).toFixed(2)}MiB`;
const mibps = (r: WorkerResult) => r.bytes / MiB / r.seconds;
const loadAverage = () => os.loadavg().map((n) => +n.toFixed(2));

type TransferMode = "baseline-upload" | "offload" | "baseline-get" | "baseline-get-sha256" | "resolve";

interface SizeFigures {
  size: number;
  label: string;
  rounds: number;
  offload: {
    ratio: Spread;
    mibps: Spread;
    baselineMibps: Spread;
    /** The baseline's CPU seconds over the candidate's, per round: less sensitive to neighbours. */
    cpuRatio: Spread;
  };
  resolve: {
    ratio: Spread;
    /** Against a bare GetObject that also computes SHA-256: what verification alone costs. */
    ratioToHashingBaseline: Spread;
    mibps: Spread;
    baselineMibps: Spread;
    hashingBaselineMibps: Spread;
    cpuRatio: Spread;
    cpuRatioToHashingBaseline: Spread;
  };
  /** The worst over every round. */
  peakRssMiB: { publish: number; resolve: number; baselineUpload: number; baselineGet: number };
  /** Every round's seconds per mode, in the order they ran. */
  seconds: Record<TransferMode, number[]>;
  /** Every round's CPU seconds per mode (all the transfer process's threads). */
  cpuSeconds: Record<TransferMode, number[]>;
  /** Every round's full mark-compacts per mode, during the transfer: the GC regime it ran in. */
  majorGcs: Record<TransferMode, number[]>;
  order: TransferMode[][];
}

interface Bench {
  worker: string;
  /** Node flags for every transfer process ({@link workerFlags}). */
  flags: string[];
  s3: S3Client;
  sqs: SQSClient;
  queueUrl: string;
  topicArn: string;
  common: Pick<WorkerJob, "s3Endpoint" | "snsEndpoint" | "bucket" | "partSize" | "queueSize">;
}

async function drainQueue(sqs: SQSClient, queueUrl: string): Promise<void> {
  for (;;) {
    const batch = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    if (!batch.Messages?.length) return;
    for (const m of batch.Messages)
      await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
  }
}

async function measureSize(bench: Bench, size: number, repeat: number): Promise<SizeFigures> {
  const { common } = bench;
  const results = Object.fromEntries(
    (["baseline-upload", "offload", "baseline-get", "baseline-get-sha256", "resolve"] as const).map((m) => [
      m,
      [] as WorkerResult[],
    ]),
  ) as Record<TransferMode, WorkerResult[]>;
  const order: TransferMode[][] = [];
  for (let round = 0; round < repeat; round++) {
    const baselineKey = `baseline/${size}-${round}`;
    const ran: TransferMode[] = [];
    let offloaded: WorkerResult | undefined;
    for (const mode of rotation(["baseline-upload", "offload"] as const, round)) {
      const r =
        mode === "offload"
          ? await runWorker(bench, { ...common, mode, size, topicArn: bench.topicArn })
          : await runWorker(bench, { ...common, mode, size, key: baselineKey });
      results[mode].push(r);
      ran.push(mode);
      if (mode === "offload") offloaded = r;
    }
    // All three readers read the offloaded object, so they see the same bytes in the same place.
    const key = offloaded!.key!;
    for (const mode of rotation(["baseline-get", "resolve", "baseline-get-sha256"] as const, round)) {
      const r =
        mode === "resolve"
          ? await runWorker(bench, { ...common, mode, size, queueUrl: bench.queueUrl })
          : await runWorker(bench, { ...common, mode, size, key });
      if (mode === "resolve" && (r.bytes !== size || r.sha256 !== offloaded!.sha256 || !r.verified)) {
        throw new Error(
          `resolve returned ${r.bytes} bytes, sha256 ${r.sha256} (verified ${r.verified}); sent ${size}, ${offloaded!.sha256}`,
        );
      }
      results[mode].push(r);
      ran.push(mode);
    }
    order.push(ran);
    // Leave no message and no object behind: a 2 GiB run would otherwise fill the disk.
    await drainQueue(bench.sqs, bench.queueUrl);
    await bench.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: baselineKey }));
    await bench.s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: key }));
    process.stdout.write(
      `  round ${round + 1}/${repeat}: ${ran.map((m) => `${m} ${results[m].at(-1)!.seconds.toFixed(2)}s`).join(", ")}\n`,
    );
  }
  const perRound = (a: TransferMode, b: TransferMode) =>
    results[a].map((r, i) => mibps(r) / mibps(results[b][i]));
  // The client process's CPU per byte, baseline over candidate: where the time goes when the
  // process, not the emulator, is the bottleneck (both moved the same bytes).
  const cpuRatio = (a: TransferMode, b: TransferMode) =>
    spread(results[a].map((r, i) => results[b][i].cpuSeconds / r.cpuSeconds));
  const rates = (m: TransferMode) => spread(results[m].map(mibps), 1);
  const peak = (m: TransferMode) => +Math.max(...results[m].map((r) => r.peakRssMiB)).toFixed(1);
  return {
    size,
    label: label(size),
    rounds: repeat,
    offload: {
      ratio: spread(perRound("offload", "baseline-upload")),
      mibps: rates("offload"),
      baselineMibps: rates("baseline-upload"),
      cpuRatio: cpuRatio("offload", "baseline-upload"),
    },
    resolve: {
      ratio: spread(perRound("resolve", "baseline-get")),
      ratioToHashingBaseline: spread(perRound("resolve", "baseline-get-sha256")),
      mibps: rates("resolve"),
      baselineMibps: rates("baseline-get"),
      hashingBaselineMibps: rates("baseline-get-sha256"),
      cpuRatio: cpuRatio("resolve", "baseline-get"),
      cpuRatioToHashingBaseline: cpuRatio("resolve", "baseline-get-sha256"),
    },
    peakRssMiB: {
      publish: peak("offload"),
      resolve: peak("resolve"),
      baselineUpload: peak("baseline-upload"),
      baselineGet: peak("baseline-get"),
    },
    seconds: Object.fromEntries(
      Object.entries(results).map(([m, rs]) => [m, rs.map((r) => +r.seconds.toFixed(3))]),
    ) as Record<TransferMode, number[]>,
    cpuSeconds: Object.fromEntries(
      Object.entries(results).map(([m, rs]) => [m, rs.map((r) => +r.cpuSeconds.toFixed(3))]),
    ) as Record<TransferMode, number[]>,
    majorGcs: Object.fromEntries(
      Object.entries(results).map(([m, rs]) => [m, rs.map((r) => r.majorGcs)]),
    ) as Record<TransferMode, number[]>,
    order,
  };
}

interface InlineFigures {
  publishesPerRound: number;
  ratio: Spread;
  p50Ms: Spread;
  baselineP50Ms: Spread;
}

/** An inline message costs no S3 call and little time over a bare SNS Publish. */
async function measureInline(bench: Bench, repeat: number): Promise<InlineFigures> {
  const publishes = 200;
  const rounds: WorkerResult[] = [];
  for (let round = 0; round < repeat; round++) {
    rounds.push(
      await runWorker(bench, {
        ...bench.common,
        mode: "inline-publish",
        size: publishes,
        topicArn: bench.topicArn,
      }),
    );
  }
  // The inline publishes are on the queue too; drop them before the transfers.
  await drainQueue(bench.sqs, bench.queueUrl);
  return {
    publishesPerRound: publishes,
    ratio: spread(rounds.map((r) => r.p50Ms! / r.baselineP50Ms!)),
    p50Ms: spread(rounds.map((r) => r.p50Ms!)),
    baselineP50Ms: spread(rounds.map((r) => r.baselineP50Ms!)),
  };
}

const mark = (ok: boolean) => (ok ? "meets" : "MISSES");

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts) {
    console.log(USAGE);
    return;
  }
  const started = { at: new Date().toISOString(), loadAverage: loadAverage() };
  const flags = workerFlags(opts.initialOldSpaceMiB);
  console.log(
    `payload benchmark: ${opts.repeat} interleaved rounds, parts of ${label(opts.partSize)}, ${opts.queueSize} in flight; transfer processes run with ${flags.join(" ")}; load average ${started.loadAverage.join(" ")}`,
  );
  const out: {
    node: string;
    cpus: number;
    started: typeof started;
    finished?: typeof started;
    repeat: number;
    partSize: number;
    queueSize: number;
    /** Node flags of every transfer process. */
    workerFlags: string[];
    targets: typeof TARGETS;
    sizes: SizeFigures[];
    inline?: InlineFigures;
    coldStart?: ColdStartFigure[];
    meetsTargets: Record<string, boolean>;
  } = {
    node: process.version,
    cpus: os.cpus().length,
    started,
    repeat: opts.repeat,
    partSize: opts.partSize,
    queueSize: opts.queueSize,
    workerFlags: flags,
    targets: TARGETS,
    sizes: [],
    meetsTargets: {},
  };

  if (opts.sections.includes("cold")) {
    out.coldStart = measureColdStarts(opts.coldRepeat);
    console.log(
      `\nhandler cold start: require of the bundle in a fresh process, median of ${opts.coldRepeat} (target ≤ ${TARGETS.coldStartMs} ms)`,
    );
    for (const c of out.coldStart) {
      const verdict = c.shipped ? `  ${mark(c.initMs.median <= TARGETS.coldStartMs)}` : "  (comparison)";
      console.log(`  ${c.name}`);
      console.log(
        `    ${(c.bytes / 1024).toFixed(1)} KiB, ${formatSpread(c.initMs)} ms, CPU ${c.cpuMs.median} ms, ${c.fromNodeModules} modules from node_modules${verdict}`,
      );
      if (c.shipped) out.meetsTargets[`coldStart ${c.name}`] = c.initMs.median <= TARGETS.coldStartMs;
    }
  }

  if (opts.sections.includes("inline") || opts.sections.includes("transfers")) {
    const worker = bundleWorker();
    const [s3rver, fauxqs] = await Promise.all([startS3Process(flags), startFauxqs()]);
    const s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
    const sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
    const sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
    try {
      const topicArn = (await sns.send(new CreateTopicCommand({ Name: "bench" }))).TopicArn!;
      const queueUrl = (await subscribeNewQueue(sns, sqs, topicArn, "bench")).url;
      const bench: Bench = {
        worker,
        flags,
        s3,
        sqs,
        queueUrl,
        topicArn,
        common: {
          s3Endpoint: s3rver.endpoint,
          snsEndpoint: fauxqs.endpoint,
          bucket: BUCKET,
          partSize: opts.partSize,
          queueSize: opts.queueSize,
        },
      };
      if (opts.sections.includes("inline")) {
        out.inline = await measureInline(bench, opts.repeat);
        console.log(
          `\ninline 1 KiB publish p50 ${out.inline.p50Ms.median} ms vs bare SNS Publish ${out.inline.baselineP50Ms.median} ms`,
        );
        console.log(
          `  ratio ${formatSpread(out.inline.ratio)} (target ≤ ${TARGETS.inlineRatio}) ${mark(out.inline.ratio.median <= TARGETS.inlineRatio)}`,
        );
        out.meetsTargets.inline = out.inline.ratio.median <= TARGETS.inlineRatio;
      }
      if (opts.sections.includes("transfers")) {
        for (const size of opts.sizes) {
          console.log(`\n${label(size)}`);
          const f = await measureSize(bench, size, opts.repeat);
          out.sizes.push(f);
          const rss = Math.max(f.peakRssMiB.publish, f.peakRssMiB.resolve);
          out.meetsTargets[`offload ${f.label}`] = f.offload.ratio.median >= TARGETS.offloadRatio;
          out.meetsTargets[`resolve ${f.label}`] = f.resolve.ratio.median >= TARGETS.resolveRatio;
          out.meetsTargets[`peak RSS ${f.label}`] = rss <= TARGETS.peakRssMiB;
          console.log(
            `  offload ${f.offload.mibps.median} MiB/s vs lib-storage ${f.offload.baselineMibps.median} MiB/s`,
          );
          console.log(
            `    ratio ${formatSpread(f.offload.ratio)} (target ≥ ${TARGETS.offloadRatio}) ${mark(f.offload.ratio.median >= TARGETS.offloadRatio)}`,
          );
          console.log(`    CPU ratio (lib-storage's CPU over offload's) ${formatSpread(f.offload.cpuRatio)}`);
          console.log(
            `  resolve ${f.resolve.mibps.median} MiB/s vs GetObject ${f.resolve.baselineMibps.median} MiB/s (GetObject + SHA-256 ${f.resolve.hashingBaselineMibps.median} MiB/s)`,
          );
          console.log(
            `    ratio ${formatSpread(f.resolve.ratio)} (target ≥ ${TARGETS.resolveRatio}) ${mark(f.resolve.ratio.median >= TARGETS.resolveRatio)}`,
          );
          console.log(`    ratio to GetObject + SHA-256 ${formatSpread(f.resolve.ratioToHashingBaseline)}`);
          console.log(`    CPU ratio (GetObject's CPU over resolve's) ${formatSpread(f.resolve.cpuRatio)}`);
          console.log(
            `    CPU ratio to GetObject + SHA-256 ${formatSpread(f.resolve.cpuRatioToHashingBaseline)}`,
          );
          const cpuPerGiB = (m: TransferMode) =>
            +((spread(f.cpuSeconds[m]).median * 1024 * MiB) / size).toFixed(2);
          console.log(
            `  client CPU-seconds per GiB (median): GetObject ${cpuPerGiB("baseline-get")}, + SHA-256 ${cpuPerGiB("baseline-get-sha256")}, resolve ${cpuPerGiB("resolve")}`,
          );
          const gcs = (m: TransferMode) => spread(f.majorGcs[m]).median;
          console.log(
            `  full GCs per transfer (median): lib-storage ${gcs("baseline-upload")}, offload ${gcs("offload")}, GetObject ${gcs("baseline-get")}, + SHA-256 ${gcs("baseline-get-sha256")}, resolve ${gcs("resolve")}`,
          );
          console.log(
            `  peak RSS publish ${f.peakRssMiB.publish} MiB, resolve ${f.peakRssMiB.resolve} MiB (target ≤ ${TARGETS.peakRssMiB}) ${mark(rss <= TARGETS.peakRssMiB)}; lib-storage ${f.peakRssMiB.baselineUpload}, GetObject ${f.peakRssMiB.baselineGet} MiB`,
          );
        }
      }
    } finally {
      s3.destroy();
      sns.destroy();
      sqs.destroy();
      await Promise.all([s3rver.stop(), fauxqs.stop()]);
    }
  }
  out.finished = { at: new Date().toISOString(), loadAverage: loadAverage() };
  fs.mkdirSync(path.dirname(opts.json), { recursive: true });
  fs.writeFileSync(opts.json, `${JSON.stringify(out, null, 2)}\n`);
  const missed = Object.entries(out.meetsTargets).filter(([, ok]) => !ok);
  console.log(
    `\n${missed.length ? `MISSED: ${missed.map(([k]) => k).join("; ")}` : "every target met"} (load average at the end ${out.finished.loadAverage.join(" ")})`,
  );
  console.log(`wrote ${path.relative(process.cwd(), opts.json)}`);
}

if (require.main === module) {
  main().catch((error) => process.exit(failed(error, USAGE)));
}
