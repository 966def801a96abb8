// One measured transfer, run in its own process so that its peak RSS is its own. The parent
// (bench/payload.ts) bundles this file and passes a JSON job as argv[2]; the result is the last line
// printed to stdout. The payload memory test runs it too (through ts-node) in "resolve" mode.
import { createHash, randomBytes } from "node:crypto";
import { constants as perf, PerformanceObserver } from "node:perf_hooks";
import { Readable } from "node:stream";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { GetTopicAttributesCommand, PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { Upload } from "@aws-sdk/lib-storage";
import {
  formatPointer,
  publishToSns,
  receiveFromSqs,
  resolveSqsMessage,
  type ResolvedMessage,
} from "../messaging/payload";

export interface WorkerJob {
  mode: "baseline-upload" | "offload" | "baseline-get" | "baseline-get-sha256" | "resolve" | "inline-publish";
  s3Endpoint: string;
  snsEndpoint?: string;
  bucket: string;
  size: number;
  partSize: number;
  queueSize: number;
  /** baseline-upload / baseline-get: the object key. */
  key?: string;
  /** offload: the topic. */
  topicArn?: string;
  /** resolve: receive the pointer from this queue... */
  queueUrl?: string;
  /** ...or resolve this pointer directly. */
  s3Key?: string;
}

export interface WorkerResult {
  mode: WorkerJob["mode"];
  bytes: number;
  seconds: number;
  /** RSS when the transfer started, and the highest RSS sampled during it. */
  /** CPU seconds (user + system) this process used during the transfer. */
  cpuSeconds: number;
  startRssMiB: number;
  peakRssMiB: number;
  /** The kernel's lifetime peak for the process (includes start-up). */
  maxRssMiB: number;
  /**
   * Full mark-compacts during the transfer: which GC regime the process fell into
   * (docs/benchmarks.md).
   */
  majorGcs: number;
  key?: string;
  sha256?: string;
  verified?: boolean;
  /** inline-publish: median latency of the library's and of a bare SNS Publish, in ms. */
  p50Ms?: number;
  baselineP50Ms?: number;
}

const MiB = 1024 * 1024;

function client<T>(Ctor: new (c: object) => T, endpoint: string): T {
  return new Ctor({
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  });
}

/** `size` bytes of incompressible data with no declared length, cheap to produce. */
function source(size: number): Readable {
  const block = randomBytes(4 * MiB);
  let produced = 0;
  return new Readable({
    highWaterMark: MiB,
    read() {
      if (produced >= size) return void this.push(null);
      const n = Math.min(MiB, size - produced);
      const at = (produced / MiB) % 3;
      produced += n;
      this.push(block.subarray(at * MiB, at * MiB + n));
    },
  });
}

async function drain(stream: AsyncIterable<Uint8Array>): Promise<number> {
  let bytes = 0;
  for await (const chunk of stream) bytes += chunk.length;
  return bytes;
}

type Measured = Omit<
  WorkerResult,
  "seconds" | "cpuSeconds" | "startRssMiB" | "peakRssMiB" | "maxRssMiB" | "mode" | "majorGcs"
>;

/**
 * Prepares the job (untimed) and returns the transfer to time. For resolve, receiving the SQS message
 * is preparation, as the baseline GetObject is simply handed its key.
 */
async function prepare(job: WorkerJob): Promise<() => Promise<Measured>> {
  const s3 = client(S3Client, job.s3Endpoint);
  switch (job.mode) {
    case "baseline-upload":
      return async () => {
        await new Upload({
          client: s3,
          params: { Bucket: job.bucket, Key: job.key, Body: source(job.size) },
          partSize: job.partSize,
          queueSize: job.queueSize,
        }).done();
        return { bytes: job.size, key: job.key };
      };
    case "offload": {
      const sns = client(SNSClient, job.snsEndpoint!);
      // The SNS client's first request resolves its endpoint and credentials: client start-up, not
      // transfer, and the baseline has no SNS client to start. (Both S3 clients start cold.)
      await sns.send(new GetTopicAttributesCommand({ TopicArn: job.topicArn! }));
      return async () => {
        const out = await publishToSns(
          sns,
          { topicArn: job.topicArn!, body: source(job.size) },
          {
            s3,
            bucket: job.bucket,
            keyPrefix: "payloads/",
            partSizeBytes: job.partSize,
            queueSize: job.queueSize,
          },
        );
        return { bytes: out.size, key: out.pointer?.s3Key, sha256: out.sha256 };
      };
    }
    case "inline-publish": {
      // Interleaved, so both see the same machine: library publish of 1 KiB vs a bare Publish.
      // `size` is the number of publishes of each.
      const sns = client(SNSClient, job.snsEndpoint!);
      const body = "x".repeat(1024);
      const writer = { s3, bucket: job.bucket, keyPrefix: "payloads/" };
      const bare: number[] = [];
      const library: number[] = [];
      const time = async (into: number[], fn: () => Promise<unknown>) => {
        const t = process.hrtime.bigint();
        await fn();
        into.push(Number(process.hrtime.bigint() - t) / 1e6);
      };
      for (let i = 0; i < 50; i++)
        await time([], () => publishToSns(sns, { topicArn: job.topicArn!, body }, writer));
      return async () => {
        const publishBare = () =>
          time(bare, () => sns.send(new PublishCommand({ TopicArn: job.topicArn!, Message: body })));
        const publishLibrary = () =>
          time(library, () => publishToSns(sns, { topicArn: job.topicArn!, body }, writer));
        // Alternating which goes first, so neither always follows the other's response handling.
        for (let i = 0; i < job.size; i++) {
          for (const publish of i % 2 ? [publishLibrary, publishBare] : [publishBare, publishLibrary])
            await publish();
        }
        const p50 = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
        return { bytes: 0, p50Ms: p50(library), baselineP50Ms: p50(bare) };
      };
    }
    case "baseline-get":
      return async () => {
        const out = await s3.send(new GetObjectCommand({ Bucket: job.bucket, Key: job.key }));
        return { bytes: await drain(out.Body as Readable) };
      };
    case "baseline-get-sha256":
      // The bare GetObject plus the SHA-256 any verifying reader must compute: it separates the cost
      // of verification from the cost of the library.
      return async () => {
        const out = await s3.send(new GetObjectCommand({ Bucket: job.bucket, Key: job.key }));
        const hash = createHash("sha256");
        let bytes = 0;
        for await (const chunk of out.Body as Readable) {
          hash.update(chunk);
          bytes += chunk.length;
        }
        return { bytes, sha256: hash.digest("hex") };
      };
    case "resolve": {
      const reader = { s3, allowedBuckets: [job.bucket] };
      let message: ResolvedMessage;
      if (job.queueUrl) {
        const sqs = client(SQSClient, job.snsEndpoint!);
        const [got] = await receiveFromSqs(sqs, { QueueUrl: job.queueUrl, WaitTimeSeconds: 5 }, reader);
        if (!got || "error" in got) throw got ? got.error : new Error("no message on the queue");
        // Deleted now, or it would come back after the visibility timeout and be read by a later run.
        await sqs.send(
          new DeleteMessageCommand({ QueueUrl: job.queueUrl, ReceiptHandle: got.receiptHandle }),
        );
        message = got.message;
      } else {
        message = resolveSqsMessage(
          {
            Body: formatPointer({ s3BucketName: job.bucket, s3Key: job.s3Key! }),
            MessageAttributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: String(job.size) } },
          },
          reader,
        );
      }
      return async () => {
        const stream = await message.stream();
        const bytes = await drain(stream);
        return { bytes, key: message.pointer?.s3Key, sha256: stream.sha256, verified: stream.verified };
      };
    }
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2]) as WorkerJob;
  const transfer = await prepare(job);
  let majorGcs = 0;
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      if ((entry as { detail?: { kind?: number } }).detail?.kind === perf.NODE_PERFORMANCE_GC_MAJOR)
        majorGcs++;
    }
  });
  gcObserver.observe({ entryTypes: ["gc"] });
  const startRss = process.memoryUsage.rss();
  let peak = startRss;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const out = await transfer();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  clearInterval(sampler);
  // Entries are delivered after the GC: wait a turn, so that the last ones are counted.
  await new Promise((resolve) => setImmediate(resolve));
  gcObserver.disconnect();
  peak = Math.max(peak, process.memoryUsage.rss());
  const result: WorkerResult = {
    mode: job.mode,
    ...out,
    seconds,
    cpuSeconds: (used.user + used.system) / 1e6,
    startRssMiB: startRss / MiB,
    peakRssMiB: peak / MiB,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
    majorGcs,
  };
  process.stdout.write(`\n${JSON.stringify(result)}\n`);
}

if (require.main === module) {
  main().catch((error) => {
    process.stderr.write(`${(error as Error).stack ?? error}\n`);
    process.exit(1);
  });
}
