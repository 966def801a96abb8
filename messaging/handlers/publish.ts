// Publisher (account A): an EventBridge event carries a payload inline or names an S3 source; the
// payload is offloaded when large and the body or pointer published to the topic.
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { Logger } from "@aws-lambda-powertools/logger";
import {
  attributeMap,
  publishToSns,
  validateKeyPath,
  type MessageAttributes,
  type PayloadBody,
  type S3Source,
  type WriterOptions,
} from "../payload";
import type { Context } from "aws-lambda";
import { readPublisherConfig, type SourceRule } from "./config";
import { PROMPT_CALL_TIMEOUTS, S3_WRITE_TIMEOUTS, invocationDeadline } from "./deadline";
import { createMetrics, createTracer, traced } from "./telemetry";

const config = readPublisherConfig(process.env);
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

/** `detail` of the EventBridge event: exactly one of payload, payloadBase64 or source. */
export interface PublishDetail {
  payload?: string;
  payloadBase64?: string;
  source?: { bucket: string; key: string };
  attributes?: Record<
    string,
    { DataType: "String" | "Number" | "Binary"; StringValue?: string; BinaryValue?: string }
  >;
}

export interface PublishResult {
  messageId: string;
  pointer?: { s3BucketName: string; s3Key: string };
  size: number;
  offloaded: boolean;
}

class EventError extends Error {
  constructor(field: string, problem: string) {
    super(`event field ${field} ${problem}`);
    this.name = "EventError";
  }
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function parseDetail(event: unknown): {
  body?: PayloadBody;
  source?: S3Source;
  attributes?: MessageAttributes;
} {
  const detail = (event as { detail?: unknown } | null)?.detail;
  if (typeof detail !== "object" || detail === null || Array.isArray(detail)) {
    throw new EventError("detail", `must be an object, got ${JSON.stringify(detail)}`);
  }
  const d = detail as Record<string, unknown>;
  const given = ["payload", "payloadBase64", "source"].filter((k) => d[k] !== undefined);
  if (given.length !== 1) {
    throw new EventError(
      "detail",
      `must have exactly one of payload, payloadBase64 or source, got ${given.length ? given.join(", ") : "none"}`,
    );
  }
  let body: PayloadBody | undefined;
  let source: S3Source | undefined;
  if (d.payload !== undefined) {
    if (typeof d.payload !== "string")
      throw new EventError("detail.payload", `must be a string, got ${typeof d.payload}`);
    body = d.payload;
  } else if (d.payloadBase64 !== undefined) {
    if (
      typeof d.payloadBase64 !== "string" ||
      !BASE64.test(d.payloadBase64) ||
      d.payloadBase64.length % 4 !== 0
    ) {
      throw new EventError("detail.payloadBase64", "must be a base64 string");
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
        "detail.source",
        `must be {bucket, key} with non-empty strings, got ${JSON.stringify(d.source)}`,
      );
    }
    source = { bucket: s.bucket, key: s.key };
  }
  let attributes: MessageAttributes | undefined;
  if (d.attributes !== undefined) {
    if (typeof d.attributes !== "object" || d.attributes === null || Array.isArray(d.attributes)) {
      throw new EventError(
        "detail.attributes",
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
          `detail.attributes.${name}.DataType`,
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
          throw new EventError(`detail.attributes.${name}.BinaryValue`, "must be a base64 string");
        }
        attributes[name] = { DataType: "Binary", BinaryValue: Buffer.from(a.BinaryValue, "base64") };
      } else {
        if (typeof a.StringValue !== "string")
          throw new EventError(`detail.attributes.${name}.StringValue`, "must be a string");
        attributes[name] = { DataType: a.DataType as string, StringValue: a.StringValue };
      }
    }
  }
  return { body, source, attributes };
}

/** Only sources the stack names may be copied: the function's role can read more than it should publish. */
function assertSourceAllowed(source: S3Source, rules: SourceRule[]): void {
  // A prefix match alone would let "incoming/../private/x" through.
  try {
    validateKeyPath(source.key, "key");
  } catch (error) {
    throw new EventError("detail.source", (error as Error).message);
  }
  if (!rules.some((r) => r.bucket === source.bucket && source.key.startsWith(r.prefix))) {
    throw new EventError(
      "detail.source",
      `s3://${source.bucket}/${source.key} is not under an allowed source (${rules.map((r) => `${r.bucket}/${r.prefix}`).join(", ") || "none configured"})`,
    );
  }
}

export const handler = async (event: unknown, context?: Context): Promise<PublishResult> => {
  try {
    const { body, source, attributes } = parseDetail(event);
    if (source) assertSourceAllowed(source, config.sourceAllowList);
    // Failing before Lambda's timeout lets the error (and the aborted upload) be reported.
    const deadline = invocationDeadline(context, "publish");
    let out: Awaited<ReturnType<typeof publishToSns>>;
    try {
      out = await publishToSns(
        sns,
        { topicArn: config.topicArn, body, source, attributes },
        { ...writerOptions, signal: deadline.signal },
      );
    } finally {
      deadline.clear();
    }
    const result: PublishResult = {
      messageId: out.messageId,
      ...(out.pointer ? { pointer: out.pointer } : {}),
      size: out.size,
      offloaded: out.offloaded,
    };
    logger.info("published", { ...result, sha256: out.sha256, eventId: (event as { id?: string }).id });
    metrics.message(out.offloaded ? "offloaded" : "inline", out.size);
    metrics.failures(0);
    return result;
  } catch (error) {
    metrics.failures(1);
    throw error;
  } finally {
    metrics.flush();
  }
};
