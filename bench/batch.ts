// Batch benchmark (not a test): messages per second published to an SNS topic on loopback fauxqs
// (SNS/SQS) and s3rver (S3), for 1 KiB (inline) and 300 KiB (offloaded) payloads:
//  - single: the library's publishToSns, one message after the other;
//  - batch:  the library's publishBatchToSns, all messages in one call (10 per request);
//  - bare:   the SDK alone doing what batch does (PublishBatch of the bodies; for offloaded sizes
//            PutObject of each payload, 8 at a time, then PublishBatch of hand-made pointers).
// The three run interleaved, --repeat times; the median and the spread (min–max) of each are
// reported, with the ratios batch/single (target ≥ 5 at 1 KiB) and batch/bare.
//
//   npm run bench:batch -- [--sizes 1KiB,300KiB] [--messages 200] [--repeat 5] [--json FILE]
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, PublishBatchCommand, SNSClient } from "@aws-sdk/client-sns";
import { PurgeQueueCommand, SQSClient } from "@aws-sdk/client-sqs";
import {
  MARKER_ATTRIBUTE,
  formatPointer,
  publishBatchToSns,
  publishToSns,
  type WriterOptions,
} from "../messaging/payload";
import { emulatorClientConfig, startFauxqs, startS3rver } from "../local/emulators";
import { subscribeNewQueue } from "../local/topics";
import { KiB, parseSizes } from "../local/size";
import { failed, integerFlag, readFlags } from "../common/args";

const ROOT = path.resolve(__dirname, "..");
const BUCKET = "bench-batch";

interface Options {
  sizes: number[];
  messages: number;
  repeat: number;
  json: string;
}

export const USAGE = `usage: npm run bench:batch -- [options]
  --sizes LIST        payload sizes, comma-separated (default 1KiB,300KiB)
  --messages N        messages per timed run at the inline size (default 200)
  --repeat N          interleaved rounds (default 5)
  --json FILE         where to write the figures (default bench/results/batch-<time>.json)
  -h, --help          this text`;

/** Parses argv (without node and script). Returns undefined for --help. */
export function parseArgs(argv: string[]): Options | undefined {
  const { values } = readFlags(argv, {
    sizes: { type: "string" },
    messages: { type: "string" },
    repeat: { type: "string" },
    json: { type: "string" },
  });
  if (values.help) return undefined;
  return {
    sizes: values.sizes === undefined ? [KiB, 300 * KiB] : parseSizes(values.sizes, "--sizes"),
    messages: integerFlag("--messages", values.messages ?? "200", 1, 100_000),
    repeat: integerFlag("--repeat", values.repeat ?? "5", 1, 1000),
    json: path.resolve(
      values.json ??
        path.join(ROOT, "bench", "results", `batch-${new Date().toISOString().replace(/[:.]/g, "-")}.json`),
    ),
  };
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Median and spread of a list of rates. */
export function summarize(values: number[]): { median: number; min: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { median: round(median), min: round(sorted[0]), max: round(sorted.at(-1)!) };
}

/** Distinct UTF-8 text of `size` bytes per message, so S3 and SNS see real, different bodies. */
function bodies(count: number, size: number): string[] {
  return Array.from({ length: count }, (_, i) => `${i}:${randomUUID()}:`.padEnd(size, "abcdefghij"));
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  if (!opts) {
    console.log(USAGE);
    return;
  }
  const [fauxqs, s3rver] = await Promise.all([startFauxqs(), startS3rver({ buckets: [BUCKET] })]);
  const s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
  const sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
  const sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
  try {
    const topicArn = (await sns.send(new CreateTopicCommand({ Name: "bench-batch" }))).TopicArn!;
    const queue = await subscribeNewQueue(sns, sqs, topicArn, "bench-batch-q");
    const writer: WriterOptions = { s3, bucket: BUCKET, keyPrefix: "payloads/" };

    const candidates: Record<string, (messages: string[]) => Promise<void>> = {
      single: async (messages) => {
        for (const body of messages) await publishToSns(sns, { topicArn, body }, writer);
      },
      batch: async (messages) => {
        const out = await publishBatchToSns(
          sns,
          topicArn,
          messages.map((body, i) => ({ id: `m${i}`, body })),
          writer,
        );
        if (out.failed.length)
          throw new Error(`batch: ${out.failed.length} entries failed: ${out.failed[0].reason}`);
      },
      bare: async (messages) => {
        const offload = Buffer.byteLength(messages[0]) > 262_144;
        const entries: { body: string; size: number }[] = new Array(messages.length);
        for (let next = 0; next < messages.length;) {
          const chunk = messages.slice(next, next + 8);
          await Promise.all(
            chunk.map(async (body, j) => {
              const size = Buffer.byteLength(body);
              if (!offload) {
                entries[next + j] = { body, size };
                return;
              }
              const key = `payloads/${randomUUID()}`;
              await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
              entries[next + j] = { body: formatPointer({ s3BucketName: BUCKET, s3Key: key }), size };
            }),
          );
          next += chunk.length;
        }
        // Packed as the library packs: 10 per request and at most 262,144 bytes.
        let batch: typeof entries = [];
        let bytes = 0;
        const flush = async () => {
          if (!batch.length) return;
          await sns.send(
            new PublishBatchCommand({
              TopicArn: topicArn,
              PublishBatchRequestEntries: batch.map((e, i) => ({
                Id: `b${i}`,
                Message: e.body,
                ...(offload
                  ? {
                      MessageAttributes: {
                        [MARKER_ATTRIBUTE]: { DataType: "Number", StringValue: String(e.size) },
                      },
                    }
                  : {}),
              })),
            }),
          );
          batch = [];
          bytes = 0;
        };
        for (const e of entries) {
          const n = Buffer.byteLength(e.body) + 40;
          if (batch.length === 10 || bytes + n > 262_144) await flush();
          batch.push(e);
          bytes += n;
        }
        await flush();
      },
    };

    const results = [];
    for (const size of opts.sizes) {
      // Fewer messages of the offloaded size: each is a 300 KiB upload to a disk-backed emulator.
      const count = size > 64 * KiB ? Math.max(10, Math.round(opts.messages / 4)) : opts.messages;
      const rates: Record<string, number[]> = { single: [], batch: [], bare: [] };
      console.log(`\n${size} bytes × ${count} messages, ${opts.repeat} interleaved repeats`);
      for (let r = 0; r < opts.repeat; r++) {
        // Rotating the order, so no candidate always runs first (on a cold cache) or last.
        const order = Object.keys(candidates);
        for (let k = 0; k < r % order.length; k++) order.push(order.shift()!);
        for (const name of order) {
          const messages = bodies(count, size);
          const t0 = process.hrtime.bigint();
          await candidates[name](messages);
          const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
          rates[name].push(count / seconds);
          await sqs.send(new PurgeQueueCommand({ QueueUrl: queue.url }));
        }
      }
      const single = summarize(rates.single);
      const batch = summarize(rates.batch);
      const bare = summarize(rates.bare);
      const row = {
        size,
        messages: count,
        repeat: opts.repeat,
        messagesPerSecond: { single, batch, bare },
        batchOverSingle: round(batch.median / single.median, 2),
        batchOverBare: round(batch.median / bare.median, 2),
        runs: Object.fromEntries(Object.entries(rates).map(([k, v]) => [k, v.map((x) => round(x))])),
      };
      results.push(row);
      const show = (s: { median: number; min: number; max: number }) =>
        `${s.median} msg/s (${s.min}–${s.max})`;
      console.log(`  single  ${show(single)}`);
      console.log(`  batch   ${show(batch)}`);
      console.log(`  bare    ${show(bare)}   (SDK PublishBatch${size > 262_144 ? " + PutObject" : ""})`);
      console.log(
        `  batch/single ${row.batchOverSingle}×${size <= 64 * KiB ? " (target ≥ 5)" : ""}   batch/bare ${row.batchOverBare}×`,
      );
    }
    fs.mkdirSync(path.dirname(opts.json), { recursive: true });
    fs.writeFileSync(opts.json, `${JSON.stringify({ results, node: process.version }, null, 2)}\n`);
    console.log(`\nwrote ${path.relative(process.cwd(), opts.json)}`);
  } finally {
    s3.destroy();
    await Promise.all([s3rver.stop(), fauxqs.stop()]);
  }
}

if (require.main === module) {
  main().catch((error) => process.exit(failed(error, USAGE)));
}
