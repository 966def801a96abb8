import { strict as assert } from "assert";
import { Plan } from "../../local/plan";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ACCOUNT_C,
  assertNoError,
  limited,
  messagingPlans,
  ofType,
  planOf,
  policyInput,
  resource,
  SANDBOX,
  topologyOverride,
} from "./plans";
import { ADMIN, ALL, Policy, simulate } from "./simulation";

// Least privilege, shown by simulating the policies the program registers under mocks (read from
// the plans of the three production stacks, never hand-copied): identity policy and resource policy
// together, across accounts, as AWS evaluates them.

const OUTSIDER = "444444444444";
const REDRIVE_ROLE = `arn:aws:iam::${ACCOUNT_B}:role/ops/dlq-redrive`;

describe("policy simulation of the policies the program emits", function () {
  this.timeout(120_000);
  let a: Plan, b: Plan, c: Plan, aKms: Plan, bKms: Plan, dev: Plan, aSources: Plan, bRedrive: Plan;
  let bucketPolicy: Policy, topicPolicy: Policy, queuePolicy: Policy;
  let publisherRole: string, publisherPolicy: Policy;
  let bRole: string, bPolicy: Policy, cRole: string, cPolicy: Policy;
  let topicArn: string, bucketArn: string, queueArn: string, cFunctionArn: string;
  let payloadKey: string;

  before(async () => {
    const sources = await topologyOverride((t) => {
      t.publisher.extraSources = ["shared-exports/daily/"];
    });
    const redrive = await topologyOverride((t) => {
      t.subscribers[0].redriveRoles = [REDRIVE_ROLE];
    });
    ({ a, b, c, aKms, bKms, dev } = await messagingPlans());
    [aSources, bRedrive] = (
      await limited(2, [() => planOf("a-use1", sources), () => planOf("b-usw2", redrive)])
    ).map(assertNoError);
    bucketPolicy = policyInput(resource(a, "aws:s3/bucketPolicy:BucketPolicy", "publisher-payloads-policy"));
    topicPolicy = policyInput(resource(a, "aws:sns/topicPolicy:TopicPolicy", "publisher-topic-policy"));
    queuePolicy = policyInput(resource(b, "aws:sqs/queuePolicy:QueuePolicy", "subscriber-b-queue-policy"));
    publisherRole = resource(a, "aws:iam/role:Role", "publisher-function-role").outputs.arn as string;
    publisherPolicy = policyInput(resource(a, "aws:iam/rolePolicy:RolePolicy", "publisher-function-policy"));
    bRole = resource(b, "aws:iam/role:Role", "subscriber-b-consumer-role").outputs.arn as string;
    bPolicy = policyInput(resource(b, "aws:iam/rolePolicy:RolePolicy", "subscriber-b-consumer-policy"));
    cRole = resource(c, "aws:iam/role:Role", "subscriber-c-consumer-role").outputs.arn as string;
    cPolicy = policyInput(resource(c, "aws:iam/rolePolicy:RolePolicy", "subscriber-c-consumer-policy"));
    topicArn = resource(a, "aws:sns/topic:Topic", "publisher-topic").outputs.arn as string;
    bucketArn = resource(a, "aws:s3/bucket:Bucket", "publisher-payloads").outputs.arn as string;
    queueArn = resource(b, "aws:sqs/queue:Queue", "subscriber-b-queue").outputs.arn as string;
    cFunctionArn = resource(c, "aws:lambda/function:Function", "subscriber-c-consumer").outputs.arn as string;
    payloadKey = resource(aKms, "aws:kms/key:Key", "publisher-payload-key").outputs.arn as string;
  });

  describe("payload bucket", () => {
    const s3 = (
      principal: string,
      identity: Policy[],
      action: string,
      key: string,
      context?: Record<string, string>,
    ) =>
      simulate({
        principal,
        identity,
        action,
        resource: `${bucketArn}/${key}`,
        resourceAccount: ACCOUNT_A,
        resourcePolicy: bucketPolicy,
        context,
      });

    it("each subscriber role may GetObject (and read the checksum tag) under payloads/", async () => {
      for (const [role, policy] of [
        [bRole, bPolicy],
        [cRole, cPolicy],
      ] as const) {
        assert.equal(await s3(role, [policy], "s3:GetObject", "payloads/3f1c"), "Allowed", role);
        assert.equal(await s3(role, [policy], "s3:GetObjectTagging", "payloads/3f1c"), "Allowed", role);
      }
    });

    it("subscriber roles may not PutObject or DeleteObject, nor read outside payloads/", async () => {
      for (const [role, policy] of [
        [bRole, bPolicy],
        [cRole, cPolicy],
      ] as const) {
        assert.notEqual(
          await s3(role, [policy], "s3:PutObject", "payloads/3f1c"),
          "Allowed",
          `${role} PutObject`,
        );
        assert.notEqual(
          await s3(role, [policy], "s3:DeleteObject", "payloads/3f1c"),
          "Allowed",
          `${role} DeleteObject`,
        );
        assert.notEqual(
          await s3(role, [policy], "s3:GetObject", "incoming/upload-1"),
          "Allowed",
          `${role} incoming/`,
        );
      }
    });

    it("subscriber roles may list payloads/ only, so an expired payload is a 404 and not a 403", async () => {
      const list = (principal: string, identity: Policy[], prefix: string) =>
        simulate({
          principal,
          identity,
          action: "s3:ListBucket",
          resource: bucketArn,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: bucketPolicy,
          context: { "s3:prefix": prefix },
        });
      for (const [role, policy] of [
        [bRole, bPolicy],
        [cRole, cPolicy],
      ] as const) {
        assert.equal(await list(role, [policy], "payloads/3f1c"), "Allowed", role);
        assert.notEqual(await list(role, [policy], "incoming/"), "Allowed", `${role} incoming/`);
        assert.notEqual(await list(role, [policy], ""), "Allowed", `${role} whole bucket`);
      }
      assert.notEqual(
        await list(`arn:aws:iam::${ACCOUNT_B}:role/someone-else`, [ALL("s3:*")], "payloads/"),
        "Allowed",
      );
    });

    it("the publisher role copies only from incoming/ and the configured extraSources", async () => {
      const role = resource(aSources, "aws:iam/role:Role", "publisher-function-role").outputs.arn as string;
      const policy = policyInput(
        resource(aSources, "aws:iam/rolePolicy:RolePolicy", "publisher-function-policy"),
      );
      const bucketPolicyWithSources = policyInput(
        resource(aSources, "aws:s3/bucketPolicy:BucketPolicy", "publisher-payloads-policy"),
      );
      const own = bucketArn.replace("arn:aws:s3:::", "");
      const read = (object: string, action = "s3:GetObject") =>
        simulate({
          principal: role,
          identity: [policy],
          action,
          resource: `arn:aws:s3:::${object}`,
          resourceAccount: ACCOUNT_A,
          // An extra source in the same account has no policy of this program: the role's own decides.
          resourcePolicy: object.startsWith(own) ? bucketPolicyWithSources : undefined,
        });
      assert.equal(await read(`${own}/incoming/upload-1`), "Allowed");
      assert.equal(await read(`${own}/incoming/upload-1`, "s3:GetObjectTagging"), "Allowed");
      assert.notEqual(await read(`${own}/elsewhere/upload-1`), "Allowed");
      assert.equal(await read("shared-exports/daily/2026-11-27.csv"), "Allowed");
      assert.notEqual(await read("shared-exports/monthly/2026-11.csv"), "Allowed");
      assert.notEqual(await read("shared-exports-2/daily/x"), "Allowed");
      assert.notEqual(await read(`${own}/incoming/upload-1`, "s3:DeleteObject"), "Allowed");
    });

    it("in one account (dev stack), a subscriber role's identity policy alone scopes its reads to payloads/", async () => {
      const devBucket = resource(dev, "aws:s3/bucket:Bucket", "publisher-payloads").outputs.arn as string;
      const devBucketPolicy = policyInput(
        resource(dev, "aws:s3/bucketPolicy:BucketPolicy", "publisher-payloads-policy"),
      );
      for (const name of ["subscriber-b-consumer", "subscriber-c-consumer"]) {
        const role = resource(dev, "aws:iam/role:Role", `${name}-role`).outputs.arn as string;
        const policy = policyInput(resource(dev, "aws:iam/rolePolicy:RolePolicy", `${name}-policy`));
        const act = (action: string, object: string) =>
          simulate({
            principal: role,
            identity: [policy],
            action,
            resource: object,
            resourceAccount: SANDBOX,
            resourcePolicy: devBucketPolicy,
          });
        assert.equal(await act("s3:GetObject", `${devBucket}/payloads/3f1c`), "Allowed", name);
        assert.notEqual(await act("s3:GetObject", `${devBucket}/incoming/upload-1`), "Allowed", name);
        assert.notEqual(
          await act("s3:GetObject", `arn:aws:s3:::another-bucket-${SANDBOX}/payloads/3f1c`),
          "Allowed",
          name,
        );
        assert.equal(await act("s3:PutObject", `${devBucket}/payloads/3f1c`), "ExplicitlyDenied", name);
        assert.notEqual(await act("s3:DeleteObject", `${devBucket}/payloads/3f1c`), "Allowed", name);
      }
    });

    it("GetObject without TLS is explicitly denied, even to a subscriber role", async () => {
      assert.equal(
        await s3(bRole, [bPolicy], "s3:GetObject", "payloads/3f1c", { "aws:SecureTransport": "false" }),
        "ExplicitlyDenied",
      );
    });

    it("a role in an unlisted account is denied even with s3:* in its own policy", async () => {
      const intruder = `arn:aws:iam::${OUTSIDER}:role/intruder`;
      assert.notEqual(await s3(intruder, [ALL("s3:*")], "s3:GetObject", "payloads/3f1c"), "Allowed");
    });

    it("another role in a subscriber account is denied (aws:PrincipalArn narrows the account)", async () => {
      const other = `arn:aws:iam::${ACCOUNT_B}:role/someone-else`;
      assert.notEqual(await s3(other, [ALL("s3:*")], "s3:GetObject", "payloads/3f1c"), "Allowed");
    });

    it("only the publisher role may write payloads: another role of account A with s3:* is explicitly denied", async () => {
      assert.equal(await s3(publisherRole, [publisherPolicy], "s3:PutObject", "payloads/3f1c"), "Allowed");
      assert.equal(
        await s3(`arn:aws:iam::${ACCOUNT_A}:role/admin`, [ALL("s3:*")], "s3:PutObject", "payloads/3f1c"),
        "ExplicitlyDenied",
      );
    });
  });

  describe("topic", () => {
    const subscribe = (principal: string, protocol: string, endpoint: string) =>
      simulate({
        principal,
        identity: [ALL("sns:*")],
        action: "sns:Subscribe",
        resource: topicArn,
        resourceAccount: ACCOUNT_A,
        resourcePolicy: topicPolicy,
        context: { "sns:Protocol": protocol, "sns:Endpoint": endpoint },
      });
    const deployerB = `arn:aws:iam::${ACCOUNT_B}:role/deployer`;
    const deployerC = `arn:aws:iam::${ACCOUNT_C}:role/deployer`;

    it("B may subscribe its queue with sqs, and C its function with lambda", async () => {
      assert.equal(await subscribe(deployerB, "sqs", queueArn), "Allowed");
      assert.equal(await subscribe(deployerC, "lambda", cFunctionArn), "Allowed");
    });

    it("B and C may not subscribe with http", async () => {
      assert.notEqual(await subscribe(deployerB, "http", "http://example.com/hook"), "Allowed");
      assert.notEqual(await subscribe(deployerC, "http", "http://example.com/hook"), "Allowed");
      assert.notEqual(await subscribe(deployerB, "https", queueArn), "Allowed");
    });

    it("B may not subscribe an endpoint that is not its queue", async () => {
      assert.notEqual(
        await subscribe(deployerB, "sqs", `arn:aws:sqs:us-west-2:${ACCOUNT_B}:other-queue`),
        "Allowed",
      );
    });

    it("an unlisted account may not subscribe", async () => {
      const outsider = `arn:aws:iam::${OUTSIDER}:role/deployer`;
      assert.notEqual(await subscribe(outsider, "sqs", `arn:aws:sqs:us-east-1:${OUTSIDER}:q`), "Allowed");
    });

    it("an administrator of account A (Action *) may not subscribe another protocol, nor an endpoint outside the topology", async () => {
      const admin = `arn:aws:iam::${ACCOUNT_A}:role/admin`;
      const asAdmin = (protocol: string, endpoint: string) =>
        simulate({
          principal: admin,
          identity: [ADMIN],
          action: "sns:Subscribe",
          resource: topicArn,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: topicPolicy,
          context: { "sns:Protocol": protocol, "sns:Endpoint": endpoint },
        });
      for (const [protocol, endpoint] of [
        ["https", "https://attacker.example/hook"],
        ["http", "http://attacker.example/hook"],
        ["email", "attacker@example.com"],
        ["sms", "+15555550100"],
        ["firehose", `arn:aws:firehose:us-east-1:${ACCOUNT_A}:deliverystream/copy`],
        // The right protocol, but the admin's own queue or function: every message would reach it.
        ["sqs", `arn:aws:sqs:us-east-1:${ACCOUNT_A}:copy-of-everything`],
        ["lambda", `arn:aws:lambda:us-east-1:${ACCOUNT_A}:function:copy`],
        // A listed endpoint with another protocol.
        ["https", queueArn],
      ])
        assert.equal(await asAdmin(protocol, endpoint), "ExplicitlyDenied", `${protocol} ${endpoint}`);
      // The Deny statements leave the topology's own subscriptions alone, for any account.
      assert.equal(await asAdmin("sqs", queueArn), "Allowed");
      assert.equal(await asAdmin("lambda", cFunctionArn), "Allowed");
    });

    it("only the publisher role may publish", async () => {
      const publish = (principal: string, identity: Policy[]) =>
        simulate({
          principal,
          identity,
          action: "sns:Publish",
          resource: topicArn,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: topicPolicy,
        });
      assert.equal(await publish(publisherRole, [publisherPolicy]), "Allowed");
      assert.equal(await publish(`arn:aws:iam::${ACCOUNT_A}:role/admin`, [ALL("sns:*")]), "ExplicitlyDenied");
      assert.equal(await publish(`arn:aws:iam::${ACCOUNT_A}:user/root-like`, [ADMIN]), "ExplicitlyDenied");
      assert.notEqual(await publish(bRole, [bPolicy]), "Allowed");
    });
  });

  describe("queue", () => {
    const send = (sourceArn: string, tls = "true") =>
      simulate({
        principal: "sns.amazonaws.com",
        identity: [],
        action: "sqs:SendMessage",
        resource: queueArn,
        resourceAccount: ACCOUNT_B,
        resourcePolicy: queuePolicy,
        context: { "aws:SourceArn": sourceArn, "aws:SecureTransport": tls },
      });

    it("accepts SendMessage from sns.amazonaws.com with the topic's ARN", async () => {
      assert.equal(await send(topicArn), "Allowed");
    });

    it("refuses SendMessage from sns.amazonaws.com on behalf of another topic", async () => {
      assert.notEqual(await send(`arn:aws:sns:us-east-1:${OUTSIDER}:fieldnotes-messages`), "Allowed");
      assert.notEqual(await send(`arn:aws:sns:us-east-1:${ACCOUNT_A}:another-topic`), "Allowed");
    });

    it("refuses SendMessage without TLS", async () => {
      assert.equal(await send(topicArn, "false"), "ExplicitlyDenied");
    });

    const asPrincipal = (principal: string, policy: Policy, identity: Policy[] = [ADMIN]) =>
      simulate({
        principal,
        identity,
        action: "sqs:SendMessage",
        resource: queueArn,
        resourceAccount: ACCOUNT_B,
        resourcePolicy: policy,
      });

    it("an administrator of account B (Action *) may not send to the SNS-fed queue (no forged pointers)", async () => {
      assert.equal(
        await asPrincipal(`arn:aws:iam::${ACCOUNT_B}:role/admin`, queuePolicy),
        "ExplicitlyDenied",
      );
      // Nor the consumer itself, nor the redrive role while it is not listed.
      assert.equal(await asPrincipal(bRole, queuePolicy, [bPolicy, ADMIN]), "ExplicitlyDenied");
      assert.equal(await asPrincipal(REDRIVE_ROLE, queuePolicy), "ExplicitlyDenied");
    });

    it("a listed redrive role may send (StartMessageMoveTask moves as its caller); other roles still may not", async () => {
      const policy = policyInput(
        resource(bRedrive, "aws:sqs/queuePolicy:QueuePolicy", "subscriber-b-queue-policy"),
      );
      assert.equal(await asPrincipal(REDRIVE_ROLE, policy), "Allowed");
      assert.equal(await asPrincipal(`arn:aws:iam::${ACCOUNT_B}:role/admin`, policy), "ExplicitlyDenied");
      assert.equal(
        await asPrincipal(REDRIVE_ROLE, policy, []),
        "ImplicitlyDenied",
        "the role still needs its own grant",
      );
      const sns = await simulate({
        principal: "sns.amazonaws.com",
        identity: [],
        action: "sqs:SendMessage",
        resource: queueArn,
        resourceAccount: ACCOUNT_B,
        resourcePolicy: policy,
        context: { "aws:SourceArn": topicArn },
      });
      assert.equal(sns, "Allowed");
    });

    it("each subscription DLQ (in the topic's Region) takes only SNS for the topic, even from its own account's administrators", async () => {
      for (const [plan, name, account] of [
        [b, "subscriber-b", ACCOUNT_B],
        [c, "subscriber-c", ACCOUNT_C],
      ] as const) {
        const dlq = resource(plan, "aws:sqs/queue:Queue", `${name}-delivery-dlq`).outputs.arn as string;
        const policy = policyInput(
          resource(plan, "aws:sqs/queuePolicy:QueuePolicy", `${name}-delivery-dlq-policy`),
        );
        const send = (principal: string, identity: Policy[], context: Record<string, string> = {}) =>
          simulate({
            principal,
            identity,
            action: "sqs:SendMessage",
            resource: dlq,
            resourceAccount: account,
            resourcePolicy: policy,
            context,
          });
        assert.equal(await send("sns.amazonaws.com", [], { "aws:SourceArn": topicArn }), "Allowed", name);
        assert.notEqual(
          await send("sns.amazonaws.com", [], { "aws:SourceArn": `arn:aws:sns:us-east-1:${OUTSIDER}:t` }),
          "Allowed",
          name,
        );
        assert.equal(await send(`arn:aws:iam::${account}:role/admin`, [ADMIN]), "ExplicitlyDenied", name);
      }
    });
  });

  describe("the publisher's failure queue (the EventBridge rule's DLQ)", () => {
    it("takes failed events from EventBridge for the publisher's rule only (aws:SourceArn)", async () => {
      const policy = policyInput(resource(a, "aws:sqs/queuePolicy:QueuePolicy", "publisher-failures-policy"));
      const failures = resource(a, "aws:sqs/queue:Queue", "publisher-failures").outputs.arn as string;
      const ruleArn = resource(a, "aws:cloudwatch/eventRule:EventRule", "publisher-rule").outputs
        .arn as string;
      const send = (sourceArn: string, tls = "true") =>
        simulate({
          principal: "events.amazonaws.com",
          identity: [],
          action: "sqs:SendMessage",
          resource: failures,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: policy,
          context: { "aws:SourceArn": sourceArn, "aws:SecureTransport": tls },
        });
      assert.equal(await send(ruleArn), "Allowed");
      assert.notEqual(
        await send(`arn:aws:events:us-east-1:${ACCOUNT_A}:rule/fieldnotes-events/other`),
        "Allowed",
      );
      assert.notEqual(
        await send(`arn:aws:events:us-east-1:${OUTSIDER}:rule/fieldnotes-events/fieldnotes-publish`),
        "Allowed",
      );
      assert.equal(await send(ruleArn, "false"), "ExplicitlyDenied");
      // The publisher function's on-failure destination sends as the function's role.
      assert.equal(
        await simulate({
          principal: publisherRole,
          identity: [publisherPolicy],
          action: "sqs:SendMessage",
          resource: failures,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: policy,
        }),
        "Allowed",
      );
    });
  });

  describe("event bus", () => {
    it("the producers (by default account A) may put events; other accounts may not", async () => {
      const busPolicy = policyInput(
        resource(a, "aws:cloudwatch/eventBusPolicy:EventBusPolicy", "publisher-bus-policy"),
      );
      const busArn = resource(a, "aws:cloudwatch/eventBus:EventBus", "publisher-bus").outputs.arn as string;
      const put = (principal: string) =>
        simulate({
          principal,
          identity: [ALL("events:*")],
          action: "events:PutEvents",
          resource: busArn,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: busPolicy,
        });
      assert.equal(await put(`arn:aws:iam::${ACCOUNT_A}:role/producer`), "Allowed");
      assert.notEqual(await put(`arn:aws:iam::${OUTSIDER}:role/producer`), "Allowed");
      assert.notEqual(await put(`arn:aws:iam::${ACCOUNT_B}:role/producer`), "Allowed");
    });
  });

  describe("downstream permissions", () => {
    it("B may start its own state machine and no other", async () => {
      const start = (arn: string) =>
        simulate({
          principal: bRole,
          identity: [bPolicy],
          action: "states:StartExecution",
          resource: arn,
          resourceAccount: ACCOUNT_B,
        });
      const own = resource(b, "aws:sfn/stateMachine:StateMachine", "subscriber-b-app").outputs.arn as string;
      assert.equal(await start(own), "Allowed");
      assert.notEqual(await start(`arn:aws:states:us-west-2:${ACCOUNT_B}:stateMachine:other`), "Allowed");
    });

    it("C may run its task definition in its cluster, and pass only the task's two roles to ECS", async () => {
      const taskDef = resource(c, "aws:ecs/taskDefinition:TaskDefinition", "subscriber-c-app-task").outputs
        .arn as string;
      const cluster = resource(c, "aws:ecs/cluster:Cluster", "subscriber-c-app-cluster").outputs
        .arn as string;
      const run = (arn: string, clusterArn: string) =>
        simulate({
          principal: cRole,
          identity: [cPolicy],
          action: "ecs:RunTask",
          resource: arn,
          resourceAccount: ACCOUNT_C,
          context: { "ecs:cluster": clusterArn },
        });
      assert.equal(await run(taskDef, cluster), "Allowed");
      assert.notEqual(
        await run(`arn:aws:ecs:us-east-1:${ACCOUNT_C}:task-definition/other:1`, cluster),
        "Allowed",
      );
      assert.notEqual(await run(taskDef, `arn:aws:ecs:us-east-1:${ACCOUNT_C}:cluster/other`), "Allowed");
      const pass = (role: string, service: string) =>
        simulate({
          principal: cRole,
          identity: [cPolicy],
          action: "iam:PassRole",
          resource: role,
          resourceAccount: ACCOUNT_C,
          context: { "iam:PassedToService": service },
        });
      for (const name of ["subscriber-c-app-task-role", "subscriber-c-app-execution-role"]) {
        const role = resource(c, "aws:iam/role:Role", name).outputs.arn as string;
        assert.equal(await pass(role, "ecs-tasks.amazonaws.com"), "Allowed", name);
        assert.notEqual(await pass(role, "lambda.amazonaws.com"), "Allowed", name);
      }
      assert.notEqual(await pass(cRole, "ecs-tasks.amazonaws.com"), "Allowed");
    });
  });

  describe("service roles", () => {
    const assume = (trust: Policy, roleArn: string, service: string, context: Record<string, string>) =>
      simulate({
        principal: service,
        identity: [],
        action: "sts:AssumeRole",
        resource: roleArn,
        resourceAccount: roleArn.split(":")[4],
        resourcePolicy: trust,
        context,
      });

    it("Step Functions and ECS assume their roles only for resources of the role's own account (aws:SourceAccount)", async () => {
      for (const [plan, name, service, account] of [
        [b, "subscriber-b-app-role", "states.amazonaws.com", ACCOUNT_B],
        [c, "subscriber-c-app-task-role", "ecs-tasks.amazonaws.com", ACCOUNT_C],
        [c, "subscriber-c-app-execution-role", "ecs-tasks.amazonaws.com", ACCOUNT_C],
      ] as const) {
        const role = resource(plan, "aws:iam/role:Role", name);
        const trust = policyInput(role, "assumeRolePolicy");
        const arn = role.outputs.arn as string;
        assert.equal(await assume(trust, arn, service, { "aws:SourceAccount": account }), "Allowed", name);
        assert.notEqual(
          await assume(trust, arn, service, { "aws:SourceAccount": OUTSIDER }),
          "Allowed",
          name,
        );
        assert.notEqual(
          await assume(trust, arn, "lambda.amazonaws.com", { "aws:SourceAccount": account }),
          "Allowed",
          name,
        );
      }
    });

    it("each function role is assumable by Lambda only", async () => {
      for (const [plan, name] of [
        [a, "publisher-function-role"],
        [b, "subscriber-b-consumer-role"],
        [c, "subscriber-c-consumer-role"],
      ] as const) {
        const role = resource(plan, "aws:iam/role:Role", name);
        const trust = policyInput(role, "assumeRolePolicy");
        const arn = role.outputs.arn as string;
        assert.equal(await assume(trust, arn, "lambda.amazonaws.com", {}), "Allowed", name);
        assert.notEqual(await assume(trust, arn, "ecs-tasks.amazonaws.com", {}), "Allowed", name);
        assert.notEqual(
          await simulate({
            principal: `arn:aws:iam::${arn.split(":")[4]}:role/admin`,
            identity: [ADMIN],
            action: "sts:AssumeRole",
            resource: arn,
            resourceAccount: arn.split(":")[4],
            resourcePolicy: trust,
          }),
          "Allowed",
          `${name}: an administrator may not assume it without the trust policy naming them`,
        );
      }
    });

    it("the task execution role writes the task's log group only (the default image is public: no ECR grant)", async () => {
      const role = resource(c, "aws:iam/role:Role", "subscriber-c-app-execution-role").outputs.arn as string;
      const policy = policyInput(
        resource(c, "aws:iam/rolePolicy:RolePolicy", "subscriber-c-app-execution-policy"),
      );
      const put = (group: string) =>
        simulate({
          principal: role,
          identity: [policy],
          action: "logs:PutLogEvents",
          resource: `arn:aws:logs:us-east-1:${ACCOUNT_C}:log-group:${group}:log-stream:app/1`,
          resourceAccount: ACCOUNT_C,
        });
      assert.equal(await put("/ecs/fieldnotes-c-app"), "Allowed");
      assert.notEqual(await put("/aws/lambda/fieldnotes-c-consumer"), "Allowed");
      assert.notEqual(
        await simulate({
          principal: role,
          identity: [policy],
          action: "ecr:GetAuthorizationToken",
          resource: "*",
          resourceAccount: ACCOUNT_C,
        }),
        "Allowed",
      );
    });

    it("the state machine's role may send traces to X-Ray, and nothing else", async () => {
      const role = resource(b, "aws:iam/role:Role", "subscriber-b-app-role").outputs.arn as string;
      const policy = policyInput(resource(b, "aws:iam/rolePolicy:RolePolicy", "subscriber-b-app-policy"));
      const act = (action: string, target = "*") =>
        simulate({
          principal: role,
          identity: [policy],
          action,
          resource: target,
          resourceAccount: ACCOUNT_B,
        });
      for (const action of ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingTargets"])
        assert.equal(await act(action), "Allowed", action);
      assert.notEqual(await act("xray:BatchGetTraces"), "Allowed");
      assert.notEqual(
        await act("states:StartExecution", `arn:aws:states:us-west-2:${ACCOUNT_B}:stateMachine:x`),
        "Allowed",
      );
    });

    it("each alarm topic's key lets CloudWatch encrypt for this stack's alarms only", async () => {
      for (const plan of [a, b, c]) {
        const keys = ofType(plan, "aws:kms/key:Key").filter((k) => k.name.startsWith("alarms-"));
        assert.ok(keys.length > 0, plan.stack);
        const alarm = ofType(plan, "aws:cloudwatch/metricAlarm:MetricAlarm")[0];
        for (const key of keys) {
          const [account, region] = [key.provider?.account as string, key.provider?.region as string];
          const use = (sourceAccount: string, alarmName: string) =>
            simulate({
              principal: "cloudwatch.amazonaws.com",
              identity: [],
              action: "kms:GenerateDataKey",
              resource: key.outputs.arn as string,
              resourceAccount: account,
              resourcePolicy: policyInput(key),
              context: {
                "aws:SourceAccount": sourceAccount,
                "aws:SourceArn": `arn:aws:cloudwatch:${region}:${sourceAccount}:alarm:${alarmName}`,
              },
            });
          assert.equal(await use(account, alarm.inputs.name as string), "Allowed", key.name);
          assert.notEqual(await use(account, "someone-elses-alarm"), "Allowed", key.name);
          assert.notEqual(await use(OUTSIDER, alarm.inputs.name as string), "Allowed", key.name);
        }
      }
    });

    it("the topic key lets the publisher role encrypt through SNS only", async () => {
      const key = resource(a, "aws:kms/key:Key", "publisher-topic-key");
      const use = (principal: string, identity: Policy[], context: Record<string, string>) =>
        simulate({
          principal,
          identity,
          action: "kms:GenerateDataKey",
          resource: key.outputs.arn as string,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: policyInput(key),
          context,
        });
      const viaSns = { "kms:ViaService": "sns.us-east-1.amazonaws.com" };
      assert.equal(await use(publisherRole, [publisherPolicy], viaSns), "Allowed");
      assert.notEqual(await use(publisherRole, [publisherPolicy], {}), "Allowed");
      assert.notEqual(await use(`arn:aws:iam::${OUTSIDER}:role/intruder`, [ALL("kms:*")], viaSns), "Allowed");
    });
  });

  describe("SSE-KMS payloads", () => {
    it("producers in other accounts may encrypt the sources they stage, through S3 only", async () => {
      const PRODUCER_ACCOUNT = "555555555555";
      const uploader = `arn:aws:iam::${ACCOUNT_B}:role/uploader`;
      const plan = assertNoError(
        await planOf(
          "a-use1",
          await topologyOverride((t) => {
            t.offload.kms = true;
            t.publisher.producers = [ACCOUNT_A, PRODUCER_ACCOUNT, uploader];
          }),
        ),
      );
      const key = resource(plan, "aws:kms/key:Key", "publisher-payload-key");
      const encrypt = (principal: string, action: string, context: Record<string, string>) =>
        simulate({
          principal,
          identity: [ALL("kms:*")],
          action,
          resource: key.outputs.arn as string,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: policyInput(key),
          context,
        });
      const viaS3 = { "kms:ViaService": "s3.us-east-1.amazonaws.com" };
      // A cross-account PutObject to an SSE-KMS bucket needs the key policy's grant: S3 asks KMS as the producer.
      for (const principal of [`arn:aws:iam::${PRODUCER_ACCOUNT}:role/any`, uploader]) {
        for (const action of ["kms:GenerateDataKey", "kms:Decrypt"]) {
          assert.equal(await encrypt(principal, action, viaS3), "Allowed", `${principal} ${action}`);
          assert.notEqual(
            await encrypt(principal, action, {}),
            "Allowed",
            `${principal} ${action} not via S3`,
          );
        }
      }
      assert.notEqual(
        await encrypt(`arn:aws:iam::${ACCOUNT_B}:role/someone-else`, "kms:GenerateDataKey", viaS3),
        "Allowed",
      );
      assert.notEqual(
        await encrypt(`arn:aws:iam::${OUTSIDER}:role/intruder`, "kms:GenerateDataKey", viaS3),
        "Allowed",
      );
    });

    it("the publisher role writes payloads under the payload key, through S3 only", async () => {
      const key = resource(aKms, "aws:kms/key:Key", "publisher-payload-key");
      const role = resource(aKms, "aws:iam/role:Role", "publisher-function-role").outputs.arn as string;
      const policy = policyInput(
        resource(aKms, "aws:iam/rolePolicy:RolePolicy", "publisher-function-policy"),
      );
      const use = (action: string, context: Record<string, string>) =>
        simulate({
          principal: role,
          identity: [policy],
          action,
          resource: key.outputs.arn as string,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: policyInput(key),
          context,
        });
      const viaS3 = { "kms:ViaService": "s3.us-east-1.amazonaws.com" };
      assert.equal(await use("kms:GenerateDataKey", viaS3), "Allowed");
      assert.equal(await use("kms:Decrypt", viaS3), "Allowed");
      assert.notEqual(await use("kms:GenerateDataKey", {}), "Allowed");
      assert.notEqual(await use("kms:ScheduleKeyDeletion", viaS3), "Allowed");
    });

    it("the payload key lets the subscriber roles decrypt, through S3 in A's Region only", async () => {
      const keyPolicy = policyInput(resource(aKms, "aws:kms/key:Key", "publisher-payload-key"));
      const bKmsPolicy = policyInput(
        resource(bKms, "aws:iam/rolePolicy:RolePolicy", "subscriber-b-consumer-policy"),
      );
      const decrypt = (principal: string, identity: Policy[], context: Record<string, string>) =>
        simulate({
          principal,
          identity,
          action: "kms:Decrypt",
          resource: payloadKey,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: keyPolicy,
          context,
        });
      const viaS3 = { "kms:ViaService": "s3.us-east-1.amazonaws.com" };
      assert.equal(await decrypt(bRole, [bKmsPolicy], viaS3), "Allowed");
      assert.notEqual(
        await decrypt(bRole, [bKmsPolicy], {}),
        "Allowed",
        "direct kms:Decrypt, not through S3",
      );
      assert.notEqual(
        await decrypt(bRole, [bKmsPolicy], { "kms:ViaService": "s3.us-west-2.amazonaws.com" }),
        "Allowed",
        "S3 in another Region",
      );
      assert.notEqual(
        await decrypt(`arn:aws:iam::${ACCOUNT_B}:role/someone-else`, [ALL("kms:*")], viaS3),
        "Allowed",
      );
      assert.notEqual(
        await decrypt(`arn:aws:iam::${OUTSIDER}:role/intruder`, [ALL("kms:*")], viaS3),
        "Allowed",
      );
    });
  });
});
