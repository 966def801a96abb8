// What both subscriber handlers share: config, the S3 client, the downstream, and turning one
// resolved message into its summary and downstream start.
import { S3Client } from "@aws-sdk/client-s3";
import { Logger } from "@aws-lambda-powertools/logger";
import { attributesToJson, digestPayload, type ReaderOptions, type ResolvedMessage } from "../payload";
import { readSubscriberConfig } from "./config";
import { PROMPT_CALL_TIMEOUTS, deadlineError } from "./deadline";
import { createDownstream, type PayloadSummary } from "./downstream";
import { createMetrics, createTracer, traced } from "./telemetry";

export function createSubscriber(serviceName: string) {
  const config = readSubscriberConfig(process.env);
  const { replicas } = config;
  const logger = new Logger({ serviceName, persistentKeys: { subscriber: config.subscriberName } });
  // The bucket may be in another Region: a client for the local Region would get a 301.
  const metrics = createMetrics(config.subscriberName);
  const tracer = createTracer();
  const s3 = traced(
    tracer,
    new S3Client({
      ...(config.bucketRegion ? { region: config.bucketRegion } : {}),
      followRegionRedirects: true,
      requestHandler: PROMPT_CALL_TIMEOUTS,
    }),
  );
  // A replica is in the function's own Region (AWS_REGION): its client takes no other Region, so
  // a replica read never pays a redirect.
  const replicaS3 =
    replicas.length > 0
      ? traced(tracer, new S3Client({ followRegionRedirects: true, requestHandler: PROMPT_CALL_TIMEOUTS }))
      : undefined;
  const readerOptions: ReaderOptions = {
    s3,
    allowedBuckets: config.bucketAllowList,
    allowedKeyPrefixes: config.keyPrefixAllowList,
    ...(config.sqsDelivery ? { sqsDelivery: config.sqsDelivery } : {}),
    ...(replicaS3
      ? {
          replicas: Object.fromEntries(replicas.map((r) => [r.origin, { bucket: r.replica, s3: replicaS3 }])),
        }
      : {}),
  };
  const downstream = createDownstream(config.downstream, (client) => traced(tracer, client));

  /**
   * Reads the payload to its end (verifying it), then starts the downstream with its summary. The
   * message must have been resolved with `signal` in its reader options; `signal` also bounds the
   * downstream call (both handlers run under an invocation deadline, so it is always given).
   */
  async function deliver(
    message: ResolvedMessage,
    messageId: string,
    signal: AbortSignal,
  ): Promise<PayloadSummary> {
    const log = { messageId, pointer: message.pointer, size: message.size };
    logger.info("resolving payload", log);
    const started = performance.now();
    const digest = await digestPayload(message, config.previewBytes);
    const resolveMs = performance.now() - started;
    const summary: PayloadSummary = {
      subscriber: config.subscriberName,
      messageId,
      pointer: message.pointer,
      size: digest.size,
      sha256: digest.sha256,
      attributes: attributesToJson(message.attributes),
      ...(digest.preview !== undefined ? { preview: digest.preview } : {}),
      // Only where a replica could have served: without one, every read is the origin's.
      ...(digest.readFrom && digest.readFrom.reason !== "no-replica"
        ? { readFrom: { from: digest.readFrom.from, reason: digest.readFrom.reason } }
        : {}),
    };
    const refused =
      digest.readFrom?.reason === "replica-tag-mismatch" ||
      digest.readFrom?.reason === "replica-verify-failed";
    if (refused) {
      // Not an error of this message (the origin served it), but a replica holding other bytes than
      // the publisher wrote: someone should look at the replica bucket.
      logger.warn("replica refused: its object is not the origin's", { ...log, readFrom: digest.readFrom });
    }
    signal.throwIfAborted();
    let startedDownstream: Awaited<ReturnType<typeof downstream.start>>;
    try {
      startedDownstream = await downstream.start(summary, signal);
    } catch (error) {
      throw deadlineError(signal, error);
    }
    logger.info("payload delivered", {
      ...log,
      sha256: digest.sha256,
      verified: digest.verified,
      ...(digest.readFrom ? { readFrom: digest.readFrom } : {}),
      downstream: downstream.kind,
      ...startedDownstream,
    });
    metrics.message(message.offloaded ? "offloaded" : "inline", digest.size, resolveMs);
    metrics.payloadRead(digest.readFrom);
    return summary;
  }

  /** Logs and counts a message that failed; `message` is absent when it could not be parsed. */
  function failed(messageId: string | undefined, message: ResolvedMessage | undefined, error: unknown): void {
    logger.error("message failed", {
      messageId,
      error: error as Error,
      ...(message?.readFrom ? { readFrom: message.readFrom } : {}),
    });
    // Only an offloaded payload is read from S3, so only it can fail verification or have expired:
    // the failures messageFailed counts apart. Any other failure adds nothing to either path.
    metrics.messageFailed("offloaded", error);
  }

  return { config, logger, readerOptions, deliver, failed, metrics };
}
