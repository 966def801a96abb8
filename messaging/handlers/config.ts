// Reading the environment the messaging components set (messaging/contract.ts). Every value is
// checked once, at cold start, with the schema helpers the stack config uses (common/schema.ts), and
// every wrong variable is reported at once, each naming the variable and the bad value: a wiring
// mistake then fails the first invocation loudly instead of mis-delivering messages.
//
// valibot directly, not Powertools Parser: Parser 2.35.0 takes a Standard Schema (which valibot
// schemas are) only in its bare `parse(data, undefined, schema)`, and throws one "Failed to parse
// schema" error with the issues as its cause, so the wording here would still be ours; its envelopes
// and built-in event schemas are Zod (a peer dependency, zod 4), which the bundles do not carry.
import * as v from "valibot";
import { accept, pathText, problemsOf, validatedBy, type Schema } from "../../common/schema";
import { DOWNSTREAMS, PayloadLayout, PublisherEnv, SubscriberEnv } from "../contract";
import { DEFAULT_THRESHOLD, MAX_THRESHOLD, validateKeyPrefix, type SqsDelivery } from "../payload";

type Env = Record<string, string | undefined>;

/** S3's bucket naming rules (3-63 of [a-z0-9.-], starting and ending with a letter or digit). */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Every variable starts as a string, "" when unset: an object entry that is optional without a
 * default is skipped when its key is missing, so a required variable would not be checked.
 */
const variable = v.optional(v.string(), "");

/** Unset and blank both read as undefined: Lambda has no "unset" for a key the stack gives it. */
const blankIsUnset = v.transform((s: string) => s.trim() || undefined);

/** A variable that must be set (not blank), trimmed. */
function required() {
  return v.pipe(variable, blankIsUnset, v.string("is required"));
}

/** A required variable that must pass `test`; `reason` gets the value. */
function requiredMatching(test: (value: string) => boolean, reason: (value: string) => string) {
  return v.pipe(
    required(),
    v.check(test, (issue) => reason(issue.input)),
  );
}

/** Optional: the trimmed value, or undefined. */
const optionalText = v.pipe(variable, blankIsUnset);

/** A comma-separated list of `item`, blanks dropped. */
function list<T>(item: v.GenericSchema<string, T>) {
  return v.pipe(
    variable,
    v.transform((s: string) =>
      s
        .split(",")
        .map((x) => x.trim())
        .filter((x) => x.length > 0),
    ),
    v.array(item),
  );
}

/** A list that must have at least one entry. */
function nonEmptyList<T>(item: v.GenericSchema<string, T>, reason: string) {
  return v.pipe(
    list(item),
    v.check((entries: T[]) => entries.length > 0, reason),
  );
}

/** An integer from 0 to max (digits only, so never negative); unset or blank means `fallback`. */
function integer(fallback: number, max: number) {
  return v.pipe(
    variable,
    blankIsUnset,
    v.optional(
      v.pipe(
        v.string(),
        v.check(
          (x) => /^\d+$/.test(x) && Number(x) <= max,
          (issue) => `must be an integer from 0 to ${max}, got ${JSON.stringify(issue.input)}`,
        ),
        v.transform(Number),
      ),
      String(fallback),
    ),
  );
}

/** "true" or "false" (any case, trimmed); unset or blank means `unset`. */
function flag<U extends boolean | undefined>(unset: U) {
  return v.pipe(
    variable,
    v.check(
      (x) => ["", "true", "false"].includes(x.trim().toLowerCase()),
      (issue) => `must be "true" or "false", got ${JSON.stringify(issue.input)}`,
    ),
    v.transform((x): boolean | U => {
      const value = x.trim().toLowerCase();
      return value ? value === "true" : unset;
    }),
  );
}

const keyPrefix = validatedBy<string>(validateKeyPrefix);

/**
 * Runs `schema` over the environment and throws one error listing every wrong variable, one line
 * each: `environment variable NAME must be …, got "value"` for the variable as a whole, `NAME: …`
 * for one entry of a list or a rule the message states about the value.
 */
function readEnv<T>(schemas: Schema<T>[], env: Env): T[] {
  const outputs: T[] = [];
  const lines: string[] = [];
  for (const schema of schemas) {
    // An output with problems is never returned: any problem throws below.
    const { output, problems } = problemsOf(schema, env);
    outputs.push(output as T);
    for (const p of problems) {
      // A reason about one entry of a list starts by naming the entry, so only the variable's own
      // reasons ("is required", "must be …") read as a sentence after its name.
      const sep = /^(is|must) /.test(p.reason) ? " " : ": ";
      lines.push(`environment variable ${pathText(p.path.slice(0, 1))}${sep}${p.reason}`);
    }
  }
  if (lines.length) throw new Error(lines.join("\n"));
  return outputs;
}

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

const sourceRule = v.pipe(
  v.string(),
  accept<string>(
    (x) => BUCKET_NAME.test(String(x).split("/")[0]),
    (x) => `entry ${JSON.stringify(x)} must be "bucket/prefix"`,
  ),
  v.transform((entry): SourceRule => {
    const [bucket, ...prefix] = entry.split("/");
    return { bucket, prefix: prefix.join("/") };
  }),
);

const publisherEnv = v.object({
  [PublisherEnv.topicArn]: requiredMatching(
    (x) => x.startsWith("arn:"),
    (x) => `must be a topic ARN, got ${JSON.stringify(x)}`,
  ),
  [PublisherEnv.payloadBucket]: required(),
  // Not trimmed: the prefix is part of every object key, and the library says what it refuses.
  [PublisherEnv.keyPrefix]: v.optional(v.pipe(v.string(), keyPrefix), PayloadLayout.payloadPrefix),
  [PublisherEnv.threshold]: integer(DEFAULT_THRESHOLD, MAX_THRESHOLD),
  [PublisherEnv.alwaysThroughS3]: flag(false),
  [PublisherEnv.kmsKeyId]: optionalText,
  [PublisherEnv.sourceAllowList]: list(sourceRule),
});

export function readPublisherConfig(env: Env): PublisherConfig {
  const [e] = readEnv([publisherEnv], env);
  return {
    topicArn: e[PublisherEnv.topicArn],
    payloadBucket: e[PublisherEnv.payloadBucket],
    keyPrefix: e[PublisherEnv.keyPrefix],
    threshold: e[PublisherEnv.threshold],
    alwaysThroughS3: e[PublisherEnv.alwaysThroughS3],
    kmsKeyId: e[PublisherEnv.kmsKeyId],
    sourceAllowList: e[PublisherEnv.sourceAllowList],
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

/** An origin bucket and its replica in the function's Region (one PAYLOAD_REPLICAS entry). */
export interface ReplicaPair {
  origin: string;
  replica: string;
}

export interface SubscriberConfig {
  subscriberName: string;
  bucketAllowList: string[];
  /** Region-local replicas, each standing for an origin bucket the pointers name; [] when none. */
  replicas: ReplicaPair[];
  keyPrefixAllowList: string[];
  /** How the queue's subscription delivers; undefined when the variable is not set (direct subscribers). */
  sqsDelivery?: SqsDelivery;
  bucketRegion?: string;
  previewBytes: number;
  downstream: DownstreamConfig;
}

/** DOWNSTREAM trimmed; unset or blank is "none", like every other variable's default. */
const downstreamKind = (value: string | undefined) => value?.trim() || "none";

/** One PAYLOAD_REPLICAS entry, "originBucket=replicaBucket"; the reason quotes the entry. */
const replicaEntry = v.pipe(
  v.string(),
  v.transform((entry) => ({ entry, parts: entry.split("=").map((s) => s.trim()) })),
  v.check(
    ({ parts }) => parts.length === 2 && parts.every((p) => p !== ""),
    (issue) => `entry ${JSON.stringify(issue.input.entry)} must be "originBucket=replicaBucket"`,
  ),
  v.transform(({ entry, parts: [origin, replica] }): ReplicaPair & { entry: string } => ({
    entry,
    origin,
    replica,
  })),
  v.check(
    (p) => p.origin !== p.replica,
    (issue) => `entry ${JSON.stringify(issue.input.entry)} names the same bucket as origin and replica`,
  ),
);

/**
 * PAYLOAD_REPLICAS against the allow-list: the reader reads nowhere else, so both buckets of a pair
 * must be in it, and an origin has one replica (the one in this function's Region).
 */
function replicasAllowed<T extends Record<string, unknown>>() {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    const env = dataset.value as Record<string, unknown>;
    const allowed = env[SubscriberEnv.bucketAllowList] as string[];
    const pairs = env[SubscriberEnv.payloadReplicas] as (ReplicaPair & { entry: string })[];
    const origins = new Set<string>();
    pairs.forEach((pair, i) => {
      const problem = (why: string) =>
        addIssue({
          message: `entry ${JSON.stringify(pair.entry)} ${why}`,
          input: pair.entry,
          // valibot's path items require `type` and `origin`; problemsOf reads only each item's `key`
          // (and `origin` only for an unknown key, which these are not), so their text changes no message.
          path: [
            // Stryker disable next-line StringLiteral: type and origin are never read (above)
            { type: "object", origin: "value", input: env, key: SubscriberEnv.payloadReplicas, value: pairs },
            // Stryker disable next-line StringLiteral: type and origin are never read (above)
            { type: "array", origin: "value", input: pairs, key: i, value: pair },
          ],
        });
      for (const [what, bucket] of [
        ["origin", pair.origin],
        ["replica", pair.replica],
      ]) {
        if (!allowed.includes(bucket)) {
          problem(
            `names ${what} ${JSON.stringify(bucket)}, which is not in ${SubscriberEnv.bucketAllowList} [${allowed.join(", ")}]`,
          );
          return;
        }
      }
      if (origins.has(pair.origin)) problem(`gives origin "${pair.origin}" a second replica`);
      origins.add(pair.origin);
    });
  });
}

const subscriberEntries = v.object({
  [SubscriberEnv.subscriberName]: required(),
  [SubscriberEnv.bucketAllowList]: nonEmptyList(
    accept<string>(
      (x) => BUCKET_NAME.test(String(x)),
      (x) => `${JSON.stringify(x)} is not an S3 bucket name`,
    ),
    "must name at least one bucket",
  ),
  [SubscriberEnv.keyPrefixAllowList]: list(v.pipe(v.string(), keyPrefix)),
  [SubscriberEnv.payloadReplicas]: list(replicaEntry),
  [SubscriberEnv.sqsRawDelivery]: flag(undefined),
  [SubscriberEnv.bucketRegion]: optionalText,
  [SubscriberEnv.previewBytes]: integer(1024, 4096),
  [SubscriberEnv.downstream]: v.pipe(
    variable,
    v.transform((x: string) => downstreamKind(x)),
    v.check(
      (x) => (DOWNSTREAMS as readonly string[]).includes(x),
      (issue) => `must be "stepfunctions", "ecs" or "none", got ${JSON.stringify(issue.input)}`,
    ),
  ),
});

const subscriberEnv = v.pipe(subscriberEntries, replicasAllowed<v.InferOutput<typeof subscriberEntries>>());

/** The variables each downstream needs, read only when DOWNSTREAM names it. */
const downstreamEnv = {
  none: v.pipe(
    v.object({}),
    v.transform((): DownstreamConfig => ({ kind: "none" })),
  ),
  stepfunctions: v.pipe(
    v.object({ [SubscriberEnv.stateMachineArn]: required() }),
    v.transform((e): DownstreamConfig => ({
      kind: "stepfunctions",
      stateMachineArn: e[SubscriberEnv.stateMachineArn],
    })),
  ),
  ecs: v.pipe(
    v.object({
      [SubscriberEnv.ecsClusterArn]: required(),
      [SubscriberEnv.ecsTaskDefinitionArn]: required(),
      [SubscriberEnv.ecsContainerName]: required(),
      [SubscriberEnv.ecsSubnetIds]: nonEmptyList(v.string(), "must name at least one subnet"),
      [SubscriberEnv.ecsSecurityGroupIds]: list(v.string()),
    }),
    v.transform((e): DownstreamConfig => ({
      kind: "ecs",
      clusterArn: e[SubscriberEnv.ecsClusterArn],
      taskDefinitionArn: e[SubscriberEnv.ecsTaskDefinitionArn],
      containerName: e[SubscriberEnv.ecsContainerName],
      subnetIds: e[SubscriberEnv.ecsSubnetIds],
      securityGroupIds: e[SubscriberEnv.ecsSecurityGroupIds],
    })),
  ),
} satisfies Record<(typeof DOWNSTREAMS)[number], Schema<DownstreamConfig>>;

export function readSubscriberConfig(env: Env): SubscriberConfig {
  // The downstream's own variables are checked too when DOWNSTREAM is valid, so a stack missing
  // both an allow-list and ECS_CLUSTER_ARN hears of both at once.
  const kind = downstreamKind(env[SubscriberEnv.downstream]);
  const extra = (downstreamEnv as Record<string, Schema<DownstreamConfig>>)[kind];
  const [e, downstream] = readEnv<unknown>(extra ? [subscriberEnv, extra] : [subscriberEnv], env) as [
    v.InferOutput<typeof subscriberEnv>,
    DownstreamConfig,
  ];
  const raw = e[SubscriberEnv.sqsRawDelivery];
  return {
    subscriberName: e[SubscriberEnv.subscriberName],
    bucketAllowList: e[SubscriberEnv.bucketAllowList],
    keyPrefixAllowList: e[SubscriberEnv.keyPrefixAllowList],
    replicas: e[SubscriberEnv.payloadReplicas].map(({ origin, replica }) => ({ origin, replica })),
    ...(raw === undefined ? {} : { sqsDelivery: raw ? "raw" : "envelope" }),
    bucketRegion: e[SubscriberEnv.bucketRegion],
    previewBytes: e[SubscriberEnv.previewBytes],
    downstream,
  };
}
