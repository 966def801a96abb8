// What both subscriber handlers share: config, the S3 client, the downstream, and turning one
// resolved message into its summary and downstream start.
import { S3Client } from "@aws-sdk/client-s3";
import { Logger } from "@aws-lambda-powertools/logger";
import { attributesToJson, digestPayload, type ReaderOptions, type ResolvedMessage } from "../payload";
import { readSubscriberConfig } from "./config";
import { PROMPT_CALL_TIMEOUTS } from "./deadline";
import { createDownstream, type PayloadSummary } from "./downstream";

export function createSubscriber(serviceName: string) {
  const config = readSubscriberConfig(process.env);
  const logger = new Logger({ serviceName, persistentKeys: { subscriber: config.subscriberName } });
  // The bucket may be in another Region: a client for the local Region would get a 301.
  const s3 = new S3Client({
    ...(config.bucketRegion ? { region: config.bucketRegion } : {}),
    followRegionRedirects: true,
    requestHandler: PROMPT_CALL_TIMEOUTS,
  });
  const readerOptions: ReaderOptions = {
    s3,
    allowedBuckets: config.bucketAllowList,
    allowedKeyPrefixes: config.keyPrefixAllowList,
    ...(config.sqsDelivery ? { sqsDelivery: config.sqsDelivery } : {}),
  };
  const downstream = createDownstream(config.downstream);

  /**
   * Reads the payload to its end (verifying it), then starts the downstream with its summary. The
   * message must have been resolved with `signal` in its reader options; `signal` also bounds the
   * downstream call.
   */
  async function deliver(
    message: ResolvedMessage,
    messageId: string,
    signal?: AbortSignal,
  ): Promise<PayloadSummary> {
    const log = { messageId, pointer: message.pointer, size: message.size };
    logger.info("resolving payload", log);
    const digest = await digestPayload(message, config.previewBytes);
    const summary: PayloadSummary = {
      subscriber: config.subscriberName,
      messageId,
      pointer: message.pointer,
      size: digest.size,
      sha256: digest.sha256,
      attributes: attributesToJson(message.attributes),
      ...(digest.preview !== undefined ? { preview: digest.preview } : {}),
    };
    signal?.throwIfAborted();
    const started = await downstream.start(summary, signal);
    logger.info("payload delivered", {
      ...log,
      sha256: digest.sha256,
      verified: digest.verified,
      downstream: downstream.kind,
      ...started,
    });
    return summary;
  }

  return { config, logger, readerOptions, deliver };
}
