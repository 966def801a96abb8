import { boundedName, NameLimits } from "../common/names";
import { MessagingTopology, SubscriberTopology } from "./topology";

// Every physical name and cross-account ARN, derived from the topology alone. A subscriber's
// stack computes the topic ARN and bucket name; the publisher's stack computes the subscribers'
// role ARNs and endpoints. Neither reads the other's state, so stacks deploy in any order.

export interface PublisherNames {
  account: string;
  region: string;
  topic: string;
  topicArn: string;
  topicKeyAlias: string;
  payloadKeyAlias: string;
  bucket: string;
  bucketArn: string;
  bus: string;
  busArn: string;
  rule: string;
  ruleArn: string;
  failureQueue: string;
  failureQueueArn: string;
  function: string;
  functionArn: string;
  logGroup: string;
  role: string;
  roleArn: string;
  /** The role S3 assumes to copy payloads/ to the replicas (only created when there are replicas). */
  replicationRole: string;
  replicationRoleArn: string;
}

export interface SubscriberNames {
  account: string;
  region: string;
  /** sqs delivery: the queue SNS delivers to, and its DLQ. */
  queue: string;
  queueArn: string;
  dlq: string;
  dlqArn: string;
  /** The subscription's own DLQ: SNS requires it in the subscription's (= the topic's) account and Region. */
  deliveryDlq: string;
  deliveryDlqArn: string;
  function: string;
  functionArn: string;
  logGroup: string;
  role: string;
  roleArn: string;
  /** The endpoint the subscription names: the queue (sqs) or the function (lambda). */
  endpointArn: string;
  protocol: "sqs" | "lambda";
  stateMachine: string;
  stateMachineArn: string;
  stateMachineRole: string;
  cluster: string;
  clusterArn: string;
  taskFamily: string;
  taskLogGroup: string;
  taskRole: string;
  taskRoleArn: string;
  taskExecutionRole: string;
  taskExecutionRoleArn: string;
}

const roleArn = (account: string, name: string) => `arn:aws:iam::${account}:role/${name}`;

/**
 * A topic or queue name, with the ".fifo" suffix CreateTopic and CreateQueue require of FIFO ones.
 * The suffix counts toward the limit (80 for SQS, 256 for SNS), so the base is shortened to leave room.
 */
export function queueOrTopicName(base: string, limit: number, fifo: boolean): string {
  return fifo ? `${boundedName(base, limit - ".fifo".length)}.fifo` : boundedName(base, limit);
}

// Bucket names are global across all accounts: the account and Region make ours unique, and give a
// replica (same account, another Region) a name distinct from its origin's.
function payloadBucketName(system: string, account: string, region: string): string {
  return boundedName(`${system}-payloads-${account}-${region}`, NameLimits.s3Bucket);
}

/**
 * A Region-local replica of the payload bucket. The publisher's account owns it (one replica per
 * Region, however many subscribers there read it), so its name follows from the topology alone.
 */
export interface ReplicaNames {
  account: string;
  region: string;
  bucket: string;
  bucketArn: string;
}

/** The Regions that get a replica: those of the subscribers that ask for one, sorted, each once. */
export function replicaRegions(topology: MessagingTopology): string[] {
  return [...new Set(topology.subscribers.filter((s) => s.replica).map((s) => s.region))].sort();
}

/**
 * The ID of the origin's replication rule to the replica in `region`: the rule names it, and its
 * replication metrics carry it as the RuleId dimension.
 *
 * @example replicationRuleId("eu-west-1") // "payloads-to-eu-west-1"
 */
export function replicationRuleId(region: string): string {
  return `payloads-to-${region}`;
}

export function replicaNames(topology: MessagingTopology, region: string): ReplicaNames {
  const { account } = topology.publisher;
  const bucket = payloadBucketName(topology.system, account, region);
  return { account, region, bucket, bucketArn: `arn:aws:s3:::${bucket}` };
}

export function publisherNames(topology: MessagingTopology): PublisherNames {
  const { system } = topology;
  const { account, region } = topology.publisher;
  const topic = queueOrTopicName(`${system}-messages`, NameLimits.snsTopic, topology.fifo);
  const bucket = payloadBucketName(system, account, region);
  const bus = boundedName(`${system}-events`, NameLimits.eventBus);
  const rule = boundedName(`${system}-publish`, NameLimits.eventRule);
  const failureQueue = boundedName(`${system}-publisher-failures`, NameLimits.sqsQueue);
  const fn = boundedName(`${system}-publisher`, NameLimits.lambdaFunction);
  const role = boundedName(`${system}-publisher`, NameLimits.iamRole);
  const replicationRole = boundedName(`${system}-payload-replication`, NameLimits.iamRole);
  return {
    account,
    region,
    topic,
    topicArn: `arn:aws:sns:${region}:${account}:${topic}`,
    topicKeyAlias: `alias/${system}-topic`,
    payloadKeyAlias: `alias/${system}-payloads`,
    bucket,
    bucketArn: `arn:aws:s3:::${bucket}`,
    bus,
    busArn: `arn:aws:events:${region}:${account}:event-bus/${bus}`,
    rule,
    ruleArn: `arn:aws:events:${region}:${account}:rule/${bus}/${rule}`,
    failureQueue,
    failureQueueArn: `arn:aws:sqs:${region}:${account}:${failureQueue}`,
    function: fn,
    functionArn: `arn:aws:lambda:${region}:${account}:function:${fn}`,
    logGroup: `/aws/lambda/${fn}`,
    role,
    roleArn: roleArn(account, role),
    replicationRole,
    replicationRoleArn: roleArn(account, replicationRole),
  };
}

export function subscriberNames(topology: MessagingTopology, sub: SubscriberTopology): SubscriberNames {
  const { system } = topology;
  const { account, region, name } = sub;
  const base = `${system}-${name}`;
  // A FIFO queue's DLQ must be FIFO, and so must the DLQ of a subscription to a FIFO topic.
  const queue = queueOrTopicName(`${base}-queue`, NameLimits.sqsQueue, topology.fifo);
  const dlq = queueOrTopicName(`${base}-dlq`, NameLimits.sqsQueue, topology.fifo);
  const deliveryDlq = queueOrTopicName(`${base}-delivery-dlq`, NameLimits.sqsQueue, topology.fifo);
  const fn = boundedName(`${base}-consumer`, NameLimits.lambdaFunction);
  const role = boundedName(`${base}-consumer`, NameLimits.iamRole);
  const stateMachine = boundedName(`${base}-app`, NameLimits.stateMachine);
  const cluster = boundedName(base, NameLimits.ecsCluster);
  const taskFamily = boundedName(`${base}-app`, NameLimits.ecsTaskFamily);
  const taskRole = boundedName(`${base}-task`, NameLimits.iamRole);
  const taskExecutionRole = boundedName(`${base}-task-execution`, NameLimits.iamRole);
  const queueArn = `arn:aws:sqs:${region}:${account}:${queue}`;
  const functionArn = `arn:aws:lambda:${region}:${account}:function:${fn}`;
  const topicRegion = topology.publisher.region;
  return {
    account,
    region,
    queue,
    queueArn,
    dlq,
    dlqArn: `arn:aws:sqs:${region}:${account}:${dlq}`,
    deliveryDlq,
    deliveryDlqArn: `arn:aws:sqs:${topicRegion}:${account}:${deliveryDlq}`,
    function: fn,
    functionArn,
    logGroup: `/aws/lambda/${fn}`,
    role,
    roleArn: roleArn(account, role),
    endpointArn: sub.delivery === "sqs" ? queueArn : functionArn,
    protocol: sub.delivery,
    stateMachine,
    stateMachineArn: `arn:aws:states:${region}:${account}:stateMachine:${stateMachine}`,
    stateMachineRole: boundedName(`${base}-app`, NameLimits.iamRole),
    cluster,
    clusterArn: `arn:aws:ecs:${region}:${account}:cluster/${cluster}`,
    taskFamily,
    taskLogGroup: `/ecs/${taskFamily}`,
    taskRole,
    taskRoleArn: roleArn(account, taskRole),
    taskExecutionRole,
    taskExecutionRoleArn: roleArn(account, taskExecutionRole),
  };
}
