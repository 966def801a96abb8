// Batch writers: up to 10 messages per PublishBatch / SendMessageBatch request, each entry offloaded
// on the single writers' size rule, requests split to stay under the transport's aggregate limit,
// and a result for every entry.
import { PublishBatchCommand, type SNSClient } from "@aws-sdk/client-sns";
import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { attributesSize } from "./attributes";
import { PayloadError } from "./errors";
import type { PayloadPointer } from "./pointer";
import {
  DEFAULT_THRESHOLD,
  MAX_THRESHOLD,
  checkFifoIds,
  fifoIds,
  isFifoTarget,
  prepare,
  result,
  validateWriterOptions,
  type FifoIds,
  type PayloadInput,
  type PreparedMessage,
  type WriteResult,
  type WriterOptions,
} from "./writer";

// Limits from the SNS PublishBatch and SQS SendMessageBatch API references:
// | limit                          | SNS PublishBatch                          | SQS SendMessageBatch |
// |--------------------------------|-------------------------------------------|----------------------|
// | entries per request            | 10                                        | 10                   |
// | entry Id                       | ≤ 80 of [A-Za-z0-9_-], unique per request | same                 |
// | sum of bodies and attributes   | the topic's MaximumMessageSize: 262,144   | 1,048,576 (since     |
// |                                | by default, up to 1,048,576               | August 2025)         |
/** Entries in one PublishBatch or SendMessageBatch request. */
export const MAX_BATCH_ENTRIES = 10;
/** Aggregate request size SNS accepts on a topic whose MaximumMessageSize was not raised. */
export const SNS_DEFAULT_BATCH_BYTES = DEFAULT_THRESHOLD;
/** Aggregate request size SQS accepts. */
export const SQS_DEFAULT_BATCH_BYTES = MAX_THRESHOLD;
const ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

/** The defaults of {@link BatchOptions}' own options (`maxBatchBytes` depends on the transport). */
export const BATCH_DEFAULTS = { uploadConcurrency: 8 } as const;

export interface BatchOptions extends WriterOptions {
  /**
   * Most bytes (bodies plus attributes) one request may carry: SNS 262,144 by default (set the
   * topic's MaximumMessageSize to go up to 1,048,576), SQS 1,048,576. Must be at least the threshold,
   * so every inline entry fits in a request of its own.
   * @default {@link SNS_DEFAULT_BATCH_BYTES} for SNS, {@link SQS_DEFAULT_BATCH_BYTES} for SQS
   */
  maxBatchBytes?: number;
  /**
   * Entries offloaded at the same time.
   * @default 8
   */
  uploadConcurrency?: number;
}

/** One entry: an id unique within the call, and the payload as the single writers take it. */
export interface BatchEntryInput extends PayloadInput, FifoIds {
  id: string;
}
export interface SnsBatchEntry extends BatchEntryInput {
  subject?: string;
}
export interface SqsBatchEntry extends BatchEntryInput {
  delaySeconds?: number;
}

export interface BatchSuccess extends WriteResult {
  id: string;
}

export interface BatchFailure {
  id: string;
  /** The SNS/SQS error code, the PayloadError code, or the error name of a failed request or upload. */
  code: string;
  reason: string;
  /** true when the entry itself is at fault, so sending it again unchanged fails again. */
  senderFault: boolean;
  /**
   * Set when the payload was offloaded before the send failed: no message points at this object, so
   * the caller may delete it (otherwise the bucket's lifecycle rule expires it).
   */
  pointer?: PayloadPointer;
}

export interface BatchResult {
  /** In entry order. */
  successful: BatchSuccess[];
  /** In entry order. Every entry is in exactly one of the two lists. */
  failed: BatchFailure[];
  /** Requests sent to SNS or SQS. */
  requests: number;
}

interface Prepared<E extends BatchEntryInput> {
  entry: E;
  message: PreparedMessage;
  ids: FifoIds;
  bytes: number;
}

interface Reply {
  successful: { Id?: string; MessageId?: string }[];
  failed: { Id?: string; Code?: string; Message?: string; SenderFault?: boolean }[];
}

interface Transport<E extends BatchEntryInput> {
  /** Which transport: its message limit bounds an offloaded entry's pointer and attributes. */
  kind: "sns" | "sqs";
  target: string;
  defaultBatchBytes: number;
  /** Bytes the transport counts for an entry beyond body and attributes. */
  extraBytes(entry: E): number;
  send(batch: Prepared<E>[]): Promise<Reply>;
}

/**
 * Publishes entries to an SNS topic with PublishBatch. Each entry is offloaded to S3 when over the
 * threshold; requests hold at most 10 entries and `maxBatchBytes`. Never throws for one entry: each
 * lands in `successful` or `failed`. On a FIFO topic entries keep their order, the deduplication id
 * defaults to the payload's SHA-256, and once an entry of a group fails every later entry of that
 * group is failed unsent, as sending it would reorder the group.
 * @throws PayloadError (InvalidOption) for a bad target, option or entry id, before any upload.
 * @example
 * ```ts
 * const { successful, failed } = await publishBatchToSns(
 *   sns,
 *   "arn:aws:sns:us-east-1:111111111111:payloads",
 *   [{ id: "a", body: "small" }, { id: "b", body: largeBuffer }],
 *   { s3, bucket: "payloads-111111111111-us-east-1", keyPrefix: "payloads/" },
 * );
 * for (const f of failed) console.error(f.id, f.code, f.reason); // retry these
 * ```
 */
export function publishBatchToSns(
  sns: SNSClient,
  topicArn: string,
  entries: SnsBatchEntry[],
  options: BatchOptions,
): Promise<BatchResult> {
  if (typeof topicArn !== "string" || !topicArn.startsWith("arn:")) {
    throw new PayloadError(
      "InvalidOption",
      `topicArn must be an SNS topic ARN, got ${JSON.stringify(topicArn)}`,
    );
  }
  return writeBatch(
    {
      kind: "sns",
      target: topicArn,
      defaultBatchBytes: SNS_DEFAULT_BATCH_BYTES,
      extraBytes: (entry) => Buffer.byteLength(entry.subject ?? ""),
      async send(batch) {
        const out = await sns.send(
          new PublishBatchCommand({
            TopicArn: topicArn,
            PublishBatchRequestEntries: batch.map(({ entry, message, ids }) => ({
              Id: entry.id,
              Message: message.body,
              MessageAttributes: message.attributes,
              Subject: entry.subject,
              MessageGroupId: ids.messageGroupId,
              MessageDeduplicationId: ids.messageDeduplicationId,
            })),
          }),
          // The caller's deadline stops a stalled request; its entries are then reported failed.
          options.signal ? { abortSignal: options.signal } : undefined,
        );
        // Stryker disable next-line ArrayDeclaration: a placeholder entry has no Id and is skipped, as an absent list is.
        return { successful: out.Successful ?? [], failed: out.Failed ?? [] };
      },
    },
    entries,
    options,
  );
}

/**
 * Sends entries to an SQS queue with SendMessageBatch; otherwise as {@link publishBatchToSns}.
 * @example
 * ```ts
 * const out = await sendBatchToSqs(sqs, queueUrl, [{ id: "a", body: "x", delaySeconds: 5 }], { s3, bucket });
 * ```
 */
export function sendBatchToSqs(
  sqs: SQSClient,
  queueUrl: string,
  entries: SqsBatchEntry[],
  options: BatchOptions,
): Promise<BatchResult> {
  if (typeof queueUrl !== "string" || !/^https?:\/\//.test(queueUrl)) {
    throw new PayloadError(
      "InvalidOption",
      `queueUrl must be an SQS queue URL, got ${JSON.stringify(queueUrl)}`,
    );
  }
  return writeBatch(
    {
      kind: "sqs",
      target: queueUrl,
      defaultBatchBytes: SQS_DEFAULT_BATCH_BYTES,
      extraBytes: () => 0,
      async send(batch) {
        const out = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: batch.map(({ entry, message, ids }) => ({
              Id: entry.id,
              MessageBody: message.body,
              MessageAttributes: message.attributes,
              DelaySeconds: entry.delaySeconds,
              MessageGroupId: ids.messageGroupId,
              MessageDeduplicationId: ids.messageDeduplicationId,
            })),
          }),
          // The caller's deadline stops a stalled request; its entries are then reported failed.
          options.signal ? { abortSignal: options.signal } : undefined,
        );
        // Stryker disable next-line ArrayDeclaration: a placeholder entry has no Id and is skipped, as an absent list is.
        return { successful: out.Successful ?? [], failed: out.Failed ?? [] };
      },
    },
    entries,
    options,
  );
}

function checkBatch(entries: BatchEntryInput[], options: BatchOptions, defaultBatchBytes: number): number {
  if (!Array.isArray(entries)) {
    throw new PayloadError("InvalidOption", `entries must be a list, got ${typeof entries}`);
  }
  const seen = new Set<string>();
  entries.forEach((entry, index) => {
    const id = (entry as { id?: unknown } | null)?.id;
    if (typeof id !== "string" || !ENTRY_ID.test(id)) {
      throw new PayloadError(
        "InvalidOption",
        `entries[${index}].id must be 1-80 of [A-Za-z0-9_-], got ${JSON.stringify(id)}`,
      );
    }
    // Results are reported by id; two entries with one id could not be told apart.
    if (seen.has(id))
      throw new PayloadError("InvalidOption", `entries[${index}].id ${JSON.stringify(id)} is a duplicate`);
    seen.add(id);
  });
  const maxBatchBytes = options.maxBatchBytes ?? defaultBatchBytes;
  const threshold = validateWriterOptions(options);
  if (!Number.isInteger(maxBatchBytes) || maxBatchBytes < 1 || maxBatchBytes > MAX_THRESHOLD) {
    throw new PayloadError(
      "InvalidOption",
      `maxBatchBytes must be an integer from 1 to ${MAX_THRESHOLD}, got ${maxBatchBytes}`,
    );
  }
  if (threshold > maxBatchBytes) {
    throw new PayloadError(
      "InvalidOption",
      `threshold ${threshold} is above maxBatchBytes ${maxBatchBytes}: an inline entry could fit in no request; lower the threshold or raise maxBatchBytes (SNS: to the topic's MaximumMessageSize)`,
    );
  }
  const concurrency = options.uploadConcurrency ?? BATCH_DEFAULTS.uploadConcurrency;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new PayloadError(
      "InvalidOption",
      `uploadConcurrency must be a positive integer, got ${concurrency}`,
    );
  }
  return maxBatchBytes;
}

function failure(id: string, error: unknown, pointer?: PayloadPointer): BatchFailure {
  const e = error as { code?: unknown; name?: string; message?: string; $fault?: string };
  const payloadError = error instanceof PayloadError;
  return {
    id,
    // Stryker disable next-line StringLiteral: every Error has a name; the fallback is for a thrown non-Error.
    code: payloadError ? (e.code as string) : (e.name ?? "Error"),
    reason: e.message ?? String(error),
    senderFault: payloadError || e.$fault === "client",
    ...(pointer ? { pointer } : {}),
  };
}

/** Runs `work` over `items` with at most `limit` in flight, keeping results in item order. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  // Stryker disable next-line ArrayDeclaration: every index is filled; the length only sizes the array up front.
  const out = new Array<R>(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await work(items[i]);
    }
  });
  await Promise.all(lanes);
  return out;
}

/** Consecutive entries packed into requests of at most 10 entries and `maxBytes`, in entry order. */
export function packRequests<T extends { bytes: number }>(items: T[], maxBytes: number): T[][] {
  const requests: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    if (current.length === MAX_BATCH_ENTRIES || (current.length > 0 && bytes + item.bytes > maxBytes)) {
      requests.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += item.bytes;
  }
  if (current.length) requests.push(current);
  return requests;
}

async function writeBatch<E extends BatchEntryInput>(
  transport: Transport<E>,
  entries: E[],
  options: BatchOptions,
): Promise<BatchResult> {
  const maxBatchBytes = checkBatch(entries, options, transport.defaultBatchBytes);
  const fifo = isFifoTarget(transport.target);
  const failed = new Map<string, BatchFailure>();
  const succeeded = new Map<string, BatchSuccess>();

  // Offload first, every entry on its own: one bad entry must not cost the others their send.
  const prepared = await mapLimited(
    entries,
    options.uploadConcurrency ?? BATCH_DEFAULTS.uploadConcurrency,
    async (entry) => {
      let message: PreparedMessage | undefined;
      try {
        checkFifoIds(transport.target, entry);
        message = await prepare(entry, options, transport.kind);
        const ids = fifoIds(transport.target, entry, message);
        const bytes =
          Buffer.byteLength(message.body) + attributesSize(message.attributes) + transport.extraBytes(entry);
        return { entry, message, ids, bytes } satisfies Prepared<E>;
      } catch (error) {
        failed.set(entry.id, failure(entry.id, error, message?.pointer));
        return undefined;
      }
    },
  );

  // On a FIFO target a group's order is its send order: after one of its entries fails, sending a
  // later one would deliver it ahead of the failed one's retry.
  const position = new Map(entries.map((e, i) => [e.id, i]));
  const brokenGroups = new Map<string, { id: string; index: number }>();
  const holdBack = (item: Prepared<E>): boolean => {
    const group = item.ids.messageGroupId;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: brokenGroups holds FIFO groups only, so get() finds nothing outside them.
    const blocker = fifo && group !== undefined ? brokenGroups.get(group) : undefined;
    if (blocker === undefined || blocker.index > (position.get(item.entry.id) as number)) return false;
    failed.set(item.entry.id, {
      id: item.entry.id,
      code: "PrecedingEntryFailed",
      reason: `not sent: entry ${blocker.id} of message group ${JSON.stringify(group)} failed before it, and FIFO order forbids sending past it`,
      senderFault: false,
      ...(item.message.pointer ? { pointer: item.message.pointer } : {}),
    });
    return true;
  };
  const breakGroup = (entry: E, ids: FifoIds | undefined) => {
    const group = ids?.messageGroupId ?? entry.messageGroupId;
    const index = position.get(entry.id) as number;
    // Stryker disable next-line ConditionalExpression: nothing is stored under undefined, so get(undefined) is undefined too.
    const known = group !== undefined ? brokenGroups.get(group) : undefined;
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a group stored outside FIFO is never looked up (holdBack asks only on FIFO).
    if (fifo && group !== undefined && (!known || known.index > index)) {
      brokenGroups.set(group, { id: entry.id, index });
    }
  };
  entries.forEach((entry, i) => {
    if (!prepared[i]) breakGroup(entry, undefined);
  });

  let pending = prepared.filter((p): p is Prepared<E> => p !== undefined && !holdBack(p));
  let requests = 0;
  while (pending.length) {
    const [batch] = packRequests(pending, maxBatchBytes);
    pending = pending.slice(batch.length);
    requests++;
    let reply: Reply;
    try {
      reply = await transport.send(batch);
    } catch (error) {
      // The whole request failed (throttled past the SDK's retries, refused, cut): every entry in it
      // is reported with the request's error.
      // Stryker disable next-line ArrayDeclaration: a placeholder entry has no Id and is skipped.
      reply = { successful: [], failed: [] };
      for (const item of batch)
        failed.set(item.entry.id, failure(item.entry.id, error, item.message.pointer));
    }
    const byId = new Map(batch.map((item) => [item.entry.id, item]));
    for (const ok of reply.successful) {
      // Stryker disable next-line ConditionalExpression: no entry is stored under undefined.
      const item = ok.Id !== undefined ? byId.get(ok.Id) : undefined;
      if (!item || !ok.MessageId) continue;
      succeeded.set(item.entry.id, { id: item.entry.id, ...result(item.message, ok.MessageId) });
    }
    for (const bad of reply.failed) {
      // Stryker disable next-line ConditionalExpression: no entry is stored under undefined.
      const item = bad.Id !== undefined ? byId.get(bad.Id) : undefined;
      if (!item || succeeded.has(item.entry.id)) continue;
      failed.set(item.entry.id, {
        id: item.entry.id,
        code: bad.Code ?? "Unknown",
        reason: bad.Message ?? "no reason given",
        senderFault: bad.SenderFault ?? false,
        ...(item.message.pointer ? { pointer: item.message.pointer } : {}),
      });
    }
    for (const item of batch) {
      const id = item.entry.id;
      if (!succeeded.has(id) && !failed.has(id)) {
        failed.set(id, {
          id,
          code: "NoResult",
          reason: "the response listed this entry neither as successful nor as failed",
          senderFault: false,
          ...(item.message.pointer ? { pointer: item.message.pointer } : {}),
        });
      }
      if (failed.has(id)) breakGroup(item.entry, item.ids);
    }
    pending = pending.filter((p) => !holdBack(p));
  }

  const inOrder = <T>(map: Map<string, T>) =>
    entries.flatMap((e) => (map.has(e.id) ? [map.get(e.id) as T] : []));
  return { successful: inOrder(succeeded), failed: inOrder(failed), requests };
}
