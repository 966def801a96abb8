/**
 * Large-payload messaging over SNS and SQS, wire-compatible with AWS's Java and Python extended
 * clients (see docs/payload.md). No Pulumi import: usable from Lambda code and any Node application.
 *
 * - Pointer codec: {@link formatPointer}, {@link parsePointer}.
 * - Writers: {@link publishToSns}, {@link sendToSqs} (offload over the threshold, then publish);
 *   {@link publishBatchToSns}, {@link sendBatchToSqs} (the same per entry, up to 10 per request).
 * - Readers: {@link resolveSqsMessage} (ReceiveMessage), {@link resolveSqsRecord} (SQS → Lambda),
 *   {@link resolveSnsRecord} (SNS → Lambda); `sqsDelivery` says whether an SQS body is raw or SNS's envelope.
 * - Store: {@link uploadPayload}, {@link copyPayload}, {@link openPayload} for direct use;
 *   {@link openPayloadFrom} reads a Region-local replica when it is ready (`replicas` reader option).
 */
export {
  formatPointer,
  parsePointer,
  POINTER_CLASS,
  LEGACY_POINTER_CLASS,
  type PayloadPointer,
} from "./pointer";
export {
  MARKER_ATTRIBUTE,
  LEGACY_MARKER_ATTRIBUTE,
  MARKER_ATTRIBUTE_NAMES,
  MAX_USER_ATTRIBUTES,
  attributesSize,
  attributesToJson,
  validateUserAttributes,
  attributeMap,
  type MessageAttribute,
  type MessageAttributes,
  type LambdaSqsAttribute,
  type SnsJsonAttribute,
} from "./attributes";
export { PayloadError, type PayloadErrorCode } from "./errors";
export {
  uploadPayload,
  copyPayload,
  openPayload,
  assertLocationAllowed,
  validatePayloadKey,
  validateKeyPath,
  validateKeyPrefix,
  copyPartSize,
  PayloadStream,
  STORE_DEFAULTS,
  type PayloadBody,
  type S3Source,
  type StoreOptions,
  type StoredPayload,
  type PayloadLocationRules,
  type OpenOptions,
  type PayloadReadFrom,
  type PayloadReadReason,
} from "./store";
export {
  openPayloadFrom,
  DEFAULT_ORIGIN_TAG_WAIT_MS,
  type ReplicaLocation,
  type ReplicaMap,
  type ReplicaReadOptions,
} from "./replica";
export {
  publishToSns,
  sendToSqs,
  DEFAULT_THRESHOLD,
  MAX_THRESHOLD,
  WRITER_DEFAULTS,
  type WriterOptions,
  type PayloadInput,
  type SnsPublishInput,
  type SqsSendInput,
  type WriteResult,
  type FifoIds,
  isFifoTarget,
  checkFifoIds,
} from "./writer";
export {
  publishBatchToSns,
  sendBatchToSqs,
  MAX_BATCH_ENTRIES,
  SNS_DEFAULT_BATCH_BYTES,
  SQS_DEFAULT_BATCH_BYTES,
  BATCH_DEFAULTS,
  type BatchOptions,
  type BatchEntryInput,
  type SnsBatchEntry,
  type SqsBatchEntry,
  type BatchSuccess,
  type BatchFailure,
  type BatchResult,
} from "./batch";
export {
  resolveSqsMessage,
  receiveFromSqs,
  resolveSqsRecord,
  resolveSnsRecord,
  resolveMessage,
  digestPayload,
  DEFAULT_MAX_TEXT_BYTES,
  type ReaderOptions,
  type SqsDelivery,
  type ResolvedMessage,
  type ReceivedMessage,
  type ReceivedPayload,
  type SqsLambdaRecord,
  type SnsLambdaRecord,
  type PayloadDigest,
} from "./reader";
