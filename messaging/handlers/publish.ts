// Publisher (account A): an EventBridge event carries a payload inline or names an S3 source, or a
// list of them; each payload is offloaded when large and the body or pointer published to the topic
// (a list with PublishBatch).
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { Logger } from "@aws-lambda-powertools/logger";
import {
  isFifoTarget,
  publishBatchToSns,
  publishToSns,
  type WriteResult,
  type WriterOptions,
} from "../payload";
import type { Context } from "aws-lambda";
import { readPublisherConfig } from "./config";
import { publishEventReader } from "./events";
import { PROMPT_CALL_TIMEOUTS, S3_WRITE_TIMEOUTS, deadlineError, invocationDeadline } from "./deadline";
import { createMetrics, createTracer, traced } from "./telemetry";

const config = readPublisherConfig(process.env);
const readEvent = publishEventReader({
  topicArn: config.topicArn,
  fifo: isFifoTarget(config.topicArn),
  sourceAllowList: config.sourceAllowList,
});
const logger = new Logger({ serviceName: "payload-publish" });
const metrics = createMetrics();
const tracer = createTracer();
// followRegionRedirects: an extraSources bucket may be in another Region, where a client for this
// Region gets 301 PermanentRedirect on HeadObject/GetObjectTagging of the source.
const s3 = traced(tracer, new S3Client({ followRegionRedirects: true, requestHandler: S3_WRITE_TIMEOUTS }));
const sns = traced(tracer, new SNSClient({ requestHandler: PROMPT_CALL_TIMEOUTS }));
/** The SDK clients, for the specs to read the options they were made with. */
export const clients = { s3, sns };
const writerOptions: WriterOptions = {
  s3,
  bucket: config.payloadBucket,
  keyPrefix: config.keyPrefix,
  threshold: config.threshold,
  alwaysThroughS3: config.alwaysThroughS3,
  kmsKeyId: config.kmsKeyId,
};

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

function resultOf(out: WriteResult): PublishResult {
  return {
    messageId: out.messageId,
    ...(out.pointer ? { pointer: out.pointer } : {}),
    size: out.size,
    offloaded: out.offloaded,
  };
}

async function publishEvent(event: unknown, context?: Context): Promise<PublishResult | PublishBatchResult> {
  const e = (event ?? {}) as { id?: unknown };
  // Every entry is parsed before anything is uploaded: a bad event publishes nothing.
  const request = readEvent(event);
  if (request.kind === "one") {
    const entry = request.entry;
    // Failing before Lambda's timeout lets the error (and the aborted upload) be reported.
    const deadline = invocationDeadline(context, "publish");
    let out: WriteResult;
    try {
      out = await publishToSns(
        sns,
        { topicArn: config.topicArn, ...entry },
        { ...writerOptions, signal: deadline.signal },
      );
    } catch (error) {
      throw deadlineError(deadline.signal, error);
    } finally /* Stryker disable next-line BlockStatement: the timer is unref'd and nothing listens to its signal once the call has settled; clearing only frees it early */ {
      deadline.clear();
    }
    const result = resultOf(out);
    logger.info("published", { ...result, sha256: out.sha256, eventId: e.id });
    metrics.message(out.offloaded ? "offloaded" : "inline", out.size);
    return result;
  }

  const entries = request.entries;
  const deadline = invocationDeadline(context, "publish");
  let out: Awaited<ReturnType<typeof publishBatchToSns>>;
  try {
    out = await publishBatchToSns(sns, config.topicArn, entries, {
      ...writerOptions,
      signal: deadline.signal,
    });
  } finally /* Stryker disable next-line BlockStatement: as for one payload (what follows reads the signal synchronously) */ {
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
    // Entries cut short by the deadline say only "Request aborted": the deadline's reason comes first.
    const cutShort = deadline.signal.aborted ? `${(deadline.signal.reason as Error).message}: ` : "";
    throw new Error(
      `${cutShort}${out.failed.length} of ${entries.length} payloads were not published: ${out.failed
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
