// `npm run dlq -- --stack NAME [--subscriber b] (inspect|redrive) [options]`. The queues come from the
// stack's outputs (`pulumi stack output`), or one queue is named with --queue-url.
import { S3Client } from "@aws-sdk/client-s3";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { failed, integerFlag, readFlags, UsageError } from "../../common/args";
import { Exec, readPulumiOutputs } from "../../common/stack-outputs";
import { inspect, redrive, regionOfQueueUrl, type DlqDeps, type RedriveReport } from "./dlq";
import { DEAD_LETTER_KINDS, type DeadLetterKind, type DeadLetterQueue } from "./queues";

export const USAGE = `usage: npm run dlq -- (--stack NAME | --queue-url URL) [options] (inspect | redrive)
  inspect                list each dead-letter queue: counts, the oldest message, a sample with each
                         pointer decoded and whether its payload object still exists
  redrive                move messages back to their source queue (SQS StartMessageMoveTask) after
                         checking every payload; refuses while any payload has expired
Which queues:
  --stack NAME           a deployed stack: its dead-letter queues, from its outputs (Pulumi CLI)
  --subscriber NAME      only this subscriber's queues (repeatable)
  --publisher            only the publisher's failure queue
  --queue ID             only this queue, e.g. b/dlq (repeatable)
  --queue-url URL        one queue instead of --stack; with --kind, --bucket and --bucket-region
  --kind KIND            queue-dlq (default), subscription-dlq, on-failure or publisher-failures
  --bucket NAME          the payload bucket its pointers name   --bucket-region R   --region R
Options:
  --max N                messages read per queue at most (default 1000)
  --hold-seconds N       how long read messages stay hidden while checked (default 300)
  --sample N             messages shown per queue by inspect (default 5)
  --dry-run              redrive: check and report, move nothing
  --expired-to URL       redrive: first move expired or undecodable messages to this queue
  --rate N               redrive: messages per second (1-500; default: SQS chooses)
  --poll-seconds N       redrive: progress interval (default 10)
  --json                 print the reports as JSON
  -h, --help             this text`;

/** A mistake in the command line or in what it names (a stack, a queue): exit status 2. */
export class DlqUsageError extends UsageError {}

export interface DlqArgs {
  command: "inspect" | "redrive";
  stack?: string;
  subscribers: string[];
  publisher: boolean;
  queues: string[];
  queueUrl?: string;
  kind: DeadLetterKind;
  bucket?: string;
  bucketRegion?: string;
  region?: string;
  max: number;
  holdSeconds: number;
  sample: number;
  dryRun: boolean;
  expiredTo?: string;
  rate?: number;
  pollSeconds: number;
  json: boolean;
}

const QUEUE_URL = /^https?:\/\/[^\s/]+\/\d{12}\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
const STACK = /^[A-Za-z0-9_./-]+$/;

function integer(flag: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  return raw === undefined ? fallback : integerFlag(`--${flag}`, raw, min, max);
}

/** Pure: the command line, validated; throws DlqUsageError naming the flag and the value. Undefined for --help. */
export function parseDlqArgs(argv: string[]): DlqArgs | undefined {
  const parsed = readFlags(
    argv,
    {
      stack: { type: "string" },
      subscriber: { type: "string", multiple: true },
      publisher: { type: "boolean" },
      queue: { type: "string", multiple: true },
      "queue-url": { type: "string" },
      kind: { type: "string" },
      bucket: { type: "string" },
      "bucket-region": { type: "string" },
      region: { type: "string" },
      max: { type: "string" },
      "hold-seconds": { type: "string" },
      sample: { type: "string" },
      "dry-run": { type: "boolean" },
      "expired-to": { type: "string" },
      rate: { type: "string" },
      "poll-seconds": { type: "string" },
      json: { type: "boolean" },
    },
    { positionals: true },
  );
  const v = parsed.values;
  if (v.help) return undefined;
  const [command, ...extra] = parsed.positionals;
  if (command !== "inspect" && command !== "redrive") {
    throw new DlqUsageError(
      `${command === undefined ? "a command is required" : `unknown command "${command}"`}: use inspect or redrive`,
    );
  }
  if (extra.length > 0) throw new DlqUsageError(`unexpected argument "${extra[0]}"`);
  if ((v.stack === undefined) === (v["queue-url"] === undefined)) {
    throw new DlqUsageError(`give exactly one of --stack NAME or --queue-url URL`);
  }
  if (v.stack !== undefined && !STACK.test(v.stack))
    throw new DlqUsageError(`--stack "${v.stack}" is not a stack name`);
  const url = v["queue-url"];
  if (url !== undefined) {
    if (!QUEUE_URL.test(url))
      throw new DlqUsageError(
        `--queue-url "${url}" is not an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)`,
      );
    if (!v.bucket)
      throw new DlqUsageError("--queue-url needs --bucket (the payload bucket its pointers name)");
    if (!v.region && !regionOfQueueUrl(url))
      throw new DlqUsageError(`--queue-url "${url}" names no Region: add --region`);
  } else {
    for (const flag of ["kind", "bucket", "bucket-region", "region"] as const) {
      if (v[flag] !== undefined)
        throw new DlqUsageError(`--${flag} goes with --queue-url, not --stack (the stack's outputs give it)`);
    }
  }
  for (const flag of ["region", "bucket-region"] as const) {
    const r = v[flag];
    if (r !== undefined && !REGION.test(r))
      throw new DlqUsageError(`--${flag} "${r}" is not an AWS Region (e.g. us-east-1)`);
  }
  const kind = (v.kind ?? "queue-dlq") as DeadLetterKind;
  if (!DEAD_LETTER_KINDS.includes(kind)) {
    throw new DlqUsageError(`--kind "${v.kind}" is not one of ${DEAD_LETTER_KINDS.join(", ")}`);
  }
  const expiredTo = v["expired-to"];
  if (expiredTo !== undefined && !QUEUE_URL.test(expiredTo)) {
    throw new DlqUsageError(`--expired-to "${expiredTo}" is not an SQS queue URL`);
  }
  if (command === "inspect") {
    for (const flag of ["dry-run", "expired-to", "rate", "poll-seconds"] as const) {
      if (v[flag] !== undefined) throw new DlqUsageError(`--${flag} applies to redrive, not inspect`);
    }
  }
  for (const s of v.subscriber ?? []) {
    if (!/^[a-z][a-z0-9-]{0,31}$/.test(s))
      throw new DlqUsageError(`--subscriber "${s}" is not a subscriber name`);
  }
  return {
    command,
    stack: v.stack,
    subscribers: v.subscriber ?? [],
    publisher: v.publisher ?? false,
    queues: v.queue ?? [],
    queueUrl: url,
    kind,
    bucket: v.bucket,
    bucketRegion: v["bucket-region"],
    region: v.region,
    max: integer("max", v.max, 1000, 1, 100_000),
    // SQS visibility timeouts go up to 12 hours.
    holdSeconds: integer("hold-seconds", v["hold-seconds"], 300, 30, 43_200),
    sample: integer("sample", v.sample, 5, 0, 1000),
    dryRun: v["dry-run"] ?? false,
    expiredTo,
    rate: v.rate === undefined ? undefined : integer("rate", v.rate, 0, 1, 500),
    pollSeconds: integer("poll-seconds", v["poll-seconds"], 10, 1, 3600),
    json: v.json ?? false,
  };
}

/** The stack's dead-letter queues from its outputs (messaging.deadLetterQueues), filtered by the flags. */
export function stackQueues(args: DlqArgs, outputs: Record<string, unknown>): DeadLetterQueue[] {
  const stack = args.stack as string;
  const messaging = outputs.messaging as
    { deadLetterQueues?: Record<string, Record<string, unknown>> } | undefined;
  const all = messaging?.deadLetterQueues;
  if (!all || typeof all !== "object") {
    throw new DlqUsageError(
      `stack ${stack} has no output messaging.deadLetterQueues: it deploys no messaging part, or predates the output; run \`pulumi up --stack ${stack}\``,
    );
  }
  const queues = Object.entries(all).map(([id, q]): DeadLetterQueue => {
    const text = (key: string) => {
      const value = q[key];
      if (typeof value !== "string" || value === "") {
        throw new DlqUsageError(
          `stack ${stack}: output messaging.deadLetterQueues["${id}"].${key} is missing`,
        );
      }
      return value;
    };
    const kind = text("kind") as DeadLetterKind;
    if (!DEAD_LETTER_KINDS.includes(kind))
      throw new DlqUsageError(`stack ${stack}: queue ${id} has unknown kind "${kind}"`);
    return {
      id,
      kind,
      part: text("part"),
      url: text("url"),
      arn: text("arn"),
      region: text("region"),
      ...(typeof q.sourceArn === "string" ? { sourceArn: q.sourceArn } : {}),
      payloadBucket: text("payloadBucket"),
      payloadBucketRegion: text("payloadBucketRegion"),
    };
  });
  const parts = new Set(queues.map((q) => q.part));
  for (const s of args.subscribers) {
    if (!parts.has(s))
      throw new DlqUsageError(
        `--subscriber ${s}: stack ${stack} deploys no subscriber ${s} (it has: ${[...parts].join(", ")})`,
      );
  }
  for (const id of args.queues) {
    if (!queues.some((q) => q.id === id)) {
      throw new DlqUsageError(
        `--queue ${id}: stack ${stack} has no such queue (it has: ${queues.map((q) => q.id).join(", ")})`,
      );
    }
  }
  if (args.publisher && !parts.has("publisher"))
    throw new DlqUsageError(`--publisher: stack ${stack} deploys no publisher`);
  const byPart = args.subscribers.length > 0 || args.publisher;
  return queues.filter(
    (q) =>
      (!byPart || args.subscribers.includes(q.part) || (args.publisher && q.part === "publisher")) &&
      (args.queues.length === 0 || args.queues.includes(q.id)),
  );
}

/** The one queue named by --queue-url; its ARN is read from SQS. */
export async function explicitQueue(args: DlqArgs, deps: DlqDeps): Promise<DeadLetterQueue> {
  const url = args.queueUrl as string;
  const region = args.region ?? (regionOfQueueUrl(url) as string);
  const out = await deps
    .sqs(region)
    .send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn", "RedrivePolicy"] }));
  const arn = out.Attributes?.QueueArn;
  if (!arn) throw new DlqUsageError(`--queue-url ${url}: SQS returned no QueueArn`);
  return {
    id: "explicit",
    kind: args.kind,
    part: "explicit",
    url,
    arn,
    region,
    payloadBucket: args.bucket as string,
    payloadBucketRegion: args.bucketRegion ?? region,
  };
}

/** Runs the command over the selected queues; returns the process exit code. */
export async function runDlq(args: DlqArgs, queues: DeadLetterQueue[], deps: DlqDeps): Promise<number> {
  if (queues.length === 0) {
    deps.log("no dead-letter queue matches the selection");
    return 1;
  }
  const scan = { max: args.max, holdSeconds: args.holdSeconds };
  if (args.command === "inspect") {
    const reports = [];
    for (const q of queues)
      reports.push(
        await inspect(q, { ...scan, sample: args.sample }, args.json ? { ...deps, log: () => {} } : deps),
      );
    if (args.json) deps.log(JSON.stringify(reports, null, 2));
    return 0;
  }
  const reports: RedriveReport[] = [];
  const log = args.json ? { ...deps, log: () => {} } : deps;
  for (const q of queues) {
    reports.push(
      await redrive(
        q,
        {
          ...scan,
          dryRun: args.dryRun,
          expiredTo: args.expiredTo,
          rate: args.rate,
          pollSeconds: args.pollSeconds,
        },
        log,
      ),
    );
  }
  if (args.json) deps.log(JSON.stringify(reports, null, 2));
  // A queue of a kind SQS cannot redrive fails the run only when it was asked for by name.
  const named = args.queues.length > 0 || args.queueUrl !== undefined;
  const bad = reports.filter(
    (r) => r.outcome === "refused" || r.outcome === "failed" || (named && r.outcome === "not-redrivable"),
  );
  return bad.length > 0 ? 1 : 0;
}

export async function main(argv: string[], exec?: Exec): Promise<number> {
  try {
    const args = parseDlqArgs(argv);
    if (!args) {
      console.log(USAGE);
      return 0;
    }
    const sqsClients = new Map<string, SQSClient>();
    const s3Clients = new Map<string, S3Client>();
    const deps: DlqDeps = {
      sqs: (region) =>
        sqsClients.get(region) ?? sqsClients.set(region, new SQSClient({ region })).get(region)!,
      s3: (region) =>
        s3Clients.get(region) ??
        s3Clients.set(region, new S3Client({ region, followRegionRedirects: true })).get(region)!,
      log: (line) => console.log(line),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      now: () => new Date(),
    };
    const queues = args.stack
      ? stackQueues(
          args,
          readPulumiOutputs(args.stack, (m) => new DlqUsageError(m), exec),
        )
      : [await explicitQueue(args, deps)];
    return await runDlq(args, queues, deps);
  } catch (err) {
    return failed(err, USAGE, "dlq: ");
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
