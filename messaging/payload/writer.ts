// Writers: decide inline or offloaded by the extended clients' size rule, upload first, then publish
// the body or the pointer with the marker attribute.
import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { PublishCommand, type SNSClient } from "@aws-sdk/client-sns";
import { SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import {
  LEGACY_MARKER_ATTRIBUTE,
  MARKER_ATTRIBUTE,
  OUTSIDE_MESSAGE_CHARACTERS,
  attributeMap,
  attributesSize,
  markerAttribute,
  validateUserAttributes,
  type MessageAttributes,
} from "./attributes";
import { PayloadError } from "./errors";
import { formatPointer, type PayloadPointer } from "./pointer";
import {
  copyPayload,
  uploadPayload,
  validateStoreOptions,
  type PayloadBody,
  type S3Source,
  type StoreOptions,
  type StoredPayload,
} from "./store";

/** The SNS message limit, and this library's default threshold for both transports. */
export const DEFAULT_THRESHOLD = 262_144;
/** The most SQS accepts (since August 2025), and SNS with a raised topic limit. */
export const MAX_THRESHOLD = 1_048_576;

/** A UTF-16 surrogate without its pair. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Digits of the largest marker value: S3's 5 TiB object limit, 5,497,558,138,880 bytes. */
const MAX_MARKER_DIGITS = 13;
/** Characters of the random part of a key (a UUID). */
const KEY_ID_LENGTH = 36;

/** The defaults of {@link WriterOptions}' own options, as the code applies them. */
export const WRITER_DEFAULTS = {
  threshold: DEFAULT_THRESHOLD,
  alwaysThroughS3: false,
  legacyMarker: false,
} as const;

/**
 * Options shared by both writers: where payloads go, and when they are offloaded.
 * @example
 * ```ts
 * const options: WriterOptions = { s3, bucket: "payloads-111111111111-us-east-1", keyPrefix: "payloads/" };
 * ```
 */
export interface WriterOptions extends StoreOptions {
  /**
   * Offload when body + attributes are strictly larger than this many bytes, at most
   * {@link MAX_THRESHOLD}.
   * @default {@link DEFAULT_THRESHOLD}
   */
  threshold?: number;
  /**
   * Offload every payload whatever its size.
   * @default false
   */
  alwaysThroughS3?: boolean;
  /**
   * Write the legacy marker `SQSLargePayloadSize` instead of `ExtendedPayloadSize`.
   * @default false
   */
  legacyMarker?: boolean;
}

/**
 * The most an SNS or SQS message may carry, body and attributes together (the transports' limits).
 * SNS: 262,144 bytes, or the threshold when it is set higher (a topic with a raised limit).
 * SQS: 1,048,576 bytes.
 */
function messageLimit(transport: "sns" | "sqs", threshold: number): number {
  return transport === "sqs" ? MAX_THRESHOLD : Math.max(threshold, DEFAULT_THRESHOLD);
}

/** What to send: exactly one of `body` or `source`. */
export interface PayloadInput {
  /** Text, bytes or a stream of unknown length. Bytes that are not UTF-8 are always offloaded. */
  body?: PayloadBody;
  /** An object already in S3: always offloaded, copied server-side. */
  source?: S3Source;
  /** User attributes (at most 9; the marker names are reserved). */
  attributes?: MessageAttributes;
}

export interface SnsPublishInput extends PayloadInput {
  topicArn: string;
  subject?: string;
  /** FIFO topics. */
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

export interface SqsSendInput extends PayloadInput {
  queueUrl: string;
  delaySeconds?: number;
  /** FIFO queues. */
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

export interface WriteResult {
  /** The SNS or SQS message id. */
  messageId: string;
  offloaded: boolean;
  /** Set when offloaded. */
  pointer?: PayloadPointer;
  /** UTF-8 bytes of the payload (the value of the marker when offloaded). */
  size: number;
  /** Hex SHA-256 of the payload; undefined only for a copied source without a checksum tag. */
  sha256?: string;
}

/** A message ready to send: the body or pointer, with the marker when offloaded. */
export interface PreparedMessage {
  body: string;
  attributes: MessageAttributes;
  offloaded: boolean;
  pointer?: PayloadPointer;
  size: number;
  sha256?: string;
  /** A copied source's ETag, when its SHA-256 is unknown. */
  sourceETag?: string;
}

export function validateWriterOptions(options: WriterOptions): number {
  validateStoreOptions(options);
  const threshold = options.threshold ?? WRITER_DEFAULTS.threshold;
  if (!Number.isInteger(threshold) || threshold < 0 || threshold > MAX_THRESHOLD) {
    throw new PayloadError(
      "InvalidOption",
      `threshold must be an integer from 0 to ${MAX_THRESHOLD}, got ${threshold}`,
    );
  }
  return threshold;
}

/**
 * Pulls at most `limit + 1` bytes from a stream to decide inline vs offload without holding more
 * than that in memory. Returns the bytes read and, if the stream goes on, the rest.
 */
async function peek(
  stream: Readable,
  limit: number,
): Promise<{ head: Buffer[]; headBytes: number; rest?: AsyncIterable<Uint8Array | string> }> {
  const iterator = stream[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  while (headBytes <= limit) {
    const next = await iterator.next();
    if (next.done) return { head, headBytes };
    // Stryker disable next-line ConditionalExpression,EqualityOperator,StringLiteral: Buffer.from takes either; the branch is for the compiler's overloads.
    const chunk = typeof next.value === "string" ? Buffer.from(next.value) : Buffer.from(next.value);
    head.push(chunk);
    headBytes += chunk.length;
  }
  // Same iterator, not a second for-await: that would destroy the stream.
  const rest = { [Symbol.asyncIterator]: () => iterator };
  return {
    head,
    headBytes,
    rest: (async function* () {
      yield* head;
      yield* rest;
    })(),
  };
}

/**
 * Refuses, before anything is uploaded, attributes that leave no room for the pointer and the
 * marker: found out after the upload, they would leave an orphan object and a refused publish.
 */
function assertPointerFits(
  attributes: MessageAttributes,
  options: WriterOptions,
  transport: "sns" | "sqs",
  limit: number,
  size: number | undefined,
): void {
  const pointerBytes = Buffer.byteLength(
    formatPointer({
      s3BucketName: options.bucket,
      s3Key: `${options.keyPrefix ?? ""}${"0".repeat(KEY_ID_LENGTH)}`,
    }),
  );
  const markerBytes =
    Buffer.byteLength(options.legacyMarker ? LEGACY_MARKER_ATTRIBUTE : MARKER_ATTRIBUTE) +
    "Number".length +
    (size === undefined ? MAX_MARKER_DIGITS : String(size).length);
  const attributeBytes = attributesSize(attributes);
  const total = pointerBytes + markerBytes + attributeBytes;
  if (total <= limit) return;
  const [largest, largestBytes] = Object.keys(attributes)
    .map((name) => [name, attributesSize({ [name]: attributes[name] })] as const)
    .reduce((a, b) => (b[1] > a[1] ? b : a));
  throw new PayloadError(
    "InvalidAttribute",
    `attributes take ${attributeBytes} bytes (the largest, "${largest}", ${largestBytes}); with the pointer ` +
      `(${pointerBytes}) and the marker (${markerBytes}) the offloaded message would be ${total} bytes, ` +
      `over the ${transport.toUpperCase()} limit of ${limit}: shorten the attribute or carry it in the payload`,
  );
}

/** True when SQS would refuse the text as a body (or SNS fail to deliver it to SQS). */
function transportRefuses(text: string): boolean {
  return OUTSIDE_MESSAGE_CHARACTERS.test(text);
}

/**
 * Offloads the payload when the size rule says so (the upload finishes first) and returns what to
 * send. Shared by the single and batch writers, so both apply the same rule.
 */
export async function prepare(
  input: PayloadInput,
  options: WriterOptions,
  transport: "sns" | "sqs",
): Promise<PreparedMessage> {
  const threshold = validateWriterOptions(options);
  validateUserAttributes(input.attributes);
  const attributes = Object.assign(attributeMap(), input.attributes);
  const limit = messageLimit(transport, threshold);
  const given = [input.body !== undefined && "body", input.source !== undefined && "source"].filter(Boolean);
  if (given.length !== 1) {
    throw new PayloadError(
      "InvalidBody",
      `exactly one of body or source is required, got ${given.length ? given.join(" and ") : "neither"}`,
    );
  }
  const offload = async (store: () => Promise<StoredPayload>, size?: number): Promise<PreparedMessage> => {
    assertPointerFits(attributes, options, transport, limit, size);
    const stored = await store();
    return {
      body: formatPointer(stored.pointer),
      attributes: Object.assign(
        attributeMap(),
        attributes,
        markerAttribute(stored.size, options.legacyMarker),
      ),
      offloaded: true,
      pointer: stored.pointer,
      size: stored.size,
      sha256: stored.sha256,
      ...(stored.sourceETag ? { sourceETag: stored.sourceETag } : {}),
    };
  };
  if (input.source !== undefined) {
    const { bucket, key } = input.source;
    if (typeof bucket !== "string" || !bucket || typeof key !== "string" || !key) {
      throw new PayloadError(
        "InvalidBody",
        `source must be {bucket, key} with non-empty strings, got ${JSON.stringify(input.source)}`,
      );
    }
    return offload(() => copyPayload(input.source as S3Source, options));
  }
  const body = input.body as PayloadBody;
  // Room left for the body once attributes are counted; the threshold itself still fits inline.
  const bodyLimit = threshold - attributesSize(attributes);
  let bytes: Buffer;
  if (typeof body === "string") {
    // A lone surrogate has no UTF-8 form: encoding would silently put U+FFFD in its place.
    if (LONE_SURROGATE.test(body)) {
      throw new PayloadError(
        "InvalidBody",
        "body is a string with a lone UTF-16 surrogate, which has no UTF-8 form; send the bytes instead",
      );
    }
    bytes = Buffer.from(body);
  } else if (body instanceof Uint8Array) {
    bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  } else if (body instanceof Readable) {
    // Stryker disable next-line ConditionalExpression: without this early return the head is buffered and the same option offloads it below; only memory differs.
    if (options.alwaysThroughS3) return offload(() => uploadPayload(body, options));
    const { head, headBytes, rest } = await peek(body, Math.max(bodyLimit, 0));
    if (rest) return offload(() => uploadPayload(rest, options));
    bytes = Buffer.concat(head, headBytes);
  } else {
    throw new PayloadError(
      "InvalidBody",
      `body must be a string, a Buffer/Uint8Array or a Readable, got ${typeof body}`,
    );
  }
  // SNS and SQS bodies are text: bytes that are not UTF-8, or UTF-8 with characters SQS refuses
  // (NUL, other C0 controls, U+FFFE, U+FFFF), can only travel through S3, where they stay intact.
  if (
    options.alwaysThroughS3 ||
    bytes.length > bodyLimit ||
    !isUtf8(bytes) ||
    transportRefuses(bytes.toString("utf8"))
  ) {
    return offload(() => uploadPayload(bytes, options), bytes.length);
  }
  if (bytes.length === 0)
    throw new PayloadError("InvalidBody", "body is empty: SNS and SQS refuse empty messages");
  return {
    body: bytes.toString("utf8"),
    attributes,
    offloaded: false,
    size: bytes.length,
    sha256: createHash("sha256").update(bytes).digest("hex"),
  };
}

export function result(prepared: PreparedMessage, messageId: string | undefined): WriteResult {
  if (!messageId) throw new Error("the publish response carried no MessageId");
  const { offloaded, pointer, size, sha256 } = prepared;
  return { messageId, offloaded, ...(pointer ? { pointer } : {}), size, sha256 };
}

/**
 * SNS topic and SQS queue names of FIFO targets must end in ".fifo" (CreateTopic, CreateQueue).
 *
 * @example isFifoTarget("https://sqs.us-east-1.amazonaws.com/111111111111/orders.fifo"); // true
 */
export function isFifoTarget(topicArnOrQueueUrl: string): boolean {
  return topicArnOrQueueUrl.endsWith(".fifo");
}

// MessageGroupId and MessageDeduplicationId: 1-128 characters of alphanumerics and ASCII
// punctuation (SNS Publish / SQS SendMessage API reference).
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;

export interface FifoIds {
  messageGroupId?: string;
  messageDeduplicationId?: string;
}

/**
 * Checks the group id before anything is uploaded: a FIFO target refuses a message without one.
 * @throws PayloadError (InvalidOption) naming the field and the value.
 *
 * @example
 * checkFifoIds("orders.fifo", { messageGroupId: "a b" });
 * // throws PayloadError: messageGroupId must be 1-128 alphanumeric or punctuation characters, got "a b"
 */
export function checkFifoIds(target: string, ids: FifoIds): void {
  for (const field of ["messageGroupId", "messageDeduplicationId"] as const) {
    const value = ids[field];
    if (value !== undefined && (typeof value !== "string" || !FIFO_ID.test(value))) {
      throw new PayloadError(
        "InvalidOption",
        `${field} must be 1-128 alphanumeric or punctuation characters, got ${JSON.stringify(value)}`,
      );
    }
  }
  if (isFifoTarget(target) && ids.messageGroupId === undefined) {
    throw new PayloadError(
      "InvalidOption",
      `messageGroupId is required to send to the FIFO target ${target}`,
    );
  }
}

/**
 * The ids to send. On a FIFO target without a producer-given deduplication id, the payload's SHA-256
 * is used (for a copied source without a checksum tag, a digest of its ETag and size): content-based deduplication hashes the body, and an offloaded body is a pointer whose
 * random key differs on every send, so the same payload sent twice would never be deduplicated.
 * Attributes are not part of the id, as they are not part of content-based deduplication.
 */
export function fifoIds(target: string, ids: FifoIds, prepared: PreparedMessage): FifoIds {
  if (!isFifoTarget(target) || ids.messageDeduplicationId !== undefined) return ids;
  if (prepared.sha256 !== undefined) return { ...ids, messageDeduplicationId: prepared.sha256 };
  // A copied source without a checksum tag: its SHA-256 is unknown without reading every byte, so
  // the id comes from what S3 says of the source (ETag and size). The same staged object sent
  // twice then deduplicates; the same bytes staged twice may not (an SSE-KMS ETag is not an MD5).
  if (prepared.sourceETag !== undefined) {
    const basis = `s3-etag:${prepared.sourceETag}:${prepared.size}`;
    return { ...ids, messageDeduplicationId: createHash("sha256").update(basis).digest("hex") };
  }
  throw new PayloadError(
    "InvalidOption",
    "messageDeduplicationId is required: the payload's SHA-256 and its source's ETag are both unknown",
  );
}

/**
 * Publishes a payload to an SNS topic, offloading it to S3 first when it is over the threshold.
 * The upload completes before the publish starts; if the publish fails the error is thrown and no
 * message exists (the orphaned object is expired by the bucket's lifecycle rule).
 * @example
 * ```ts
 * const out = await publishToSns(
 *   new SNSClient({}),
 *   { topicArn: "arn:aws:sns:us-east-1:111111111111:payloads", body: createReadStream("sample.h5") },
 *   { s3: new S3Client({}), bucket: "payloads-111111111111-us-east-1", keyPrefix: "payloads/" },
 * );
 * // out.offloaded: the body went to S3 and the message carries a pointer to it
 * ```
 * More in docs/examples/publishing.ts.
 */
export async function publishToSns(
  sns: SNSClient,
  input: SnsPublishInput,
  options: WriterOptions,
): Promise<WriteResult> {
  if (typeof input.topicArn !== "string" || !input.topicArn.startsWith("arn:")) {
    throw new PayloadError(
      "InvalidOption",
      `topicArn must be an SNS topic ARN, got ${JSON.stringify(input.topicArn)}`,
    );
  }
  checkFifoIds(input.topicArn, input);
  const prepared = await prepare(input, options, "sns");
  const ids = fifoIds(input.topicArn, input, prepared);
  const out = await sns.send(
    new PublishCommand({
      TopicArn: input.topicArn,
      Message: prepared.body,
      MessageAttributes: prepared.attributes,
      Subject: input.subject,
      MessageGroupId: ids.messageGroupId,
      MessageDeduplicationId: ids.messageDeduplicationId,
    }),
    options.signal ? { abortSignal: options.signal } : undefined,
  );
  return result(prepared, out.MessageId);
}

/**
 * Sends a payload to an SQS queue, offloading it to S3 first when it is over the threshold.
 * @example
 * ```ts
 * await sendToSqs(
 *   new SQSClient({}),
 *   { queueUrl: "https://sqs.us-east-1.amazonaws.com/111111111111/work", body: "{\"job\":42}" },
 *   { s3: new S3Client({}), bucket: "payloads-111111111111-us-east-1", keyPrefix: "payloads/" },
 * );
 * ```
 */
export async function sendToSqs(
  sqs: SQSClient,
  input: SqsSendInput,
  options: WriterOptions,
): Promise<WriteResult> {
  if (typeof input.queueUrl !== "string" || !/^https?:\/\//.test(input.queueUrl)) {
    throw new PayloadError(
      "InvalidOption",
      `queueUrl must be an SQS queue URL, got ${JSON.stringify(input.queueUrl)}`,
    );
  }
  checkFifoIds(input.queueUrl, input);
  const prepared = await prepare(input, options, "sqs");
  const ids = fifoIds(input.queueUrl, input, prepared);
  const out = await sqs.send(
    new SendMessageCommand({
      QueueUrl: input.queueUrl,
      MessageBody: prepared.body,
      MessageAttributes: prepared.attributes,
      DelaySeconds: input.delaySeconds,
      MessageGroupId: ids.messageGroupId,
      MessageDeduplicationId: ids.messageDeduplicationId,
    }),
    options.signal ? { abortSignal: options.signal } : undefined,
  );
  return result(prepared, out.MessageId);
}
