import { PayloadIam, PayloadLayout } from "./contract";
import { PublisherNames, ReplicaNames, SubscriberNames } from "./naming";

// Pure policy builders: data in, policy documents out. The components serialise exactly these,
// and the tests simulate the documents the program registers (not copies of these functions).
//
// Cross-account statements name the ACCOUNT as principal and narrow it with aws:PrincipalArn:
// AWS rejects a resource policy naming a role that does not exist yet ("Invalid principal"), and
// that would force one deploy order on stacks owned by different accounts.
//
// Key policies name only other accounts' principals. A statement naming the key's own account (its
// root) lets that account's IAM policies decide, and AccountAdministersKey already does that for
// every action: the same-account roles (publisher, replication) use a key through their own role
// policies, which carry the kms:ViaService conditions.

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | { AWS?: string | string[]; Service?: string | string[] };
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[] | boolean>>;
}

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

const doc = (...statements: (PolicyStatement | undefined | false)[]): PolicyDocument => ({
  Version: "2012-10-17",
  Statement: statements.filter((s): s is PolicyStatement => Boolean(s)),
});

const accountRoot = (account: string) => `arn:aws:iam::${account}:root`;
const unique = <T>(items: T[]) => [...new Set(items)];

/** A principal allowed to produce: a whole account, or one IAM principal (narrowed by aws:PrincipalArn). */
export interface Producer {
  account: string;
  principalArn?: string;
}

export function parseProducers(producers: string[]): Producer[] {
  return producers.map((p) =>
    // The topology gives each one as an account ID or an IAM role or user ARN (topology.ts).
    p.startsWith("arn:") ? { account: p.split(":")[4], principalArn: p } : { account: p },
  );
}

/** Requests without TLS are refused on every action of the resource. */
function denyInsecureTransport(action: string, resources: string | string[]): PolicyStatement {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: action,
    Resource: resources,
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

function producerStatements(
  sid: string,
  action: string | string[],
  resource: string,
  producers: Producer[],
  condition: PolicyStatement["Condition"] = {},
): PolicyStatement[] {
  const whole = producers.filter((p) => !p.principalArn);
  const narrowed = producers.filter((p) => p.principalArn);
  const statements: PolicyStatement[] = [];
  if (whole.length > 0) {
    statements.push({
      Sid: `${sid}Accounts`,
      Effect: "Allow",
      Principal: { AWS: unique(whole.map((p) => accountRoot(p.account))) },
      Action: action,
      Resource: resource,
      // Stryker disable next-line ConditionalExpression,EqualityOperator: an empty Condition grants as none does
      ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
    });
  }
  if (narrowed.length > 0) {
    statements.push({
      Sid: `${sid}Principals`,
      Effect: "Allow",
      Principal: { AWS: unique(narrowed.map((p) => accountRoot(p.account))) },
      Action: action,
      Resource: resource,
      Condition: {
        ...condition,
        ArnEquals: { "aws:PrincipalArn": narrowed.map((p) => p.principalArn as string) },
      },
    });
  }
  return statements;
}

/** The only protocols a subscription may use: both keep the message inside AWS and this system's accounts. */
export const SUBSCRIPTION_PROTOCOLS = ["sqs", "lambda"] as const;

/**
 * Topic policy: each listed subscriber account may subscribe only its own endpoint with its own
 * protocol (sqs or lambda); only the publisher role may publish (its own role policy grants it: the
 * topic is in its account).
 *
 * The Allow statements alone only bind other accounts: an identity of the topic's own account needs
 * no resource policy, so one holding sns:* could subscribe an https or email endpoint, or a queue of
 * its own, and read every message. The Deny statements bind every account: no protocol but sqs and
 * lambda, no endpoint but the topology's, no publisher but the publisher role.
 */
export function topicPolicy(pub: PublisherNames, subscribers: SubscriberNames[]): PolicyDocument {
  return doc(
    ...subscribers.map((sub, i): PolicyStatement => ({
      Sid: `SubscriberMaySubscribe${i}`,
      Effect: "Allow",
      Principal: { AWS: accountRoot(sub.account) },
      Action: "sns:Subscribe",
      Resource: pub.topicArn,
      Condition: { StringEquals: { "sns:Protocol": sub.protocol, "sns:Endpoint": sub.endpointArn } },
    })),
    {
      Sid: "OnlySqsOrLambdaSubscriptions",
      Effect: "Deny",
      Principal: "*",
      Action: "sns:Subscribe",
      Resource: pub.topicArn,
      Condition: { StringNotEquals: { "sns:Protocol": [...SUBSCRIPTION_PROTOCOLS] } },
    },
    {
      Sid: "OnlyTopologyEndpointsSubscribe",
      Effect: "Deny",
      Principal: "*",
      Action: "sns:Subscribe",
      Resource: pub.topicArn,
      Condition: { StringNotEquals: { "sns:Endpoint": subscribers.map((s) => s.endpointArn) } },
    },
    {
      // Same-account identities could otherwise publish with an identity policy alone.
      Sid: "OnlyPublisherRolePublishes",
      Effect: "Deny",
      Principal: "*",
      Action: "sns:Publish",
      Resource: pub.topicArn,
      Condition: { ArnNotEquals: { "aws:PrincipalArn": pub.roleArn } },
    },
  );
}

/**
 * Queue policy of an SNS-fed queue: SNS may send, and only for the one topic (no confused deputy).
 * `snsPrincipal` is sns.amazonaws.com, or sns.<region>.amazonaws.com for a topic in an opt-in Region
 * delivering to another Region.
 *
 * The Deny binds the queue's own account too: an identity there holding sqs:* could otherwise put
 * forged pointers (any bucket, any key) in front of the consumer. Only SNS for this topic, and the
 * listed redrive roles (SQS StartMessageMoveTask moves a DLQ's messages back as its caller), send.
 */
export function snsDeliveryQueuePolicy(
  queueArn: string,
  topicArn: string,
  opts: { snsPrincipal: string; redriveRoles?: string[] },
): PolicyDocument {
  const redrivers = opts.redriveRoles ?? [];
  return doc(
    {
      Sid: "TopicMaySend",
      Effect: "Allow",
      Principal: { Service: opts.snsPrincipal },
      Action: "sqs:SendMessage",
      Resource: queueArn,
      // The Deny below refuses every other source already; the Allow keeps its own condition so
      // that it is safe read alone (and a scanner flags an SNS grant without aws:SourceArn).
      // Stryker disable next-line ObjectLiteral: equivalent while the Deny stands
      Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
    },
    {
      // Both conditions must hold for the Deny to apply: a sender that is neither SNS for this topic
      // (aws:SourceArn) nor a redrive role (aws:PrincipalArn) is refused.
      Sid: "OnlyTopicOrRedriveRolesSend",
      Effect: "Deny",
      Principal: "*",
      Action: "sqs:SendMessage",
      Resource: queueArn,
      Condition: {
        ArnNotEquals: {
          "aws:SourceArn": topicArn,
          ...(redrivers.length > 0 ? { "aws:PrincipalArn": redrivers } : {}),
        },
      },
    },
    denyInsecureTransport("sqs:*", queueArn),
  );
}

/** The EventBridge rule's DLQ: only EventBridge may send, and only for that rule. */
export function ruleDlqPolicy(queueArn: string, ruleArn: string): PolicyDocument {
  return doc(
    {
      Sid: "RuleMaySendFailedEvents",
      Effect: "Allow",
      Principal: { Service: "events.amazonaws.com" },
      Action: "sqs:SendMessage",
      Resource: queueArn,
      Condition: { ArnEquals: { "aws:SourceArn": ruleArn } },
    },
    denyInsecureTransport("sqs:*", queueArn),
  );
}

/** Bus policy: the producers, and nobody else from outside the account, may put events. */
export function eventBusPolicy(busArn: string, producers: Producer[]): PolicyDocument {
  // Stryker disable next-line StringLiteral: the wording of a Sid prefix ("" still leaves valid, distinct Sids)
  return doc(...producerStatements("ProducersMayPutEvents", "events:PutEvents", busArn, producers));
}

/** The one role that may write under payloads/ of a bucket: every other principal is denied `actions`. */
interface PayloadWriter {
  sid: string;
  roleArn: string;
  actions: string[];
}

/**
 * A payload bucket's policy, origin or replica: TLS only; subscriber roles may read objects under
 * payloads/ and nothing else; only the writer role may write payloads/; producers may stage
 * sources under incoming/.
 */
function bucketPolicy(
  bucketArn: string,
  readers: SubscriberNames[],
  writer: PayloadWriter,
  producers: Producer[],
): PolicyDocument {
  const payloads = `${bucketArn}/${PayloadLayout.payloadPrefix}*`;
  return doc(
    denyInsecureTransport("s3:*", [bucketArn, `${bucketArn}/*`]),
    {
      Sid: "SubscriberRolesReadPayloads",
      Effect: "Allow",
      Principal: { AWS: unique(readers.map((r) => accountRoot(r.account))) },
      Action: [...PayloadIam.readerObjectActions],
      Resource: payloads,
      Condition: { ArnEquals: { "aws:PrincipalArn": readers.map((r) => r.roleArn) } },
    },
    {
      // So that an expired (missing) payload answers 404, not 403; listing stays inside payloads/.
      Sid: "SubscriberRolesListPayloads",
      Effect: "Allow",
      Principal: { AWS: unique(readers.map((r) => accountRoot(r.account))) },
      Action: [...PayloadIam.readerBucketActions],
      Resource: bucketArn,
      Condition: {
        ArnEquals: { "aws:PrincipalArn": readers.map((r) => r.roleArn) },
        StringLike: { "s3:prefix": `${PayloadLayout.payloadPrefix}*` },
      },
    },
    {
      Sid: writer.sid,
      Effect: "Deny",
      Principal: "*",
      Action: writer.actions,
      Resource: payloads,
      Condition: { ArnNotEquals: { "aws:PrincipalArn": writer.roleArn } },
    },
    ...producerStatements(
      // Stryker disable next-line StringLiteral: the wording of a Sid prefix ("" still leaves valid, distinct Sids)
      "ProducersStageSources",
      "s3:PutObject",
      `${bucketArn}/${PayloadLayout.incomingPrefix}*`,
      producers,
    ),
  );
}

/** Payload bucket policy: the publisher role is the only writer of payloads/. */
export function payloadBucketPolicy(
  pub: PublisherNames,
  readers: SubscriberNames[],
  producers: Producer[],
): PolicyDocument {
  return bucketPolicy(
    pub.bucketArn,
    readers,
    {
      sid: "OnlyPublisherRoleWritesPayloads",
      roleArn: pub.roleArn,
      actions: [...PayloadIam.writerObjectActions],
    },
    producers,
  );
}

/**
 * The S3 actions of live replication, checked against "Setting up permissions for live replication"
 * (Amazon S3 User Guide). No s3:ReplicateDelete: delete marker replication is off, and lifecycle
 * expires each side's copies on its own.
 */
export const ReplicationIam = {
  /** On the source bucket. */
  sourceBucketActions: ["s3:GetReplicationConfiguration", "s3:ListBucket"],
  /** On the source objects (payloads/ only). */
  sourceObjectActions: [
    "s3:GetObjectVersionForReplication",
    "s3:GetObjectVersionAcl",
    "s3:GetObjectVersionTagging",
  ],
  /** On the destination objects (payloads/ only): the object, then its tags (payload-sha256). */
  destinationObjectActions: ["s3:ReplicateObject", "s3:ReplicateTags"],
  /** Every replication write a destination can receive: denied to all but the replication role. */
  anyReplicationWrite: ["s3:ReplicateObject", "s3:ReplicateTags", "s3:ReplicateDelete"],
  /** SSE-KMS: decrypt the source object, encrypt the replica under the destination's key. */
  sourceKmsActions: ["kms:Decrypt"],
  destinationKmsActions: ["kms:Encrypt", "kms:GenerateDataKey"],
} as const;

/**
 * Replica bucket policy: the origin's statements for the subscribers of that Region, with the
 * replication role the only writer (nobody puts objects into a replica; S3 copies them in).
 */
export function replicaBucketPolicy(
  pub: PublisherNames,
  replica: ReplicaNames,
  readers: SubscriberNames[],
): PolicyDocument {
  return bucketPolicy(
    replica.bucketArn,
    readers,
    {
      sid: "OnlyReplicationRoleWritesPayloads",
      roleArn: pub.replicationRoleArn,
      actions: [...PayloadIam.writerObjectActions, ...ReplicationIam.anyReplicationWrite],
    },
    [],
  );
}

/**
 * The role S3 assumes to replicate: read the origin's replication configuration and its payloads/
 * versions, write replicas' payloads/; with SSE-KMS, decrypt with the origin's key and encrypt with
 * each replica's, through S3 in that key's Region.
 */
export function replicationRolePolicy(
  pub: PublisherNames,
  replicas: (ReplicaNames & { keyArn?: string })[],
  originKeyArn?: string,
): PolicyDocument {
  const keyed = replicas.filter((r) => r.keyArn !== undefined);
  return doc(
    {
      Sid: "ReadReplicationConfiguration",
      Effect: "Allow",
      Action: [...ReplicationIam.sourceBucketActions],
      Resource: pub.bucketArn,
    },
    {
      Sid: "ReadPayloadVersions",
      Effect: "Allow",
      Action: [...ReplicationIam.sourceObjectActions],
      Resource: `${pub.bucketArn}/${PayloadLayout.payloadPrefix}*`,
    },
    {
      Sid: "ReplicatePayloads",
      Effect: "Allow",
      Action: [...ReplicationIam.destinationObjectActions],
      Resource: replicas.map((r) => `${r.bucketArn}/${PayloadLayout.payloadPrefix}*`),
    },
    // No kms:EncryptionContext condition: with S3 Bucket Keys the context is the bucket's ARN, not
    // the object's, so a payloads/ pattern would refuse every object.
    originKeyArn !== undefined && {
      Sid: "DecryptOriginThroughS3",
      Effect: "Allow",
      Action: [...ReplicationIam.sourceKmsActions],
      Resource: originKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${pub.region}.amazonaws.com` } },
    },
    keyed.length > 0 && {
      Sid: "EncryptReplicasThroughS3",
      Effect: "Allow",
      Action: [...ReplicationIam.destinationKmsActions],
      Resource: keyed.map((r) => r.keyArn as string),
      Condition: {
        StringEquals: { "kms:ViaService": keyed.map((r) => `s3.${r.region}.amazonaws.com`) },
      },
    },
  );
}

// Every key policy of this program keeps its account in charge of the key: without this statement
// no IAM policy in the account could grant use of the key, and nobody could manage it.
const accountAdministersKey = (account: string): PolicyStatement => ({
  Sid: "AccountAdministersKey",
  Effect: "Allow",
  Principal: { AWS: accountRoot(account) },
  Action: "kms:*",
  Resource: "*",
});

/**
 * Key policy of the topic's customer managed key: the account administers it; the publisher role
 * (same account) uses it through SNS as its role policy says.
 */
export function topicKeyPolicy(pub: PublisherNames): PolicyDocument {
  return doc(accountAdministersKey(pub.account));
}

/**
 * Key policy of a payload bucket's key (origin or replica), used through S3 in the key's Region only.
 * The writer (the publisher role, or the replication role for a replica) is of the key's account.
 */
function s3KeyPolicy(
  account: string,
  region: string,
  readers: SubscriberNames[],
  producers: Producer[],
): PolicyDocument {
  const viaS3 = { "kms:ViaService": `s3.${region}.amazonaws.com` };
  return doc(
    accountAdministersKey(account),
    {
      Sid: "SubscriberRolesDecryptThroughS3",
      Effect: "Allow",
      Principal: { AWS: unique(readers.map((r) => accountRoot(r.account))) },
      Action: [...PayloadIam.readerKmsActions],
      Resource: "*",
      Condition: { ArnEquals: { "aws:PrincipalArn": readers.map((r) => r.roleArn) }, StringEquals: viaS3 },
    },
    // A producer's PutObject under incoming/ is encrypted with this key (the bucket default) as the
    // producer: S3 calls GenerateDataKey (and Decrypt for multipart) with the producer's identity, and
    // a key in another account is usable only when its key policy also admits that principal.
    // Stryker disable next-line StringLiteral: the wording of a Sid prefix ("" still leaves valid, distinct Sids)
    ...producerStatements("ProducersEncryptThroughS3", [...PayloadIam.writerKmsActions], "*", producers, {
      StringEquals: viaS3,
    }),
  );
}

/**
 * Key policy of the payload bucket's key (SSE-KMS): subscriber roles decrypt through S3 only;
 * producers encrypt the sources they stage under incoming/, through S3 only. The publisher role and
 * the replication role are of the key's account: their role policies grant their use of it.
 */
export function payloadKeyPolicy(
  pub: PublisherNames,
  readers: SubscriberNames[],
  producers: Producer[],
): PolicyDocument {
  return s3KeyPolicy(pub.account, pub.region, readers, producers);
}

/**
 * Key policy of a replica's key, in the replica's Region: that Region's subscriber roles decrypt
 * replicas through S3 there; the replication role (the replica's account) encrypts them as its role
 * policy says.
 */
export function replicaKeyPolicy(replica: ReplicaNames, readers: SubscriberNames[]): PolicyDocument {
  return s3KeyPolicy(replica.account, replica.region, readers, []);
}

function logStatement(account: string, region: string, logGroup: string): PolicyStatement {
  return {
    Sid: "WriteOwnLogs",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
    Resource: `arn:aws:logs:${region}:${account}:log-group:${logGroup}:*`,
  };
}

/** The publisher function: write payloads, copy staged sources, publish, report failures, log. */
export function publisherRolePolicy(
  pub: PublisherNames,
  opts: { topicKeyArn: string; payloadKeyArn?: string; extraSources: string[] },
): PolicyDocument {
  const sources = [`${pub.bucket}/${PayloadLayout.incomingPrefix}`, ...opts.extraSources];
  return doc(
    {
      Sid: "WritePayloads",
      Effect: "Allow",
      Action: [...PayloadIam.writerObjectActions],
      Resource: `${pub.bucketArn}/${PayloadLayout.payloadPrefix}*`,
    },
    {
      Sid: "CopyFromAllowedSources",
      Effect: "Allow",
      Action: [...PayloadIam.copySourceActions],
      Resource: sources.map((s) => `arn:aws:s3:::${s}*`),
    },
    {
      Sid: "PublishPointers",
      Effect: "Allow",
      Action: "sns:Publish",
      Resource: pub.topicArn,
    },
    {
      // Publishing to an SSE-KMS topic needs the data key operations on the topic's key.
      Sid: "UseTopicKeyThroughSns",
      Effect: "Allow",
      Action: ["kms:GenerateDataKey", "kms:Decrypt"],
      Resource: opts.topicKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `sns.${pub.region}.amazonaws.com` } },
    },
    opts.payloadKeyArn !== undefined && {
      Sid: "UsePayloadKeyThroughS3",
      Effect: "Allow",
      Action: [...PayloadIam.writerKmsActions],
      Resource: opts.payloadKeyArn,
      Condition: { StringEquals: { "kms:ViaService": `s3.${pub.region}.amazonaws.com` } },
    },
    {
      Sid: "ReportFailedInvocations",
      Effect: "Allow",
      Action: "sqs:SendMessage",
      Resource: pub.failureQueueArn,
    },
    logStatement(pub.account, pub.region, pub.logGroup),
  );
}

/** A subscriber function: read payloads (only), consume its queue or report failures, start its downstream, log. */
export function subscriberRolePolicy(
  pub: PublisherNames,
  sub: SubscriberNames,
  opts: { kms: boolean; downstream: "stepfunctions" | "ecs" | "none"; replica?: ReplicaNames },
): PolicyDocument {
  // The replica (the publisher's account, this subscriber's Region) is read exactly like the origin.
  const buckets = [pub.bucketArn, ...(opts.replica ? [opts.replica.bucketArn] : [])];
  return doc(
    {
      Sid: "ReadPayloads",
      Effect: "Allow",
      Action: [...PayloadIam.readerObjectActions],
      Resource: buckets.map((b) => `${b}/${PayloadLayout.payloadPrefix}*`),
    },
    {
      // Without it S3 answers GetObject of an expired (missing) payload with 403, not 404.
      Sid: "ListPayloads",
      Effect: "Allow",
      Action: [...PayloadIam.readerBucketActions],
      Resource: buckets,
      Condition: { StringLike: { "s3:prefix": `${PayloadLayout.payloadPrefix}*` } },
    },
    opts.kms && {
      // The key ID is random, so the grant names the account's keys used through S3 in A's Region;
      // only the payload key's own policy names this role, so that is the one key it can use.
      Sid: "DecryptPayloadsThroughS3",
      Effect: "Allow",
      Action: [...PayloadIam.readerKmsActions],
      Resource: `arn:aws:kms:${pub.region}:${pub.account}:key/*`,
      Condition: { StringEquals: { "kms:ViaService": `s3.${pub.region}.amazonaws.com` } },
    },
    opts.kms &&
      opts.replica && {
        // The replica's key lives in the replica's Region (an SSE-KMS key must be in its bucket's
        // Region); as above, only that key's policy names this role.
        Sid: "DecryptReplicaThroughS3",
        Effect: "Allow",
        Action: [...PayloadIam.readerKmsActions],
        Resource: `arn:aws:kms:${opts.replica.region}:${opts.replica.account}:key/*`,
        Condition: { StringEquals: { "kms:ViaService": `s3.${opts.replica.region}.amazonaws.com` } },
      },
    sub.protocol === "sqs"
      ? {
          Sid: "ConsumeQueue",
          Effect: "Allow",
          Action: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
          Resource: sub.queueArn,
        }
      : {
          Sid: "ReportFailedInvocations",
          Effect: "Allow",
          Action: "sqs:SendMessage",
          Resource: sub.dlqArn,
        },
    opts.downstream === "stepfunctions" && {
      Sid: "StartApplication",
      Effect: "Allow",
      Action: "states:StartExecution",
      Resource: sub.stateMachineArn,
    },
    opts.downstream === "ecs" && {
      Sid: "RunApplicationTask",
      Effect: "Allow",
      Action: "ecs:RunTask",
      Resource: `arn:aws:ecs:${sub.region}:${sub.account}:task-definition/${sub.taskFamily}:*`,
      Condition: { ArnEquals: { "ecs:cluster": sub.clusterArn } },
    },
    opts.downstream === "ecs" && {
      Sid: "PassOnlyTaskRoles",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: [sub.taskRoleArn, sub.taskExecutionRoleArn],
      Condition: { StringEquals: { "iam:PassedToService": "ecs-tasks.amazonaws.com" } },
    },
    logStatement(sub.account, sub.region, sub.logGroup),
  );
}

/** The Fargate task execution role: write the task's logs, and pull from a private ECR repository if the image is one. */
export function taskExecutionRolePolicy(sub: SubscriberNames, image: string): PolicyDocument {
  const ecr = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^:@]+)/.exec(image);
  return doc(
    logStatement(sub.account, sub.region, sub.taskLogGroup),
    ecr !== null && { Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    ecr !== null && {
      Sid: "PullTaskImage",
      Effect: "Allow",
      Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
      Resource: `arn:aws:ecr:${ecr[2]}:${ecr[1]}:repository/${ecr[3]}`,
    },
  );
}

/** Trust policy for a service role; aws:SourceAccount keeps other accounts' resources from using it. */
export function serviceTrustPolicy(service: string, account?: string): PolicyDocument {
  return doc({
    Sid: "ServiceAssumesRole",
    Effect: "Allow",
    Principal: { Service: service },
    Action: "sts:AssumeRole",
    ...(account ? { Condition: { StringEquals: { "aws:SourceAccount": account } } } : {}),
  } as PolicyStatement);
}

/**
 * Where CloudWatch alarms of this stack may publish from: the account, and an alarm name pattern
 * in one Region. Both the alarm topic policy and its key policy pin CloudWatch to these with
 * aws:SourceAccount and aws:SourceArn, so another account's alarm (a confused deputy) cannot use them.
 */
export interface AlarmSource {
  account: string;
  region: string;
  topicArn: string;
  /** Every alarm name of the stack starts with this (e.g. "fieldnotes-dev-"). */
  alarmNamePrefix: string;
}

const alarmSourceCondition = (src: AlarmSource): PolicyStatement["Condition"] => ({
  // aws:SourceArn's pattern names the account too; AWS's confused-deputy guidance sets both.
  // Stryker disable next-line ObjectLiteral: equivalent while aws:SourceArn names the account
  StringEquals: { "aws:SourceAccount": src.account },
  ArnLike: {
    "aws:SourceArn": `arn:aws:cloudwatch:${src.region}:${src.account}:alarm:${src.alarmNamePrefix}*`,
  },
});

/** Alarm topic policy: only CloudWatch, for this stack's alarms, may publish; nobody without TLS. */
export function alarmTopicPolicy(src: AlarmSource): PolicyDocument {
  return doc(
    {
      Sid: "StackAlarmsMayPublish",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: src.topicArn,
      Condition: alarmSourceCondition(src),
    },
    {
      // Same-account identities could otherwise publish fake alarms with an identity policy alone.
      Sid: "OnlyCloudWatchPublishes",
      Effect: "Deny",
      Principal: "*",
      Action: "sns:Publish",
      Resource: src.topicArn,
      Condition: { StringNotEquals: { "aws:PrincipalServiceName": "cloudwatch.amazonaws.com" } },
    },
    denyInsecureTransport("sns:*", src.topicArn),
  );
}

/**
 * Key policy of the alarm topic's key. CloudWatch must generate and decrypt data keys to publish
 * to an SSE-KMS topic, and the AWS managed alias/aws/sns key cannot admit it (its policy is fixed),
 * so alarms sent to a topic under that key are dropped without an error.
 */
export function alarmKeyPolicy(src: AlarmSource): PolicyDocument {
  return doc(accountAdministersKey(src.account), {
    Sid: "StackAlarmsEncryptThroughSns",
    Effect: "Allow",
    Principal: { Service: "cloudwatch.amazonaws.com" },
    Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
    Resource: "*",
    Condition: alarmSourceCondition(src),
  });
}

/** X-Ray: what a traced function or state machine needs to send its segments. */
export function tracingStatement(extra: string[] = []): PolicyStatement {
  return {
    Sid: "SendTraces",
    Effect: "Allow",
    // X-Ray's trace APIs take no resource: "*" is the only resource they accept.
    Action: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", ...extra],
    Resource: "*",
  };
}
