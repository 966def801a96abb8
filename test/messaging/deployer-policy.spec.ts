import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Plan, PlannedResource } from "../../local/plan";
import { messagingPlans, policyInput } from "./plans";
import { Policy, simulate } from "./simulation";

// The messaging deployer policy (messaging/iam/deployer-policy.json) against what the program
// registers: every resource type of every messaging stack must be in the table below, and every
// call the provider makes for it (create, read, update, delete, tags) must be allowed by the policy
// on that resource's own ARN, as the policy simulator evaluates it.
//
// The calls per type follow the terraform-provider-aws resources pulumi-aws wraps (create, then the
// read it does after every create and refresh, updates, tags, delete); where a call was found only
// through a provider issue, the issue is named in docs/deploy-readiness.md.

type Need = {
  actions: string[];
  /** The ARN(s) the calls act on; "*" for calls IAM does not scope to a resource. */
  on: (r: PlannedResource, plan: Plan) => string | string[];
  context?: Record<string, string>;
  /** The resource's own policy where AWS requires it to allow the call too (a KMS key policy). */
  resourcePolicy?: (r: PlannedResource, plan: Plan) => Policy;
};

const acct = (r: PlannedResource) => r.provider?.account as string;
const reg = (r: PlannedResource) => r.provider?.region as string;
const s = (v: unknown) => v as string;
const self = (r: PlannedResource) => s(r.outputs.arn);
const star = () => "*";
const bucketOf = (r: PlannedResource) => `arn:aws:s3:::${s(r.inputs.bucket)}`;
const fnOf = (r: PlannedResource, field: string) =>
  `arn:aws:lambda:${reg(r)}:${acct(r)}:function:${s(r.inputs[field])}`;
const roleNamed = (r: PlannedResource, name: unknown) => `arn:aws:iam::${acct(r)}:role/${s(name)}`;
const queueByUrl = (r: PlannedResource, plan: Plan) =>
  s(
    plan.resources.find((q) => q.type === "aws:sqs/queue:Queue" && q.outputs.url === r.inputs.queueUrl)
      ?.outputs.arn,
  );
// KMS evaluates a key's own policy as well: the deployer's IAM policy counts only because the key
// policy lets the account administer the key (policies.ts, accountAdministersKey).
const keyPolicyOf = (r: PlannedResource, plan: Plan): Policy => {
  const key =
    r.type === "aws:kms/key:Key"
      ? r
      : plan.resources.find((k) => k.type === "aws:kms/key:Key" && k.outputs.keyId === r.inputs.targetKeyId);
  if (!key) throw new Error(`${r.name}: no key ${String(r.inputs.targetKeyId)} in the plan`);
  return policyInput(key);
};
const tagging = (service: string) => [`${service}:TagResource`, `${service}:UntagResource`];
const passTo = (service: string, roles: (r: PlannedResource) => string[]): Need => ({
  actions: ["iam:PassRole"],
  on: roles,
  context: { "iam:PassedToService": service },
});

const S3_BUCKET_READ = [
  "s3:ListBucket",
  "s3:GetBucketTagging",
  "s3:GetBucketAcl",
  "s3:GetBucketCORS",
  "s3:GetBucketWebsite",
  "s3:GetBucketVersioning",
  "s3:GetAccelerateConfiguration",
  "s3:GetBucketRequestPayment",
  "s3:GetBucketLogging",
  "s3:GetLifecycleConfiguration",
  "s3:GetReplicationConfiguration",
  "s3:GetEncryptionConfiguration",
  "s3:GetBucketObjectLockConfiguration",
  "s3:GetBucketPolicy",
];

/** Provider calls per registered resource type (IAM action names). */
const NEEDS: Record<string, Need[]> = {
  "pulumi:providers:aws": [{ actions: ["sts:GetCallerIdentity"], on: star }],
  "aws:kms/key:Key": [
    { actions: ["kms:CreateKey"], on: star },
    {
      actions: [
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:PutKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:EnableKeyRotation",
        "kms:DisableKeyRotation",
        "kms:ListResourceTags",
        "kms:UpdateKeyDescription",
        "kms:ScheduleKeyDeletion",
        ...tagging("kms"),
      ],
      on: self,
      resourcePolicy: keyPolicyOf,
    },
  ],
  "aws:kms/alias:Alias": [
    { actions: ["kms:ListAliases"], on: star },
    {
      // An alias call is authorised on the alias and on the key it points to.
      actions: ["kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"],
      on: (r) => [self(r), `arn:aws:kms:${reg(r)}:${acct(r)}:key/${s(r.inputs.targetKeyId)}`],
      resourcePolicy: keyPolicyOf,
    },
  ],
  "aws:sns/topic:Topic": [
    {
      actions: [
        "sns:CreateTopic",
        "sns:DeleteTopic",
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:ListTagsForResource",
        ...tagging("sns"),
      ],
      on: self,
    },
  ],
  "aws:sns/topicPolicy:TopicPolicy": [
    { actions: ["sns:SetTopicAttributes", "sns:GetTopicAttributes"], on: (r) => s(r.inputs.arn) },
  ],
  "aws:sns/topicSubscription:TopicSubscription": [
    {
      // B and C subscribe to A's topic, which A's topic policy must allow too (simulated with it).
      actions: ["sns:Subscribe"],
      on: (r) => s(r.inputs.topic),
      resourcePolicy: () => topicPolicyOfA,
    },
    {
      // The subscription belongs to the account that made it: its owner manages it.
      actions: ["sns:Unsubscribe", "sns:GetSubscriptionAttributes", "sns:SetSubscriptionAttributes"],
      on: (r) => s(r.inputs.topic).replace(/:\d{12}:/, `:${acct(r)}:`),
    },
  ],
  "aws:s3/bucket:Bucket": [
    { actions: ["s3:CreateBucket", "s3:DeleteBucket", "s3:PutBucketTagging", ...S3_BUCKET_READ], on: self },
  ],
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": [
    // DeletePublicAccessBlock is authorised by s3:PutBucketPublicAccessBlock.
    { actions: ["s3:PutBucketPublicAccessBlock", "s3:GetBucketPublicAccessBlock"], on: bucketOf },
  ],
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": [
    { actions: ["s3:PutBucketOwnershipControls", "s3:GetBucketOwnershipControls"], on: bucketOf },
  ],
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": [
    { actions: ["s3:PutEncryptionConfiguration", "s3:GetEncryptionConfiguration"], on: bucketOf },
  ],
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": [
    { actions: ["s3:PutLifecycleConfiguration", "s3:GetLifecycleConfiguration"], on: bucketOf },
  ],
  "aws:s3/bucketVersioning:BucketVersioning": [
    // Removing the resource suspends versioning, through the same call.
    { actions: ["s3:PutBucketVersioning", "s3:GetBucketVersioning"], on: bucketOf },
  ],
  "aws:s3/bucketReplicationConfig:BucketReplicationConfig": [
    // DeleteBucketReplication is authorised by s3:PutReplicationConfiguration.
    { actions: ["s3:PutReplicationConfiguration", "s3:GetReplicationConfiguration"], on: bucketOf },
    // PutBucketReplication hands the replication role to S3.
    passTo("s3.amazonaws.com", (r) => [s(r.inputs.role)]),
  ],
  "aws:s3/bucketPolicy:BucketPolicy": [
    { actions: ["s3:PutBucketPolicy", "s3:GetBucketPolicy", "s3:DeleteBucketPolicy"], on: bucketOf },
  ],
  "aws:cloudwatch/eventBus:EventBus": [
    {
      actions: [
        "events:CreateEventBus",
        "events:DescribeEventBus",
        "events:UpdateEventBus",
        "events:DeleteEventBus",
        "events:ListTagsForResource",
        ...tagging("events"),
      ],
      on: self,
    },
  ],
  "aws:cloudwatch/eventBusPolicy:EventBusPolicy": [
    // PutPermission and RemovePermission take no resource in IAM.
    { actions: ["events:PutPermission", "events:RemovePermission"], on: star },
    {
      actions: ["events:DescribeEventBus"],
      on: (r) => `arn:aws:events:${reg(r)}:${acct(r)}:event-bus/${s(r.inputs.eventBusName)}`,
    },
  ],
  "aws:cloudwatch/eventRule:EventRule": [
    {
      actions: [
        "events:PutRule",
        "events:DescribeRule",
        "events:DeleteRule",
        "events:EnableRule",
        "events:DisableRule",
        "events:ListTagsForResource",
        ...tagging("events"),
      ],
      on: self,
    },
  ],
  "aws:cloudwatch/eventTarget:EventTarget": [
    {
      actions: ["events:PutTargets", "events:RemoveTargets", "events:ListTargetsByRule"],
      on: (r) => `arn:aws:events:${reg(r)}:${acct(r)}:rule/${s(r.inputs.eventBusName)}/${s(r.inputs.rule)}`,
    },
  ],
  "aws:sqs/queue:Queue": [
    {
      actions: [
        "sqs:CreateQueue",
        "sqs:GetQueueAttributes",
        "sqs:SetQueueAttributes",
        "sqs:GetQueueUrl",
        "sqs:DeleteQueue",
        "sqs:ListQueueTags",
        "sqs:TagQueue",
        "sqs:UntagQueue",
      ],
      on: self,
    },
  ],
  "aws:sqs/queuePolicy:QueuePolicy": [
    { actions: ["sqs:SetQueueAttributes", "sqs:GetQueueAttributes"], on: queueByUrl },
  ],
  "aws:lambda/function:Function": [
    {
      actions: [
        "lambda:CreateFunction",
        "lambda:GetFunction",
        "lambda:GetFunctionConfiguration",
        "lambda:UpdateFunctionCode",
        "lambda:UpdateFunctionConfiguration",
        "lambda:ListVersionsByFunction",
        "lambda:GetFunctionCodeSigningConfig",
        "lambda:DeleteFunction",
        "lambda:ListTags",
        ...tagging("lambda"),
      ],
      on: self,
    },
    passTo("lambda.amazonaws.com", (r) => [s(r.inputs.role)]),
  ],
  "aws:lambda/permission:Permission": [
    {
      actions: ["lambda:AddPermission", "lambda:RemovePermission", "lambda:GetPolicy"],
      on: (r) => fnOf(r, "function"),
    },
  ],
  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": [
    {
      actions: [
        "lambda:PutFunctionEventInvokeConfig",
        "lambda:GetFunctionEventInvokeConfig",
        "lambda:UpdateFunctionEventInvokeConfig",
        "lambda:DeleteFunctionEventInvokeConfig",
      ],
      on: (r) => fnOf(r, "functionName"),
    },
  ],
  "aws:lambda/eventSourceMapping:EventSourceMapping": [
    { actions: ["lambda:CreateEventSourceMapping"], on: star },
    {
      actions: [
        "lambda:GetEventSourceMapping",
        "lambda:UpdateEventSourceMapping",
        "lambda:DeleteEventSourceMapping",
      ],
      on: self,
    },
  ],
  "aws:iam/role:Role": [
    {
      actions: [
        "iam:CreateRole",
        "iam:GetRole",
        "iam:UpdateRole",
        "iam:UpdateAssumeRolePolicy",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:UntagRole",
        // Delete lists what is still attached to the role.
        "iam:ListRolePolicies",
        "iam:ListAttachedRolePolicies",
        "iam:ListInstanceProfilesForRole",
      ],
      on: self,
    },
  ],
  "aws:iam/rolePolicy:RolePolicy": [
    {
      actions: ["iam:PutRolePolicy", "iam:GetRolePolicy", "iam:DeleteRolePolicy"],
      on: (r) => roleNamed(r, r.inputs.role),
    },
  ],
  "aws:cloudwatch/logGroup:LogGroup": [
    { actions: ["logs:DescribeLogGroups"], on: star },
    {
      actions: [
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:DeleteLogGroup",
        "logs:ListTagsForResource",
        ...tagging("logs"),
      ],
      on: self,
    },
  ],
  "aws:sfn/stateMachine:StateMachine": [
    {
      actions: [
        "states:CreateStateMachine",
        "states:DescribeStateMachine",
        "states:UpdateStateMachine",
        "states:ListStateMachineVersions",
        "states:DeleteStateMachine",
        "states:ListTagsForResource",
        ...tagging("states"),
      ],
      on: self,
    },
    passTo("states.amazonaws.com", (r) => [s(r.inputs.roleArn)]),
  ],
  "aws:ecs/cluster:Cluster": [
    { actions: ["ecs:CreateCluster"], on: star },
    {
      actions: [
        "ecs:DescribeClusters",
        "ecs:UpdateCluster",
        "ecs:UpdateClusterSettings",
        "ecs:DeleteCluster",
        "ecs:ListTagsForResource",
        ...tagging("ecs"),
      ],
      on: self,
    },
    {
      // A fresh account has no ECS service-linked role; CreateCluster creates it, and awsvpc
      // tasks cannot run without it.
      actions: ["iam:CreateServiceLinkedRole"],
      on: (r) => `arn:aws:iam::${acct(r)}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
      context: { "iam:AWSServiceName": "ecs.amazonaws.com" },
    },
  ],
  "aws:ecs/taskDefinition:TaskDefinition": [
    {
      actions: ["ecs:RegisterTaskDefinition", "ecs:DescribeTaskDefinition", "ecs:DeregisterTaskDefinition"],
      on: star,
    },
    { actions: ["ecs:TagResource", "ecs:ListTagsForResource"], on: self },
    passTo("ecs-tasks.amazonaws.com", (r) => [s(r.inputs.executionRoleArn), s(r.inputs.taskRoleArn)]),
  ],
  "aws:cloudwatch/metricAlarm:MetricAlarm": [
    {
      actions: [
        "cloudwatch:PutMetricAlarm",
        "cloudwatch:DescribeAlarms",
        "cloudwatch:DeleteAlarms",
        "cloudwatch:ListTagsForResource",
        ...tagging("cloudwatch"),
      ],
      on: self,
    },
  ],
  "aws:cloudwatch/dashboard:Dashboard": [
    {
      actions: ["cloudwatch:PutDashboard", "cloudwatch:GetDashboard", "cloudwatch:DeleteDashboards"],
      on: (r) => `arn:aws:cloudwatch::${acct(r)}:dashboard/${s(r.inputs.dashboardName)}`,
    },
  ],
};

/** A's topic policy (from A's plan), which a subscriber's Subscribe call must also satisfy. */
let topicPolicyOfA: Policy;

/**
 * The deployer's managed policies: one document would exceed IAM's 6,144 characters, so the
 * replication calls are a second document, attached beside the first.
 */
const POLICY_PATHS = ["deployer-policy.json", "deployer-policy-replication.json"].map((f) =>
  path.join(__dirname, "../../messaging/iam", f),
);
/** "Managed policy length", IAM and AWS STS quotas: characters, not counting white space. */
const MANAGED_POLICY_MAX_CHARS = 6_144;

describe("messaging deployer policy (messaging/iam/deployer-policy*.json)", function () {
  this.timeout(300_000);
  let plans: Plan[];
  const policyFor = (account: string): Policy[] =>
    POLICY_PATHS.map((p) => JSON.parse(fs.readFileSync(p, "utf8").replaceAll("ACCOUNT_ID", account)));

  before(async () => {
    const { a, b, c, aKms, dev } = await messagingPlans();
    plans = [a, b, c, aKms, dev];
    const topicPolicy = plans[0].resources.find((r) => r.name === "publisher-topic-policy");
    if (!topicPolicy) throw new Error("a-use1 has no publisher-topic-policy");
    topicPolicyOfA = policyInput(topicPolicy);
  });

  it("every resource type the messaging stacks register has its provider calls in the table", () => {
    const types = new Set(plans.flatMap((p) => p.resources.filter((r) => r.custom).map((r) => r.type)));
    assert.deepEqual([...types].filter((t) => !(t in NEEDS)).sort(), []);
  });

  it("allows every call the provider makes for every registered resource, on that resource", async () => {
    const denied: string[] = [];
    const checked = new Set<string>();
    for (const plan of plans) {
      for (const r of plan.resources.filter((x) => x.custom)) {
        // A provider is named after the account and Region it deploys to (aws-<account>-<region>).
        const deployer =
          r.type === "pulumi:providers:aws" ? (/aws-(\d{12})-/.exec(r.name)?.[1] as string) : acct(r);
        for (const need of NEEDS[r.type] ?? []) {
          const targets = [need.on(r, plan)].flat();
          for (const action of need.actions) {
            for (const target of targets) {
              const key = `${action} ${target}`;
              if (checked.has(key)) continue;
              checked.add(key);
              const result = await simulate({
                principal: `arn:aws:iam::${deployer}:role/deployer`,
                identity: policyFor(deployer),
                action,
                resource: target,
                resourceAccount: target === "*" ? deployer : target.split(":")[4] || deployer,
                context: {
                  ...need.context,
                  ...(action === "sns:Subscribe"
                    ? { "sns:Protocol": s(r.inputs.protocol), "sns:Endpoint": s(r.inputs.endpoint) }
                    : {}),
                },
                resourcePolicy:
                  need.resourcePolicy && !target.includes(":alias/")
                    ? need.resourcePolicy(r, plan)
                    : undefined,
              }).catch((e: Error) => e.message);
              if (result !== "Allowed") denied.push(`${plan.stack} ${r.type} ${r.name}: ${key} (${result})`);
            }
          }
        }
      }
    }
    assert.ok(checked.size > 150, `checked only ${checked.size} calls`);
    assert.deepEqual(denied, []);
  });

  it("creates the ECS service-linked role only for ECS, and passes roles only to their own service", async () => {
    const account = "333333333333";
    const policy = policyFor(account);
    const slr = (service: string, role = "ecs.amazonaws.com/AWSServiceRoleForECS") =>
      simulate({
        principal: `arn:aws:iam::${account}:role/deployer`,
        identity: policy,
        action: "iam:CreateServiceLinkedRole",
        resource: `arn:aws:iam::${account}:role/aws-service-role/${role}`,
        resourceAccount: account,
        context: { "iam:AWSServiceName": service },
      });
    assert.equal(await slr("ecs.amazonaws.com"), "Allowed");
    assert.notEqual(await slr("elasticmapreduce.amazonaws.com"), "Allowed");
    assert.notEqual(
      await slr(
        "elasticmapreduce.amazonaws.com",
        "elasticmapreduce.amazonaws.com/AWSServiceRoleForEMRCleanup",
      ),
      "Allowed",
    );
    const pass = (role: string, service: string) =>
      simulate({
        principal: `arn:aws:iam::${account}:role/deployer`,
        identity: policy,
        action: "iam:PassRole",
        resource: `arn:aws:iam::${account}:role/${role}`,
        resourceAccount: account,
        context: { "iam:PassedToService": service },
      });
    assert.notEqual(await pass("fieldnotes-c-consumer", "ec2.amazonaws.com"), "Allowed");
    assert.notEqual(await pass("admin", "lambda.amazonaws.com"), "Allowed");
    // S3 gets the replication role and no other.
    assert.equal(await pass("fieldnotes-payload-replication", "s3.amazonaws.com"), "Allowed");
    assert.notEqual(await pass("fieldnotes-c-consumer", "s3.amazonaws.com"), "Allowed");
    assert.notEqual(await pass("admin", "s3.amazonaws.com"), "Allowed");
  });

  it("each document fits a customer managed policy (6,144 characters without white space)", () => {
    for (const file of POLICY_PATHS) {
      const chars = fs.readFileSync(file, "utf8").replace(/\s/g, "").length;
      assert.ok(chars <= MANAGED_POLICY_MAX_CHARS, `${path.basename(file)}: ${chars} characters`);
    }
  });
});
