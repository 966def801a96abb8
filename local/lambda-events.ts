// The records Lambda hands a function, built from what an emulator delivered:
// - an SQS event source mapping's record, from an SDK `Message` returned by ReceiveMessage;
// - an SNS subscription's record, from the JSON envelope SNS delivers to a queue subscribed with raw
//   message delivery off.
// Pure functions, shared by the local Lambda runtime and the handler and interop tests. Where the
// callers want different stand-ins for what the emulator left out, they pass them as options.
import type { Message, MessageAttributeValue } from "@aws-sdk/client-sqs";
import type {
  SNSEventRecord,
  SNSMessage,
  SNSMessageAttributes,
  SQSMessageAttributes,
  SQSRecord,
} from "aws-lambda";
import { createHash } from "crypto";

export interface SqsEventRecordOptions {
  /** The queue's ARN as Lambda reports it (`eventSourceARN`). */
  queueArn: string;
  /** The queue's region (`awsRegion`). */
  region: string;
  /**
   * `SenderId` for a message received without it (attributes not asked for). Default "000000000000",
   * the emulator's account.
   */
  senderId?: string;
  /**
   * Epoch milliseconds stamped as `SentTimestamp` and `ApproximateFirstReceiveTimestamp` for a message
   * received without them. Default: now.
   */
  now?: number;
}

/**
 * Message attributes as the event source mapping hands them over: camelCase, binary values base64,
 * the (unimplemented) list values empty.
 */
export function sqsMessageAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, a] of Object.entries(attributes ?? {})) {
    out[name] = {
      dataType: a.DataType ?? "String",
      ...(a.StringValue !== undefined ? { stringValue: a.StringValue } : {}),
      ...(a.BinaryValue !== undefined ? { binaryValue: Buffer.from(a.BinaryValue).toString("base64") } : {}),
      stringListValues: [],
      binaryListValues: [],
    };
  }
  return out;
}

/** The record an SQS event source mapping hands Lambda for a received message. */
export function sqsEventRecord(m: Message, opts: SqsEventRecordOptions): SQSRecord {
  const now = String(opts.now ?? Date.now());
  const attrs = m.Attributes ?? {};
  const body = m.Body ?? "";
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body,
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? "1",
      SentTimestamp: attrs.SentTimestamp ?? now,
      SenderId: attrs.SenderId ?? opts.senderId ?? "000000000000",
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? now,
      // FIFO queues: Lambda passes the group, deduplication id and sequence number on.
      ...(attrs.MessageGroupId !== undefined ? { MessageGroupId: attrs.MessageGroupId } : {}),
      ...(attrs.MessageDeduplicationId !== undefined
        ? { MessageDeduplicationId: attrs.MessageDeduplicationId }
        : {}),
      ...(attrs.SequenceNumber !== undefined ? { SequenceNumber: attrs.SequenceNumber } : {}),
    },
    messageAttributes: sqsMessageAttributes(m.MessageAttributes),
    // SQS always sends the body's MD5; an emulator that leaves it out gets the one SQS would send.
    md5OfBody: m.MD5OfBody ?? createHash("md5").update(body).digest("hex"),
    ...(m.MD5OfMessageAttributes ? { md5OfMessageAttributes: m.MD5OfMessageAttributes } : {}),
    eventSource: "aws:sqs",
    eventSourceARN: opts.queueArn,
    awsRegion: opts.region,
  };
}

/**
 * The JSON envelope SNS delivers to a queue subscribed with raw message delivery off. Note the
 * spelling `SigningCertURL` / `UnsubscribeURL`, where the Lambda record has `...Url`.
 */
export interface SnsEnvelope {
  Type: string;
  MessageId: string;
  TopicArn: string;
  Subject?: string | null;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  UnsubscribeURL: string;
  MessageAttributes?: SNSMessageAttributes;
}

/** What the Lambda record gets for a field the envelope lacks (or has as null). */
export interface SnsMissingFields {
  Type?: string;
  SignatureVersion?: string;
  /** Default null: SNS's own envelope has `"Subject": null` for a message published without one. */
  Subject?: string | null;
  Signature?: string;
  SigningCertUrl?: string;
  UnsubscribeUrl?: string;
}

export interface SnsEventRecordOptions {
  /** The subscription's ARN (`EventSubscriptionArn`). */
  subscriptionArn: string;
  /** The topic ARN Lambda is told, when it is not the envelope's. Default: the envelope's. */
  topicArn?: string;
  /** Stand-ins for fields the envelope lacks. Defaults: Type "Notification", SignatureVersion "1", Subject null. */
  missing?: SnsMissingFields;
}

/** `SNSMessage` as it can arrive: Subject null when the message had none (@types/aws-lambda says string). */
export type LambdaSnsMessage = Omit<SNSMessage, "Subject"> & { Subject: string | null };
export type LambdaSnsEventRecord = Omit<SNSEventRecord, "Sns"> & { Sns: LambdaSnsMessage };

/** The record SNS hands a subscribed Lambda for an envelope (as delivered to a raw-off queue). */
export function snsEventRecord(
  envelope: SnsEnvelope,
  opts: SnsEventRecordOptions & { missing: { Subject: string } },
): SNSEventRecord;
export function snsEventRecord(envelope: SnsEnvelope, opts: SnsEventRecordOptions): LambdaSnsEventRecord;
export function snsEventRecord(
  envelope: SnsEnvelope,
  opts: SnsEventRecordOptions,
): SNSEventRecord | LambdaSnsEventRecord {
  const missing: SnsMissingFields = {
    Type: "Notification",
    SignatureVersion: "1",
    Subject: null,
    ...opts.missing,
  };
  // SNS always sends these; a field an emulator left out and the caller gave no stand-in for passes
  // through as it came (undefined).
  const or = (value: string | undefined, standIn: string | undefined) => (value ?? standIn) as string;
  return {
    EventSource: "aws:sns",
    EventVersion: "1.0",
    EventSubscriptionArn: opts.subscriptionArn,
    Sns: {
      Type: or(envelope.Type, missing.Type),
      MessageId: envelope.MessageId,
      TopicArn: opts.topicArn ?? envelope.TopicArn,
      Subject: envelope.Subject ?? missing.Subject ?? null,
      Message: envelope.Message,
      Timestamp: envelope.Timestamp,
      SignatureVersion: or(envelope.SignatureVersion, missing.SignatureVersion),
      Signature: or(envelope.Signature, missing.Signature),
      SigningCertUrl: or(envelope.SigningCertURL, missing.SigningCertUrl),
      UnsubscribeUrl: or(envelope.UnsubscribeURL, missing.UnsubscribeUrl),
      MessageAttributes: envelope.MessageAttributes ?? {},
    },
  };
}
