// Publisher (account A): an EventBridge event carries a payload inline or names an S3 source, or a
// list of them; each payload is offloaded when large and the body or pointer published to the topic
// (a list with PublishBatch).
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { Logger } from "@aws-lambda-powertools/logger";
import {
  attributeMap,
  checkFifoIds,
  isFifoTarget,
  publishBatchToSns,
  publishToSns,
  validateKeyPath,
  validateUserAttributes,
  type FifoIds,
  type MessageAttributes,
  type PayloadBody,
  type S3Source,
  type SnsBatchEntry,
  type WriteResult,
  type WriterOptions,
} from "../payload";
import type { Context } from "aws-lambda";
import { readPublisherConfig, type SourceRule } from "./config";
import { PROMPT_CALL_TIMEOUTS, S3_WRITE_TIMEOUTS, invocationDeadline } from "./deadline";
import { createMetrics, createTracer, traced } from "./telemetry";

const config = readPublisherConfig(process.env);
const fifo = isFifoTarget(config.topicArn);
const logger = new Logger({ serviceName: "payload-publish" });
const metrics = createMetrics();
const tracer = createTracer();
// followRegionRedirects: an extraSources bucket may be in another Region, where a client for this
// Region gets 301 PermanentRedirect on HeadObject/GetObjectTagging of the source.
const s3 = traced(tracer, new S3Client({ followRegionRedirects: true, requestHandler: S3_WRITE_TIMEOUTS }));
const sns = traced(tracer, new SNSClient({ requestHandler: PROMPT_CALL_TIMEOUTS }));
const writerOptions: WriterOptions = {
  s3,
  bucket: config.payloadBucket,
  keyPrefix: config.keyPrefix,
  threshold: config.threshold,
  alwaysThroughS3: config.alwaysThroughS3,
  kmsKeyId: config.kmsKeyId,
};

/** One payload of an event: exactly one of payload, payloadBase64 or source. */
export interface PublishEntryDetail {
  payload?: string;
  payloadBase64?: string;
  source?: { bucket: string; key: string };
  attributes?: Record<
    string,
    { DataType: "String" | "Number" | "Binary"; StringValue?: string; BinaryValue?: string }
  >;
  /** FIFO topic: the message group (default: the event's messageGroupId, then its `source`). */
  messageGroupId?: string;
  /** FIFO topic: deduplication id (default: the payload's SHA-256). */
  messageDeduplicationId?: string;
}

/**
 * `detail` of the EventBridge event: one payload, or `payloads`, a list of up to
 * {@link MAX_EVENT_PAYLOADS} published with PublishBatch.
 */
export interface PublishDetail extends PublishEntryDetail {
  payloads?: (PublishEntryDetail & { id?: string })[];
}

export interface PublishResult {
  messageId: string;
  pointer?: { s3BucketName: string; s3Key: string };
  size: number;
  offloaded: boolean;
}

/** What a `payloads` event returns: one result per entry, in order. */
export interface PublishBatchResult {
  results: (PublishResult & { id: string })[];
}

/** Entries one event may carry; EventBridge caps the event at 256 KiB anyway. */
export const MAX_EVENT_PAYLOADS = 100;

class EventError extends Error {
  constructor(field: string, problem: string) {
    super(`event field ${field} ${problem}`);
    this.name = "EventError";
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const PAYLOAD_FIELDS = ["payload", "payloadBase64", "source"];

interface ParsedEntry extends FifoIds {
  body?: PayloadBody;
  source?: S3Source;
  attributes?: MessageAttributes;
}

function asObject(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new EventError(field, `must be an object, got ${JSON.stringify(value)}`);
  }
  return value as Record<string, unknown>;
}

/** Parses one payload entry (the detail itself, or one of detail.payloads) at `at`. */
function parseEntry(d: Record<string, unknown>, at: string, inherited: FifoIds): ParsedEntry {
  const given = PAYLOAD_FIELDS.filter((k) => d[k] !== undefined);
  if (given.length !== 1) {
    throw new EventError(
      at,
      `must have exactly one of payload, payloadBase64 or source, got ${given.length ? given.join(", ") : "none"}`,
    );
  }
  let body: PayloadBody | undefined;
  let source: S3Source | undefined;
  if (d.payload !== undefined) {
    if (typeof d.payload !== "string")
      throw new EventError(`${at}.payload`, `must be a string, got ${typeof d.payload}`);
    body = d.payload;
  } else if (d.payloadBase64 !== undefined) {
    if (
      typeof d.payloadBase64 !== "string" ||
      !BASE64.test(d.payloadBase64) ||
      d.payloadBase64.length % 4 !== 0
    ) {
      throw new EventError(`${at}.payloadBase64`, "must be a base64 string");
    }
    body = Buffer.from(d.payloadBase64, "base64");
  } else {
    const s = d.source as Record<string, unknown> | null;
    if (
      typeof s !== "object" ||
      s === null ||
      typeof s.bucket !== "string" ||
      !s.bucket ||
      typeof s.key !== "string" ||
      !s.key
    ) {
      throw new EventError(
        `${at}.source`,
        `must be {bucket, key} with non-empty strings, got ${JSON.stringify(d.source)}`,
      );
    }
    source = { bucket: s.bucket, key: s.key };
    assertSourceAllowed(source, config.sourceAllowList, `${at}.source`);
  }
  let attributes: MessageAttributes | undefined;
  if (d.attributes !== undefined) {
    if (typeof d.attributes !== "object" || d.attributes === null || Array.isArray(d.attributes)) {
      throw new EventError(
        `${at}.attributes`,
        "must be an object of name → {DataType, StringValue|BinaryValue}",
      );
    }
    attributes = attributeMap();
    for (const [name, raw] of Object.entries(d.attributes as Record<string, unknown>)) {
      const a = raw as Record<string, unknown> | null;
      if (
        typeof a !== "object" ||
        a === null ||
        !["String", "Number", "Binary"].includes(a.DataType as string)
      ) {
        throw new EventError(
          `${at}.attributes.${name}.DataType`,
          `must be "String", "Number" or "Binary", got ${JSON.stringify(a?.DataType)}`,
        );
      }
      if (a.DataType === "Binary") {
        // Buffer.from would decode a malformed string silently, to other bytes than were meant.
        if (
          typeof a.BinaryValue !== "string" ||
          !BASE64.test(a.BinaryValue) ||
          a.BinaryValue.length % 4 !== 0
        ) {
          throw new EventError(`${at}.attributes.${name}.BinaryValue`, "must be a base64 string");
        }
        attributes[name] = { DataType: "Binary", BinaryValue: Buffer.from(a.BinaryValue, "base64") };
      } else {
        if (typeof a.StringValue !== "string")
          throw new EventError(`${at}.attributes.${name}.StringValue`, "must be a string");
        attributes[name] = { DataType: a.DataType as string, StringValue: a.StringValue };
      }
    }
    // Checked here so that a bad entry refuses the whole event before anything is published.
    try {
      validateUserAttributes(attributes);
    } catch (e) {
      throw new EventError(`${at}.attributes`, (e as Error).message);
    }
  }
  const ids = fifoIdsOf(d, at, inherited);
  return { body, source, attributes, ...ids };
}

/**
 * Group and deduplication ids: only a FIFO topic takes them. The group defaults to the event's
 * (detail.messageGroupId, then the EventBridge `source`), the deduplication id to the payload's
 * SHA-256 (set by the library).
 */
function fifoIdsOf(d: Record<string, unknown>, at: string, inherited: FifoIds): FifoIds {
  const ids: FifoIds = {};
  for (const field of ["messageGroupId", "messageDeduplicationId"] as const) {
    const value = d[field];
    if (value === undefined) continue;
    if (!fifo) {
      throw new EventError(`${at}.${field}`, `is set but topic ${config.topicArn} is not a FIFO topic`);
    }
    if (typeof value !== "string")
      throw new EventError(`${at}.${field}`, `must be a string, got ${typeof value}`);
    ids[field] = value;
  }
  if (!fifo) return ids;
  const out = { ...ids, messageGroupId: ids.messageGroupId ?? inherited.messageGroupId };
  try {
    checkFifoIds(config.topicArn, out);
  } catch (e) {
    throw new EventError(at, (e as Error).message);
  }
  return out;
}

/** Only sources the stack names may be copied: the function's role can read more than it should publish. */
function assertSourceAllowed(source: S3Source, rules: SourceRule[], field: string): void {
  // A prefix match alone would let "incoming/../private/x" through.
  try {
    validateKeyPath(source.key, "key");
  } catch (error) {
    throw new EventError(field, (error as Error).message);
  }
  if (!rules.some((r) => r.bucket === source.bucket && source.key.startsWith(r.prefix))) {
    throw new EventError(
      field,
      `s3://${source.bucket}/${source.key} is not under an allowed source (${rules.map((r) => `${r.bucket}/${r.prefix}`).join(", ") || "none configured"})`,
    );
  }
}

function resultOf(out: WriteResult): PublishResult {
  return {
    messageId: out.messageId,
    ...(out.pointer ? { pointer: out.pointer } : {}),
    size: out.size,
    offloaded: out.offloaded,
  };
}

async function publishEvent(event: unknown, context?: Context): Promise<PublishResult | PublishBatchResult> {
  const e = (event ?? {}) as { id?: unknown; source?: unknown };
  const detail = asObject((event as { detail?: unknown } | null)?.detail, "detail");
  const eventGroup: FifoIds = {
    messageGroupId:
      typeof detail.messageGroupId === "string"
        ? detail.messageGroupId
        : typeof e.source === "string"
          ? e.source
          : undefined,
  };
  if (detail.payloads === undefined) {
    const entry = parseEntry(detail, "detail", eventGroup);
    // Failing before Lambda's timeout lets the error (and the aborted upload) be reported.
    const deadline = invocationDeadline(context, "publish");
    let out: WriteResult;
    try {
      out = await publishToSns(
        sns,
        { topicArn: config.topicArn, ...entry },
        { ...writerOptions, signal: deadline.signal },
      );
    } finally {
      deadline.clear();
    }
    const result = resultOf(out);
    logger.info("published", { ...result, sha256: out.sha256, eventId: e.id });
    metrics.message(out.offloaded ? "offloaded" : "inline", out.size);
    return result;
  }

  const extra = [...PAYLOAD_FIELDS, "attributes", "messageDeduplicationId"].filter(
    (k) => detail[k] !== undefined,
  );
  if (extra.length) {
    throw new EventError("detail", `has payloads, so it must not also have ${extra.join(", ")}`);
  }
  if (!Array.isArray(detail.payloads) || detail.payloads.length === 0) {
    throw new EventError(
      "detail.payloads",
      `must be a non-empty list, got ${JSON.stringify(detail.payloads)}`,
    );
  }
  if (detail.payloads.length > MAX_EVENT_PAYLOADS) {
    throw new EventError(
      "detail.payloads",
      `has ${detail.payloads.length} entries; at most ${MAX_EVENT_PAYLOADS}`,
    );
  }
  if (detail.messageGroupId !== undefined) fifoIdsOf({ messageGroupId: detail.messageGroupId }, "detail", {});
  // Every entry is parsed before anything is uploaded: a bad event publishes nothing.
  const entries: SnsBatchEntry[] = detail.payloads.map((raw, i) => {
    const at = `detail.payloads[${i}]`;
    const d = asObject(raw, at);
    const id = d.id ?? `p${i}`;
    if (typeof id !== "string" || !/^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      throw new EventError(`${at}.id`, `must be 1-80 of [A-Za-z0-9_-], got ${JSON.stringify(id)}`);
    }
    return { id, ...parseEntry(d, at, eventGroup) };
  });
  const ids = new Set<string>();
  entries.forEach((entry, i) => {
    if (ids.has(entry.id))
      throw new EventError(`detail.payloads[${i}].id`, `${JSON.stringify(entry.id)} is a duplicate`);
    ids.add(entry.id);
  });
  const deadline = invocationDeadline(context, "publish");
  let out: Awaited<ReturnType<typeof publishBatchToSns>>;
  try {
    out = await publishBatchToSns(sns, config.topicArn, entries, {
      ...writerOptions,
      signal: deadline.signal,
    });
  } finally {
    deadline.clear();
  }
  for (const ok of out.successful) {
    logger.info("published", { id: ok.id, ...resultOf(ok), sha256: ok.sha256, eventId: e.id });
    metrics.message(ok.offloaded ? "offloaded" : "inline", ok.size);
  }
  if (out.failed.length) {
    for (const bad of out.failed) logger.error("entry not published", { ...bad, eventId: e.id });
    // Thrown, so the event is retried and then kept in the failure queue rather than lost. A retry
    // publishes the sent entries again: on a FIFO topic their deduplication ids drop the copies.
    throw new Error(
      `${out.failed.length} of ${entries.length} payloads were not published: ${out.failed
        .map(
          (f) =>
            `${f.id} (${f.code}: ${f.reason})${f.pointer ? ` offloaded to s3://${f.pointer.s3BucketName}/${f.pointer.s3Key}` : ""}`,
        )
        .join("; ")}`,
    );
  }
  return { results: out.successful.map((ok) => ({ id: ok.id, ...resultOf(ok) })) };
}

export const handler = async (
  event: unknown,
  context?: Context,
): Promise<PublishResult | PublishBatchResult> => {
  try {
    const result = await publishEvent(event, context);
    metrics.failures(0);
    return result;
  } catch (error) {
    metrics.failures(1);
    throw error;
  } finally {
    metrics.flush();
  }
};
