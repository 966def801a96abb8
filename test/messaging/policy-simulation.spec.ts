import { strict as assert } from "assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { Plan } from "../../local/plan";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ACCOUNT_C,
  assertNoError,
  limited,
  planOf,
  policyInput,
  resource,
  topologyOverride,
  withKms,
} from "./plans";

// Least privilege, shown by simulating the policies the program registers under mocks (read from
// the plans of the three production stacks, never hand-copied): identity policy and resource policy
// together, across accounts, as AWS evaluates them.

type Policy = { Statement: Record<string, unknown>[] };
type Result = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

const OUTSIDER = "444444444444";
const ALL = (action: string): Policy => ({ Statement: [{ Effect: "Allow", Action: action, Resource: "*" }] });

async function simulate(req: {
  principal: string;
  action: string;
  resource: string;
  resourceAccount: string;
  identity: Policy[];
  resourcePolicy?: Policy;
  context?: Record<string, string | string[]>;
}): Promise<Result> {
  const account = req.principal.startsWith("arn:") ? req.principal.split(":")[4] : undefined;
  const context: Record<string, string | string[]> = { "aws:SecureTransport": "true", ...req.context };
  if (account)
    Object.assign(context, {
      "aws:PrincipalArn": req.principal,
      "aws:PrincipalAccount": account,
      ...req.context,
    });
  const result = await runSimulation(
    {
      request: {
        principal: req.principal,
        action: req.action,
        resource: { resource: req.resource, accountId: req.resourceAccount },
        contextVariables: context,
      },
      identityPolicies: req.identity.map((policy, i) => ({
        name: `identity-${i}`,
        policy: { Version: "2012-10-17", ...policy },
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: req.resourcePolicy ? { Version: "2012-10-17", ...req.resourcePolicy } : undefined,
    },
    {},
  );
  if (result.resultType === "error")
    throw new Error(`simulation refused the input: ${JSON.stringify(result.errors)}`);
  if (result.resultType !== "single") throw new Error(`unexpected simulation result ${result.resultType}`);
  return result.overallResult as Result;
}

describe("policy simulation of the policies the program emits", function () {
  this.timeout(120_000);
  let a: Plan, b: Plan, c: Plan, aKms: Plan, bKms: Plan;
  let bucketPolicy: Policy, topicPolicy: Policy, queuePolicy: Policy;
  let publisherRole: string, publisherPolicy: Policy;
  let bRole: string, bPolicy: Policy, cRole: string, cPolicy: Policy;
  let topicArn: string, bucketArn: string, queueArn: string, cFunctionArn: string;
  let payloadKey: string;

  before(async () => {
    const kms = await withKms();
    [a, b, c, aKms, bKms] = (
      await limited(2, [
        () => planOf("a-use1"),
        () => planOf("b-usw2"),
        () => planOf("c-use1"),
        () => planOf("a-use1", kms),
        () => planOf("b-usw2", kms),
      ])
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
