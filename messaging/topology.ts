import { ConfigProblem, readStructured, throwIfProblems } from "../common/config-error";
import { isOptInRegion } from "../common/regions";
import {
  accept,
  accountId,
  accountReason,
  bool,
  isAccountId,
  check,
  integer,
  list,
  listedText,
  oneOf,
  region,
  Report,
  rule,
  Schema,
  strict,
  text,
  v,
  withDefault,
} from "../common/schema";
import { StackSettings } from "../common/stack";
import { DOWNSTREAMS, type Downstream } from "./contract";
import { FilterPolicyError, validateFilterPolicy, type FilterPolicy } from "./filter-policy";

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
const DELIVERIES = ["sqs", "lambda"] as const satisfies readonly Delivery[];

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
  /**
   * sqs delivery: IAM roles of this subscriber's account that may send to its SNS-fed queue besides
   * SNS: the identities that run a DLQ redrive (SQS StartMessageMoveTask moves messages back as the
   * caller). Everyone else is denied sqs:SendMessage, whatever their IAM policy says.
   */
  redriveRoles: string[];
  /** ecs downstream: the container image of Application C and its Fargate size. */
  taskImage: string;
  taskCpu: number;
  taskMemoryMb: number;
  /** SNS subscription filter policy, attribute scope; absent: every message is delivered. */
  filterPolicy?: FilterPolicy;
  /**
   * Read payloads from a replica of the payload bucket in this subscriber's Region (owned by the
   * publisher's account), falling back to the origin while the replica lags. Only for a subscriber
   * in another Region than the publisher's.
   */
  replica: boolean;
}

export interface OffloadSettings {
  thresholdBytes: number;
  alwaysThroughS3: boolean;
  retentionDays: number;
  /** true: the payload bucket uses SSE-KMS with a customer managed key; false: SSE-S3. */
  kms: boolean;
  /**
   * S3 Replication Time Control on every replica's rule (99.99% within 15 minutes, charged per GB
   * replicated on top of the transfer); false: replication is best effort (most objects within
   * seconds, no time promised). Needs a subscriber with `replica: true`.
   */
  replicationTimeControl: boolean;
}

export interface EcsNetwork {
  subnetIds: string[];
  securityGroupIds: string[];
}

export interface MessagingTopology {
  /** Prefix of every physical name; lets two systems share accounts. */
  system: string;
  /** FIFO end to end: the topic, every subscriber queue and every DLQ are FIFO. */
  fifo: boolean;
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
// IAM role and user ARNs: an optional path, then a name of 1–64 of IAM's name characters.
const IAM_PRINCIPAL_ARN = /^arn:aws:iam::(\d{12}):(role|user)\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/;
const ASSUMED_ROLE_ARN = /^arn:aws:sts::(\d{12}):assumed-role\/([\w+=,.@-]{1,64})\/[\w+=,.@-]+$/;
const SOURCE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]\/[^\s,]*$/;
const SUBNET = /^subnet-[0-9a-f]{8,17}$/;
const SECURITY_GROUP = /^sg-[0-9a-f]{8,17}$/;
/** CloudWatch Logs accepts only these retention periods. */
const LOG_RETENTIONS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/**
 * Why a principal ARN is refused. An STS session ARN never matches aws:PrincipalArn (that key holds
 * the role's ARN for a session), so it is refused with the role ARN to use instead.
 */
function principalArnReason(value: unknown, roleOnly: boolean): string {
  if (typeof value !== "string") return "must be a string";
  const session = ASSUMED_ROLE_ARN.exec(value);
  if (session)
    return `is an STS assumed-role session ARN, which never matches aws:PrincipalArn; use the role's ARN arn:aws:iam::${session[1]}:role/${session[2]} (with the role's path, if it has one)`;
  if (value.startsWith("arn:aws:sts::"))
    return "is an STS session ARN, which never matches aws:PrincipalArn; use the IAM role or user ARN (arn:aws:iam::<account>:role/<name>)";
  return roleOnly
    ? "is not an IAM role ARN (arn:aws:iam::<account>:role/<name>, name 1–64 characters)"
    : "is neither a 12-digit account ID nor an IAM role or user ARN (arn:aws:iam::<account>:role/<name>, name 1–64 characters)";
}

/** A producer: an account ID (the whole account) or one IAM role or user. */
const producer = accept<string>(
  (x) => typeof x === "string" && (isAccountId(x) || IAM_PRINCIPAL_ARN.test(x)),
  (x) => (typeof x === "string" && /^\d+$/.test(x) ? accountReason(x) : principalArnReason(x, false)),
);

/** An IAM role ARN (a DLQ redrive role). */
const roleArn = accept<string>(
  (x) => typeof x === "string" && IAM_PRINCIPAL_ARN.exec(x)?.[2] === "role",
  (x) => principalArnReason(x, true),
);

// Absent and null both mean "the default" in the topology (a YAML key left empty is null).
const dflt = <T>(schema: Schema<T>, fallback: T) => withDefault(schema, fallback, true);

const publisherSchema = strict(
  {
    account: accountId,
    region,
    producers: v.nullish(list(producer)),
    detailType: dflt(
      text(/^[\w .:-]{1,128}$/, "must be 1 to 128 letters, digits, spaces and _ . : -"),
      "PublishPayload",
    ),
    extraSources: dflt(list(listedText(SOURCE, 'is not a "bucket/prefix" S3 source')), []),
    timeoutSeconds: dflt(integer(1, 900), 900),
    memoryMb: dflt(integer(128, 10240), 512),
  },
  "must be an object with account and region",
);

const subscriberKeys = strict(
  {
    name: text(SUBSCRIBER_NAME, "must be 1–32 lowercase letters, digits or hyphens, starting with a letter"),
    account: accountId,
    region,
    delivery: oneOf(DELIVERIES),
    downstream: oneOf(DOWNSTREAMS),
    timeoutSeconds: dflt(integer(1, 900), 300),
    memoryMb: dflt(integer(128, 10240), 512),
    batchSize: dflt(integer(1, 10_000), 10),
    batchWindowSeconds: dflt(integer(0, 300), 0),
    maxReceiveCount: dflt(integer(1, 1000), 5),
    retryAttempts: dflt(integer(0, 2), 2),
    previewBytes: dflt(integer(0, 65_536), 1024),
    redriveRoles: dflt(list(roleArn), []),
    taskImage: dflt(
      text(
        /^[\w.\-/:@]{1,255}$/,
        "must be a container image reference: 1 to 255 letters, digits and _ . - / : @ (no spaces)",
      ),
      DEFAULT_TASK_IMAGE,
    ),
    taskCpu: dflt(oneOf([256, 512, 1024, 2048, 4096] as const), 256),
    taskMemoryMb: dflt(integer(512, 30720), 512),
    // Checked by filterRules, where a problem can name the place inside the policy.
    filterPolicy: v.nullish(v.unknown()),
    filterPolicyScope: v.nullish(v.unknown()),
    replica: dflt(bool, false),
  },
  "must be an object with name, account, region, delivery and downstream",
);
type SubscriberKeys = v.InferOutput<typeof subscriberKeys>;

/** A subscriber: its keys, then the rules between them, each reported on the key to change. */
const subscriberSchema = v.pipe(
  subscriberKeys,
  rule<SubscriberKeys>(
    (sub, report) =>
      sub.redriveRoles.length > 0 &&
      sub.delivery !== "sqs" &&
      report(
        ["redriveRoles"],
        sub.redriveRoles,
        'applies only to delivery "sqs" (a DLQ redrive moves messages back into the SNS-fed queue)',
      ),
    ["redriveRoles", "delivery"],
  ),
  // StartMessageMoveTask moves within one account: the redrive runs in the queue's account.
  rule<SubscriberKeys>(
    (sub, report) =>
      sub.redriveRoles.forEach((arn, i) => {
        const roleAccount = arn.split(":")[4];
        if (roleAccount !== sub.account)
          report(
            ["redriveRoles", i],
            arn,
            `is a role in account ${roleAccount}, not in the subscriber's account ${sub.account}; a DLQ redrive runs in the queue's account`,
          );
      }),
    ["redriveRoles", "account"],
  ),
  // The event source mapping API rejects batches over 10 without a batching window.
  rule<SubscriberKeys>(
    (sub, report) =>
      sub.batchSize > 10 &&
      sub.batchWindowSeconds < 1 &&
      report(
        ["batchWindowSeconds"],
        sub.batchWindowSeconds,
        `must be at least 1 when batchSize (${sub.batchSize}) is over 10`,
      ),
    ["batchSize", "batchWindowSeconds"],
  ),
  rule<SubscriberKeys>(filterRules, ["filterPolicy", "filterPolicyScope"]),
  // RegisterTaskDefinition accepts only Fargate's cpu/memory pairs ("No Fargate configuration
  // exists for given values"), so e.g. 256 CPU with 4096 MiB would fail at deploy, not here.
  rule<SubscriberKeys>(
    (sub, report) => {
      const memoryChoices = fargateMemoryMb(sub.taskCpu);
      if (!memoryChoices.includes(sub.taskMemoryMb))
        report(
          ["taskMemoryMb"],
          sub.taskMemoryMb,
          `is not a Fargate memory size for taskCpu ${sub.taskCpu}; use one of ${memoryChoices.join(", ")}`,
        );
    },
    ["taskCpu", "taskMemoryMb"],
  ),
);

const offloadSchema = strict(
  {
    thresholdBytes: dflt(
      v.pipe(
        integer(0, Number.MAX_SAFE_INTEGER),
        v.check(
          (n) => n <= SNS_MAX_MESSAGE_BYTES,
          `is above the SNS message limit of ${SNS_MAX_MESSAGE_BYTES} bytes; messages that large cannot be published inline`,
        ),
      ),
      SNS_MAX_MESSAGE_BYTES,
    ),
    alwaysThroughS3: dflt(bool, false),
    retentionDays: dflt(integer(1, 3650), 7),
    kms: dflt(bool, false),
    replicationTimeControl: dflt(bool, false),
  },
  "must be an object",
);

const topologyKeys = strict(
  {
    system: dflt(
      text(SYSTEM_NAME, "must be 1–24 lowercase letters, digits or hyphens, starting with a letter"),
      "fieldnotes",
    ),
    fifo: dflt(bool, false),
    publisher: publisherSchema,
    subscribers: v.pipe(
      list(subscriberSchema, "must be a non-empty list of subscribers"),
      v.minLength(1, "must be a non-empty list of subscribers"),
    ),
    offload: v.nullish(offloadSchema, {}),
  },
  "must be an object with publisher, subscribers and offload",
);
type TopologyKeys = v.InferOutput<typeof topologyKeys>;

/** Each subscriber's `keys`, read by a rule across subscribers (`"*"`: every subscriber). */
const ofSubscribers = (...keys: (keyof SubscriberKeys & string)[]) =>
  keys.map((key) => ["subscribers", "*", key] as const);

/**
 * The schema of `fieldnotes:topology`: every key, its type, range and default, then the rules
 * across keys, each reported on the key to change. A rule runs once the keys it reads are valid,
 * so its problems come with every other one (a subscriber's own rules are in subscriberSchema).
 */
export const topologySchema = v.pipe(
  topologyKeys,
  rule<TopologyKeys>(
    (top, report) =>
      top.subscribers.forEach((sub, i) =>
        deliveryRegionRules(top.publisher.region, sub, atSubscriber(i, report)),
      ),
    [["publisher", "region"], ...ofSubscribers("region", "delivery")],
  ),
  rule<TopologyKeys>((top, report) => {
    const names = new Set<string>();
    top.subscribers.forEach((sub, i) => {
      if (names.has(sub.name)) report(["subscribers", i, "name"], sub.name, "is a duplicate subscriber name");
      names.add(sub.name);
    });
  }, ofSubscribers("name")),
  rule<TopologyKeys>(
    (top, report) =>
      top.subscribers.forEach(
        (sub, i) =>
          sub.replica &&
          sub.region === top.publisher.region &&
          report(
            ["subscribers", i, "replica"],
            sub.replica,
            `needs a subscriber in another Region than the publisher's (${top.publisher.region}): there the payload bucket is already local`,
          ),
      ),
    [["publisher", "region"], ...ofSubscribers("region", "replica")],
  ),
  rule<TopologyKeys>(
    (top, report) => top.fifo && top.subscribers.forEach((sub, i) => fifoRules(sub, atSubscriber(i, report))),
    ["fifo", ...ofSubscribers("delivery", "batchSize", "batchWindowSeconds")],
  ),
  rule<TopologyKeys>(
    (top, report) =>
      top.offload.replicationTimeControl &&
      !top.subscribers.some((s) => s.replica) &&
      report(
        ["offload", "replicationTimeControl"],
        true,
        "applies to replication, which needs at least one subscriber with replica: true",
      ),
    [["offload", "replicationTimeControl"], ...ofSubscribers("replica")],
  ),
);

/** A report on subscriber `index`: paths below it. */
function atSubscriber(index: number, report: Report): Report {
  return (path, value, reason) => report(["subscribers", index, ...path], value, reason);
}

const ecsNetworkSchema = v.record(
  v.string(),
  strict(
    {
      subnetIds: v.pipe(
        list(listedText(SUBNET, "is not a subnet ID (subnet-…)")),
        v.minLength(1, "must not be empty"),
      ),
      securityGroupIds: v.pipe(
        list(listedText(SECURITY_GROUP, "is not a security group ID (sg-…)")),
        v.minLength(1, "must not be empty"),
      ),
    },
    "must be {subnetIds: [subnet-…], securityGroupIds: [sg-…]}",
  ),
  "must be a map of subscriber name to {subnetIds, securityGroupIds}",
);

/**
 * Reads the topology and the stack's messaging parts, validates all of it, and returns what this
 * stack deploys. Throws a ConfigError naming every wrong key and value before anything is registered.
 */
export function loadMessaging(config: ConfigSource, stack: StackSettings): MessagingSelection {
  const { value, problems } = checkMessaging(config, stack);
  throwIfProblems(problems);
  return value!;
}

/** Like loadMessaging, but returns the problems instead of throwing, so callers can report them with others. */
export function checkMessaging(
  config: ConfigSource,
  stack: StackSettings,
): { value?: MessagingSelection; problems: ConfigProblem[] } {
  const topology = checkTopology(readStructured(config, "topology"), {
    sandboxAccount: stack.sandboxAccount,
    logRetentionDays: config.get("logRetentionDays"),
  });
  if (!topology.value) {
    // The network map can still be checked on its own shape.
    const networks = check(
      v.optional(ecsNetworkSchema),
      readStructured(config, "ecsNetwork"),
      ECS_NETWORK_KEY,
    );
    return { problems: [...topology.problems, ...networks.problems] };
  }
  return checkSelection(topology.value, stack, readStructured(config, "ecsNetwork"));
}

export function parseTopology(
  raw: unknown,
  overrides: { sandboxAccount?: string; logRetentionDays?: string } = {},
): MessagingTopology {
  const { value, problems } = checkTopology(raw, overrides);
  throwIfProblems(problems);
  return value!;
}

/** Validates the topology and collects every problem. */
export function checkTopology(
  raw: unknown,
  overrides: { sandboxAccount?: string; logRetentionDays?: string } = {},
): { value?: MessagingTopology; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const retention = overrides.logRetentionDays === undefined ? 14 : Number(overrides.logRetentionDays);
  if (!LOG_RETENTIONS.includes(retention)) {
    problems.push({
      key: LOG_RETENTION_KEY,
      value: overrides.logRetentionDays,
      reason: `must be one of the CloudWatch Logs retention periods: ${LOG_RETENTIONS.join(", ")}`,
    });
  }
  const parsed = check(topologySchema, raw, TOPOLOGY_KEY);
  problems.push(...parsed.problems);
  if (problems.length > 0) return { problems };
  const top = parsed.output!;

  const sandbox = overrides.sandboxAccount;
  const account = (a: string) => sandbox ?? a;
  const inSandbox = (arn: string) => {
    const parsed = IAM_PRINCIPAL_ARN.exec(arn);
    return sandbox && parsed ? arn.replace(`::${parsed[1]}:`, `::${sandbox}:`) : arn;
  };
  const publisherAccount = account(top.publisher.account);
  const publisher: PublisherTopology = {
    ...top.publisher,
    account: publisherAccount,
    producers: (top.publisher.producers ?? [publisherAccount]).map((p) =>
      isAccountId(p) ? account(p) : inSandbox(p),
    ),
  };
  return {
    value: {
      system: top.system,
      fifo: top.fifo,
      publisher,
      subscribers: top.subscribers.map(({ filterPolicy, filterPolicyScope: _scope, ...s }) => ({
        ...s,
        account: account(s.account),
        redriveRoles: s.redriveRoles.map(inSandbox),
        ...(filterPolicy === undefined || filterPolicy === null
          ? {}
          : { filterPolicy: filterPolicy as FilterPolicy }),
      })),
      offload: top.offload,
      logRetentionDays: retention,
    },
    problems: [],
  };
}

/** What a FIFO topology rules out for a subscriber. */
function fifoRules(sub: SubscriberKeys, report: Report): void {
  // SNS FIFO topics deliver only to SQS (FIFO or standard) queues, never to Lambda.
  if (sub.delivery === "lambda") {
    report(
      ["delivery"],
      sub.delivery,
      `cannot subscribe to a FIFO topic (${TOPOLOGY_KEY}.fifo is true): SNS FIFO topics do not deliver to Lambda. Use delivery "sqs": the subscriber gets a FIFO queue and its function keeps each message group's order`,
    );
  }
  // "Lambda parameters for Amazon SQS event source mappings": FIFO queues take batches of at most
  // 10 and no batching window.
  if (sub.batchSize > 10) {
    report(
      ["batchSize"],
      sub.batchSize,
      "must be at most 10: Lambda reads a FIFO queue in batches of 10 or fewer",
    );
  }
  if (sub.batchWindowSeconds > 0) {
    report(
      ["batchWindowSeconds"],
      sub.batchWindowSeconds,
      "must be 0: Lambda has no batching window for FIFO queues",
    );
  }
}

/** A subscriber's filter policy: attribute scope only, within SNS's limits (filter-policy.ts). */
function filterRules(sub: SubscriberKeys, report: Report): void {
  const scope = sub.filterPolicyScope;
  if (scope !== undefined && scope !== null && scope !== "MessageAttributes") {
    report(
      ["filterPolicyScope"],
      scope,
      'must be "MessageAttributes": a MessageBody policy is matched against the body SNS carries, which for an offloaded payload is the S3 pointer, so it would match or drop messages by their size, not their content. Have the producer set message attributes and filter on those',
    );
    return;
  }
  if (sub.filterPolicy === undefined || sub.filterPolicy === null) return;
  try {
    validateFilterPolicy(sub.filterPolicy);
  } catch (e) {
    // validateFilterPolicy throws only FilterPolicyError: anything else is a bug, not a config problem.
    // Stryker disable next-line ConditionalExpression: no input reaches another error
    if (!(e instanceof FilterPolicyError)) throw e;
    // The place inside the policy (".a[0].numeric[1]") stays one step: an attribute name may hold
    // dots ("aws.region"), which steps of keys would split.
    report([`filterPolicy${e.path}`], e.value, e.reason);
  }
}

/**
 * SNS cannot deliver from a default Region to Lambda in an opt-in Region, nor from an opt-in Region
 * to another opt-in Region (docs cited in common/regions.ts); such a subscription would be created
 * and then never deliver, so the topology refuses it.
 */
function deliveryRegionRules(
  topicRegion: string,
  sub: { region: string; delivery: Delivery },
  report: Report,
): void {
  if (sub.region === topicRegion || !isOptInRegion(sub.region)) return;
  if (isOptInRegion(topicRegion))
    report(
      ["region"],
      sub.region,
      `is an opt-in Region and the topic's Region ${topicRegion} is another opt-in Region; SNS does not deliver from one opt-in Region to another`,
    );
  else if (sub.delivery === "lambda")
    report(
      ["region"],
      sub.region,
      `is an opt-in Region; SNS does not deliver from a topic in a default Region (${topicRegion}) to Lambda in an opt-in Region (use delivery "sqs", or the topic's Region)`,
    );
}

/** SQS keeps a message at most 14 days (MessageRetentionPeriod 60–1,209,600 s). */
export const SQS_MAX_RETENTION_SECONDS = 1_209_600;
/** Lambda's longest timeout: the publisher publishes a pointer at most this long after writing its object. */
const PUBLISH_AFTER_UPLOAD_SECONDS = 900;

/**
 * Retention of every queue that holds messages of this system (SNS-fed queues, their DLQs, the
 * subscription DLQs, the on-failure and failure queues): never longer than the payload objects
 * live, so no queue keeps a pointer whose object the bucket's lifecycle has already expired.
 * Lifecycle expires an object `retentionDays` after its creation (rounded up to the next midnight
 * UTC), and the object is written at most one Lambda timeout before its pointer is published, so
 * that margin is taken off. Capped at SQS's 14 days.
 */
export function queueRetentionSeconds(offload: Pick<OffloadSettings, "retentionDays">): number {
  return Math.min(SQS_MAX_RETENTION_SECONDS, offload.retentionDays * 86_400 - PUBLISH_AFTER_UPLOAD_SECONDS);
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
  const { value, problems } = checkSelection(topology, stack, rawNetworks);
  throwIfProblems(problems);
  return value!;
}

function checkSelection(
  topology: MessagingTopology,
  stack: StackSettings,
  rawNetworks: unknown,
): { value?: MessagingSelection; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const byName = new Map(topology.subscribers.map((s) => [s.name, s]));
  const subscribers: SubscriberTopology[] = [];
  for (const name of stack.parts.subscribers) {
    const sub = byName.get(name);
    if (sub) subscribers.push(sub);
    else
      problems.push({
        key: "fieldnotes:parts",
        value: `subscriber/${name}`,
        reason: `is not in the topology; its subscribers are: ${[...byName.keys()].map((n) => `subscriber/${n}`).join(", ")}`,
      });
  }
  const parsed = check(v.optional(ecsNetworkSchema, {}), rawNetworks, ECS_NETWORK_KEY);
  problems.push(...parsed.problems);
  const networks = parsed.output ?? {};
  const named = typeof rawNetworks === "object" && rawNetworks !== null ? Object.keys(rawNetworks) : [];
  for (const name of named) {
    if (!byName.has(name))
      problems.push({ key: ECS_NETWORK_KEY, value: name, reason: "names no subscriber of the topology" });
  }
  // A subnet or security group listed twice is a typo for another one.
  for (const [name, network] of Object.entries(networks)) {
    for (const field of ["subnetIds", "securityGroupIds"] as const) {
      network[field].forEach((id, i) => {
        if (network[field].indexOf(id) !== i)
          problems.push({
            key: `${ECS_NETWORK_KEY}.${name}.${field}[${i}]`,
            value: id,
            reason: "is listed twice",
          });
      });
    }
  }
  const ecsNetworks: Record<string, EcsNetwork> = {};
  for (const sub of subscribers.filter((s) => s.downstream === "ecs")) {
    const network = networks[sub.name];
    if (network) ecsNetworks[sub.name] = network;
    else if (parsed.output)
      problems.push({
        key: `${ECS_NETWORK_KEY}.${sub.name}`,
        value: undefined,
        reason:
          "is required for a subscriber with downstream ecs: {subnetIds: [subnet-…], securityGroupIds: [sg-…]} of the VPC the Fargate task runs in",
      });
  }
  if (problems.length > 0) return { problems };
  return { value: { topology, publisher: stack.parts.publisher, subscribers, ecsNetworks }, problems };
}
