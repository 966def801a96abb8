// The dead-letter queues of a stack, as `npm run dlq` sees them, and what their messages carry. No
// Pulumi import: the command reads these from the stack outputs (or from explicit flags).
import type { Message } from "@aws-sdk/client-sqs";
import {
  PayloadError,
  resolveSnsRecord,
  resolveSqsMessage,
  type SnsLambdaRecord,
  type SqsDelivery,
} from "../payload";
import type { S3Client } from "@aws-sdk/client-s3";

/**
 * - queue-dlq: the DLQ of an SNS-fed queue (subscriber with delivery sqs). SQS can move its messages
 *   back to the queue with StartMessageMoveTask.
 * - subscription-dlq: messages SNS could not deliver to the subscription's endpoint.
 * - on-failure: Lambda's on-failure destination records (subscriber with delivery lambda).
 * - publisher-failures: events EventBridge could not deliver, and the publisher's failed invocations.
 */
export type DeadLetterKind = "queue-dlq" | "subscription-dlq" | "on-failure" | "publisher-failures";
export const DEAD_LETTER_KINDS: readonly DeadLetterKind[] = [
  "queue-dlq",
  "subscription-dlq",
  "on-failure",
  "publisher-failures",
];

export interface DeadLetterQueue {
  /** "<part>/<queue>", e.g. "b/dlq"; "explicit" for a queue given by URL. */
  id: string;
  kind: DeadLetterKind;
  part: string;
  url: string;
  arn: string;
  region: string;
  /** queue-dlq: the queue SQS moves its messages back to. */
  sourceArn?: string;
  payloadBucket: string;
  payloadBucketRegion: string;
}

/**
 * Why a kind cannot be redriven with StartMessageMoveTask, and what to do instead; undefined when
 * it can. SQS moves messages only out of a queue that is the DLQ of another SQS queue: "Non-SQS
 * queue sources of dead-letter queues, such as AWS Lambda or Amazon SNS topics, are currently not
 * supported" (API_StartMessageMoveTask).
 */
export function notRedrivable(kind: DeadLetterKind): string | undefined {
  switch (kind) {
    case "queue-dlq":
      return undefined;
    case "subscription-dlq":
      return "SNS, not a queue, dead-lettered these messages, and SQS moves messages only back to a source queue: fix the endpoint, then republish the bodies to the topic";
    case "on-failure":
      return "these are Lambda on-failure records (the original SNS event is in requestPayload), not messages of a source queue: fix the cause, then invoke the function again with each record's requestPayload";
    case "publisher-failures":
      return "these are events EventBridge or the publisher function gave up on: fix the cause, then put each event on the bus again";
  }
}

/** What one dead-lettered message refers to. */
export interface DecodedMessage {
  /** The S3 object the payload is in (an offloaded payload, or a publisher event's staged source). */
  object?: { bucket: string; key: string };
  /** Payload bytes, as the message states them. */
  size?: number;
  /** "inline" | "offloaded" | "event" (a publisher event), or undecodable with the reason. */
  form: "inline" | "offloaded" | "event" | "undecodable";
  problem?: string;
  /** A short text preview of an inline body. */
  preview?: string;
}

const PREVIEW = 80;
const preview = (text: string) => (text.length > PREVIEW ? `${text.slice(0, PREVIEW)}…` : text);

/**
 * Pure (no S3 call): decodes a dead-lettered message by its queue's kind. `s3` is only handed to the
 * reader, which opens nothing until asked.
 */
export function decodeMessage(dlq: DeadLetterQueue, message: Message, s3: S3Client): DecodedMessage {
  // The subscriber's queue has raw delivery (the program sets it); a subscription DLQ holds what SNS
  // failed to deliver, an envelope when the subscription is not raw (e.g. lambda).
  const body = message.Body ?? "";
  const sqsDelivery: SqsDelivery =
    dlq.kind === "subscription-dlq" && isSnsEnvelope(body) ? "envelope" : "raw";
  const reader = { s3, allowedBuckets: [dlq.payloadBucket], sqsDelivery };
  const fromResolved = (r: ReturnType<typeof resolveSqsMessage>, body: string): DecodedMessage =>
    r.pointer
      ? { form: "offloaded", object: { bucket: r.pointer.s3BucketName, key: r.pointer.s3Key }, size: r.size }
      : { form: "inline", size: r.size, preview: preview(body) };
  try {
    if (dlq.kind === "queue-dlq" || dlq.kind === "subscription-dlq") {
      return fromResolved(resolveSqsMessage(message, reader), body);
    }
    const parsed = JSON.parse(body) as Record<string, unknown>;
    // Lambda destination records carry the invocation's event as requestPayload.
    const event = (parsed.requestPayload ?? parsed) as Record<string, unknown>;
    if (dlq.kind === "on-failure") {
      const record = (event.Records as unknown[] | undefined)?.[0] as SnsLambdaRecord | undefined;
      if (!record?.Sns)
        return { form: "undecodable", problem: "no SNS record in the on-failure record's requestPayload" };
      const resolved = resolveSnsRecord(record, reader);
      return fromResolved(resolved, String(record.Sns.Message ?? ""));
    }
    const detail = event.detail as
      { payload?: unknown; payloadBase64?: unknown; source?: unknown } | undefined;
    if (!detail) return { form: "undecodable", problem: "no EventBridge event detail" };
    const source = detail.source as { bucket?: unknown; key?: unknown } | undefined;
    if (source && typeof source.bucket === "string" && typeof source.key === "string") {
      return { form: "event", object: { bucket: source.bucket, key: source.key } };
    }
    const inline = typeof detail.payload === "string" ? detail.payload : undefined;
    return {
      form: "event",
      ...(inline !== undefined ? { preview: preview(inline), size: Buffer.byteLength(inline) } : {}),
    };
  } catch (error) {
    const code = error instanceof PayloadError ? `${error.code}: ` : "";
    return { form: "undecodable", problem: `${code}${(error as Error).message}` };
  }
}

/** Whether a body is an SNS notification envelope (JSON with Type Notification and a TopicArn). */
function isSnsEnvelope(body: string): boolean {
  if (!body.trimStart().startsWith("{")) return false;
  try {
    const parsed = JSON.parse(body) as { Type?: unknown; TopicArn?: unknown };
    return parsed.Type === "Notification" && typeof parsed.TopicArn === "string";
  } catch {
    return false;
  }
}
