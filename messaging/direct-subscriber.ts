import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { snsServicePrincipal } from "../common/regions";
import { publisherNames, subscriberNames } from "./naming";
import { createConsumer, createDeliveryDlq, filterPolicyInputs } from "./subscriber-common";
import { EcsNetwork, MessagingTopology, queueRetentionSeconds, SubscriberTopology } from "./topology";

export interface DirectSubscriberArgs {
  topology: MessagingTopology;
  /** The topology entry of this subscriber (delivery "lambda"). */
  subscriber: SubscriberTopology;
  /**
   * Required with downstream "ecs": where the task runs (`fieldnotes:ecsNetwork`).
   * @default none (the other downstreams run no task)
   */
  ecsNetwork?: EcsNetwork;
  /** This subscriber's account in the TOPIC's Region: a subscription made in any other Region fails. */
  topicRegionProvider: aws.Provider;
  /** X-Ray active tracing on the function (and the state machine it starts). */
  tracing: boolean;
}

/**
 * Account C: a function subscribed straight to the topic. SNS invokes it asynchronously; failed
 * invocations go, after the configured retries, to an on-failure destination (an SQS DLQ).
 *
 * @example
 * const sub = topology.subscribers.find((s) => s.name === "c")!; // delivery "lambda", downstream "ecs"
 * const c = new DirectSubscriber(
 *   "subscriber-c",
 *   {
 *     topology,
 *     subscriber: sub,
 *     ecsNetwork: selection.ecsNetworks[sub.name],
 *     topicRegionProvider: providerFor(sub.account, topology.publisher.region),
 *     tracing: true,
 *   },
 *   { provider: providerFor(sub.account, sub.region) },
 * );
 */
export class DirectSubscriber extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly subscription: aws.sns.TopicSubscription;
  /** The subscription's DLQ, in the topic's Region. */
  readonly deliveryDeadLetterQueue: aws.sqs.Queue;

  constructor(name: string, args: DirectSubscriberArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:DirectSubscriber", name, {}, opts);
    const { topology, subscriber: sub } = args;
    if (sub.delivery !== "lambda")
      throw new Error(`DirectSubscriber ${sub.name}: delivery must be "lambda", not "${sub.delivery}"`);
    const pub = publisherNames(topology);
    const names = subscriberNames(topology, sub);
    const child = { parent: this };

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      {
        name: names.dlq,
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: queueRetentionSeconds(topology.offload),
      },
      child,
    );
    this.function = createConsumer(this, name, "consume-topic", args, pub, names);
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-invoke-config`,
      {
        functionName: this.function.name,
        maximumRetryAttempts: sub.retryAttempts,
        destinationConfig: { onFailure: { destination: this.deadLetterQueue.arn } },
      },
      child,
    );
    // sourceArn: only this topic may invoke, not any SNS topic of any account. A topic in an opt-in
    // Region invokes a function in another Region as sns.<topic-region>.amazonaws.com.
    const permission = new aws.lambda.Permission(
      `${name}-topic-invokes`,
      {
        action: "lambda:InvokeFunction",
        function: this.function.name,
        principal: snsServicePrincipal(pub.region, sub.region),
        sourceArn: pub.topicArn,
      },
      child,
    );

    const deliveryDlq = createDeliveryDlq(this, name, pub, names, args.topicRegionProvider, topology);
    this.deliveryDeadLetterQueue = deliveryDlq.queue;
    this.subscription = new aws.sns.TopicSubscription(
      `${name}-subscription`,
      {
        topic: pub.topicArn,
        protocol: "lambda",
        endpoint: this.function.arn,
        ...filterPolicyInputs(sub),
        redrivePolicy: deliveryDlq.queue.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn })),
      },
      { parent: this, provider: args.topicRegionProvider, dependsOn: [permission, deliveryDlq.policy] },
    );
    this.registerOutputs({ functionName: this.function.name });
  }
}
