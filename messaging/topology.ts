import { ConfigError, readStructured } from "../common/config-error";
import { isKnownRegion } from "../common/regions";
import { isAccountId, StackSettings } from "../common/stack";

// The messaging system, described once for every stack (project-level `fieldnotes:topology` in
// Pulumi.yaml). Every name and ARN another stack needs is derived from it (see naming.ts), so no
// stack reads another's state.

export const TOPOLOGY_KEY = "fieldnotes:topology";
export const ECS_NETWORK_KEY = "fieldnotes:ecsNetwork";
export const LOG_RETENTION_KEY = "fieldnotes:logRetentionDays";

/** SNS rejects a message (body plus attributes) over 262,144 bytes, so inline payloads cannot exceed it. */
export const SNS_MAX_MESSAGE_BYTES = 262_144;

/** Application C's image when none is configured: prints the payload summary it receives. */
export const DEFAULT_TASK_IMAGE = "public.ecr.aws/docker/library/busybox:stable";

export type Delivery = "sqs" | "lambda";
export type Downstream = "stepfunctions" | "ecs" | "none";
const DELIVERIES: readonly Delivery[] = ["sqs", "lambda"];
const DOWNSTREAMS: readonly Downstream[] = ["stepfunctions", "ecs", "none"];

export interface PublisherTopology {
  account: string;
  region: string;
  /** Who may put events on the bus and stage sources under incoming/: account IDs or IAM principal ARNs. */
  producers: string[];
  /** EventBridge `detail-type` the rule routes to the publisher function. */
  detailType: string;
  /** Extra "bucket/prefix" S3 sources the publisher may copy from, besides its own incoming/ prefix. */
  extraSources: string[];
  timeoutSeconds: number;
  memoryMb: number;
}

export interface SubscriberTopology {
  name: string;
  account: string;
  region: string;
  delivery: Delivery;
  downstream: Downstream;
  timeoutSeconds: number;
  memoryMb: number;
  /** sqs delivery: records per batch handed to the function (1–10,000). */
  batchSize: number;
  /** sqs delivery: seconds the event source mapping may wait to fill a batch (0–300). */
  batchWindowSeconds: number;
  /** sqs delivery: receives before a message moves to the DLQ. */
  maxReceiveCount: number;
  /** lambda delivery: retries of a failed asynchronous invoke before the on-failure destination (0–2). */
  retryAttempts: number;
  /** Bytes of a UTF-8 payload copied into the downstream summary. */
  previewBytes: number;
  /** ecs downstream: the container image of Application C and its Fargate size. */
  taskImage: string;
  taskCpu: number;
  taskMemoryMb: number;
}

export interface OffloadSettings {
  thresholdBytes: number;
  alwaysThroughS3: boolean;
  retentionDays: number;
  /** true: the payload bucket uses SSE-KMS with a customer managed key; false: SSE-S3. */
  kms: boolean;
}

export interface EcsNetwork {
  subnetIds: string[];
  securityGroupIds: string[];
}

export interface MessagingTopology {
  /** Prefix of every physical name; lets two systems share accounts. */
  system: string;
  publisher: PublisherTopology;
  subscribers: SubscriberTopology[];
  offload: OffloadSettings;
  logRetentionDays: number;
}

export interface MessagingSelection {
  topology: MessagingTopology;
  publisher: boolean;
  subscribers: SubscriberTopology[];
  /** Network of each ecs-downstream subscriber this stack deploys. */
  ecsNetworks: Record<string, EcsNetwork>;
}

interface ConfigSource {
  name: string;
  get(key: string): string | undefined;
}

const SYSTEM_NAME = /^[a-z][a-z0-9-]{0,23}$/;
const SUBSCRIBER_NAME = /^[a-z][a-z0-9-]{0,31}$/;
const PRINCIPAL_ARN = /^arn:aws:(iam|sts)::(\d{12}):[\w+=,.@/-]+$/;
const SOURCE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^\s,]*$/;
const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/;
/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTIONS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Reads the topology and the stack's messaging parts, validates all of it, and returns what this
 * stack deploys. Throws a ConfigError (key and value named) before anything is registered.
 */
export function loadMessaging(config: ConfigSource, stack: StackSettings): MessagingSelection {
  const topology = parseTopology(readStructured(config, "topology"), {
    sandboxAccount: stack.sandboxAccount,
    logRetentionDays: config.get("logRetentionDays"),
  });
  return selectParts(topology, stack, readStructured(config, "ecsNetwork"));
}

export function parseTopology(
  raw: unknown,
  overrides: { sandboxAccount?: string; logRetentionDays?: string } = {},
): MessagingTopology {
  const top = object(raw, TOPOLOGY_KEY, "must be an object with publisher, subscribers and offload");
  const system = optional(top.system, "fieldnotes");
  if (typeof system !== "string" || !SYSTEM_NAME.test(system)) {
    throw new ConfigError(
      `${TOPOLOGY_KEY}.system`,
      system,
      "must be 1–24 lowercase letters, digits or hyphens, starting with a letter",
    );
  }
  const account = (value: unknown, key: string) => {
    if (!isAccountId(value)) throw new ConfigError(key, value, "is not a 12-digit AWS account ID");
    return overrides.sandboxAccount ?? value;
  };
  const region = (value: unknown, key: string) => {
    if (!isKnownRegion(value))
      throw new ConfigError(key, value, "is not a known AWS Region (commercial partition, e.g. us-east-1)");
    return value;
  };

  const pubKey = `${TOPOLOGY_KEY}.publisher`;
  const pub = object(top.publisher, pubKey, "must be an object with account and region");
  const publisherAccount = account(pub.account, `${pubKey}.account`);
  const publisher: PublisherTopology = {
    account: publisherAccount,
    region: region(pub.region, `${pubKey}.region`),
    producers: stringList(optional(pub.producers, [publisherAccount]), `${pubKey}.producers`, (p, key) => {
      const arn = PRINCIPAL_ARN.exec(p);
      if (/^\d{12}$/.test(p)) return overrides.sandboxAccount ?? p;
      if (!arn) throw new ConfigError(key, p, "is neither a 12-digit account ID nor an IAM principal ARN");
      return overrides.sandboxAccount ? p.replace(`::${arn[2]}:`, `::${overrides.sandboxAccount}:`) : p;
    }),
    detailType: text(optional(pub.detailType, "PublishPayload"), `${pubKey}.detailType`, /^[\w .:-]{1,128}$/),
    extraSources: stringList(optional(pub.extraSources, []), `${pubKey}.extraSources`, (s, key) => {
      if (!SOURCE.test(s)) throw new ConfigError(key, s, 'is not a "bucket/prefix" S3 source');
      return s;
    }),
    timeoutSeconds: integer(optional(pub.timeoutSeconds, 900), `${pubKey}.timeoutSeconds`, 1, 900),
    memoryMb: integer(optional(pub.memoryMb, 512), `${pubKey}.memoryMb`, 128, 10240),
  };

  const subsKey = `${TOPOLOGY_KEY}.subscribers`;
  if (!Array.isArray(top.subscribers) || top.subscribers.length === 0) {
    throw new ConfigError(subsKey, top.subscribers, "must be a non-empty list of subscribers");
  }
  const names = new Set<string>();
  const subscribers = top.subscribers.map((entry, index): SubscriberTopology => {
    const key = `${subsKey}[${index}]`;
    const sub = object(entry, key, "must be an object with name, account, region, delivery and downstream");
    const name = text(
      sub.name,
      `${key}.name`,
      SUBSCRIBER_NAME,
      "must be 1–32 lowercase letters, digits or hyphens, starting with a letter",
    );
    if (names.has(name)) throw new ConfigError(`${key}.name`, name, "is a duplicate subscriber name");
    names.add(name);
    const delivery = oneOf(sub.delivery, `${key}.delivery`, DELIVERIES);
    const downstream = oneOf(sub.downstream, `${key}.downstream`, DOWNSTREAMS);
    const batchSize = integer(optional(sub.batchSize, 10), `${key}.batchSize`, 1, 10_000);
    const batchWindowSeconds = integer(
      optional(sub.batchWindowSeconds, 0),
      `${key}.batchWindowSeconds`,
      0,
      300,
    );
    // The event source mapping API rejects batches over 10 without a batching window.
    if (batchSize > 10 && batchWindowSeconds < 1) {
      throw new ConfigError(
        `${key}.batchWindowSeconds`,
        batchWindowSeconds,
        `must be at least 1 when batchSize (${batchSize}) is over 10`,
      );
    }
    const taskCpu = oneOf(optional(sub.taskCpu, 256), `${key}.taskCpu`, [256, 512, 1024, 2048, 4096]);
    const taskMemoryMb = integer(optional(sub.taskMemoryMb, 512), `${key}.taskMemoryMb`, 512, 30720);
    // RegisterTaskDefinition accepts only Fargate's cpu/memory pairs ("No Fargate configuration
    // exists for given values"), so e.g. 256 CPU with 4096 MiB would fail at deploy, not here.
    const memoryChoices = fargateMemoryMb(taskCpu);
    if (!memoryChoices.includes(taskMemoryMb)) {
      throw new ConfigError(
        `${key}.taskMemoryMb`,
        taskMemoryMb,
        `is not a Fargate memory size for taskCpu ${taskCpu}; use one of ${memoryChoices.join(", ")}`,
      );
    }
    return {
      name,
      account: account(sub.account, `${key}.account`),
      region: region(sub.region, `${key}.region`),
      delivery,
      downstream,
      timeoutSeconds: integer(optional(sub.timeoutSeconds, 300), `${key}.timeoutSeconds`, 1, 900),
      memoryMb: integer(optional(sub.memoryMb, 512), `${key}.memoryMb`, 128, 10240),
      batchSize,
      batchWindowSeconds,
      maxReceiveCount: integer(optional(sub.maxReceiveCount, 5), `${key}.maxReceiveCount`, 1, 1000),
      retryAttempts: integer(optional(sub.retryAttempts, 2), `${key}.retryAttempts`, 0, 2),
      previewBytes: integer(optional(sub.previewBytes, 1024), `${key}.previewBytes`, 0, 65_536),
      taskImage: text(optional(sub.taskImage, DEFAULT_TASK_IMAGE), `${key}.taskImage`, /^[\w.\-/:@]{1,255}$/),
      taskCpu,
      taskMemoryMb,
    };
  });

  const offKey = `${TOPOLOGY_KEY}.offload`;
  const off = object(optional(top.offload, {}), offKey, "must be an object");
  const offload: OffloadSettings = {
    thresholdBytes: integer(
      optional(off.thresholdBytes, SNS_MAX_MESSAGE_BYTES),
      `${offKey}.thresholdBytes`,
      0,
      Number.MAX_SAFE_INTEGER,
    ),
    alwaysThroughS3: bool(optional(off.alwaysThroughS3, false), `${offKey}.alwaysThroughS3`),
    retentionDays: integer(optional(off.retentionDays, 7), `${offKey}.retentionDays`, 1, 3650),
    kms: bool(optional(off.kms, false), `${offKey}.kms`),
  };
  if (offload.thresholdBytes > SNS_MAX_MESSAGE_BYTES) {
    throw new ConfigError(
      `${offKey}.thresholdBytes`,
      offload.thresholdBytes,
      `is above the SNS message limit of ${SNS_MAX_MESSAGE_BYTES} bytes; messages that large cannot be published inline`,
    );
  }

  const retentionRaw = overrides.logRetentionDays === undefined ? 14 : Number(overrides.logRetentionDays);
  if (!LOG_RETENTIONS.includes(retentionRaw)) {
    throw new ConfigError(
      LOG_RETENTION_KEY,
      overrides.logRetentionDays,
      `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTIONS.join(", ")}`,
    );
  }
  return { system, publisher, subscribers, offload, logRetentionDays: retentionRaw };
}

/**
 * Pure: the task memory sizes (MiB) Fargate accepts for a task CPU size (Linux): 256 → 512–2048,
 * 512 → 1024–4096, 1024 → 2048–8192, 2048 → 4096–16384, 4096 → 8192–30720, in 1 GiB steps
 * (256 CPU also takes 512).
 */
export function fargateMemoryMb(cpu: number): number[] {
  const gib = (from: number, to: number) =>
    Array.from({ length: to - from + 1 }, (_, i) => (from + i) * 1024);
  switch (cpu) {
    case 256:
      return [512, 1024, 2048];
    case 512:
      return gib(1, 4);
    case 1024:
      return gib(2, 8);
    case 2048:
      return gib(4, 16);
    case 4096:
      return gib(8, 30);
    default:
      return [];
  }
}

/** Matches the stack's parts against the topology, and reads the network of its ECS subscribers. */
export function selectParts(
  topology: MessagingTopology,
  stack: StackSettings,
  rawNetworks: unknown,
): MessagingSelection {
  const byName = new Map(topology.subscribers.map((s) => [s.name, s]));
  const subscribers = stack.parts.subscribers.map((name) => {
    const sub = byName.get(name);
    if (!sub) {
      throw new ConfigError(
        "fieldnotes:parts",
        `subscriber/${name}`,
        `is not in the topology; its subscribers are: ${[...byName.keys()].map((n) => `subscriber/${n}`).join(", ")}`,
      );
    }
    return sub;
  });
  const networks =
    rawNetworks === undefined
      ? {}
      : object(
          rawNetworks,
          ECS_NETWORK_KEY,
          "must be a map of subscriber name to {subnetIds, securityGroupIds}",
        );
  const ecsNetworks: Record<string, EcsNetwork> = {};
  for (const name of Object.keys(networks)) {
    if (!byName.has(name))
      throw new ConfigError(ECS_NETWORK_KEY, name, "names no subscriber of the topology");
  }
  for (const sub of subscribers.filter((s) => s.downstream === "ecs")) {
    const key = `${ECS_NETWORK_KEY}.${sub.name}`;
    const net = object(
      networks[sub.name],
      key,
      "is required for a subscriber with downstream ecs: {subnetIds: [subnet-…], securityGroupIds: [sg-…]} of the VPC the Fargate task runs in",
    );
    ecsNetworks[sub.name] = {
      subnetIds: nonEmpty(
        stringList(net.subnetIds, `${key}.subnetIds`, (v, k) =>
          SUBNET.test(v) ? v : fail(k, v, "is not a subnet ID (subnet-…)"),
        ),
        `${key}.subnetIds`,
      ),
      securityGroupIds: nonEmpty(
        stringList(net.securityGroupIds, `${key}.securityGroupIds`, (v, k) =>
          SECURITY_GROUP.test(v) ? v : fail(k, v, "is not a security group ID (sg-…)"),
        ),
        `${key}.securityGroupIds`,
      ),
    };
  }
  return { topology, publisher: stack.parts.publisher, subscribers, ecsNetworks };
}

function fail(key: string, value: unknown, reason: string): never {
  throw new ConfigError(key, value, reason);
}

function optional<T>(value: unknown, fallback: T): unknown {
  return value === undefined || value === null ? fallback : value;
}

function object(value: unknown, key: string, reason: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new ConfigError(key, value, reason);
  return value as Record<string, unknown>;
}

function text(value: unknown, key: string, pattern: RegExp, reason = `must match ${pattern}`): string {
  if (typeof value !== "string" || !pattern.test(value)) throw new ConfigError(key, value, reason);
  return value;
}

function oneOf<T extends string | number>(value: unknown, key: string, allowed: readonly T[]): T {
  if (!allowed.includes(value as T)) {
    throw new ConfigError(key, value, `is not one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`);
  }
  return value as T;
}

function integer(value: unknown, key: string, min: number, max: number): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(key, value, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function bool(value: unknown, key: string): boolean {
  if (typeof value !== "boolean") throw new ConfigError(key, value, "must be true or false");
  return value;
}

function stringList(value: unknown, key: string, check: (item: string, key: string) => string): string[] {
  if (!Array.isArray(value)) throw new ConfigError(key, value, "must be a list");
  return value.map((item, i) => {
    if (typeof item !== "string") throw new ConfigError(`${key}[${i}]`, item, "must be a string");
    return check(item, `${key}[${i}]`);
  });
}

function nonEmpty(list: string[], key: string): string[] {
  if (list.length === 0) throw new ConfigError(key, list, "must not be empty");
  return list;
}
