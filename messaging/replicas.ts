import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { PayloadLayout } from "./contract";
import { createPayloadBucket } from "./payload-bucket";
import { publisherNames, ReplicaNames, replicaNames, replicationRuleId, subscriberNames } from "./naming";
import { replicaBucketPolicy, replicaKeyPolicy, replicationRolePolicy, serviceTrustPolicy } from "./policies";
import { MessagingTopology } from "./topology";

// Region-local replicas of the payload bucket (docs/replicas.md). The publisher's account owns
// them, one per Region however many subscribers there read it, and the publisher's stack deploys
// them: the origin's replication configuration is one document naming every destination, and S3
// refuses it ("Destination bucket must have versioning enabled") until each destination is
// versioned, so the buckets and that document belong to one stack. Subscriber stacks only derive
// the replica's name (naming.ts), so stacks still deploy in any order.

export interface PayloadReplicaArgs {
  topology: MessagingTopology;
  /** The replica's Region: that of the subscribers with `replica: true` it serves. */
  region: string;
}

/**
 * One replica bucket, in the publisher's account and the replica's Region (the component's provider).
 *
 * @example
 * const { account } = topology.publisher;
 * const replicas = replicaRegions(topology).map(
 *   (region) => new PayloadReplica(`replica-${region}`, { topology, region }, { provider: providerFor(account, region) }),
 * );
 * new Publisher("publisher", { topology, tracing: true, replicas }, { provider: publisherProvider });
 */
export class PayloadReplica extends pulumi.ComponentResource {
  readonly names: ReplicaNames;
  readonly bucket: aws.s3.Bucket;
  /** Replication is configured only after this (S3 checks the destination is versioned). */
  readonly versioning: aws.s3.BucketVersioning;
  /** With offload.kms: the replica's own key (a bucket's SSE-KMS key must be in its Region). */
  readonly key?: aws.kms.Key;

  constructor(name: string, args: PayloadReplicaArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:PayloadReplica", name, {}, opts);
    const { topology, region } = args;
    const pub = publisherNames(topology);
    this.names = replicaNames(topology, region);
    const readers = topology.subscribers
      .filter((s) => s.replica && s.region === region)
      .map((s) => subscriberNames(topology, s));
    if (readers.length === 0)
      throw new Error(`PayloadReplica ${name}: no subscriber with replica: true in ${region}`);
    if (topology.offload.kms) {
      this.key = new aws.kms.Key(
        `${name}-key`,
        {
          description: `Payload replica ${this.names.bucket} (fieldnotes)`,
          enableKeyRotation: true,
          deletionWindowInDays: 7,
          policy: JSON.stringify(replicaKeyPolicy(this.names, readers)),
        },
        { parent: this },
      );
      // Aliases are per account and Region: the replica's key takes the origin key's alias here.
      new aws.kms.Alias(
        `${name}-key-alias`,
        { name: pub.payloadKeyAlias, targetKeyId: this.key.keyId },
        { parent: this },
      );
    }
    const created = createPayloadBucket(this, `${name}-payloads`, {
      bucket: this.names.bucket,
      key: this.key,
      // Only payloads/ replicates; incoming/ stays at the origin.
      prefixes: [PayloadLayout.payloadPrefix],
      retentionDays: topology.offload.retentionDays,
      versioned: true,
      policy: replicaBucketPolicy(pub, this.names, readers),
    });
    this.bucket = created.bucket;
    this.versioning = created.versioning as aws.s3.BucketVersioning;
    this.registerOutputs({ bucketName: this.bucket.bucket });
  }
}

/** S3 Replication Time Control: the minutes S3 promises (the only value the API accepts). */
const REPLICATION_MINUTES = 15;

/**
 * The origin's replication to every replica: the role S3 assumes, and ONE configuration on the
 * origin bucket (PutBucketReplication replaces the whole document) with a rule per replica, each
 * written after the origin and that replica are versioned.
 */
export function createReplication(
  parent: pulumi.Resource,
  name: string,
  args: {
    topology: MessagingTopology;
    origin: aws.s3.Bucket;
    originVersioning: aws.s3.BucketVersioning;
    originKey?: aws.kms.Key;
    replicas: PayloadReplica[];
  },
): aws.s3.BucketReplicationConfig {
  const { topology, replicas } = args;
  const pub = publisherNames(topology);
  const child = { parent };
  const role = new aws.iam.Role(
    `${name}-replication-role`,
    {
      name: pub.replicationRole,
      assumeRolePolicy: JSON.stringify(serviceTrustPolicy("s3.amazonaws.com", pub.account)),
    },
    child,
  );
  const policy = new aws.iam.RolePolicy(
    `${name}-replication-policy`,
    {
      role: role.name,
      policy: pulumi
        .all([args.originKey?.arn, ...replicas.map((r) => r.key?.arn)])
        .apply(([originKeyArn, ...replicaKeyArns]) =>
          JSON.stringify(
            replicationRolePolicy(
              pub,
              replicas.map((r, i) => ({ ...r.names, keyArn: replicaKeyArns[i] })),
              originKeyArn,
            ),
          ),
        ),
    },
    child,
  );
  return new aws.s3.BucketReplicationConfig(
    `${name}-replication`,
    {
      bucket: args.origin.id,
      role: role.arn,
      rules: replicas.map((r, i) => replicationRule(r, i, topology.offload.replicationTimeControl)),
    },
    { parent, dependsOn: [args.originVersioning, ...replicas.map((r) => r.versioning), policy] },
  );
}

/** Pure but for the replica's key ARN: the rule that copies payloads/ to one replica. */
export function replicationRule(
  replica: { names: ReplicaNames; key?: { arn: pulumi.Input<string> } },
  priority: number,
  replicationTimeControl: boolean,
): aws.types.input.s3.BucketReplicationConfigRule {
  const { names, key } = replica;
  return {
    id: replicationRuleId(names.region),
    // Several rules share the filter (one per destination): S3 requires each its own priority.
    priority,
    status: "Enabled",
    // V2 configuration (Filter): never incoming/, which producers stage and the publisher copies.
    filter: { prefix: PayloadLayout.payloadPrefix },
    // Each side's lifecycle expires its own copies; S3 never replicates lifecycle delete markers.
    deleteMarkerReplication: { status: "Disabled" },
    destination: {
      bucket: names.bucketArn,
      // Replication metrics (pending bytes and operations, latency, failures) in CloudWatch.
      metrics: { status: "Enabled", eventThreshold: { minutes: REPLICATION_MINUTES } },
      ...(replicationTimeControl
        ? { replicationTime: { status: "Enabled", time: { minutes: REPLICATION_MINUTES } } }
        : {}),
      // S3 does not check this key when the configuration is written: a wrong one fails every copy.
      ...(key ? { encryptionConfiguration: { replicaKmsKeyId: key.arn } } : {}),
    },
    // Without it S3 skips every SSE-KMS object, i.e. every payload of a KMS stack.
    ...(key ? { sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: "Enabled" } } } : {}),
  };
}
