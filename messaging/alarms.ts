import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmSettings, AlarmDefinition, OperationsNames } from "./operations";
import { alarmKeyPolicy, alarmTopicPolicy } from "./policies";

export interface AlarmTopicArgs {
  names: OperationsNames;
  account: string;
  region: string;
  settings: AlarmSettings;
}

/**
 * The topic a stack's alarms notify in one account and Region (an alarm action must be in the
 * alarm's Region), encrypted with its own key, publishable only by CloudWatch for this stack's
 * alarms, and subscribed by the configured endpoints.
 *
 * @example
 * const topic = new AlarmTopic(
 *   "alarms-111111111111-eu-west-1",
 *   {
 *     names: operationsNames(topology.system, pulumi.getStack(), "111111111111", "eu-west-1"),
 *     account: "111111111111",
 *     region: "eu-west-1",
 *     settings: alarms, // loadOperations(config).alarms, when not false
 *   },
 *   { provider: providerFor("111111111111", "eu-west-1") },
 * );
 * topic.topic.arn; // every alarm of that account and Region notifies it
 */
export class AlarmTopic extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;

  constructor(name: string, args: AlarmTopicArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:AlarmTopic", name, {}, opts);
    const { names, account, region } = args;
    const source = { account, region, topicArn: names.alarmTopicArn, alarmNamePrefix: names.alarmPrefix };
    const child = { parent: this };
    // A customer managed key: CloudWatch cannot use alias/aws/sns, whose policy cannot be changed.
    const key = new aws.kms.Key(
      `${name}-key`,
      {
        description: `Alarm topic ${names.alarmTopic} (fieldnotes)`,
        enableKeyRotation: true,
        deletionWindowInDays: 7,
        policy: JSON.stringify(alarmKeyPolicy(source)),
      },
      child,
    );
    new aws.kms.Alias(`${name}-key-alias`, { name: names.alarmKeyAlias, targetKeyId: key.keyId }, child);
    this.topic = new aws.sns.Topic(`${name}`, { name: names.alarmTopic, kmsMasterKeyId: key.arn }, child);
    new aws.sns.TopicPolicy(
      `${name}-policy`,
      { arn: this.topic.arn, policy: JSON.stringify(alarmTopicPolicy(source)) },
      child,
    );
    args.settings.endpoints.forEach((e, i) => {
      // An email subscription waits for its owner to confirm; https ones confirm through the endpoint.
      new aws.sns.TopicSubscription(
        `${name}-endpoint-${i}`,
        { topic: this.topic.arn, protocol: e.protocol, endpoint: e.endpoint },
        child,
      );
    });
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}

/** Resolves the alarm topic of an account and Region, creating it on first use. */
export type AlarmTopicFor = (account: string, region: string) => pulumi.Output<string>;

export interface PartAlarmsArgs {
  alarms: AlarmDefinition[];
  settings: AlarmSettings;
  /** The stack's alarm name prefix in each place (operationsNames().alarmPrefix). */
  prefix: string;
  topicFor: AlarmTopicFor;
  /** The provider of each alarm's account and Region. */
  providerFor: (account: string, region: string) => aws.Provider;
}

/**
 * A part's alarms, each created in its metric's account and Region and notifying that place's topic.
 *
 * @example
 * new PartAlarms(
 *   "publisher-alarms",
 *   {
 *     alarms: partAlarms(topology, { kind: "publisher" }, alarms),
 *     settings: alarms,
 *     prefix: operationsNames(topology.system, pulumi.getStack(), account, region).alarmPrefix,
 *     topicFor, // (account, region) => that place's AlarmTopic ARN
 *     providerFor,
 *   },
 *   { parent: publisher },
 * );
 */
export class PartAlarms extends pulumi.ComponentResource {
  readonly alarms: aws.cloudwatch.MetricAlarm[];

  constructor(name: string, args: PartAlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:PartAlarms", name, {}, opts);
    const { settings } = args;
    this.alarms = args.alarms.map((a) => {
      const topic = args.topicFor(a.account, a.region);
      return new aws.cloudwatch.MetricAlarm(
        `${name}-${a.id}`,
        {
          name: `${args.prefix}${a.id}`,
          alarmDescription: a.description,
          namespace: a.namespace,
          metricName: a.metricName,
          dimensions: a.dimensions,
          statistic: a.statistic,
          period: settings.periodSeconds,
          evaluationPeriods: settings.evaluationPeriods,
          threshold: a.threshold,
          comparisonOperator: "GreaterThanThreshold",
          // No data means nothing happened: SQS stops reporting an empty idle queue, and Lambda,
          // EventBridge and SNS report errors only when there are some.
          treatMissingData: "notBreaching",
          alarmActions: [topic],
          okActions: [topic],
        },
        { parent: this, provider: args.providerFor(a.account, a.region) },
      );
    });
    this.registerOutputs({});
  }
}
