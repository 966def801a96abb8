import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DirectSubscriber } from "./direct-subscriber";
import { Publisher } from "./publisher";
import { QueueSubscriber } from "./queue-subscriber";
import { MessagingSelection } from "./topology";

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
}

/** The messaging half of the system: the parts (publisher, subscribers) this stack owns. */
export class MessagingSystem extends pulumi.ComponentResource {
  readonly outputs: MessagingOutputs;

  constructor(name: string, args: MessagingSystemArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:MessagingSystem", name, {}, opts);
    const { selection, providers } = args;
    const { topology } = selection;
    this.outputs = { subscribers: {} };

    if (selection.publisher) {
      if (!providers.publisher)
        throw new Error("MessagingSystem: the publisher part needs providers.publisher");
      const publisher = new Publisher(
        "publisher",
        { topology },
        { parent: this, provider: providers.publisher },
      );
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
      };
      const childOpts = { parent: this, provider: p.home };
      if (sub.delivery === "sqs") {
        const part = new QueueSubscriber(`subscriber-${sub.name}`, common, childOpts);
        this.outputs.subscribers[sub.name] = { functionName: part.function.name, queueUrl: part.queue.url };
      } else {
        const part = new DirectSubscriber(`subscriber-${sub.name}`, common, childOpts);
        this.outputs.subscribers[sub.name] = { functionName: part.function.name };
      }
    }
    this.registerOutputs(this.outputs);
  }
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
