import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { HandlerName, PayloadLayout, SubscriberEnv } from "./contract";
import { APP_CONTAINER, EcsTaskApp } from "./ecs-task-app";
import { HandlerFunction } from "./handler-function";
import { PublisherNames, ReplicaNames, replicaNames, SubscriberNames } from "./naming";
import { snsServicePrincipal } from "../common/regions";
import { snsDeliveryQueuePolicy, subscriberRolePolicy } from "./policies";
import { StateMachineApp } from "./state-machine-app";
import { EcsNetwork, MessagingTopology, queueRetentionSeconds, SubscriberTopology } from "./topology";

// What both subscriber components share: the consumer function with its downstream application
// and environment, and the subscription's own DLQ in the topic's Region.

export interface DownstreamRefs {
  stateMachineArn?: pulumi.Output<string>;
  clusterArn?: pulumi.Output<string>;
  taskDefinitionArn?: pulumi.Output<string>;
}

/** Creates the subscriber's downstream application (Application B or C), if any, as a child of `parent`. */
export function createDownstream(
  parent: pulumi.Resource,
  name: string,
  topology: MessagingTopology,
  sub: SubscriberTopology,
  names: SubscriberNames,
  tracing: boolean,
): DownstreamRefs {
  if (sub.downstream === "stepfunctions") {
    const app = new StateMachineApp(`${name}-app`, { names, tracing }, { parent });
    return { stateMachineArn: app.stateMachine.arn };
  }
  if (sub.downstream === "ecs") {
    const app = new EcsTaskApp(
      `${name}-app`,
      {
        names,
        image: sub.taskImage,
        cpu: sub.taskCpu,
        memoryMb: sub.taskMemoryMb,
        logRetentionDays: topology.logRetentionDays,
      },
      { parent },
    );
    return { clusterArn: app.cluster.arn, taskDefinitionArn: app.taskDefinition.arn };
  }
  return {};
}

/**
 * The subscriber's consumer function, after the downstream application it starts: its role and
 * environment name that application. The delivery (queue or topic) decides only `handler`.
 */
export function createConsumer(
  parent: pulumi.Resource,
  name: string,
  handler: HandlerName,
  args: {
    topology: MessagingTopology;
    subscriber: SubscriberTopology;
    ecsNetwork?: EcsNetwork;
    tracing: boolean;
  },
  pub: PublisherNames,
  names: SubscriberNames,
  delivery?: SqsDelivery,
): aws.lambda.Function {
  const { topology, subscriber: sub } = args;
  const downstream = createDownstream(parent, name, topology, sub, names, args.tracing);
  const replica = sub.replica ? replicaNames(topology, sub.region) : undefined;
  return new HandlerFunction(
    `${name}-consumer`,
    {
      handler,
      downstream: sub.downstream,
      functionName: names.function,
      roleName: names.role,
      logGroupName: names.logGroup,
      policy: subscriberRolePolicy(pub, names, {
        kms: topology.offload.kms,
        downstream: sub.downstream,
        replica,
      }),
      environment: subscriberEnvironment(pub, sub, downstream, args.ecsNetwork, delivery, replica),
      timeoutSeconds: sub.timeoutSeconds,
      memoryMb: sub.memoryMb,
      logRetentionDays: topology.logRetentionDays,
      tracing: args.tracing,
      metricsNamespace: topology.system,
    },
    { parent },
  ).function;
}

/** How a queue subscriber's SNS subscription delivers, as the program configured it. */
export interface SqsDelivery {
  rawMessageDelivery: boolean;
}

/**
 * Pure: a subscriber function's environment — exactly the contract's variables for its downstream,
 * for a queue subscriber (`delivery` given) whether its subscription delivers raw, and for a
 * subscriber with `replica: true` the replica in its Region (`replica`, from replicaNames).
 */
export function subscriberEnvironment(
  pub: PublisherNames,
  sub: SubscriberTopology,
  downstream: DownstreamRefs,
  network: EcsNetwork | undefined,
  delivery?: SqsDelivery,
  replica?: ReplicaNames,
): Record<string, pulumi.Input<string>> {
  if (sub.replica !== (replica !== undefined) || (replica && replica.region !== sub.region)) {
    throw new Error(
      `subscriber ${sub.name}: replica is ${sub.replica} but the environment was given ${replica ? `the replica ${replica.bucket} in ${replica.region}` : "no replica"}; a replica must be in the subscriber's Region (${sub.region})`,
    );
  }
  const env: Record<string, pulumi.Input<string>> = {
    [SubscriberEnv.subscriberName]: sub.name,
    // The reader refuses any bucket not listed: a replica read must be allowed as well as the origin.
    [SubscriberEnv.bucketAllowList]: replica ? `${pub.bucket},${replica.bucket}` : pub.bucket,
    // The publisher writes only here, and the subscriber role may read only here.
    [SubscriberEnv.keyPrefixAllowList]: PayloadLayout.payloadPrefix,
    ...(delivery ? { [SubscriberEnv.sqsRawDelivery]: String(delivery.rawMessageDelivery) } : {}),
    // The bucket lives in the publisher's Region; a client in this Region would get a 301.
    [SubscriberEnv.bucketRegion]: pub.region,
    [SubscriberEnv.downstream]: sub.downstream,
    [SubscriberEnv.previewBytes]: String(sub.previewBytes),
    // The pointer names the origin; this pair tells the reader which replica stands for it here.
    ...(replica ? { [SubscriberEnv.payloadReplicas]: `${pub.bucket}=${replica.bucket}` } : {}),
  };
  if (sub.downstream === "stepfunctions" && downstream.stateMachineArn) {
    env[SubscriberEnv.stateMachineArn] = downstream.stateMachineArn;
  }
  if (sub.downstream === "ecs") {
    if (!downstream.clusterArn || !downstream.taskDefinitionArn || !network) {
      throw new Error(
        `subscriber ${sub.name}: downstream "ecs" needs its cluster, task definition and ecsNetwork (subnets and security groups)`,
      );
    }
    env[SubscriberEnv.ecsClusterArn] = downstream.clusterArn;
    env[SubscriberEnv.ecsTaskDefinitionArn] = downstream.taskDefinitionArn;
    env[SubscriberEnv.ecsContainerName] = APP_CONTAINER;
    env[SubscriberEnv.ecsSubnetIds] = network.subnetIds.join(",");
    env[SubscriberEnv.ecsSecurityGroupIds] = network.securityGroupIds.join(",");
  }
  return env;
}

/**
 * Queue inputs of a FIFO topology. No content-based deduplication: the writers send the payload's
 * SHA-256 as the deduplication id, and SNS passes it on to the queue.
 */
export function fifoQueue(topology: MessagingTopology): {
  fifoQueue?: boolean;
  contentBasedDeduplication?: boolean;
} {
  return topology.fifo ? { fifoQueue: true, contentBasedDeduplication: false } : {};
}

/** Subscription inputs of a subscriber's filter policy: always attribute scope (see topology.ts). */
export function filterPolicyInputs(sub: SubscriberTopology): {
  filterPolicy?: string;
  filterPolicyScope?: string;
} {
  return sub.filterPolicy
    ? { filterPolicy: JSON.stringify(sub.filterPolicy), filterPolicyScope: "MessageAttributes" }
    : {};
}

/**
 * The subscription's DLQ, for messages SNS could not deliver at all. SNS requires it in the
 * subscription's account and Region — the topic's Region — not beside the subscriber.
 */
export function createDeliveryDlq(
  parent: pulumi.Resource,
  name: string,
  pub: PublisherNames,
  names: SubscriberNames,
  topicRegionProvider: aws.Provider,
  topology: MessagingTopology,
): { queue: aws.sqs.Queue; policy: aws.sqs.QueuePolicy } {
  const opts = { parent, provider: topicRegionProvider };
  const queue = new aws.sqs.Queue(
    `${name}-delivery-dlq`,
    {
      name: names.deliveryDlq,
      ...fifoQueue(topology),
      sqsManagedSseEnabled: true,
      messageRetentionSeconds: queueRetentionSeconds(topology.offload),
    },
    opts,
  );
  const policy = new aws.sqs.QueuePolicy(
    `${name}-delivery-dlq-policy`,
    {
      queueUrl: queue.url,
      // In the topic's own Region, so SNS sends as sns.amazonaws.com; StartMessageMoveTask cannot
      // redrive a subscription DLQ (its source is not an SQS queue), so no redrive role is admitted.
      policy: JSON.stringify(
        snsDeliveryQueuePolicy(names.deliveryDlqArn, pub.topicArn, {
          snsPrincipal: snsServicePrincipal(pub.region, pub.region),
        }),
      ),
    },
    opts,
  );
  return { queue, policy };
}
