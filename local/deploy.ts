// The local deployer: creates, on loopback emulators, the messaging resources the program
// registered in its plan. Names, attributes, raw-delivery flags, redrive settings and environment
// variables all come from the recorded inputs; nothing is declared here a second time. ARNs and
// URLs the program derived are mapped to the emulator's, and function environments rewritten
// through that map.
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import * as fs from "fs";
import * as path from "path";
import { emulatorClientConfig } from "./emulators";
import type { Plan, PlannedResource } from "./plan";

export const T = {
  topic: "aws:sns/topic:Topic",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  queue: "aws:sqs/queue:Queue",
  redrivePolicy: "aws:sqs/redrivePolicy:RedrivePolicy",
  bucket: "aws:s3/bucket:Bucket",
  bucketV2: "aws:s3/bucketV2:BucketV2",
  fn: "aws:lambda/function:Function",
  esm: "aws:lambda/eventSourceMapping:EventSourceMapping",
  permission: "aws:lambda/permission:Permission",
  invokeConfig: "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
  bus: "aws:cloudwatch/eventBus:EventBus",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  stateMachine: "aws:sfn/stateMachine:StateMachine",
  ecsCluster: "aws:ecs/cluster:Cluster",
  taskDefinition: "aws:ecs/taskDefinition:TaskDefinition",
} as const;

export interface Endpoints {
  /** fauxqs: SNS and SQS. */
  sqs: string;
  sns: string;
  /** s3rver. */
  s3: string;
  /** The downstream recorder (Step Functions and ECS APIs). */
  sfn: string;
  ecs: string;
}

export interface LocalQueue {
  resource: PlannedResource;
  name: string;
  region: string;
  plannedArn: string;
  plannedUrl: string;
  arn: string;
  url: string;
  /** The queue's redrive: where records go after maxReceiveCount receives. */
  redrive?: { dlq: LocalQueue; maxReceiveCount: number };
}

export interface LocalFunction {
  resource: PlannedResource;
  name: string;
  region: string;
  plannedArn: string;
  /** The bundle file and export the Lambda runtime loads (from `code` and `handler`). */
  file: string;
  exportName: string;
  /** Which contract handler the bundle is, from its directory name (publish, consume-queue, …). */
  handlerName: string;
  timeoutSeconds: number;
  memoryMb: number;
  /** The program's variables with planned ARNs/URLs rewritten to the emulator's. */
  env: Record<string, string>;
  /** As the program set them. */
  plannedEnv: Record<string, string>;
  /** Asynchronous invocation: retries and on-failure destination (queue URL), from the invoke config. */
  asyncRetries: number;
  onFailureQueue?: LocalQueue;
  deadLetterQueue?: LocalQueue;
}

export interface LocalSubscription {
  resource: PlannedResource;
  topicArn: string;
  protocol: string;
  raw: boolean;
  /** sqs: the queue; lambda: the internal raw-off bridge queue the runtime polls. */
  queue: LocalQueue;
  fn?: LocalFunction;
  arn: string;
}

export interface LocalEventSource {
  resource: PlannedResource;
  queue: LocalQueue;
  fn: LocalFunction;
  batchSize: number;
  windowSeconds: number;
  reportBatchItemFailures: boolean;
}

export interface LocalRoute {
  rule: PlannedResource;
  busName: string;
  pattern: Record<string, unknown>;
  fn: LocalFunction;
}

export interface LocalDeployment {
  plan: Plan;
  endpoints: Endpoints;
  /** Planned ARN or URL → emulator ARN or URL. */
  addressMap: Map<string, string>;
  topics: Array<{ resource: PlannedResource; plannedArn: string; arn: string; region: string }>;
  queues: LocalQueue[];
  buckets: string[];
  functions: LocalFunction[];
  subscriptions: LocalSubscription[];
  eventSources: LocalEventSource[];
  routes: LocalRoute[];
}

/** A wiring mistake found while deploying; the message names the resource. */
export class LocalDeployError extends Error {}

const str = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);
const num = (v: unknown, fallback: number): number =>
  typeof v === "number" ? v : v === undefined ? fallback : Number(v);
export const label = (r: PlannedResource) => `${r.type.split(":").pop()} "${r.name}"`;

function regionOf(r: PlannedResource): string {
  return r.provider?.region ?? "us-east-1";
}

export function isBucket(r: PlannedResource): boolean {
  return r.type === T.bucket || r.type === T.bucketV2;
}

export interface DeployOptions {
  /**
   * Shortens every queue's visibility timeout to at most this many seconds. The soak loses
   * receive answers and deletes on purpose; a message then reappears only after the visibility
   * timeout, which the program sets to six times the consumer's timeout (30 minutes by default).
   * Like the runtime's compressed retry delays, this changes when, not whether.
   */
  maxVisibilitySeconds?: number;
}

/** Creates the plan's messaging resources on the emulators. */
export async function deployLocally(
  plan: Plan,
  endpoints: Endpoints,
  opts: DeployOptions = {},
): Promise<LocalDeployment> {
  const sqsFor = memo((region: string) => new SQSClient({ ...emulatorClientConfig(endpoints.sqs), region }));
  const snsFor = memo((region: string) => new SNSClient({ ...emulatorClientConfig(endpoints.sns), region }));
  const s3 = new S3Client(emulatorClientConfig(endpoints.s3));
  const addressMap = new Map<string, string>();
  const of = (type: string) => plan.resources.filter((r) => r.type === type);
  const d: LocalDeployment = {
    plan,
    endpoints,
    addressMap,
    topics: [],
    queues: [],
    buckets: [],
    functions: [],
    subscriptions: [],
    eventSources: [],
    routes: [],
  };
  const mapped = (value: string) => rewrite(value, addressMap);

  // Buckets: the emulator has one namespace, like S3's global one, so names carry over as they are.
  for (const r of plan.resources.filter(isBucket)) {
    const name = str(r.outputs.bucket) ?? str(r.inputs.bucket) ?? r.name;
    await s3.send(new CreateBucketCommand({ Bucket: name }));
    d.buckets.push(name);
  }

  for (const r of of(T.topic)) {
    const name = str(r.outputs.name) ?? r.name;
    const region = regionOf(r);
    const attributes: Record<string, string> = {};
    if (r.inputs.fifoTopic === true) attributes.FifoTopic = "true";
    const out = await snsFor(region).send(new CreateTopicCommand({ Name: name, Attributes: attributes }));
    const plannedArn = String(r.outputs.arn);
    addressMap.set(plannedArn, out.TopicArn!);
    d.topics.push({ resource: r, plannedArn, arn: out.TopicArn!, region });
  }

  // Queues: a DLQ before the queues whose redrive names it.
  const queues = of(T.queue);
  const byArn = new Map(queues.map((q) => [String(q.outputs.arn), q]));
  const seenNames = new Map<string, PlannedResource>();
  const created = new Set<PlannedResource>();
  const createQueue = async (r: PlannedResource, chain: PlannedResource[] = []): Promise<void> => {
    if (created.has(r)) return;
    if (chain.includes(r)) throw new LocalDeployError(`${label(r)}: its redrive policy forms a cycle`);
    const name = str(r.outputs.name) ?? r.name;
    const clash = seenNames.get(name);
    if (clash) {
      throw new LocalDeployError(
        `${label(r)} and ${label(clash)} are both named "${name}": the emulator has one account, so queue names must be unique`,
      );
    }
    const attributes = queueAttributes(r);
    if (opts.maxVisibilitySeconds !== undefined)
      attributes.VisibilityTimeout = String(
        Math.min(Number(attributes.VisibilityTimeout ?? 30), opts.maxVisibilitySeconds),
      );
    // The redrive policy is an input of the queue, or a separate aws.sqs.RedrivePolicy resource.
    const separate = of(T.redrivePolicy).find((p) => p.inputs.queueUrl === r.outputs.url);
    const redrive = str(r.inputs.redrivePolicy) ?? str(separate?.inputs.redrivePolicy);
    let redriveTo: LocalQueue["redrive"];
    if (redrive) {
      const policy = parseJson(redrive, `${label(r)} redrivePolicy`) as {
        deadLetterTargetArn?: string;
        maxReceiveCount?: number;
      };
      const dlq = policy.deadLetterTargetArn ? byArn.get(policy.deadLetterTargetArn) : undefined;
      if (!dlq) {
        throw new LocalDeployError(
          `${label(r)}: redrivePolicy.deadLetterTargetArn ${JSON.stringify(policy.deadLetterTargetArn)} is no queue of this stack`,
        );
      }
      await createQueue(dlq, [...chain, r]);
      redriveTo = {
        dlq: d.queues.find((q) => q.resource === dlq)!,
        maxReceiveCount: Number(policy.maxReceiveCount),
      };
      attributes.RedrivePolicy = JSON.stringify({
        ...policy,
        deadLetterTargetArn: mapped(policy.deadLetterTargetArn!),
      });
    }
    const region = regionOf(r);
    const client = sqsFor(region);
    const { QueueUrl } = await client.send(
      new CreateQueueCommand({ QueueName: name, Attributes: attributes }),
    );
    const attrs = await client.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    const q: LocalQueue = {
      resource: r,
      name,
      region,
      plannedArn: String(r.outputs.arn),
      plannedUrl: String(r.outputs.url),
      arn: attrs.Attributes!.QueueArn!,
      url: QueueUrl!,
      redrive: redriveTo,
    };
    addressMap.set(q.plannedArn, q.arn);
    addressMap.set(q.plannedUrl, q.url);
    seenNames.set(name, r);
    created.add(r);
    d.queues.push(q);
  };
  for (const q of queues) await createQueue(q);
  const queueByPlannedArn = (arn: unknown) => d.queues.find((q) => q.plannedArn === arn);

  // Functions: the deployed bundle, its handler export, and its environment.
  const invokeConfigs = of(T.invokeConfig);
  for (const r of of(T.fn)) {
    const fn = functionOf(r);
    addressMap.set(fn.plannedArn, fn.plannedArn);
    const invokeConfig = invokeConfigs.find(
      (c) => c.inputs.functionName === fn.name || c.inputs.functionName === fn.plannedArn,
    );
    const onFailureArn = (
      invokeConfig?.inputs.destinationConfig as { onFailure?: { destination?: string } } | undefined
    )?.onFailure?.destination;
    const dlqArn = (r.inputs.deadLetterConfig as { targetArn?: string } | undefined)?.targetArn;
    fn.asyncRetries = num(invokeConfig?.inputs.maximumRetryAttempts, 2);
    fn.onFailureQueue = onFailureArn ? queueByPlannedArn(onFailureArn) : undefined;
    fn.deadLetterQueue = dlqArn ? queueByPlannedArn(dlqArn) : undefined;
    if (onFailureArn && !fn.onFailureQueue) {
      throw new LocalDeployError(
        `${label(invokeConfig!)}: on-failure destination ${onFailureArn} is no queue of this stack`,
      );
    }
    d.functions.push(fn);
  }
  const fnByRef = (ref: unknown) =>
    d.functions.find(
      (f) => f.name === ref || f.plannedArn === ref || f.plannedArn === String(ref).replace(/:\$LATEST$/, ""),
    );

  for (const r of of(T.subscription)) {
    const plannedTopic = str(r.inputs.topic);
    const topic = d.topics.find((t) => t.plannedArn === plannedTopic);
    if (!topic)
      throw new LocalDeployError(
        `${label(r)}: topic ${JSON.stringify(plannedTopic)} is no topic of this stack; a local run needs the ` +
          `publisher and its subscribers in one stack (dev, scenario1 or fifo)`,
      );
    const protocol = String(r.inputs.protocol);
    const raw = r.inputs.rawMessageDelivery === true || r.inputs.rawMessageDelivery === "true";
    const attributes: Record<string, string> = {};
    for (const [input, attribute] of [
      ["filterPolicy", "FilterPolicy"],
      ["filterPolicyScope", "FilterPolicyScope"],
    ] as const) {
      if (str(r.inputs[input])) attributes[attribute] = String(r.inputs[input]);
    }
    if (str(r.inputs.redrivePolicy)) attributes.RedrivePolicy = mapped(String(r.inputs.redrivePolicy));
    const sns = snsFor(topic.region);
    let queue: LocalQueue | undefined;
    let fn: LocalFunction | undefined;
    if (protocol === "sqs") {
      queue = queueByPlannedArn(r.inputs.endpoint);
      if (!queue)
        throw new LocalDeployError(
          `${label(r)}: endpoint ${JSON.stringify(r.inputs.endpoint)} is no queue of this stack`,
        );
      if (raw) attributes.RawMessageDelivery = "true";
    } else if (protocol === "lambda") {
      fn = fnByRef(r.inputs.endpoint);
      if (!fn)
        throw new LocalDeployError(
          `${label(r)}: endpoint ${JSON.stringify(r.inputs.endpoint)} is no function of this stack`,
        );
      // The emulator never invokes Lambda: SNS delivers into an internal queue, raw off, and the
      // runtime turns each envelope into the SNS event Lambda would get.
      const bridgeName = `local-sns-to-lambda-${fn.name}`.slice(0, 80);
      const client = sqsFor(topic.region);
      const { QueueUrl } = await client.send(
        new CreateQueueCommand({
          QueueName: bridgeName,
          Attributes:
            opts.maxVisibilitySeconds !== undefined
              ? { VisibilityTimeout: String(Math.min(30, opts.maxVisibilitySeconds)) }
              : {},
        }),
      );
      const qa = await client.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
      queue = {
        resource: r,
        name: bridgeName,
        region: topic.region,
        plannedArn: "",
        plannedUrl: "",
        arn: qa.Attributes!.QueueArn!,
        url: QueueUrl!,
      };
    } else {
      throw new LocalDeployError(
        `${label(r)}: protocol "${protocol}" is not emulated locally (sqs and lambda are)`,
      );
    }
    // "sqs" for a lambda endpoint too: what the emulator subscribes is its bridge queue.
    const out = await sns.send(
      new SubscribeCommand({
        TopicArn: topic.arn,
        Protocol: "sqs",
        Endpoint: queue.arn,
        Attributes: attributes,
        ReturnSubscriptionArn: true,
      }),
    );
    d.subscriptions.push({
      resource: r,
      topicArn: topic.arn,
      protocol,
      raw,
      queue,
      fn,
      arn: out.SubscriptionArn!,
    });
  }

  for (const r of of(T.esm)) {
    const queue = queueByPlannedArn(r.inputs.eventSourceArn);
    if (!queue)
      throw new LocalDeployError(
        `${label(r)}: eventSourceArn ${JSON.stringify(r.inputs.eventSourceArn)} is no queue of this stack`,
      );
    const fn = fnByRef(r.inputs.functionName);
    if (!fn)
      throw new LocalDeployError(
        `${label(r)}: functionName ${JSON.stringify(r.inputs.functionName)} is no function of this stack`,
      );
    if (r.inputs.enabled === false) continue;
    const types = (r.inputs.functionResponseTypes as string[] | undefined) ?? [];
    d.eventSources.push({
      resource: r,
      queue,
      fn,
      batchSize: num(r.inputs.batchSize, 10),
      windowSeconds: num(r.inputs.maximumBatchingWindowInSeconds, 0),
      reportBatchItemFailures: types.includes("ReportBatchItemFailures"),
    });
  }

  const targets = of(T.target);
  for (const rule of of(T.rule)) {
    const ruleName = str(rule.outputs.name) ?? rule.name;
    const busName = busNameOf(str(rule.inputs.eventBusName));
    const patternText = str(rule.inputs.eventPattern);
    if (!patternText) continue;
    const pattern = parseJson(patternText, `${label(rule)} eventPattern`) as Record<string, unknown>;
    for (const t of targets.filter(
      (x) => x.inputs.rule === ruleName && busNameOf(str(x.inputs.eventBusName)) === busName,
    )) {
      const fn = fnByRef(t.inputs.arn);
      if (!fn)
        throw new LocalDeployError(
          `${label(t)}: target ${JSON.stringify(t.inputs.arn)} is not a function of this stack`,
        );
      d.routes.push({ rule, busName, pattern, fn });
    }
  }

  for (const fn of d.functions) {
    fn.env = Object.fromEntries(Object.entries(fn.plannedEnv).map(([k, v]) => [k, mapped(v)]));
  }
  return d;
}

/**
 * A planned function as the local runtime runs it: the bundle file and export from `code` and
 * `handler`, and the program's environment (not yet mapped to the emulators).
 */
export function functionOf(r: PlannedResource): LocalFunction {
  const code = r.inputs.code as { path?: string } | undefined;
  if (!code?.path) {
    throw new LocalDeployError(
      `${label(r)}: "code" is not a FileArchive with a path; local mode runs the bundle`,
    );
  }
  const handler = str(r.inputs.handler) ?? "index.handler";
  const dot = handler.lastIndexOf(".");
  const file = path.join(code.path, `${handler.slice(0, dot)}.js`);
  if (!fs.existsSync(file)) {
    throw new LocalDeployError(
      `${label(r)}: handler "${handler}" needs ${file}, which the bundle at ${code.path} lacks`,
    );
  }
  const variables = ((r.inputs.environment as { variables?: Record<string, unknown> } | undefined)
    ?.variables ?? {}) as Record<string, unknown>;
  const plannedEnv = Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, String(v)]));
  return {
    resource: r,
    name: str(r.outputs.name) ?? r.name,
    region: regionOf(r),
    plannedArn: String(r.outputs.arn),
    file,
    exportName: handler.slice(dot + 1),
    handlerName: path.basename(code.path),
    timeoutSeconds: num(r.inputs.timeout, 3),
    memoryMb: num(r.inputs.memorySize, 128),
    env: plannedEnv,
    plannedEnv,
    asyncRetries: 2,
  };
}

/** A bus name from a name or ARN; absent means the default bus. */
export function busNameOf(ref: string | undefined): string {
  if (!ref) return "default";
  return ref.startsWith("arn:") ? ref.slice(ref.indexOf("event-bus/") + "event-bus/".length) : ref;
}

/** Replaces every planned ARN/URL found in `value` with the emulator's (longest first). */
export function rewrite(value: string, map: Map<string, string>): string {
  let out = value;
  for (const from of [...map.keys()].sort((a, b) => b.length - a.length)) {
    if (from && out.includes(from)) out = out.split(from).join(map.get(from)!);
  }
  return out;
}

function queueAttributes(r: PlannedResource): Record<string, string> {
  const a: Record<string, string> = {};
  const put = (input: string, attribute: string) => {
    const v = r.inputs[input];
    if (v !== undefined && v !== null && v !== "") a[attribute] = String(v);
  };
  put("visibilityTimeoutSeconds", "VisibilityTimeout");
  put("messageRetentionSeconds", "MessageRetentionPeriod");
  put("delaySeconds", "DelaySeconds");
  put("receiveWaitTimeSeconds", "ReceiveMessageWaitTimeSeconds");
  put("maxMessageSize", "MaximumMessageSize");
  if (r.inputs.fifoQueue === true) {
    a.FifoQueue = "true";
    put("contentBasedDeduplication", "ContentBasedDeduplication");
  }
  return a;
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new LocalDeployError(`${what} is not valid JSON: ${(err as Error).message}`);
  }
}

function memo<T>(make: (key: string) => T): (key: string) => T {
  const cache = new Map<string, T>();
  return (key) => {
    if (!cache.has(key)) cache.set(key, make(key));
    return cache.get(key)!;
  };
}
