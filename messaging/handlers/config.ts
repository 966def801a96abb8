// Reading the environment the messaging components set (messaging/contract.ts). Every value is
// checked once, at cold start, with an error that names the variable and the bad value: a wiring
// mistake then fails the first invocation loudly instead of mis-delivering messages.
import { PayloadLayout, PublisherEnv, SubscriberEnv } from "../contract";
import { DEFAULT_THRESHOLD, MAX_THRESHOLD, validateKeyPrefix, type SqsDelivery } from "../payload";

type Env = Record<string, string | undefined>;

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`environment variable ${name} is required`);
  return value;
}

function list(env: Env, name: string): string[] {
  return (env[name] ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new Error(
      `environment variable ${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}

function flag(env: Env, name: string): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (!raw || raw === "false") return false;
  if (raw === "true") return true;
  throw new Error(`environment variable ${name} must be "true" or "false", got ${JSON.stringify(env[name])}`);
}

/** S3's bucket naming rules (3-63 of [a-z0-9.-], starting and ending with a letter or digit). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** A "bucket/prefix" entry of SOURCE_ALLOWLIST. */
export interface SourceRule {
  bucket: string;
  prefix: string;
}

export interface PublisherConfig {
  topicArn: string;
  payloadBucket: string;
  keyPrefix: string;
  threshold: number;
  alwaysThroughS3: boolean;
  kmsKeyId?: string;
  sourceAllowList: SourceRule[];
}

export function readPublisherConfig(env: Env): PublisherConfig {
  const topicArn = required(env, PublisherEnv.topicArn);
  if (!topicArn.startsWith("arn:")) {
    throw new Error(
      `environment variable ${PublisherEnv.topicArn} must be a topic ARN, got ${JSON.stringify(topicArn)}`,
    );
  }
  const keyPrefix = env[PublisherEnv.keyPrefix] ?? PayloadLayout.payloadPrefix;
  try {
    validateKeyPrefix(keyPrefix);
  } catch (e) {
    throw new Error(`environment variable ${PublisherEnv.keyPrefix}: ${(e as Error).message}`);
  }
  const sourceAllowList = list(env, PublisherEnv.sourceAllowList).map((entry) => {
    const slash = entry.indexOf("/");
    const bucket = slash < 0 ? entry : entry.slice(0, slash);
    if (!BUCKET_NAME.test(bucket)) {
      throw new Error(
        `environment variable ${PublisherEnv.sourceAllowList}: entry ${JSON.stringify(entry)} must be "bucket/prefix"`,
      );
    }
    return { bucket, prefix: slash < 0 ? "" : entry.slice(slash + 1) };
  });
  return {
    topicArn,
    payloadBucket: required(env, PublisherEnv.payloadBucket),
    keyPrefix,
    threshold: integer(env, PublisherEnv.threshold, DEFAULT_THRESHOLD, 0, MAX_THRESHOLD),
    alwaysThroughS3: flag(env, PublisherEnv.alwaysThroughS3),
    kmsKeyId: env[PublisherEnv.kmsKeyId]?.trim() || undefined,
    sourceAllowList,
  };
}

export type DownstreamConfig =
  | { kind: "none" }
  | { kind: "stepfunctions"; stateMachineArn: string }
  | {
      kind: "ecs";
      clusterArn: string;
      taskDefinitionArn: string;
      containerName: string;
      subnetIds: string[];
      securityGroupIds: string[];
    };

export interface SubscriberConfig {
  subscriberName: string;
  bucketAllowList: string[];
  keyPrefixAllowList: string[];
  /** How the queue's subscription delivers; undefined when the variable is not set (direct subscribers). */
  sqsDelivery?: SqsDelivery;
  bucketRegion?: string;
  previewBytes: number;
  downstream: DownstreamConfig;
}

export function readSubscriberConfig(env: Env): SubscriberConfig {
  const bucketAllowList = list(env, SubscriberEnv.bucketAllowList);
  if (bucketAllowList.length === 0) {
    throw new Error(`environment variable ${SubscriberEnv.bucketAllowList} must name at least one bucket`);
  }
  for (const bucket of bucketAllowList) {
    if (!BUCKET_NAME.test(bucket)) {
      throw new Error(
        `environment variable ${SubscriberEnv.bucketAllowList}: ${JSON.stringify(bucket)} is not an S3 bucket name`,
      );
    }
  }
  const keyPrefixAllowList = list(env, SubscriberEnv.keyPrefixAllowList);
  for (const prefix of keyPrefixAllowList) {
    try {
      validateKeyPrefix(prefix);
    } catch (e) {
      throw new Error(`environment variable ${SubscriberEnv.keyPrefixAllowList}: ${(e as Error).message}`);
    }
  }
  const raw = env[SubscriberEnv.sqsRawDelivery]?.trim();
  const kind = (env[SubscriberEnv.downstream] ?? "none").trim();
  let downstream: DownstreamConfig;
  if (kind === "none") {
    downstream = { kind };
  } else if (kind === "stepfunctions") {
    downstream = { kind, stateMachineArn: required(env, SubscriberEnv.stateMachineArn) };
  } else if (kind === "ecs") {
    const subnetIds = list(env, SubscriberEnv.ecsSubnetIds);
    if (subnetIds.length === 0)
      throw new Error(`environment variable ${SubscriberEnv.ecsSubnetIds} must name at least one subnet`);
    downstream = {
      kind,
      clusterArn: required(env, SubscriberEnv.ecsClusterArn),
      taskDefinitionArn: required(env, SubscriberEnv.ecsTaskDefinitionArn),
      containerName: required(env, SubscriberEnv.ecsContainerName),
      subnetIds,
      securityGroupIds: list(env, SubscriberEnv.ecsSecurityGroupIds),
    };
  } else {
    throw new Error(
      `environment variable ${SubscriberEnv.downstream} must be "stepfunctions", "ecs" or "none", got ${JSON.stringify(kind)}`,
    );
  }
  return {
    subscriberName: required(env, SubscriberEnv.subscriberName),
    bucketAllowList,
    keyPrefixAllowList,
    ...(raw ? { sqsDelivery: flag(env, SubscriberEnv.sqsRawDelivery) ? "raw" : "envelope" } : {}),
    bucketRegion: env[SubscriberEnv.bucketRegion]?.trim() || undefined,
    previewBytes: integer(env, SubscriberEnv.previewBytes, 1024, 0, 4096),
    downstream,
  };
}
