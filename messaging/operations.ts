import { readStructured, throwIfProblems } from "../common/config-error";
import { boundedName, NameLimits } from "../common/names";
import {
  accept,
  bool,
  check,
  checkKey,
  integer,
  list,
  oneOf,
  parse,
  strict,
  unique,
  v,
  withDefault,
  type Schema,
} from "../common/schema";
import { MessagePath, OperationsMetrics } from "./contract";
import { publisherNames, replicaNames, replicaRegions, replicationRuleId, subscriberNames } from "./naming";
import { MessagingTopology, SubscriberTopology } from "./topology";

// The operations layer, as data: which alarms each part gets, where they notify, what the
// dashboard shows. Stack-level config (each stack alarms on what it deploys); every default can be
// overridden, and `fieldnotes:alarms: false` turns the alarms and their topics off.

export const ALARMS_KEY = "fieldnotes:alarms";
export const DASHBOARD_KEY = "fieldnotes:dashboard";
export const TRACING_KEY = "fieldnotes:tracing";

export type EndpointProtocol = "email" | "email-json" | "https";
const PROTOCOLS: readonly EndpointProtocol[] = ["email", "email-json", "https"];

/** A subscription of the alarm topic: a mailbox, or an HTTPS endpoint (a chat or paging webhook that accepts SNS). */
export interface AlarmEndpoint {
  protocol: EndpointProtocol;
  endpoint: string;
}

export interface AlarmSettings {
  /** Seconds per evaluation period. @default 300 */
  periodSeconds: number;
  /** Consecutive breaching periods before the alarm fires. @default 1 */
  evaluationPeriods: number;
  /** A DLQ alarms when more than this many messages are visible. @default 0 */
  dlqMessages: number;
  /** An SNS-fed queue alarms when its oldest message is older than this. @default 900 */
  oldestMessageAgeSeconds: number;
  /** A function alarms on more errors than this in one period. @default 0 */
  functionErrors: number;
  /** A function alarms on more throttles than this in one period. @default 0 */
  functionThrottles: number;
  /** The publisher's rule alarms on more failed invocations than this in one period. @default 0 */
  failedInvocations: number;
  /** The topic alarms on more failed notifications than this in one period. @default 0 */
  notificationsFailed: number;
  /**
   * The payload bucket alarms on more objects than this failing to replicate to one replica in
   * one period (S3 replication metrics; only with subscribers that have `replica: true`).
   * @default 0
   */
  replicationFailures: number;
  /** Subscriptions of each alarm topic. @default [] */
  endpoints: AlarmEndpoint[];
}

export interface OperationsSettings {
  /** false: no alarms and no alarm topics. */
  alarms: AlarmSettings | false;
  /** One CloudWatch dashboard per stack and account. @default true */
  dashboard: boolean;
  /** X-Ray active tracing on the functions and the state machine. @default true */
  tracing: boolean;
}

export const DEFAULT_ALARMS: AlarmSettings = {
  periodSeconds: 300,
  evaluationPeriods: 1,
  dlqMessages: 0,
  oldestMessageAgeSeconds: 900,
  functionErrors: 0,
  functionThrottles: 0,
  failedInvocations: 0,
  notificationsFailed: 0,
  replicationFailures: 0,
  endpoints: [],
};

/** SQS keeps a message at most 14 days, so no message can be older than that. */
const MAX_MESSAGE_AGE_SECONDS = 1_209_600;
/** More alarm endpoints than this is a mistake, not a rota. */
const MAX_ENDPOINTS = 10;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

interface ConfigSource {
  name: string;
  get(key: string): string | undefined;
}

/** Reads and validates the three operations keys; throws a ConfigError with every problem found. */
export function loadOperations(config: ConfigSource): OperationsSettings {
  const alarms = check(alarmsConfig, readStructured(config, "alarms"), ALARMS_KEY);
  const dashboard = check(withDefault(bool, true), readStructured(config, "dashboard"), DASHBOARD_KEY);
  const tracing = check(withDefault(bool, true), readStructured(config, "tracing"), TRACING_KEY);
  throwIfProblems([...alarms.problems, ...dashboard.problems, ...tracing.problems]);
  return { alarms: alarms.output!, dashboard: dashboard.output!, tracing: tracing.output! };
}

/** Why an endpoint cannot take alarm notifications, or undefined when it can. */
function endpointReason(e: { protocol: EndpointProtocol; endpoint: string }): string | undefined {
  if (e.protocol !== "https") return EMAIL.test(e.endpoint) ? undefined : "is not an email address";
  let url: URL | undefined;
  try {
    url = new URL(e.endpoint);
  } catch {
    url = undefined;
  }
  // Alarms name the stack's resources: an http:// endpoint would carry them in clear text.
  return url?.protocol === "https:" ? undefined : "is not an https:// URL";
}

const endpointSchema = v.pipe(
  strict(
    { protocol: oneOf(PROTOCOLS), endpoint: v.string("must be a string") },
    'must be a map like {protocol: email, endpoint: "ops@example.org"}',
  ),
  checkKey(
    "endpoint",
    (e) => endpointReason(e) === undefined,
    (e) => endpointReason(e) ?? "",
  ),
);

const int = (key: keyof AlarmSettings, min: number, max: number) =>
  withDefault(integer(min, max), DEFAULT_ALARMS[key] as number);

// PutMetricAlarm: Period is 10, 20, 30 or a multiple of 60; the AWS metrics alarmed on here are per
// minute, so only multiples of 60 make sense. Period × EvaluationPeriods may not exceed one day
// when the period is under an hour, seven days otherwise.
// https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
const evaluationLimit = (s: { periodSeconds: number }) => (s.periodSeconds < 3600 ? 86_400 : 604_800);

const NOT_ALARMS = "must be false, true or a map of alarm settings";

const alarmsSchema = v.pipe(
  accept<Record<string, unknown>>(
    (x) => typeof x === "object" && x !== null && !Array.isArray(x),
    NOT_ALARMS,
  ),
  strict(
    {
      periodSeconds: v.pipe(
        int("periodSeconds", 60, 86_400),
        v.check((p) => p % 60 === 0, "must be a multiple of 60"),
      ),
      evaluationPeriods: int("evaluationPeriods", 1, 10_080),
      dlqMessages: int("dlqMessages", 0, 1_000_000),
      oldestMessageAgeSeconds: int("oldestMessageAgeSeconds", 60, MAX_MESSAGE_AGE_SECONDS),
      functionErrors: int("functionErrors", 0, 1_000_000),
      functionThrottles: int("functionThrottles", 0, 1_000_000),
      failedInvocations: int("failedInvocations", 0, 1_000_000),
      notificationsFailed: int("notificationsFailed", 0, 1_000_000),
      replicationFailures: int("replicationFailures", 0, 1_000_000),
      endpoints: withDefault(
        v.pipe(
          list(endpointSchema, "must be a list of {protocol, endpoint}"),
          v.maxLength(MAX_ENDPOINTS, `must list at most ${MAX_ENDPOINTS} endpoints`),
          unique((e) => `${e.protocol} ${e.endpoint}`, "endpoint"),
        ),
        [],
      ),
    },
    NOT_ALARMS,
  ),
  // Checks across keys, reported on the key to change.
  checkKey(
    "evaluationPeriods",
    (s) => s.periodSeconds * s.evaluationPeriods <= evaluationLimit(s),
    (s) =>
      `times periodSeconds (${s.periodSeconds}) is over ${evaluationLimit(s)} seconds, the longest evaluation CloudWatch allows for that period`,
  ),
);

/**
 * `false` (off), `true` or absent (the defaults), or a map overriding some defaults. Unknown keys
 * are refused with the closest known key: a misspelt threshold would otherwise be silently ignored.
 */
const alarmsConfig = v.lazy((raw): Schema<AlarmSettings | false> =>
  raw === false
    ? v.literal(false)
    : raw === undefined || raw === true
      ? v.pipe(
          v.unknown(),
          v.transform(() => ({ ...DEFAULT_ALARMS, endpoints: [] })),
        )
      : alarmsSchema,
);

/** Validates `fieldnotes:alarms` (see `alarmsConfig`); throws a ConfigError with every problem. */
export function parseAlarms(raw: unknown): AlarmSettings | false {
  return parse(alarmsConfig, raw, ALARMS_KEY);
}

/** Names of one stack's operations resources in one account and Region. */
export interface OperationsNames {
  /** Every alarm of the stack starts with this; the alarm topic admits only alarms named so. */
  alarmPrefix: string;
  alarmTopic: string;
  alarmTopicArn: string;
  alarmKeyAlias: string;
  dashboard: string;
}

/**
 * Per stack, not per topology: two stacks may deploy into one account and Region (each with its
 * own alarms), so the stack name keeps their topics and dashboards apart. Pulumi allows "." in
 * stack names, which topic, alias and dashboard names refuse.
 */
export function operationsNames(
  system: string,
  stack: string,
  account: string,
  region: string,
): OperationsNames {
  const base = `${system}-${stack.replace(/[^A-Za-z0-9_-]/g, "-")}`;
  const alarmTopic = boundedName(`${base}-alarms`, NameLimits.snsTopic);
  return {
    alarmPrefix: `${base}-`,
    alarmTopic,
    alarmTopicArn: `arn:aws:sns:${region}:${account}:${alarmTopic}`,
    alarmKeyAlias: `alias/${boundedName(`${base}-alarms`, NameLimits.kmsAlias - "alias/".length)}`,
    dashboard: boundedName(base, 255),
  };
}

/** One CloudWatch metric alarm, as data; the component turns each into an aws.cloudwatch.MetricAlarm. */
export interface AlarmDefinition {
  /** Logical suffix and physical name suffix (after the stack's prefix), e.g. "b-dlq-messages". */
  id: string;
  /** Account and Region of the metric: the alarm must live there, and so must its topic. */
  account: string;
  region: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
  statistic: "Sum" | "Maximum";
  threshold: number;
}

/**
 * The dimensions of S3's replication metrics for the origin's rule to the replica in `region`, in
 * the order the dashboard lists them: the alarm and the dashboard name the same metric.
 */
function replicationDimensions(topology: MessagingTopology, region: string): Record<string, string> {
  return {
    SourceBucket: publisherNames(topology).bucket,
    DestinationBucket: replicaNames(topology, region).bucket,
    RuleId: replicationRuleId(region),
  };
}

/** A part of the stack, as the alarms see it. */
export type OperatedPart = { kind: "publisher" } | { kind: "subscriber"; subscriber: SubscriberTopology };

/** Pure: the alarms of one part, each in the account and Region of the resource it watches. */
export function partAlarms(
  topology: MessagingTopology,
  part: OperatedPart,
  s: AlarmSettings,
): AlarmDefinition[] {
  const dlq = (
    id: string,
    account: string,
    region: string,
    queue: string,
    what: string,
  ): AlarmDefinition => ({
    id,
    account,
    region,
    description: `${what} (${queue}) holds messages: inspect and redrive with npm run dlq`,
    namespace: "AWS/SQS",
    // Visible messages, not NumberOfMessagesSent: messages moved by a redrive policy are not "sent".
    metricName: "ApproximateNumberOfMessagesVisible",
    dimensions: { QueueName: queue },
    statistic: "Maximum",
    threshold: s.dlqMessages,
  });
  const fn = (prefix: string, account: string, region: string, name: string): AlarmDefinition[] => [
    {
      id: `${prefix}-function-errors`,
      account,
      region,
      description: `Function ${name} failed invocations`,
      namespace: "AWS/Lambda",
      metricName: "Errors",
      dimensions: { FunctionName: name },
      statistic: "Sum",
      threshold: s.functionErrors,
    },
    {
      id: `${prefix}-function-throttles`,
      account,
      region,
      description: `Function ${name} was throttled`,
      namespace: "AWS/Lambda",
      metricName: "Throttles",
      dimensions: { FunctionName: name },
      statistic: "Sum",
      threshold: s.functionThrottles,
    },
  ];

  const pub = publisherNames(topology);
  if (part.kind === "publisher") {
    const { account, region } = pub;
    return [
      dlq(
        "publisher-failures-messages",
        account,
        region,
        pub.failureQueue,
        "The publisher's failure queue (rule DLQ and on-failure destination)",
      ),
      ...fn("publisher", account, region, pub.function),
      {
        id: "publisher-rule-failed-invocations",
        account,
        region,
        description: `Rule ${pub.rule} could not invoke the publisher function`,
        namespace: "AWS/Events",
        metricName: "FailedInvocations",
        // A rule on a custom bus reports under both dimensions; RuleName alone is the default bus.
        dimensions: { EventBusName: pub.bus, RuleName: pub.rule },
        statistic: "Sum",
        threshold: s.failedInvocations,
      },
      {
        id: "publisher-topic-notifications-failed",
        account,
        region,
        description: `Topic ${pub.topic} failed to deliver notifications`,
        namespace: "AWS/SNS",
        metricName: "NumberOfNotificationsFailed",
        dimensions: { TopicName: pub.topic },
        statistic: "Sum",
        threshold: s.notificationsFailed,
      },
      // S3 reports OperationsFailedReplication per rule in the source bucket's Region (S3 User Guide,
      // "Using S3 Replication metrics"). A failed copy stays at the origin only, and the replica's
      // readers fall back to the origin for it.
      ...replicaRegions(topology).map((replicaRegion) => {
        const dimensions = replicationDimensions(topology, replicaRegion);
        return {
          id: `publisher-replication-failed-${replicaRegion}`,
          account,
          region,
          description: `Payloads failed to replicate from ${dimensions.SourceBucket} to ${dimensions.DestinationBucket}: subscribers in ${replicaRegion} read those from the origin (docs/replicas.md)`,
          namespace: "AWS/S3",
          metricName: "OperationsFailedReplication",
          dimensions,
          statistic: "Sum" as const,
          threshold: s.replicationFailures,
        };
      }),
    ];
  }

  const sub = part.subscriber;
  const names = subscriberNames(topology, sub);
  const { account, region } = names;
  const alarms: AlarmDefinition[] = [
    // The subscription's DLQ is in the topic's Region, so is its metric and its alarm.
    dlq(
      `${sub.name}-delivery-dlq-messages`,
      account,
      pub.region,
      names.deliveryDlq,
      `Subscriber ${sub.name}'s subscription DLQ`,
    ),
    dlq(
      `${sub.name}-dlq-messages`,
      account,
      region,
      names.dlq,
      sub.delivery === "sqs"
        ? `Subscriber ${sub.name}'s queue DLQ`
        : `Subscriber ${sub.name}'s on-failure queue`,
    ),
    ...fn(sub.name, account, region, names.function),
  ];
  if (sub.delivery === "sqs") {
    alarms.push({
      id: `${sub.name}-queue-oldest-message`,
      account,
      region,
      description: `Queue ${names.queue}: a message waits longer than ${s.oldestMessageAgeSeconds} s (consumer stuck or too slow)`,
      namespace: "AWS/SQS",
      metricName: "ApproximateAgeOfOldestMessage",
      dimensions: { QueueName: names.queue },
      statistic: "Maximum",
      threshold: s.oldestMessageAgeSeconds,
    });
  }
  return alarms;
}

/** A metric line of a dashboard widget, in CloudWatch's dashboard body syntax. */
type DashboardMetric = (string | { region?: string; stat?: string; label?: string })[];

interface Widget {
  type: "metric";
  width: number;
  height: number;
  properties: {
    title: string;
    region: string;
    view: "timeSeries";
    stat: string;
    period: number;
    metrics: DashboardMetric[];
  };
}

/**
 * Pure: the dashboard body of the parts a stack deploys in one account, following a message:
 * events in, published (inline vs offloaded), delivered, failed, payload bytes, resolve latency.
 * Each metric names its Region, so one dashboard shows parts in several Regions.
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/CloudWatch-Dashboard-Body-Structure.html
 */
export function dashboardBody(topology: MessagingTopology, parts: OperatedPart[]): { widgets: Widget[] } {
  const M = OperationsMetrics;
  const ns = topology.system;
  const pub = publisherNames(topology);
  const widget = (title: string, region: string, stat: string, metrics: DashboardMetric[]): Widget => ({
    type: "metric",
    width: 12,
    height: 6,
    properties: { title, region, view: "timeSeries", stat, period: 60, metrics },
  });
  const byPath = (metric: string, dims: string[], region: string, stat: string): DashboardMetric[] =>
    M.paths.map((path: MessagePath) => [
      ns,
      metric,
      ...dims,
      M.dimensions.path,
      path,
      { region, stat, label: `${metric} ${path} (${stat})` },
    ]);

  const widgets: Widget[] = [];
  for (const part of parts) {
    if (part.kind === "publisher") {
      const r = pub.region;
      const dims = [M.dimensions.service, M.publisherService];
      widgets.push(
        widget("Publisher: events in", r, "Sum", [
          ["AWS/Events", "MatchedEvents", "EventBusName", pub.bus, "RuleName", pub.rule, { region: r }],
          ["AWS/Events", "Invocations", "EventBusName", pub.bus, "RuleName", pub.rule, { region: r }],
        ]),
        widget("Publisher: published, inline vs offloaded", r, "Sum", byPath(M.messages, dims, r, "Sum")),
        widget("Publisher: delivered and failed", r, "Sum", [
          ["AWS/SNS", "NumberOfNotificationsDelivered", "TopicName", pub.topic, { region: r }],
          ["AWS/SNS", "NumberOfNotificationsFailed", "TopicName", pub.topic, { region: r }],
          ["AWS/Events", "FailedInvocations", "EventBusName", pub.bus, "RuleName", pub.rule, { region: r }],
          ["AWS/Lambda", "Errors", "FunctionName", pub.function, { region: r }],
          [
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            "QueueName",
            pub.failureQueue,
            { region: r, stat: "Maximum" },
          ],
        ]),
        widget("Publisher: payload bytes", r, "Average", byPath(M.payloadBytes, dims, r, "Average")),
      );
      const replicas = replicaRegions(topology);
      if (replicas.length > 0) {
        // Per rule (one per replica): failures in the source bucket's Region, pending operations and
        // latency in the destination's (S3 User Guide, "Using S3 Replication metrics").
        widgets.push(
          widget(
            "Publisher: replication to the replicas",
            r,
            "Sum",
            replicas.flatMap((region): DashboardMetric[] => {
              const d = Object.entries(replicationDimensions(topology, region)).flat();
              return [
                ["AWS/S3", "OperationsFailedReplication", ...d, { region: r, label: `failed to ${region}` }],
                [
                  "AWS/S3",
                  "OperationsPendingReplication",
                  ...d,
                  { region, stat: "Maximum", label: `pending to ${region}` },
                ],
                [
                  "AWS/S3",
                  "ReplicationLatency",
                  ...d,
                  { region, stat: "Maximum", label: `latency to ${region} (s)` },
                ],
              ];
            }),
          ),
        );
      }
      continue;
    }
    const sub = part.subscriber;
    const names = subscriberNames(topology, sub);
    const r = names.region;
    const dims = [M.dimensions.service, M.subscriberService, M.dimensions.subscriber, sub.name];
    widgets.push(
      widget(
        `Subscriber ${sub.name}: delivered, inline vs offloaded`,
        r,
        "Sum",
        byPath(M.messages, dims, r, "Sum"),
      ),
      widget(`Subscriber ${sub.name}: failed`, r, "Sum", [
        [
          ns,
          M.failures,
          M.dimensions.service,
          M.subscriberService,
          M.dimensions.subscriber,
          sub.name,
          { region: r },
        ],
        ...byPath(M.expiredPayload, dims, r, "Sum"),
        ...byPath(M.verifyFailed, dims, r, "Sum"),
        ["AWS/Lambda", "Errors", "FunctionName", names.function, { region: r }],
        [
          "AWS/SQS",
          "ApproximateNumberOfMessagesVisible",
          "QueueName",
          names.dlq,
          { region: r, stat: "Maximum" },
        ],
        [
          "AWS/SQS",
          "ApproximateNumberOfMessagesVisible",
          "QueueName",
          names.deliveryDlq,
          { region: pub.region, stat: "Maximum" },
        ],
      ]),
      widget(
        `Subscriber ${sub.name}: payload bytes`,
        r,
        "Average",
        byPath(M.payloadBytes, dims, r, "Average"),
      ),
      widget(`Subscriber ${sub.name}: resolve latency (ms)`, r, "p50", [
        ...byPath(M.resolveMs, dims, r, "p50"),
        ...byPath(M.resolveMs, dims, r, "p99"),
      ]),
    );
    if (sub.replica) {
      // The handlers emit these on the offloaded path only (telemetry.payloadRead).
      const offloaded = [...dims, M.dimensions.path, "offloaded"];
      widgets.push(
        widget(
          `Subscriber ${sub.name}: read from the replica or the origin`,
          r,
          "Sum",
          [M.replicaReads, M.replicaFallbacks, M.replicaRefused].map((metric) => [
            ns,
            metric,
            ...offloaded,
            { region: r, label: metric },
          ]),
        ),
      );
    }
  }
  return { widgets };
}
