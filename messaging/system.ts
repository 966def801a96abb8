import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { AlarmTopic, PartAlarms } from "./alarms";
import { DirectSubscriber } from "./direct-subscriber";
import { dashboardBody, OperatedPart, OperationsSettings, operationsNames, partAlarms } from "./operations";
import { Publisher } from "./publisher";
import { QueueSubscriber } from "./queue-subscriber";
import { publisherNames, replicaRegions, subscriberNames } from "./naming";
import { PayloadReplica } from "./replicas";
import { MessagingSelection } from "./topology";
import type { DeadLetterKind } from "./dlq/queues";

export interface PartProviders {
  /** Account A in the publisher's Region. */
  publisher?: aws.Provider;
  /** Per subscriber: its account in its own Region, and its account in the topic's Region. */
  subscribers: Record<string, { home: aws.Provider; topicRegion: aws.Provider }>;
}

export interface MessagingSystemArgs {
  /** The validated topology and the parts this stack deploys. */
  selection: MessagingSelection;
  /** One explicit provider per part (built by the caller, never here). */
  providers: PartProviders;
  /** Alarms, dashboard and tracing; all on by default (see operations.ts). */
  operations: OperationsSettings;
  /** The stack's name: its alarms, alarm topics and dashboards carry it. */
  stack: string;
  /** The (memoised) provider of an account and Region, for alarms in a part's other Region. */
  providerFor: (account: string, region: string) => aws.Provider;
}

/** Stack outputs of the messaging parts this stack deployed. */
export interface MessagingOutputs {
  publisher?: {
    topicArn: pulumi.Output<string>;
    bucketName: pulumi.Output<string>;
    busName: pulumi.Output<string>;
    functionName: pulumi.Output<string>;
  };
  subscribers: Record<string, { functionName: pulumi.Output<string>; queueUrl?: pulumi.Output<string> }>;
  /**
   * Every dead-letter queue of the stack, keyed "<part>/<queue>" (e.g. "b/dlq"): what `npm run dlq`
   * inspects and redrives, with the bucket its pointers name.
   */
  deadLetterQueues: Record<string, DeadLetterQueueOutput>;
  /** The alarm topic of each account and Region ("account/region" → ARN), when alarms are on. */
  alarmTopics?: Record<string, pulumi.Output<string>>;
}

export interface DeadLetterQueueOutput {
  kind: DeadLetterKind;
  part: string;
  url: pulumi.Output<string>;
  arn: pulumi.Output<string>;
  region: string;
  /** queue-dlq: the queue whose redrive policy feeds it (where StartMessageMoveTask moves messages back). */
  sourceArn?: string;
  payloadBucket: string;
  payloadBucketRegion: string;
}

/**
 * The messaging half of the system: the parts (publisher, subscribers) this stack owns.
 *
 * @example
 * const providerFor = (account: string, region: string) => registry.providerFor(account, region);
 * const messaging = new MessagingSystem("messaging", {
 *   selection, // checkMessaging(config, stack).value
 *   providers: partProviders(selection, providerFor),
 *   operations: loadOperations(config),
 *   stack: pulumi.getStack(),
 *   providerFor,
 * });
 * export const outputs = messaging.outputs;
 */
export class MessagingSystem extends pulumi.ComponentResource {
  readonly outputs: MessagingOutputs;

  constructor(name: string, args: MessagingSystemArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:MessagingSystem", name, {}, opts);
    const { selection, providers, operations } = args;
    const { topology } = selection;
    this.outputs = { subscribers: {}, deadLetterQueues: {} };
    const pub = publisherNames(topology);
    const dlq = (
      key: string,
      queue: aws.sqs.Queue,
      fields: Pick<DeadLetterQueueOutput, "kind" | "part" | "region" | "sourceArn">,
    ) => {
      this.outputs.deadLetterQueues[key] = {
        ...fields,
        url: queue.url,
        arn: queue.arn,
        payloadBucket: pub.bucket,
        payloadBucketRegion: pub.region,
      };
    };
    const parts: {
      part: OperatedPart;
      component: pulumi.ComponentResource;
      account: string;
      region: string;
    }[] = [];

    if (selection.publisher) {
      if (!providers.publisher)
        throw new Error("MessagingSystem: the publisher part needs providers.publisher");
      const { account, region } = topology.publisher;
      // The publisher's account owns every replica, each in its own Region (replicas.ts).
      const replicas = replicaRegions(topology).map(
        (replicaRegion) =>
          new PayloadReplica(
            `replica-${replicaRegion}`,
            { topology, region: replicaRegion },
            { parent: this, provider: args.providerFor(account, replicaRegion) },
          ),
      );
      const publisher = new Publisher(
        "publisher",
        { topology, tracing: operations.tracing, replicas },
        { parent: this, provider: providers.publisher },
      );
      dlq("publisher/failures", publisher.failureQueue, {
        kind: "publisher-failures",
        part: "publisher",
        region,
      });
      parts.push({ part: { kind: "publisher" }, component: publisher, account, region });
      this.outputs.publisher = {
        topicArn: publisher.topic.arn,
        bucketName: publisher.bucket.bucket,
        busName: publisher.bus.name,
        functionName: publisher.function.name,
      };
    }
    for (const sub of selection.subscribers) {
      const p = providers.subscribers[sub.name];
      if (!p)
        throw new Error(`MessagingSystem: subscriber ${sub.name} needs providers.subscribers.${sub.name}`);
      const common = {
        topology,
        subscriber: sub,
        ecsNetwork: selection.ecsNetworks[sub.name],
        topicRegionProvider: p.topicRegion,
        tracing: operations.tracing,
      };
      const childOpts = { parent: this, provider: p.home };
      if (sub.delivery === "sqs") {
        const part = new QueueSubscriber(`subscriber-${sub.name}`, common, childOpts);
        this.outputs.subscribers[sub.name] = { functionName: part.function.name, queueUrl: part.queue.url };
        parts.push({ part: { kind: "subscriber", subscriber: sub }, component: part, ...sub });
        dlq(`${sub.name}/dlq`, part.deadLetterQueue, {
          kind: "queue-dlq",
          part: sub.name,
          region: sub.region,
          sourceArn: subscriberNames(topology, sub).queueArn,
        });
        dlq(`${sub.name}/delivery-dlq`, part.deliveryDeadLetterQueue, {
          kind: "subscription-dlq",
          part: sub.name,
          region: pub.region,
        });
      } else {
        const part = new DirectSubscriber(`subscriber-${sub.name}`, common, childOpts);
        this.outputs.subscribers[sub.name] = { functionName: part.function.name };
        parts.push({ part: { kind: "subscriber", subscriber: sub }, component: part, ...sub });
        dlq(`${sub.name}/dlq`, part.deadLetterQueue, {
          kind: "on-failure",
          part: sub.name,
          region: sub.region,
        });
        dlq(`${sub.name}/delivery-dlq`, part.deliveryDeadLetterQueue, {
          kind: "subscription-dlq",
          part: sub.name,
          region: pub.region,
        });
      }
    }

    const names = (account: string, region: string) =>
      operationsNames(topology.system, args.stack, account, region);
    const { alarms } = operations;
    if (alarms) {
      const topics: Record<string, pulumi.Output<string>> = {};
      const topicFor = (account: string, region: string) => {
        const key = `${account}/${region}`;
        topics[key] ??= new AlarmTopic(
          `alarms-${account}-${region}`,
          { names: names(account, region), account, region, settings: alarms },
          { parent: this, provider: args.providerFor(account, region) },
        ).topic.arn;
        return topics[key];
      };
      for (const { part, component, account, region } of parts) {
        new PartAlarms(
          `${partName(part)}-alarms`,
          {
            alarms: partAlarms(topology, part, alarms),
            settings: alarms,
            prefix: names(account, region).alarmPrefix,
            topicFor,
            providerFor: args.providerFor,
          },
          { parent: component },
        );
      }
      this.outputs.alarmTopics = topics;
    }

    // One dashboard per account the stack deploys into (usually exactly one): a dashboard shows
    // metrics of its own account, in any Region.
    if (operations.dashboard) {
      const byAccount = new Map<string, typeof parts>();
      for (const p of parts) byAccount.set(p.account, [...(byAccount.get(p.account) ?? []), p]);
      for (const [account, inAccount] of byAccount) {
        const { region } = inAccount[0];
        new aws.cloudwatch.Dashboard(
          `dashboard-${account}`,
          {
            dashboardName: names(account, region).dashboard,
            dashboardBody: JSON.stringify(
              dashboardBody(
                topology,
                inAccount.map((p) => p.part),
              ),
            ),
          },
          { parent: this, provider: args.providerFor(account, region) },
        );
      }
    }
    this.registerOutputs(this.outputs);
  }
}

function partName(part: OperatedPart): string {
  return part.kind === "publisher" ? "publisher" : `subscriber-${part.subscriber.name}`;
}

/** The providers each selected part needs, from a (memoised) per-account-and-Region factory. */
export function partProviders(
  selection: MessagingSelection,
  providerFor: (account: string, region: string) => aws.Provider,
): PartProviders {
  const { publisher } = selection.topology;
  const providers: PartProviders = { subscribers: {} };
  if (selection.publisher) providers.publisher = providerFor(publisher.account, publisher.region);
  for (const sub of selection.subscribers) {
    providers.subscribers[sub.name] = {
      home: providerFor(sub.account, sub.region),
      topicRegion: providerFor(sub.account, publisher.region),
    };
  }
  return providers;
}
