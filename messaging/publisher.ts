import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PayloadLayout, PublisherEnv } from "./contract";
import { HandlerFunction } from "./handler-function";
import { createPayloadBucket } from "./payload-bucket";
import { createReplication, PayloadReplica } from "./replicas";
import { PublisherNames, publisherNames, SubscriberNames, subscriberNames } from "./naming";
import {
  eventBusPolicy,
  parseProducers,
  payloadBucketPolicy,
  payloadKeyPolicy,
  Producer,
  publisherRolePolicy,
  ruleDlqPolicy,
  topicKeyPolicy,
  topicPolicy,
} from "./policies";
import { MessagingTopology, queueRetentionSeconds } from "./topology";

export interface PublisherArgs {
  /** The whole system: the publisher's policies name every subscriber of it. */
  topology: MessagingTopology;
  /** X-Ray active tracing on the function. */
  tracing: boolean;
  /**
   * The replicas the origin copies payloads/ to (replicas.ts), created before the publisher.
   * @default none (no subscriber reads a replica)
   */
  replicas?: PayloadReplica[];
}

/**
 * Account A: the encrypted SNS topic, the payload bucket, the EventBridge bus and rule, and the
 * publisher function that offloads payloads to S3 and publishes pointers.
 *
 * @example
 * const topology = parseTopology(config.requireObject("topology"));
 * const publisher = new Publisher(
 *   "publisher",
 *   { topology, tracing: true },
 *   { provider: providerFor(topology.publisher.account, topology.publisher.region) },
 * );
 * export const topicArn = publisher.topic.arn;
 */
export class Publisher extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly bucket: aws.s3.Bucket;
  readonly bus: aws.cloudwatch.EventBus;
  readonly rule: aws.cloudwatch.EventRule;
  readonly function: aws.lambda.Function;
  readonly failureQueue: aws.sqs.Queue;

  constructor(name: string, args: PublisherArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:Publisher", name, {}, opts);
    const { topology } = args;
    const names = publisherNames(topology);
    const subscribers = topology.subscribers.map((s) => subscriberNames(topology, s));
    const producers = parseProducers(topology.publisher.producers);
    const child = { parent: this };

    // A customer managed key rather than alias/aws/sns: the AWS managed key's policy cannot be
    // edited, so no other service or account could ever be allowed to use the topic, and its use
    // cannot be narrowed to the publisher role. SNS decrypts before delivery, so subscribers need
    // no grant on this key.
    const topicKey = new aws.kms.Key(
      `${name}-topic-key`,
      {
        description: `SNS topic ${names.topic} (fieldnotes)`,
        enableKeyRotation: true,
        deletionWindowInDays: 7,
        policy: JSON.stringify(topicKeyPolicy(names)),
      },
      child,
    );
    new aws.kms.Alias(
      `${name}-topic-key-alias`,
      { name: names.topicKeyAlias, targetKeyId: topicKey.keyId },
      child,
    );
    this.topic = new aws.sns.Topic(
      `${name}-topic`,
      {
        name: names.topic,
        kmsMasterKeyId: topicKey.arn,
        // FIFO: no content-based deduplication, as the body of an offloaded message is a pointer
        // with a random key; the writers send the payload's SHA-256 as the deduplication id.
        ...(topology.fifo ? { fifoTopic: true, contentBasedDeduplication: false } : {}),
      },
      child,
    );
    new aws.sns.TopicPolicy(
      `${name}-topic-policy`,
      { arn: this.topic.arn, policy: JSON.stringify(topicPolicy(names, subscribers)) },
      child,
    );

    const replicas = args.replicas ?? [];
    const payloadKey = topology.offload.kms
      ? this.payloadKey(name, names, subscribers, producers)
      : undefined;
    const payloads = createPayloadBucket(this, `${name}-payloads`, {
      bucket: names.bucket,
      key: payloadKey,
      prefixes: [PayloadLayout.payloadPrefix, PayloadLayout.incomingPrefix],
      retentionDays: topology.offload.retentionDays,
      // Replication needs versioning on the source as well as on every destination.
      versioned: replicas.length > 0,
      policy: payloadBucketPolicy(names, subscribers, producers),
    });
    this.bucket = payloads.bucket;
    if (payloads.versioning) {
      createReplication(this, name, {
        topology,
        origin: payloads.bucket,
        originVersioning: payloads.versioning,
        originKey: payloadKey,
        replicas,
      });
    }

    this.bus = new aws.cloudwatch.EventBus(`${name}-bus`, { name: names.bus }, child);
    new aws.cloudwatch.EventBusPolicy(
      `${name}-bus-policy`,
      { eventBusName: this.bus.name, policy: JSON.stringify(eventBusPolicy(names.busArn, producers)) },
      child,
    );

    // Failed events (EventBridge could not invoke) and failed invocations (the function threw
    // after its retries) both land here, so no event is dropped silently.
    this.failureQueue = new aws.sqs.Queue(
      `${name}-failures`,
      {
        name: names.failureQueue,
        sqsManagedSseEnabled: true,
        // Failed events name sources under incoming/, which expire with the payloads.
        messageRetentionSeconds: queueRetentionSeconds(topology.offload),
      },
      child,
    );
    new aws.sqs.QueuePolicy(
      `${name}-failures-policy`,
      {
        queueUrl: this.failureQueue.url,
        policy: JSON.stringify(ruleDlqPolicy(names.failureQueueArn, names.ruleArn)),
      },
      child,
    );

    const handler = new HandlerFunction(
      `${name}-function`,
      {
        handler: "publish",
        functionName: names.function,
        roleName: names.role,
        logGroupName: names.logGroup,
        policy: pulumi.all([topicKey.arn, payloadKey?.arn]).apply(([topicKeyArn, payloadKeyArn]) =>
          publisherRolePolicy(names, {
            topicKeyArn,
            payloadKeyArn,
            extraSources: topology.publisher.extraSources,
          }),
        ),
        environment: publisherEnvironment(topology, names, {
          topicArn: this.topic.arn,
          bucket: this.bucket.bucket,
          payloadKeyArn: payloadKey?.arn,
        }),
        timeoutSeconds: topology.publisher.timeoutSeconds,
        memoryMb: topology.publisher.memoryMb,
        logRetentionDays: topology.logRetentionDays,
        tracing: args.tracing,
        metricsNamespace: topology.system,
      },
      child,
    );
    this.function = handler.function;
    new aws.lambda.FunctionEventInvokeConfig(
      `${name}-invoke-config`,
      {
        functionName: this.function.name,
        maximumRetryAttempts: 2,
        destinationConfig: { onFailure: { destination: this.failureQueue.arn } },
      },
      child,
    );

    this.rule = new aws.cloudwatch.EventRule(
      `${name}-rule`,
      {
        name: names.rule,
        eventBusName: this.bus.name,
        eventPattern: JSON.stringify({ "detail-type": [topology.publisher.detailType] }),
      },
      child,
    );
    const permission = new aws.lambda.Permission(
      `${name}-rule-invokes`,
      {
        action: "lambda:InvokeFunction",
        function: this.function.name,
        principal: "events.amazonaws.com",
        sourceArn: this.rule.arn,
      },
      child,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-rule-target`,
      {
        rule: this.rule.name,
        eventBusName: this.bus.name,
        arn: this.function.arn,
        retryPolicy: { maximumRetryAttempts: 8, maximumEventAgeInSeconds: 3600 },
        deadLetterConfig: { arn: this.failureQueue.arn },
      },
      { parent: this, dependsOn: [permission] },
    );

    this.registerOutputs({
      topicArn: this.topic.arn,
      bucketName: this.bucket.bucket,
      busName: this.bus.name,
      functionName: this.function.name,
    });
  }

  private payloadKey(
    name: string,
    names: PublisherNames,
    subscribers: SubscriberNames[],
    producers: Producer[],
  ): aws.kms.Key {
    const key = new aws.kms.Key(
      `${name}-payload-key`,
      {
        description: `Payload bucket ${names.bucket} (fieldnotes)`,
        enableKeyRotation: true,
        deletionWindowInDays: 7,
        policy: JSON.stringify(payloadKeyPolicy(names, subscribers, producers)),
      },
      { parent: this },
    );
    new aws.kms.Alias(
      `${name}-payload-key-alias`,
      { name: names.payloadKeyAlias, targetKeyId: key.keyId },
      { parent: this },
    );
    return key;
  }
}

/**
 * Pure: the publisher function's environment, keyed by the contract's names. The topic and bucket
 * are passed as the resources' outputs so the function is created after them.
 */
export function publisherEnvironment(
  topology: MessagingTopology,
  names: PublisherNames,
  refs: {
    topicArn: pulumi.Input<string>;
    bucket: pulumi.Input<string>;
    payloadKeyArn?: pulumi.Input<string>;
  },
): Record<string, pulumi.Input<string>> {
  const { payloadKeyArn } = refs;
  const env: Record<string, pulumi.Input<string>> = {
    [PublisherEnv.topicArn]: refs.topicArn,
    [PublisherEnv.payloadBucket]: refs.bucket,
    [PublisherEnv.keyPrefix]: PayloadLayout.payloadPrefix,
    [PublisherEnv.threshold]: String(topology.offload.thresholdBytes),
    [PublisherEnv.alwaysThroughS3]: String(topology.offload.alwaysThroughS3),
    [PublisherEnv.sourceAllowList]: [
      `${names.bucket}/${PayloadLayout.incomingPrefix}`,
      ...topology.publisher.extraSources,
    ].join(","),
  };
  if (payloadKeyArn !== undefined) env[PublisherEnv.kmsKeyId] = payloadKeyArn;
  return env;
}
