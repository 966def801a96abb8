import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { snsServicePrincipal } from "../common/regions";
import { publisherNames, subscriberNames } from "./naming";
import { snsDeliveryQueuePolicy } from "./policies";
import { createConsumer, createDeliveryDlq, fifoQueue, filterPolicyInputs } from "./subscriber-common";
import { EcsNetwork, MessagingTopology, queueRetentionSeconds, SubscriberTopology } from "./topology";

/** AWS guidance: a queue's visibility timeout of at least six times the consumer function's timeout. */
export const VISIBILITY_TIMEOUT_FACTOR = 6;

export interface QueueSubscriberArgs {
  topology: MessagingTopology;
  /** The topology entry of this subscriber (delivery "sqs"). */
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
 * Account B: an encrypted SQS queue with a DLQ, subscribed to the topic with raw delivery, and a
 * consumer function fed by an event source mapping with partial batch responses.
 *
 * @example
 * const sub = topology.subscribers.find((s) => s.name === "b")!; // delivery "sqs"
 * const b = new QueueSubscriber(
 *   "subscriber-b",
 *   {
 *     topology,
 *     subscriber: sub,
 *     topicRegionProvider: providerFor(sub.account, topology.publisher.region),
 *     tracing: true,
 *   },
 *   { provider: providerFor(sub.account, sub.region) },
 * );
 * export const queueUrl = b.queue.url;
 */
export class QueueSubscriber extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly subscription: aws.sns.TopicSubscription;
  /** The subscription's DLQ, in the topic's Region. */
  readonly deliveryDeadLetterQueue: aws.sqs.Queue;
  readonly function: aws.lambda.Function;

  constructor(name: string, args: QueueSubscriberArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:QueueSubscriber", name, {}, opts);
    const { topology, subscriber: sub } = args;
    if (sub.delivery !== "sqs")
      throw new Error(`QueueSubscriber ${sub.name}: delivery must be "sqs", not "${sub.delivery}"`);
    const pub = publisherNames(topology);
    const names = subscriberNames(topology, sub);
    const child = { parent: this };
    const messageRetentionSeconds = queueRetentionSeconds(topology.offload);

    // SSE-SQS, never alias/aws/sqs: SNS cannot use the AWS managed SQS key, so a queue encrypted
    // with it silently never receives from the topic.
    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      {
        name: names.dlq,
        ...fifoQueue(topology),
        sqsManagedSseEnabled: true,
        messageRetentionSeconds,
        redriveAllowPolicy: JSON.stringify({
          redrivePermission: "byQueue",
          sourceQueueArns: [names.queueArn],
        }),
      },
      child,
    );
    this.queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: names.queue,
        ...fifoQueue(topology),
        sqsManagedSseEnabled: true,
        messageRetentionSeconds,
        visibilityTimeoutSeconds: VISIBILITY_TIMEOUT_FACTOR * sub.timeoutSeconds,
        redrivePolicy: this.deadLetterQueue.arn.apply((arn) =>
          JSON.stringify({ deadLetterTargetArn: arn, maxReceiveCount: sub.maxReceiveCount }),
        ),
      },
      child,
    );
    const queuePolicy = new aws.sqs.QueuePolicy(
      `${name}-queue-policy`,
      {
        queueUrl: this.queue.url,
        policy: JSON.stringify(
          snsDeliveryQueuePolicy(names.queueArn, pub.topicArn, {
            snsPrincipal: snsServicePrincipal(pub.region, sub.region),
            redriveRoles: sub.redriveRoles,
          }),
        ),
      },
      child,
    );

    const deliveryDlq = createDeliveryDlq(this, name, pub, names, args.topicRegionProvider, topology);
    this.deliveryDeadLetterQueue = deliveryDlq.queue;
    // One value for the subscription and the consumer's environment: the consumer never unwraps a
    // raw body, so the two must not disagree.
    const delivery = { rawMessageDelivery: true };
    // Created by B's account in the topic's Region: a cross-account subscription made by the
    // topic owner would wait for a confirmation nobody sends. Raw delivery: the Java SQS
    // extended client resolves pointers only in raw messages.
    this.subscription = new aws.sns.TopicSubscription(
      `${name}-subscription`,
      {
        topic: pub.topicArn,
        protocol: "sqs",
        endpoint: this.queue.arn,
        rawMessageDelivery: delivery.rawMessageDelivery,
        ...filterPolicyInputs(sub),
        redrivePolicy: deliveryDlq.queue.arn.apply((arn) => JSON.stringify({ deadLetterTargetArn: arn })),
      },
      { parent: this, provider: args.topicRegionProvider, dependsOn: [queuePolicy, deliveryDlq.policy] },
    );

    this.function = createConsumer(this, name, "consume-queue", args, pub, names, delivery);
    // Partial batch responses: one bad record is retried (then dead-lettered) alone.
    new aws.lambda.EventSourceMapping(
      `${name}-mapping`,
      {
        eventSourceArn: this.queue.arn,
        functionName: this.function.name,
        batchSize: sub.batchSize,
        // Not sent at all for a FIFO queue: Lambda refuses a batching window there ("Batching window
        // is not supported for FIFO queues"), and whether it takes an explicit 0 is not documented.
        ...(topology.fifo ? {} : { maximumBatchingWindowInSeconds: sub.batchWindowSeconds }),
        functionResponseTypes: ["ReportBatchItemFailures"],
      },
      child,
    );
    this.registerOutputs({ queueUrl: this.queue.url, functionName: this.function.name });
  }
}
