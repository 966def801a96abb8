// Payload benchmark (not a test): for each size, on loopback s3rver (S3) and fauxqs (SNS/SQS),
//  (a) bare @aws-sdk/lib-storage Upload vs the library's offload (publishToSns) of the same stream;
//  (b) bare streaming GetObject (and one that also hashes) vs the library's resolve (GetObject + tag,
//      verify);
// each in its own child process, so the peak RSS of publishing and of resolving are their own.
// It also prints the handler bundles' sizes and cold require times.
//
//   npm run bench:payload -- --sizes 64MiB,512MiB,2GiB [--json FILE] [--part-size 8MiB] [--queue-size 4] [--repeat N]
// Each pair runs --repeat times, interleaved, and the fastest of each is kept: on a shared machine a
// single run measures the neighbours as much as the code. Default: 5 up to 128 MiB, 3 up to 512 MiB, 1 above.
import { execFileSync, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSync } from "esbuild";
import { DeleteObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { HandlerName } from "../messaging/contract";
import { handlerBundle } from "../messaging/handlers/build";
import { emulatorClientConfig, emulatorEnv, startFauxqs, startS3rver } from "../test/support/emulators";
import { subscribeNewQueue } from "../test/support/topics";
import type { WorkerJob, WorkerResult } from "./worker";

const MiB = 1024 * 1024;
const ROOT = path.resolve(__dirname, "..");
const BUCKET = "bench-payloads";

/** "64MiB", "2GiB", "512MB" (decimal), or plain bytes. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|KB|MB|GB)?$/i.exec(text.trim());
  if (!m) throw new Error(`--sizes: cannot read ${JSON.stringify(text)}; write e.g. 64MiB, 512MiB or 2GiB`);
  const units: Record<string, number> = {
    b: 1,
    kib: 1024,
    mib: MiB,
    gib: 1024 * MiB,
    kb: 1e3,
    mb: 1e6,
    gb: 1e9,
  };
  const bytes = Math.round(Number(m[1]) * units[(m[2] ?? "b").toLowerCase()]);
  if (bytes < 1) throw new Error(`--sizes: ${JSON.stringify(text)} must be at least 1 byte`);
  return bytes;
}

interface Options {
  sizes: number[];
  json: string;
  partSize: number;
  queueSize: number;
  /** 0: 5 repetitions up to 128 MiB, 3 up to 512 MiB, 1 above. */
  repeat: number;
}

export function parseArgs(argv: string[]): Options {
  const opts: Options = {
    sizes: [64 * MiB, 512 * MiB],
    json: path.join(
      ROOT,
      "bench",
      "results",
      `payload-${new Date().toISOString().replace(/[:.]/g, "-")}.json`,
    ),
    partSize: 8 * MiB,
    queueSize: 4,
    repeat: 0,
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === "--help" || flag === "-h") {
      console.log(
        "usage: npm run bench:payload -- [--sizes 64MiB,512MiB,2GiB] [--json FILE] [--part-size 8MiB] [--queue-size 4]",
      );
      process.exit(0);
    }
    if (value === undefined) throw new Error(`${flag} needs a value`);
    i++;
    if (flag === "--sizes") opts.sizes = value.split(",").map(parseSize);
    else if (flag === "--json") opts.json = path.resolve(value);
    else if (flag === "--part-size") opts.partSize = parseSize(value);
    else if (flag === "--queue-size") {
      opts.queueSize = Number(value);
      if (!Number.isInteger(opts.queueSize) || opts.queueSize < 1)
        throw new Error(`--queue-size must be a positive integer, got ${JSON.stringify(value)}`);
    } else if (flag === "--repeat") {
      opts.repeat = Number(value);
      if (!Number.isInteger(opts.repeat) || opts.repeat < 1) {
        throw new Error(`--repeat must be a positive integer, got ${JSON.stringify(value)}`);
      }
    } else throw new Error(`unknown argument ${JSON.stringify(flag)} (see --help)`);
  }
  if (opts.partSize < 5 * MiB || opts.partSize > 10 * MiB) {
    throw new Error(`--part-size must be from 5MiB to 10MiB, got ${opts.partSize} bytes`);
  }
  return opts;
}

/** Bundles bench/worker.ts (also used by the payload memory test) and returns the file. */
export function bundleWorker(): string {
  const outfile = path.join(ROOT, ".build", "bench", "worker.js");
  buildSync({
    entryPoints: [path.join(ROOT, "bench", "worker.ts")],
    outfile,
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // Same split as the Lambda bundles: the SDK (and lib-storage for the baseline) from node_modules.
    external: ["@aws-sdk/*"],
    logLevel: "silent",
  });
  return outfile;
}

function runWorker(worker: string, job: WorkerJob): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--no-warnings", worker, JSON.stringify(job)], {
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

interface BundleFigure {
  name: HandlerName;
  bytes: number;
  coldRequireMs: number;
  coldRequireWithoutSdkMs: number;
}

/** Bundle size and cold `require` time, in a fresh process each, with and without the SDK's load. */
function measureBundles(endpoint: string): BundleFigure[] {
  const names: HandlerName[] = ["publish", "consume-queue", "consume-topic"];
  const env = {
    ...process.env,
    ...emulatorEnv({ s3: endpoint, sns: endpoint, sqs: endpoint }),
    TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:bench",
    PAYLOAD_BUCKET: BUCKET,
    SUBSCRIBER_NAME: "bench",
    PAYLOAD_BUCKET_ALLOWLIST: BUCKET,
    DOWNSTREAM: "stepfunctions",
    STATE_MACHINE_ARN: "arn:aws:states:us-east-1:000000000000:stateMachine:bench",
  };
  const time = (file: string, preload: string[]) => {
    const script = `${preload.map((m) => `require(${JSON.stringify(m)});`).join("")}const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    // Median of 5 fresh processes: one cold start is noisy on a shared machine.
    const runs = Array.from({ length: 5 }, () =>
      Number(execFileSync(process.execPath, ["--no-warnings", "-e", script], { env, cwd: ROOT }).toString()),
    );
    return runs.sort((a, b) => a - b)[2];
  };
  return names.map((name) => {
    const file = path.join(handlerBundle(name), "index.js");
    const sdk = ["@aws-sdk/client-s3", "@aws-sdk/client-sns", "@aws-sdk/client-sfn"];
    return {
      name,
      bytes: fs.statSync(file).size,
      coldRequireMs: time(file, []),
      coldRequireWithoutSdkMs: time(file, sdk),
    };
  });
}

const round = (n: number, d = 2) => Math.round(n * 10 ** d) / 10 ** d;
const label = (bytes: number) =>
  bytes >= 1024 * MiB ? `${round(bytes / 1024 / MiB)}GiB` : `${round(bytes / MiB)}MiB`;

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const worker = bundleWorker();
  const [s3rver, fauxqs] = await Promise.all([startS3rver({ buckets: [BUCKET] }), startFauxqs()]);
  const s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
  const sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
  const sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
  try {
    const bundles = measureBundles(fauxqs.endpoint);
    console.log("handler bundles (target: ≤ 100 KiB, cold require ≤ 100 ms)");
    for (const b of bundles) {
      console.log(
        `  ${b.name.padEnd(14)} ${(b.bytes / 1024).toFixed(1).padStart(6)} KiB   cold require ${b.coldRequireMs.toFixed(1)} ms (${b.coldRequireWithoutSdkMs.toFixed(1)} ms with the SDK already loaded)`,
      );
    }

    const topicArn = (await sns.send(new CreateTopicCommand({ Name: "bench" }))).TopicArn!;
    const queueUrl = (await subscribeNewQueue(sns, sqs, topicArn, "bench")).url;

    // An inline message costs no S3 call and little time over a bare SNS Publish.
    const inlineRun = await runWorker(worker, {
      mode: "inline-publish",
      s3Endpoint: s3rver.endpoint,
      snsEndpoint: fauxqs.endpoint,
      bucket: BUCKET,
      size: 500,
      partSize: opts.partSize,
      queueSize: opts.queueSize,
      topicArn,
    });
    const inline = {
      p50Ms: round(inlineRun.p50Ms!, 3),
      baselineP50Ms: round(inlineRun.baselineP50Ms!, 3),
      ratio: round(inlineRun.p50Ms! / inlineRun.baselineP50Ms!, 3),
    };
    console.log(
      `\ninline 1 KiB publish p50 ${inline.p50Ms} ms vs bare SNS Publish ${inline.baselineP50Ms} ms  ratio ${inline.ratio} (target ≤ 1.05)`,
    );
    // The inline publishes are on the queue too; drop them before the transfers.
    for (;;) {
      const batch = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
      );
      if (!batch.Messages?.length) break;
      for (const m of batch.Messages)
        await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }

    const common = {
      s3Endpoint: s3rver.endpoint,
      snsEndpoint: fauxqs.endpoint,
      bucket: BUCKET,
      partSize: opts.partSize,
      queueSize: opts.queueSize,
    };
    const runs = [];
    for (const size of opts.sizes) {
      const repeat = opts.repeat || (size > 512 * MiB ? 1 : size > 128 * MiB ? 3 : 5);
      console.log(
        `\n${label(size)} (part ${label(opts.partSize)}, ${opts.queueSize} in flight, best of ${repeat})`,
      );
      const all = {
        baseUp: [] as WorkerResult[],
        offload: [] as WorkerResult[],
        baseGet: [] as WorkerResult[],
        baseGetSha: [] as WorkerResult[],
        resolve: [] as WorkerResult[],
      };
      for (let round = 0; round < repeat; round++) {
        const baselineKey = `baseline/${size}`;
        all.baseUp.push(
          await runWorker(worker, { ...common, mode: "baseline-upload", size, key: baselineKey }),
        );
        const offload = await runWorker(worker, { ...common, mode: "offload", size, topicArn });
        all.offload.push(offload);
        all.baseGet.push(
          await runWorker(worker, { ...common, mode: "baseline-get", size, key: baselineKey }),
        );
        all.baseGetSha.push(
          await runWorker(worker, { ...common, mode: "baseline-get-sha256", size, key: baselineKey }),
        );
        const resolve = await runWorker(worker, { ...common, mode: "resolve", size, queueUrl });
        all.resolve.push(resolve);
        if (resolve.bytes !== size || resolve.sha256 !== offload.sha256 || !resolve.verified) {
          throw new Error(
            `resolve returned ${resolve.bytes} bytes, sha256 ${resolve.sha256} (verified ${resolve.verified}); sent ${size}, ${offload.sha256}`,
          );
        }
        // Leave no message and no object behind: a 2 GiB run would otherwise fill the disk.
        const left = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, WaitTimeSeconds: 0 }));
        for (const m of left.Messages ?? []) {
          await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
        }
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: baselineKey }));
        await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: offload.key! }));
      }
      const fastest = (rs: WorkerResult[]) => rs.reduce((a, b) => (b.seconds < a.seconds ? b : a));
      // Memory is reported as the worst over every repetition, not that of the fastest one.
      const peak = (rs: WorkerResult[]) => round(Math.max(...rs.map((r) => r.peakRssMiB)), 1);
      const [baseUp, offload, baseGet, baseGetSha, resolve] = [
        all.baseUp,
        all.offload,
        all.baseGet,
        all.baseGetSha,
        all.resolve,
      ].map(fastest);
      const mibps = (r: WorkerResult) => r.bytes / MiB / r.seconds;
      const run = {
        size,
        offload: {
          mibps: round(mibps(offload)),
          baselineMibps: round(mibps(baseUp)),
          ratio: round(mibps(offload) / mibps(baseUp), 3),
        },
        resolve: {
          mibps: round(mibps(resolve)),
          baselineMibps: round(mibps(baseGet)),
          ratio: round(mibps(resolve) / mibps(baseGet), 3),
          // A bare GetObject that also computes SHA-256: what verification alone costs.
          hashingBaselineMibps: round(mibps(baseGetSha)),
          ratioToHashingBaseline: round(mibps(resolve) / mibps(baseGetSha), 3),
        },
        peakRssMiB: { publish: peak(all.offload), resolve: peak(all.resolve) },
        baselinePeakRssMiB: { upload: peak(all.baseUp), get: peak(all.baseGet) },
        repeat,
        // Every run's seconds, so the spread behind the fastest is visible.
        seconds: Object.fromEntries(
          Object.entries(all).map(([k, rs]) => [k, rs.map((r) => round(r.seconds, 3))]),
        ),
      };
      runs.push(run);
      console.log(
        `  offload  ${run.offload.mibps} MiB/s vs lib-storage Upload ${run.offload.baselineMibps} MiB/s  ratio ${run.offload.ratio} (target ≥ 0.9)`,
      );
      console.log(
        `  resolve  ${run.resolve.mibps} MiB/s vs streaming GetObject ${run.resolve.baselineMibps} MiB/s  ratio ${run.resolve.ratio} (target ≥ 0.9)`,
      );
      console.log(
        `           vs GetObject + SHA-256 ${run.resolve.hashingBaselineMibps} MiB/s  ratio ${run.resolve.ratioToHashingBaseline}`,
      );
      console.log(
        `  peak RSS publish ${run.peakRssMiB.publish} MiB, resolve ${run.peakRssMiB.resolve} MiB (target ≤ 256, flat); baselines ${run.baselinePeakRssMiB.upload} / ${run.baselinePeakRssMiB.get} MiB`,
      );
    }
    fs.mkdirSync(path.dirname(opts.json), { recursive: true });
    fs.writeFileSync(
      opts.json,
      `${JSON.stringify({ runs, inline, bundles, partSize: opts.partSize, queueSize: opts.queueSize, node: process.version }, null, 2)}\n`,
    );
    console.log(`\nwrote ${path.relative(process.cwd(), opts.json)}`);
  } finally {
    s3.destroy();
    await Promise.all([s3rver.stop(), fauxqs.stop()]);
  }
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
