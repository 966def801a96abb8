// `npm run dlq`: inspect a stack's dead-letter queues, and move messages back to their source queue
// with SQS StartMessageMoveTask after checking that their payload objects still exist. A message
// whose payload has expired (the payload bucket's lifecycle rule deleted it) would only fail again,
// so it is reported and never redriven; `--expired-to` moves such messages to another queue first.
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  StartMessageMoveTaskCommand,
  type Message,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import { decodeMessage, notRedrivable, type DeadLetterQueue, type DecodedMessage } from "./queues";

export interface DlqDeps {
  sqs: (region: string) => Pick<SQSClient, "send">;
  s3: (region: string) => S3Client;
  log: (line: string) => void;
  sleep: (ms: number) => Promise<void>;
  now: () => Date;
}

export interface ScanOptions {
  /** Messages to read at most; a queue holding more is not redriven (not every payload was checked). */
  max: number;
  /** Seconds the scanned messages stay invisible to others while the command decides about them. */
  holdSeconds: number;
}

export type ObjectState = "exists" | "missing" | "unknown" | "none";

export interface ScannedMessage {
  messageId: string;
  receiptHandle: string;
  sentAt?: Date;
  receiveCount?: number;
  decoded: DecodedMessage;
  /** Whether the message's payload object (or staged source) still exists. */
  object: ObjectState;
  objectProblem?: string;
  message: Message;
}

export interface ScanResult {
  dlq: DeadLetterQueue;
  visible: number;
  inFlight: number;
  scanned: ScannedMessage[];
  /** True when the queue held more messages than `max`. */
  truncated: boolean;
}

const BATCH = 10;
/** Short polls return a random subset of SQS's servers; a few empty answers in a row mean empty. */
const EMPTY_POLLS_TO_STOP = 3;

async function queueCounts(
  dlq: DeadLetterQueue,
  deps: DlqDeps,
): Promise<{ visible: number; inFlight: number }> {
  const out = await deps.sqs(dlq.region).send(
    new GetQueueAttributesCommand({
      QueueUrl: dlq.url,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** HeadObject: 404 is "missing"; 403 is "unknown" (without s3:ListBucket S3 answers 403 for a missing key). */
async function objectState(
  decoded: DecodedMessage,
  dlq: DeadLetterQueue,
  deps: DlqDeps,
): Promise<{ state: ObjectState; problem?: string }> {
  if (!decoded.object) return { state: "none" };
  try {
    await deps
      .s3(dlq.payloadBucketRegion)
      .send(new HeadObjectCommand({ Bucket: decoded.object.bucket, Key: decoded.object.key }));
    return { state: "exists" };
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number }; message?: string };
    const status = e.$metadata?.httpStatusCode;
    if (status === 404 || e.name === "NotFound" || e.name === "NoSuchKey") return { state: "missing" };
    if (status === 403) {
      return {
        state: "unknown",
        problem:
          "HeadObject was refused (403): grant s3:GetObject on the payloads and s3:ListBucket, or S3 cannot say 'missing'",
      };
    }
    return { state: "unknown", problem: `HeadObject failed: ${e.name ?? "Error"}: ${e.message ?? ""}` };
  }
}

/**
 * Reads up to `max` messages, holding them invisible for `holdSeconds`, decodes each and checks its
 * object. Nothing is deleted: `release` makes them visible again, and if the command dies they
 * reappear when the hold ends.
 */
export async function scanQueue(dlq: DeadLetterQueue, opts: ScanOptions, deps: DlqDeps): Promise<ScanResult> {
  const sqs = deps.sqs(dlq.region);
  const counts = await queueCounts(dlq, deps);
  const scanned: ScannedMessage[] = [];
  let empty = 0;
  while (scanned.length < opts.max && empty < EMPTY_POLLS_TO_STOP) {
    const out = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.url,
        MaxNumberOfMessages: Math.min(BATCH, opts.max - scanned.length),
        VisibilityTimeout: opts.holdSeconds,
        // Long-poll until the reported count is read, then short polls confirm the queue is empty.
        WaitTimeSeconds: scanned.length >= counts.visible ? 0 : 1,
        // SQS omits message attributes nobody asked for, and the payload marker is one of them.
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["SentTimestamp", "ApproximateReceiveCount"],
      }),
    );
    const messages = out.Messages ?? [];
    empty = messages.length === 0 ? empty + 1 : 0;
    for (const m of messages) {
      const decoded = decodeMessage(dlq, m, deps.s3(dlq.payloadBucketRegion));
      const { state, problem } = await objectState(decoded, dlq, deps);
      const sent = m.Attributes?.SentTimestamp;
      scanned.push({
        messageId: m.MessageId ?? "(no id)",
        receiptHandle: m.ReceiptHandle ?? "",
        sentAt: sent ? new Date(Number(sent)) : undefined,
        receiveCount: m.Attributes?.ApproximateReceiveCount
          ? Number(m.Attributes.ApproximateReceiveCount)
          : undefined,
        decoded,
        object: state,
        ...(problem ? { objectProblem: problem } : {}),
        message: m,
      });
    }
  }
  const truncated = scanned.length >= opts.max && counts.visible > scanned.length;
  return { dlq, ...counts, scanned, truncated };
}

/** Makes held messages visible again at once (visibility timeout 0). */
export async function release(
  dlq: DeadLetterQueue,
  messages: ScannedMessage[],
  deps: DlqDeps,
): Promise<void> {
  const sqs = deps.sqs(dlq.region);
  for (let i = 0; i < messages.length; i += BATCH) {
    const chunk = messages.slice(i, i + BATCH);
    const out = await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: dlq.url,
        Entries: chunk.map((m, j) => ({
          Id: String(j),
          ReceiptHandle: m.receiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
    // A failed release is not a loss: the message reappears when the hold ends.
    for (const f of out.Failed ?? []) {
      deps.log(
        `  note: ${chunk[Number(f.Id)].messageId} stays hidden until the hold ends (${f.Code}: ${f.Message})`,
      );
    }
  }
}

/** Messages that must not go back to their source: the payload is gone, or the message cannot be read. */
export function blocking(m: ScannedMessage): "expired" | "undecodable" | "unchecked" | undefined {
  if (m.decoded.form === "undecodable") return "undecodable";
  if (m.object === "missing") return "expired";
  if (m.object === "unknown") return "unchecked";
  return undefined;
}

function describe(m: ScannedMessage): string {
  const d = m.decoded;
  const what =
    d.form === "undecodable"
      ? `undecodable: ${d.problem}`
      : d.object
        ? `${d.form} s3://${d.object.bucket}/${d.object.key}${d.size !== undefined ? ` (${d.size} bytes)` : ""} object ${m.object === "missing" ? "MISSING (expired)" : m.object}${m.objectProblem ? ` — ${m.objectProblem}` : ""}`
        : `${d.form}${d.size !== undefined ? ` ${d.size} bytes` : ""}${d.preview !== undefined ? ` ${JSON.stringify(d.preview)}` : ""}`;
  const when = m.sentAt ? ` sent ${m.sentAt.toISOString()}` : "";
  const tries = m.receiveCount !== undefined ? `, received ${m.receiveCount}×` : "";
  return `${m.messageId}${when}${tries}: ${what}`;
}

export interface InspectReport {
  id: string;
  url: string;
  kind: string;
  visible: number;
  inFlight: number;
  scanned: number;
  truncated: boolean;
  oldest?: string;
  tally: Record<string, number>;
  sample: string[];
}

function tally(scanned: ScannedMessage[]): Record<string, number> {
  const t: Record<string, number> = {
    inline: 0,
    offloaded: 0,
    event: 0,
    undecodable: 0,
    expired: 0,
    unchecked: 0,
  };
  for (const m of scanned) {
    t[m.decoded.form] += 1;
    const b = blocking(m);
    if (b === "expired" || b === "unchecked") t[b] += 1;
  }
  return t;
}

/** Inspect: counts, the oldest message, and a sample with each pointer decoded and its object checked. */
export async function inspect(
  dlq: DeadLetterQueue,
  opts: ScanOptions & { sample: number },
  deps: DlqDeps,
): Promise<InspectReport> {
  const scan = await scanQueue(dlq, opts, deps);
  await release(dlq, scan.scanned, deps);
  const oldest = scan.scanned
    .map((m) => m.sentAt)
    .filter((d): d is Date => d !== undefined)
    .sort((a, b) => a.getTime() - b.getTime())[0];
  const report: InspectReport = {
    id: dlq.id,
    url: dlq.url,
    kind: dlq.kind,
    visible: scan.visible,
    inFlight: scan.inFlight,
    scanned: scan.scanned.length,
    truncated: scan.truncated,
    ...(oldest ? { oldest: oldest.toISOString() } : {}),
    tally: tally(scan.scanned),
    sample: scan.scanned.slice(0, opts.sample).map(describe),
  };
  deps.log(`${dlq.id} (${dlq.kind}) ${dlq.url}`);
  deps.log(
    `  ${scan.visible} visible, ${scan.inFlight} in flight; scanned ${scan.scanned.length}${scan.truncated ? " (more than --max)" : ""}`,
  );
  if (oldest) deps.log(`  oldest scanned message sent ${oldest.toISOString()}`);
  const t = report.tally;
  deps.log(
    `  ${t.inline} inline, ${t.offloaded} offloaded, ${t.event} events, ${t.undecodable} undecodable; ${t.expired} payloads expired, ${t.unchecked} unchecked`,
  );
  for (const line of report.sample) deps.log(`    ${line}`);
  return report;
}

export interface RedriveOptions extends ScanOptions {
  dryRun: boolean;
  /** Queue URL that expired and undecodable messages are moved to (sent, then deleted here). */
  expiredTo?: string;
  /** StartMessageMoveTask's MaxNumberOfMessagesPerSecond (1–500); SQS picks when absent. */
  rate?: number;
  pollSeconds: number;
}

export interface RedriveReport {
  id: string;
  outcome: "moved" | "dry-run" | "refused" | "not-redrivable" | "empty" | "failed";
  reason?: string;
  checked: number;
  movedAside: number;
  taskHandle?: string;
  moved?: number;
}

/**
 * Redrive one DLQ back to its source: check every message's payload, set aside (with --expired-to)
 * or refuse on expired, undecodable or unchecked ones, then StartMessageMoveTask and follow it with
 * ListMessageMoveTasks until it ends.
 */
export async function redrive(
  dlq: DeadLetterQueue,
  opts: RedriveOptions,
  deps: DlqDeps,
): Promise<RedriveReport> {
  const refusedKind = notRedrivable(dlq.kind);
  const base = { id: dlq.id, checked: 0, movedAside: 0 };
  deps.log(`${dlq.id} (${dlq.kind}) ${dlq.url}`);
  if (refusedKind) {
    deps.log(`  not redriven: ${refusedKind}`);
    return { ...base, outcome: "not-redrivable", reason: refusedKind };
  }
  const scan = await scanQueue(dlq, opts, deps);
  const checked = scan.scanned.length;
  if (checked === 0) {
    deps.log(`  empty (${scan.inFlight} in flight): nothing to redrive`);
    return { ...base, outcome: "empty" };
  }
  if (scan.truncated) {
    await release(dlq, scan.scanned, deps);
    const reason = `the queue holds about ${scan.visible} messages, more than --max ${opts.max}: not every payload could be checked; raise --max`;
    deps.log(`  refused: ${reason}`);
    return { ...base, checked, outcome: "refused", reason };
  }
  const blocked = scan.scanned.filter((m) => blocking(m) !== undefined);
  const good = scan.scanned.filter((m) => blocking(m) === undefined);
  for (const m of blocked) deps.log(`  ${blocking(m)}: ${describe(m)}`);
  const unchecked = blocked.filter((m) => blocking(m) === "unchecked");
  if (blocked.length > 0 && (!opts.expiredTo || unchecked.length > 0)) {
    await release(dlq, scan.scanned, deps);
    const reason =
      unchecked.length > 0
        ? `${unchecked.length} message(s) whose payload could not be checked; fix the access and run again`
        : `${blocked.length} message(s) would fail again (payload expired or message undecodable); pass --expired-to QUEUE_URL to move them aside first`;
    deps.log(`  refused: ${reason}`);
    return { ...base, checked, outcome: "refused", reason };
  }
  if (opts.dryRun) {
    await release(dlq, scan.scanned, deps);
    const aside = blocked.length > 0 ? `, ${blocked.length} would be moved to ${opts.expiredTo}` : "";
    deps.log(
      `  dry run: ${good.length} message(s) would move back to ${dlq.sourceArn ?? "their source"}${aside}`,
    );
    return { ...base, checked, outcome: "dry-run", movedAside: 0 };
  }
  const sqs = deps.sqs(dlq.region);
  // Send first, delete after: a crash between the two leaves a copy in both queues, never in none.
  for (const m of blocked) {
    const target = opts.expiredTo as string;
    await deps.sqs(regionOfQueueUrl(target) ?? dlq.region).send(
      new SendMessageCommand({
        QueueUrl: target,
        MessageBody: m.message.Body ?? "",
        ...(m.message.MessageAttributes ? { MessageAttributes: m.message.MessageAttributes } : {}),
      }),
    );
    await sqs.send(new DeleteMessageCommand({ QueueUrl: dlq.url, ReceiptHandle: m.receiptHandle }));
  }
  if (blocked.length > 0) deps.log(`  moved ${blocked.length} message(s) to ${opts.expiredTo}`);
  await release(dlq, good, deps);
  if (good.length === 0) return { ...base, checked, outcome: "empty", movedAside: blocked.length };

  // No DestinationArn: SQS moves each message back to the queue it was dead-lettered from.
  const task = await sqs.send(
    new StartMessageMoveTaskCommand({
      SourceArn: dlq.arn,
      ...(opts.rate !== undefined ? { MaxNumberOfMessagesPerSecond: opts.rate } : {}),
    }),
  );
  deps.log(`  move task started (${task.TaskHandle ?? "no handle"}), ${good.length} message(s) checked`);
  const started = deps.now().getTime();
  for (;;) {
    await deps.sleep(opts.pollSeconds * 1000);
    const list = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: dlq.arn, MaxResults: 1 }));
    const t = list.Results?.[0];
    const moved = t?.ApproximateNumberOfMessagesMoved ?? 0;
    const total = t?.ApproximateNumberOfMessagesToMove;
    const secs = Math.round((deps.now().getTime() - started) / 1000);
    deps.log(
      `  [${secs}s] ${t?.Status ?? "UNKNOWN"}: moved ${moved}${total !== undefined ? ` of ${total}` : ""}`,
    );
    if (t?.Status === "RUNNING" || t?.Status === "CANCELLING") continue;
    if (t?.Status === "COMPLETED") {
      return {
        ...base,
        checked,
        movedAside: blocked.length,
        outcome: "moved",
        taskHandle: task.TaskHandle,
        moved,
      };
    }
    const reason = t?.FailureReason ?? `the move task ended ${t?.Status ?? "without a status"}`;
    return {
      ...base,
      checked,
      movedAside: blocked.length,
      outcome: "failed",
      reason,
      taskHandle: task.TaskHandle,
      moved,
    };
  }
}

/** The Region of an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>), if it says. */
export function regionOfQueueUrl(url: string): string | undefined {
  return /^https:\/\/sqs\.([a-z0-9-]+)\.amazonaws\.com\//.exec(url)?.[1];
}
