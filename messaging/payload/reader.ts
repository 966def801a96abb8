// Readers: turn a received message (from any delivery path) into its payload. Parsing and the bucket
// allow-list happen synchronously, before any S3 request; the bytes are fetched only when asked.
import { isUtf8 } from "node:buffer";
import {
  ReceiveMessageCommand,
  type Message as SqsMessage,
  type ReceiveMessageCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { S3Client } from "@aws-sdk/client-s3";
import {
  MAX_USER_ATTRIBUTES,
  MARKER_ATTRIBUTE_NAMES,
  fromLambdaSqsAttributes,
  attributeMap,
  fromSnsJsonAttributes,
  splitMarker,
  type LambdaSqsAttribute,
  type MessageAttributes,
  type SnsJsonAttribute,
} from "./attributes";
import { PayloadError } from "./errors";
import { parsePointer, type PayloadPointer } from "./pointer";
import { openPayloadFrom, validateReplicaOptions, type ReplicaMap } from "./replica";
import {
  assertLocationAllowed,
  inlinePayloadStream,
  validateLocationRules,
  type PayloadLocationRules,
  type PayloadReadFrom,
  type PayloadStream,
} from "./store";

/**
 * How an SQS queue's SNS subscription delivers, a fact of its configuration:
 * - "raw": RawMessageDelivery on. The body is the message as published and is never unwrapped,
 *   even when it is itself SNS-notification JSON (a forwarded S3 event, say).
 * - "envelope": RawMessageDelivery off. Every body is SNS's JSON envelope; the payload or pointer
 *   and the attributes are inside it, and a body that is not an envelope is refused.
 */
export type SqsDelivery = "raw" | "envelope";

/** How received messages are resolved. */
export interface ReaderOptions extends PayloadLocationRules {
  /** Client for the payload bucket: give it the bucket's Region, or `followRegionRedirects: true`. */
  s3: S3Client;
  /**
   * How the queue's subscription delivers (SQS readers only). Say it: without it, a body that looks
   * like an SNS envelope is refused (`UnexpectedEnvelope`), since it may be a payload or an envelope
   * and only the subscription's configuration knows which.
   * @default none (an envelope-looking body is refused)
   */
  sqsDelivery?: SqsDelivery;
  /**
   * Aborts the S3 requests and streams of messages resolved with these options (a deadline).
   * @default none (no deadline)
   */
  signal?: AbortSignal;
  /**
   * Region-local replicas by origin bucket: a pointer naming an origin here is read from its
   * replica when the replica holds the object with the origin's checksum tag, and from the origin
   * otherwise (docs/replicas.md). Both buckets must be in `allowedBuckets`; give each replica the
   * client of its Region (the reader's own).
   * @default none (every pointer is read from the bucket it names)
   */
  replicas?: ReplicaMap;
  /**
   * How long a replica read waits for the origin's checksum tag once the replica has answered
   * complete, before serving the replica verified against its own tag as in an outage.
   * @default {@link DEFAULT_ORIGIN_TAG_WAIT_MS}
   */
  originTagWaitMs?: number;
}

/** Default ceiling of `text()`, so a caller cannot pull a 2 GiB payload into a string by accident. */
export const DEFAULT_MAX_TEXT_BYTES = 64 * 1024 * 1024;

/** A received message, parsed. Its payload is read on demand. */
export interface ResolvedMessage {
  /** The delivering service's message id (SQS or SNS), when the input carried one. */
  messageId?: string;
  offloaded: boolean;
  /** The S3 object, when offloaded. */
  pointer: PayloadPointer | null;
  /** Payload bytes: the marker's value when offloaded, the body's UTF-8 length when inline. */
  size: number;
  /** User attributes, the marker removed. */
  attributes: MessageAttributes;
  /**
   * Opens the payload as a stream. It errors instead of ending if the bytes do not match the stored
   * checksum or the marker's size. Each call opens a new read. Never deletes the object: other
   * subscribers of the same topic read it too.
   */
  stream(): Promise<PayloadStream>;
  /**
   * Reads the payload into a UTF-8 string, verified; a payload that is not UTF-8 is refused
   * (InvalidBody) rather than decoded with replacement characters.
   * @throws PayloadError (TooLarge) before any S3 call when `size` exceeds `maxBytes`, and as soon as
   * more than `maxBytes` arrive whatever the marker said.
   */
  text(maxBytes?: number): Promise<string>;
  /** Where the last read's bytes came from (replica or origin) and why; undefined before a read and for inline payloads. */
  readonly readFrom?: PayloadReadFrom;
}

/** The body and attributes of a message, whatever shape its transport delivered them in. */
export interface ReceivedMessage {
  messageId?: string;
  body: string;
  attributes: MessageAttributes;
  /** The message came through SQS, from a subscription that delivers as `sqsDelivery` says. */
  viaSqs?: boolean;
}

function resolved(message: ReceivedMessage, options: ReaderOptions): ResolvedMessage {
  if (typeof message.body !== "string") {
    throw new PayloadError(
      "InvalidBody",
      `message ${message.messageId ?? ""} has no string body`.replace("  ", " "),
    );
  }
  validateLocationRules(options);
  validateReplicaOptions(options);
  const { body, attributes } = message.viaSqs ? sqsBody(message, options.sqsDelivery) : message;
  const { markerSize, user } = splitMarker(attributes);
  const tooLarge = (size: number, maxBytes: number) =>
    new PayloadError(
      "TooLarge",
      `payload is ${size} bytes, over the ${maxBytes}-byte limit for text(); use stream()`,
    );
  if (markerSize === undefined) {
    const bytes = Buffer.from(body);
    return {
      messageId: message.messageId,
      offloaded: false,
      pointer: null,
      size: bytes.length,
      attributes: user,
      stream: async () => inlinePayloadStream(bytes),
      text: async (maxBytes = DEFAULT_MAX_TEXT_BYTES) => {
        if (bytes.length > maxBytes) throw tooLarge(bytes.length, maxBytes);
        return body;
      },
    };
  }
  const userCount = Object.keys(user).length;
  if (userCount > MAX_USER_ATTRIBUTES) {
    throw new PayloadError(
      "InvalidAttribute",
      `offloaded message carries ${userCount} user attributes; at most ${MAX_USER_ATTRIBUTES} fit beside the marker`,
    );
  }
  const pointer = parsePointer(body);
  assertLocationAllowed(pointer, options);
  // Set once a replica's bytes failed verification: later reads of this message go to the origin.
  let replicaRefused: string | undefined;
  const open = async (maxBytes?: number) => {
    const stream = await openPayloadFrom(pointer, {
      s3: options.s3,
      allowedBuckets: options.allowedBuckets,
      allowedKeyPrefixes: options.allowedKeyPrefixes,
      replicas: options.replicas,
      originTagWaitMs: options.originTagWaitMs,
      ...(replicaRefused !== undefined ? { originOnly: "replica-verify-failed" as const } : {}),
      expectedSize: markerSize,
      maxBytes,
      signal: options.signal,
    });
    if (replicaRefused !== undefined && stream.readFrom) stream.readFrom.detail = replicaRefused;
    out.readFrom = stream.readFrom;
    // Stryker disable next-line OptionalChaining: openPayloadFrom sets readFrom on every stream it returns.
    if (stream.readFrom?.from === "replica") {
      stream.once("error", (error) => {
        if (isVerificationError(error)) replicaRefused = error.message;
      });
    }
    return stream;
  };
  const out: ResolvedMessage & { readFrom?: PayloadReadFrom } = {
    messageId: message.messageId,
    offloaded: true,
    pointer,
    size: markerSize,
    attributes: user,
    stream: () => open(),
    text: async (maxBytes = DEFAULT_MAX_TEXT_BYTES) => {
      if (markerSize > maxBytes) throw tooLarge(markerSize, maxBytes);
      const bytes = await readVerified(
        () => open(maxBytes),
        async (stream) => {
          const chunks: Buffer[] = [];
          // The bound is enforced on the bytes too: a marker can lie.
          for await (const chunk of stream) chunks.push(chunk as Buffer);
          return Buffer.concat(chunks);
        },
      );
      // Decoding would replace every invalid sequence with U+FFFD: other data, with no error.
      if (!isUtf8(bytes)) {
        throw new PayloadError(
          "InvalidBody",
          `payload s3://${pointer.s3BucketName}/${pointer.s3Key} is not UTF-8 text; read it with stream()`,
        );
      }
      return bytes.toString("utf8");
    },
  };
  return out;
}

/** A replica's bytes or size did not match: the origin is read instead. */
function isVerificationError(error: unknown): error is PayloadError {
  return (
    error instanceof PayloadError && (error.code === "ChecksumMismatch" || error.code === "SizeMismatch")
  );
}

/**
 * Reads a payload to its end with `consume`; when the bytes came from a replica and failed
 * verification, reads them once more from the origin (the replica is never trusted over it). The
 * consumer has kept nothing of the refused bytes: they never passed verification.
 */
async function readVerified<T>(
  open: () => Promise<PayloadStream>,
  consume: (stream: PayloadStream) => Promise<T>,
): Promise<T> {
  const stream = await open();
  try {
    return await consume(stream);
  } catch (error) {
    // Stryker disable next-line OptionalChaining: openPayloadFrom sets readFrom on every stream it returns.
    if (stream.readFrom?.from !== "replica" || !isVerificationError(error)) throw error;
    return consume(await open());
  }
}

/** The message an SQS body carries, as the subscription's delivery mode says to read it. */
function sqsBody(
  message: ReceivedMessage,
  delivery: SqsDelivery | undefined,
): { body: string; attributes: MessageAttributes } {
  if (delivery === "raw") return message;
  const envelope = snsEnvelopeOf(message.body);
  const id = message.messageId ?? "(no id)";
  if (delivery === "envelope") {
    if (!envelope) {
      throw new PayloadError(
        "MalformedEnvelope",
        `message ${id}: the subscription delivers SNS envelopes (sqsDelivery "envelope"), but the SQS body ` +
          "is not an SNS notification (JSON with Type Notification, a TopicArn and a string Message)",
      );
    }
    return unwrapEnvelope(envelope);
  }
  if (delivery !== undefined) {
    throw new PayloadError(
      "InvalidOption",
      `sqsDelivery must be "raw" or "envelope", got ${JSON.stringify(delivery)}`,
    );
  }
  if (envelope) {
    throw new PayloadError(
      "UnexpectedEnvelope",
      `message ${id}: the SQS body is an SNS notification envelope (TopicArn ${envelope.TopicArn}). ` +
        'Say how the subscription delivers: sqsDelivery "envelope" if RawMessageDelivery is off, ' +
        '"raw" if it is on (the payload itself is then SNS-notification JSON)',
    );
  }
  return message;
}

interface SnsEnvelope {
  Type: "Notification";
  TopicArn: string;
  Message?: unknown;
  MessageAttributes?: unknown;
}

/** The SNS JSON envelope (raw delivery off), when `body` is one: `Type` Notification with a TopicArn. */
function snsEnvelopeOf(body: string): SnsEnvelope | undefined {
  // Stryker disable next-line ConditionalExpression,StringLiteral: a fast path; JSON.parse refuses what it skips.
  if (!body.trimStart().startsWith("{")) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  // Text that starts with "{" parses to an object or not at all.
  const envelope = parsed as Partial<SnsEnvelope>;
  if (envelope.Type !== "Notification" || typeof envelope.TopicArn !== "string") return undefined;
  return envelope as SnsEnvelope;
}

/** The payload or pointer is the envelope's `Message`, and the attributes are inside it. */
function unwrapEnvelope(envelope: SnsEnvelope): { body: string; attributes: MessageAttributes } {
  if (typeof envelope.Message !== "string") {
    throw new PayloadError("MalformedEnvelope", "SNS envelope has no string Message");
  }
  return {
    body: envelope.Message,
    attributes: fromSnsJsonAttributes(
      envelope.MessageAttributes as Record<string, SnsJsonAttribute> | undefined,
    ),
  };
}

/**
 * Resolves a message from SQS ReceiveMessage. Receive with `MessageAttributeNames` including
 * `MARKER_ATTRIBUTE_NAMES` (or "All"): SQS omits attributes nobody asked for.
 * @example
 * ```ts
 * const message = resolveSqsMessage(received, { s3, allowedBuckets: [bucket], sqsDelivery: "raw" });
 * const text = await message.text(); // read to its end and verified
 * ```
 */
export function resolveSqsMessage(message: SqsMessage, options: ReaderOptions): ResolvedMessage {
  const attributes = attributeMap();
  for (const [name, a] of Object.entries(message.MessageAttributes ?? {})) {
    if (typeof a !== "object" || a === null) {
      // The SDK's JSON deserializer (@smithy/core) loses the value of a map key named "__proto__":
      // refuse the message, so the attribute is not silently dropped.
      throw new PayloadError(
        "InvalidAttribute",
        `message ${message.MessageId ?? "(no id)"}: attribute "${name}" arrived without a value ` +
          "(the AWS SDK for JavaScript drops the value of an attribute named __proto__ on receive)",
      );
    }
    attributes[name] = {
      DataType: a.DataType ?? "String",
      StringValue: a.StringValue,
      BinaryValue: a.BinaryValue,
    };
  }
  return resolved(
    { messageId: message.MessageId, body: message.Body as string, attributes, viaSqs: true },
    options,
  );
}

/** A received SQS message with its payload resolved, and the handle to delete it with. */
export interface ReceivedPayload {
  message: ResolvedMessage;
  receiptHandle: string;
}

/**
 * ReceiveMessage, asking for both marker names explicitly beside the caller's attribute names
 * (default "All"), then resolves each message. A message that cannot be resolved is returned as an
 * error in its slot and stays on the queue (not deleted), so it is retried or dead-lettered.
 * @example
 * ```ts
 * for (const got of await receiveFromSqs(sqs, { QueueUrl, WaitTimeSeconds: 20 }, readerOptions)) {
 *   if ("error" in got) continue; // left on the queue, then the DLQ
 *   await pipeline(await got.message.stream(), createWriteStream("out.bin"));
 * }
 * ```
 * The full example: docs/examples/resolving.ts.
 */
export async function receiveFromSqs(
  sqs: SQSClient,
  input: Omit<ReceiveMessageCommandInput, "MessageAttributeNames"> & { attributeNames?: string[] },
  options: ReaderOptions,
): Promise<Array<ReceivedPayload | { error: Error; receiptHandle: string; messageId?: string }>> {
  const { attributeNames = ["All"], ...receive } = input;
  const out = await sqs.send(
    new ReceiveMessageCommand({
      ...receive,
      MessageAttributeNames: [...new Set([...MARKER_ATTRIBUTE_NAMES, ...attributeNames])],
    }),
  );
  return (out.Messages ?? []).map((m) => {
    try {
      return { message: resolveSqsMessage(m, options), receiptHandle: m.ReceiptHandle as string };
    } catch (error) {
      return { error: error as Error, receiptHandle: m.ReceiptHandle as string, messageId: m.MessageId };
    }
  });
}

/** An SQS → Lambda (event source mapping) record, as far as the reader needs it. */
export interface SqsLambdaRecord {
  messageId: string;
  body: string;
  messageAttributes?: Record<string, LambdaSqsAttribute>;
}

/**
 * Resolves one record of an SQS → Lambda event.
 * @example
 * ```ts
 * const message = resolveSqsRecord(record, { s3, allowedBuckets: [bucket], sqsDelivery: "raw" });
 * ```
 */
export function resolveSqsRecord(record: SqsLambdaRecord, options: ReaderOptions): ResolvedMessage {
  if (typeof record !== "object" || record === null || typeof record.body !== "string") {
    throw new PayloadError("InvalidBody", "SQS record must have a string body");
  }
  return resolved(
    {
      messageId: record.messageId,
      body: record.body,
      attributes: fromLambdaSqsAttributes(record.messageAttributes),
      viaSqs: true,
    },
    options,
  );
}

/** An SNS → Lambda record, as far as the reader needs it. */
export interface SnsLambdaRecord {
  Sns: { MessageId?: string; Message: string; MessageAttributes?: Record<string, SnsJsonAttribute> };
}

/**
 * Resolves one record of an SNS → Lambda event.
 * @example
 * ```ts
 * const message = resolveSnsRecord(event.Records[0], { s3, allowedBuckets: [bucket] });
 * ```
 */
export function resolveSnsRecord(record: SnsLambdaRecord, options: ReaderOptions): ResolvedMessage {
  if (typeof record?.Sns !== "object" || record.Sns === null || typeof record.Sns.Message !== "string") {
    throw new PayloadError("InvalidBody", "SNS record must have Sns.Message (a string)");
  }
  return resolved(
    {
      messageId: record.Sns.MessageId,
      body: record.Sns.Message,
      attributes: fromSnsJsonAttributes(record.Sns.MessageAttributes),
    },
    options,
  );
}

/**
 * Resolves a message already normalised to body + SDK-shaped attributes.
 *
 * @example
 * const message = resolveMessage({ body, attributes }, { s3, allowedBuckets: ["payloads"] });
 * if (message.offloaded) console.log(message.pointer, message.size);
 */
export function resolveMessage(message: ReceivedMessage, options: ReaderOptions): ResolvedMessage {
  return resolved(message, options);
}

/** What a consumer learns by reading a payload to its end. */
export interface PayloadDigest {
  /** Hex SHA-256 of the bytes read. */
  sha256: string;
  size: number;
  /** True when a stored checksum was checked (false for objects written by Java/Python clients). */
  verified: boolean;
  /** The first `previewBytes` bytes as text, when they are UTF-8 text. */
  preview?: string;
  /** Where an offloaded payload was read (replica or origin) and why. */
  readFrom?: PayloadReadFrom;
}

/**
 * Reads a payload to its end without keeping it, verifying it, and returns its digest and a text
 * preview. Memory stays bounded by the stream's buffers whatever the size. Bytes from a replica that
 * fail verification are read again from the origin.
 *
 * @example const { sha256, size, verified } = await digestPayload(message, 64); // reads to the end, checks the checksum
 */
export async function digestPayload(message: ResolvedMessage, previewBytes = 0): Promise<PayloadDigest> {
  return readVerified(
    () => message.stream(),
    async (stream) => {
      const head: Buffer[] = [];
      let headBytes = 0;
      for await (const chunk of stream) {
        if (headBytes < previewBytes) {
          const part = (chunk as Buffer).subarray(0, previewBytes - headBytes);
          head.push(Buffer.from(part));
          headBytes += part.length;
        }
      }
      const preview = textPreview(Buffer.concat(head, headBytes));
      return {
        sha256: stream.sha256,
        size: stream.bytes,
        verified: stream.verified,
        ...(preview !== undefined ? { preview } : {}),
        ...(stream.readFrom ? { readFrom: stream.readFrom } : {}),
      };
    },
  );
}

/**
 * The bytes as text if they are UTF-8 with no NUL byte. Only a multi-byte character cut by the
 * preview's end is dropped; any other invalid byte means the payload is not text.
 */
function textPreview(bytes: Buffer): string | undefined {
  // Stryker disable next-line ConditionalExpression: without it an empty preview is refused below (nothing is left).
  if (bytes.length === 0 || bytes.includes(0)) return undefined;
  let lead = bytes.length - 1;
  // Stryker disable next-line ConditionalExpression,LogicalOperator: the bounds only shorten the walk; past them every byte is a continuation byte, which isUtf8 refuses either way.
  while (lead > 0 && bytes.length - lead < 4 && (bytes[lead] & 0xc0) === 0x80) lead--;
  const first = bytes[lead];
  const needed = first >= 0xf0 ? 4 : first >= 0xe0 ? 3 : first >= 0xc0 ? 2 : 1;
  const text = bytes.length - lead < needed ? bytes.subarray(0, lead) : bytes;
  return text.length > 0 && isUtf8(text) ? text.toString("utf8") : undefined;
}
