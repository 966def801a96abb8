// The contract between the Pulumi components (which set it) and the Lambda handlers and local
// runtime (which read it). Kept in one dependency-free module so that a rename breaks both sides at
// compile time, and so that handler bundles can import it without pulling in Pulumi.

/** Environment of the publisher function (account A). */
export const PublisherEnv = {
  /** ARN of the SNS topic the pointer (or inline payload) is published to. */
  topicArn: "TOPIC_ARN",
  /** Bucket the payloads are offloaded to. */
  payloadBucket: "PAYLOAD_BUCKET",
  /** Key prefix for offloaded payloads, e.g. "payloads/" (the library adds no separator). */
  keyPrefix: "PAYLOAD_KEY_PREFIX",
  /** Offload when the message is strictly larger than this many bytes. */
  threshold: "OFFLOAD_THRESHOLD_BYTES",
  /** "true" to offload every payload, whatever its size. */
  alwaysThroughS3: "ALWAYS_THROUGH_S3",
  /** Optional KMS key id/ARN: offloaded objects are written with SSE-KMS under it. */
  kmsKeyId: "PAYLOAD_KMS_KEY_ID",
  /** Comma-separated "bucket/prefix" entries an S3-sourced event may name; anything else is refused. */
  sourceAllowList: "SOURCE_ALLOWLIST",
} as const;

/** Environment of both subscriber functions (accounts B and C). */
export const SubscriberEnv = {
  /** Name of the subscriber in the topology, for logs and downstream summaries. */
  subscriberName: "SUBSCRIBER_NAME",
  /** Comma-separated buckets a pointer may name; any other bucket is refused before an S3 call. */
  bucketAllowList: "PAYLOAD_BUCKET_ALLOWLIST",
  /**
   * Comma-separated key prefixes a pointer's key must start with (the publisher's "payloads/");
   * a key elsewhere in an allowed bucket is refused before an S3 call. Empty: any key.
   */
  keyPrefixAllowList: "PAYLOAD_KEY_PREFIX_ALLOWLIST",
  /**
   * Queue subscribers only: "true" when the queue's SNS subscription has RawMessageDelivery on (the
   * body is the message as published, never unwrapped), "false" when off (every body is SNS's
   * envelope). Set by the program from the subscription it creates: a fact, not a guess from a body.
   */
  sqsRawDelivery: "SQS_RAW_DELIVERY",
  /**
   * Comma-separated "originBucket=replicaBucket" pairs: a pointer naming the origin is read from the
   * replica (in the function's own Region) when the replica holds the object with its checksum tag,
   * and from the origin otherwise. Empty or unset: no replica.
   */
  payloadReplicas: "PAYLOAD_REPLICAS",
  /** Region of the payload bucket: a cross-Region read with the local Region's client gets a 301. */
  bucketRegion: "PAYLOAD_BUCKET_REGION",
  /** "stepfunctions" | "ecs" | "none". */
  downstream: "DOWNSTREAM",
  /** With downstream "stepfunctions": the state machine to start. */
  stateMachineArn: "STATE_MACHINE_ARN",
  /** With downstream "ecs": cluster, task definition, container to override, and awsvpc network. */
  ecsClusterArn: "ECS_CLUSTER_ARN",
  ecsTaskDefinitionArn: "ECS_TASK_DEFINITION_ARN",
  ecsContainerName: "ECS_CONTAINER_NAME",
  ecsSubnetIds: "ECS_SUBNET_IDS",
  ecsSecurityGroupIds: "ECS_SECURITY_GROUP_IDS",
  /** Max bytes of a text payload copied into the downstream summary. */
  previewBytes: "SUMMARY_PREVIEW_BYTES",
} as const;

/** The object layout in the payload bucket. */
export const PayloadLayout = {
  /** Offloaded payloads; subscribers may read here and nowhere else. */
  payloadPrefix: "payloads/",
  /** Staging area producers upload large sources to before putting an event on the bus. */
  incomingPrefix: "incoming/",
  /** Object tag carrying the hex SHA-256 of the payload (known only after the last byte of a stream). */
  sha256Tag: "payload-sha256",
} as const;

/**
 * S3 actions the payload library needs. The infrastructure grants exactly these, so the policies
 * and the code cannot drift apart.
 * - Multipart upload parts and completion are authorised by s3:PutObject.
 * - The checksum travels as an object tag, written after a stream's last byte.
 */
export const PayloadIam = {
  writerObjectActions: ["s3:PutObject", "s3:PutObjectTagging", "s3:AbortMultipartUpload"],
  /** On S3 sources, for the server-side copy. */
  copySourceActions: ["s3:GetObject", "s3:GetObjectTagging"],
  readerObjectActions: ["s3:GetObject", "s3:GetObjectTagging"],
  /**
   * On the bucket, limited to the payload prefix (s3:prefix): without it S3 answers GetObject of a
   * missing key (an expired payload) with 403 AccessDenied instead of 404 NoSuchKey.
   */
  readerBucketActions: ["s3:ListBucket"],
  /** KMS, when the bucket uses SSE-KMS: multipart upload needs Decrypt as well as GenerateDataKey. */
  writerKmsActions: ["kms:GenerateDataKey", "kms:Decrypt"],
  readerKmsActions: ["kms:Decrypt"],
} as const;

/** The handler bundles, by the name of their entry file under messaging/handlers/. */
export type HandlerName = "publish" | "consume-queue" | "consume-topic";

/**
 * What a subscriber starts with each resolved payload: the topology's `downstream` and the
 * subscriber function's DOWNSTREAM. Each kind has its own subscriber bundles (build.ts).
 */
export const DOWNSTREAMS = ["stepfunctions", "ecs", "none"] as const;
export type Downstream = (typeof DOWNSTREAMS)[number];

/**
 * The custom metrics the handlers emit (Powertools Metrics, CloudWatch embedded metric format) and
 * the dashboard reads. A CloudWatch metric is identified by its namespace, name and exact set of
 * dimensions, so both sides take all three from here. Dimensions stay bounded: the part (service),
 * the subscriber's name and the path (inline or offloaded), never a message ID or an object key.
 */
export const OperationsMetrics = {
  /** Environment variables Powertools reads: the namespace (the topology's system name), and "false" to not trace. */
  namespaceEnv: "POWERTOOLS_METRICS_NAMESPACE",
  traceEnabledEnv: "POWERTOOLS_TRACE_ENABLED",
  /** The service dimension of each part's metrics. */
  publisherService: "publisher",
  subscriberService: "subscriber",
  dimensions: { service: "service", subscriber: "subscriber", path: "path" },
  paths: ["inline", "offloaded"],
  /** Per message: 1 (with its path), 1 when it went through S3, its size, the resolve time. */
  messages: "messages",
  offloaded: "offloaded",
  payloadBytes: "payloadBytes",
  resolveMs: "resolveMs",
  /** Per message that failed: its checksum did not match, or its payload object had expired. */
  verifyFailed: "verifyFailed",
  expiredPayload: "expiredPayload",
  /**
   * Per offloaded message a subscriber with a replica for its bucket delivered (path offloaded):
   * 1 in replicaReads when the bytes came from the Region-local replica, 1 in replicaFallbacks when
   * the origin served them (the replica lagged or failed), 1 in replicaRefused when the replica
   * held other bytes than the origin's checksum names (tag mismatch or failed verification). Why
   * is in the log line, not a dimension: dimensions stay bounded.
   */
  replicaReads: "replicaReads",
  replicaFallbacks: "replicaFallbacks",
  replicaRefused: "replicaRefused",
  /** Per batch or invocation: how many messages failed. */
  failures: "failures",
} as const;

export type MessagePath = (typeof OperationsMetrics.paths)[number];
