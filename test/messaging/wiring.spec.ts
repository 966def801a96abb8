import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Plan, PlannedResource } from "../../local/plan";
import {
  OperationsMetrics,
  PayloadLayout,
  PublisherEnv,
  SubscriberEnv,
  type Downstream,
  type HandlerName,
} from "../../messaging/contract";
import { RESERVED_ENV } from "../../messaging/handler-function";
import { handlerBundle } from "../../messaging/handlers/build";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ACCOUNT_C,
  assertNoError,
  limited,
  ofType,
  planOf,
  policyInput,
  resource,
  topologyOverride,
  withKms,
} from "./plans";

// The wiring a reviewer checks in a plan, asserted on what the program registered. The three
// production stacks are planned separately, so these tests also show that each stack computes the
// names and ARNs the others own without reading their state.

const QUEUE = "aws:sqs/queue:Queue";
const SUBSCRIPTION = "aws:sns/topicSubscription:TopicSubscription";
const FUNCTION = "aws:lambda/function:Function";

const arnRegion = (arn: string) => arn.split(":")[3];
const json = (r: PlannedResource, field: string) => JSON.parse(r.inputs[field] as string);
const fn = (plan: Plan, name: string) =>
  ofType(plan, FUNCTION).find((r) => r.name === name) as PlannedResource;
const env = (r: PlannedResource) => (r.inputs.environment as { variables: Record<string, string> }).variables;

describe("wiring: what the program registers", function () {
  this.timeout(120_000);
  let a: Plan, b: Plan, c: Plan, dev: Plan, kms: Plan;
  let topicArn: string;
  let bucket: string;

  before(async () => {
    [a, b, c, dev] = (
      await limited(
        2,
        ["a-use1", "b-usw2", "c-use1", "dev"].map((s) => () => planOf(s)),
      )
    ).map(assertNoError);
    kms = assertNoError(await planOf("a-use1", await withKms()));
    topicArn = resource(a, "aws:sns/topic:Topic", "publisher-topic").outputs.arn as string;
    bucket = resource(a, "aws:s3/bucket:Bucket", "publisher-payloads").outputs.bucket as string;
  });

  describe("subscriptions", () => {
    it("B subscribes its queue with raw delivery, to the topic A's stack creates, in the topic's Region", () => {
      const sub = resource(b, SUBSCRIPTION, "subscriber-b-subscription");
      assert.equal(sub.inputs.protocol, "sqs");
      assert.equal(sub.inputs.rawMessageDelivery, true);
      assert.equal(sub.inputs.topic, topicArn);
      assert.equal(sub.provider?.region, arnRegion(topicArn));
      assert.equal(sub.provider?.account, ACCOUNT_B);
      assert.equal(sub.inputs.endpoint, resource(b, QUEUE, "subscriber-b-queue").outputs.arn);
    });

    it("B's consumer is told how its subscription delivers (raw: never unwrap) and where payloads may be", () => {
      const vars = env(fn(b, "subscriber-b-consumer"));
      const sub = resource(b, SUBSCRIPTION, "subscriber-b-subscription");
      assert.equal(vars[SubscriberEnv.sqsRawDelivery], String(sub.inputs.rawMessageDelivery));
      assert.equal(vars[SubscriberEnv.keyPrefixAllowList], "payloads/");
      assert.equal(env(fn(c, "subscriber-c-consumer"))[SubscriberEnv.sqsRawDelivery], undefined);
    });

    it("C subscribes its function, in the topic's Region, from account C", () => {
      const sub = resource(c, SUBSCRIPTION, "subscriber-c-subscription");
      assert.equal(sub.inputs.protocol, "lambda");
      assert.equal(sub.inputs.topic, topicArn);
      assert.equal(sub.provider?.region, arnRegion(topicArn));
      assert.equal(sub.provider?.account, ACCOUNT_C);
      assert.equal(sub.inputs.endpoint, fn(c, "subscriber-c-consumer").outputs.arn);
    });

    it("each subscription has a redrive policy to a DLQ in its own account and Region (as SNS requires)", () => {
      for (const [plan, name] of [
        [b, "subscriber-b"],
        [c, "subscriber-c"],
      ] as const) {
        const sub = resource(plan, SUBSCRIPTION, `${name}-subscription`);
        const dlq = resource(plan, QUEUE, `${name}-delivery-dlq`);
        assert.equal(json(sub, "redrivePolicy").deadLetterTargetArn, dlq.outputs.arn);
        assert.deepEqual(dlq.provider, sub.provider);
        const policy = policyInput(
          resource(plan, "aws:sqs/queuePolicy:QueuePolicy", `${name}-delivery-dlq-policy`),
        );
        const allow = policy.Statement.find((s) => s.Effect === "Allow") as Record<string, unknown>;
        assert.deepEqual(allow.Condition, { ArnEquals: { "aws:SourceArn": topicArn } });
      }
    });

    it("C's lambda permission lets only the topic invoke it (sourceArn)", () => {
      const permission = resource(c, "aws:lambda/permission:Permission", "subscriber-c-topic-invokes");
      assert.equal(permission.inputs.principal, "sns.amazonaws.com");
      assert.equal(permission.inputs.sourceArn, topicArn);
      assert.equal(permission.inputs.function, "fieldnotes-c-consumer");
      assert.equal(permission.provider?.region, "us-east-1");
    });
  });

  describe("queues", () => {
    it("B's queue policy admits only sns.amazonaws.com sending from the topic, over TLS", () => {
      const policy = policyInput(resource(b, "aws:sqs/queuePolicy:QueuePolicy", "subscriber-b-queue-policy"));
      const queueArn = resource(b, QUEUE, "subscriber-b-queue").outputs.arn;
      const allows = policy.Statement.filter((s) => s.Effect === "Allow");
      assert.deepEqual(allows, [
        {
          Sid: "TopicMaySend",
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: queueArn,
          Condition: { ArnEquals: { "aws:SourceArn": topicArn } },
        },
      ]);
      const deny = policy.Statement.find((s) => s.Sid === "DenyInsecureTransport") as Record<string, unknown>;
      assert.deepEqual(deny.Condition, { Bool: { "aws:SecureTransport": "false" } });
    });

    it("B's queue redrives to its DLQ after maxReceiveCount, and its visibility timeout is ≥ 6 × the consumer's timeout", () => {
      const queue = resource(b, QUEUE, "subscriber-b-queue");
      const redrive = json(queue, "redrivePolicy");
      assert.equal(redrive.deadLetterTargetArn, resource(b, QUEUE, "subscriber-b-dlq").outputs.arn);
      assert.equal(redrive.maxReceiveCount, 5);
      const timeout = fn(b, "subscriber-b-consumer").inputs.timeout as number;
      assert.ok((queue.inputs.visibilityTimeoutSeconds as number) >= 6 * timeout);
    });

    it("B's event source mapping reports batch item failures, with the configured batch size and window", async () => {
      const mapping = resource(b, "aws:lambda/eventSourceMapping:EventSourceMapping", "subscriber-b-mapping");
      assert.deepEqual(mapping.inputs.functionResponseTypes, ["ReportBatchItemFailures"]);
      assert.equal(mapping.inputs.eventSourceArn, resource(b, QUEUE, "subscriber-b-queue").outputs.arn);
      assert.equal(mapping.inputs.batchSize, 10);
      assert.equal(mapping.inputs.maximumBatchingWindowInSeconds, 0);
      const topology = JSON.parse(b.config["fieldnotes:topology"]);
      Object.assign(topology.subscribers[0], { batchSize: 100, batchWindowSeconds: 5, timeoutSeconds: 60 });
      const tuned = assertNoError(
        await planOf("b-usw2", { "fieldnotes:topology": JSON.stringify(topology) }),
      );
      const tunedMapping = resource(
        tuned,
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        "subscriber-b-mapping",
      );
      assert.equal(tunedMapping.inputs.batchSize, 100);
      assert.equal(tunedMapping.inputs.maximumBatchingWindowInSeconds, 5);
      assert.equal(resource(tuned, QUEUE, "subscriber-b-queue").inputs.visibilityTimeoutSeconds, 360);
    });

    it("every queue is encrypted with SSE-SQS, never the AWS managed key SNS cannot use", () => {
      for (const plan of [a, b, c, dev]) {
        for (const queue of ofType(plan, QUEUE)) {
          assert.equal(queue.inputs.sqsManagedSseEnabled, true, `${plan.stack} ${queue.name}`);
          assert.equal(queue.inputs.kmsMasterKeyId, undefined, `${plan.stack} ${queue.name}`);
        }
      }
    });
  });

  describe("retention: no queue keeps a pointer longer than its payload lives", () => {
    it("every queue of every stack keeps messages retentionDays (7) less one Lambda timeout, as long as payloads/ and incoming/ live", () => {
      const rules = resource(
        a,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "publisher-payloads-lifecycle",
      ).inputs.rules as { id: string; expiration: { days?: number } }[];
      // The expiry rules; with a replica (versioning on) the others remove versions and delete markers.
      assert.deepEqual(
        rules.filter((r) => r.id.startsWith("expire-")).map((r) => r.expiration.days),
        [7, 7],
      );
      const queues = [a, b, c].flatMap((plan) => ofType(plan, QUEUE));
      assert.deepEqual(queues.map((q) => q.name).sort(), [
        "publisher-failures",
        "subscriber-b-delivery-dlq",
        "subscriber-b-dlq",
        "subscriber-b-queue",
        "subscriber-c-delivery-dlq",
        "subscriber-c-dlq",
      ]);
      for (const q of queues) assert.equal(q.inputs.messageRetentionSeconds, 7 * 86_400 - 900, q.name);
    });
  });

  describe("opt-in Regions", () => {
    it("a topic in an opt-in Region is named by its own SNS principal in B's queue policy and C's Lambda permission", async () => {
      const optIn = await topologyOverride((t) => {
        t.publisher.region = "ap-east-1";
      });
      const [ob, oc] = (await limited(2, [() => planOf("b-usw2", optIn), () => planOf("c-use1", optIn)])).map(
        assertNoError,
      );
      const policy = policyInput(
        resource(ob, "aws:sqs/queuePolicy:QueuePolicy", "subscriber-b-queue-policy"),
      );
      const allow = policy.Statement.find((st) => st.Sid === "TopicMaySend") as Record<string, unknown>;
      assert.deepEqual(allow.Principal, { Service: "sns.ap-east-1.amazonaws.com" });
      const permission = resource(oc, "aws:lambda/permission:Permission", "subscriber-c-topic-invokes");
      assert.equal(permission.inputs.principal, "sns.ap-east-1.amazonaws.com");
      // The subscription DLQs sit in the topic's own Region: SNS sends there as sns.amazonaws.com.
      for (const [plan, name] of [
        [ob, "subscriber-b"],
        [oc, "subscriber-c"],
      ] as const) {
        const dlqPolicy = policyInput(
          resource(plan, "aws:sqs/queuePolicy:QueuePolicy", `${name}-delivery-dlq-policy`),
        );
        const dlqAllow = dlqPolicy.Statement.find((st) => st.Sid === "TopicMaySend") as Record<
          string,
          unknown
        >;
        assert.deepEqual(dlqAllow.Principal, { Service: "sns.amazonaws.com" }, name);
      }
    });
  });

  describe("failures are kept, never dropped", () => {
    it("C's asynchronous invocations retry, then go to its DLQ", () => {
      const config = resource(
        c,
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "subscriber-c-invoke-config",
      );
      assert.equal(config.inputs.maximumRetryAttempts, 2);
      assert.deepEqual(config.inputs.destinationConfig, {
        onFailure: { destination: resource(c, QUEUE, "subscriber-c-dlq").outputs.arn },
      });
    });

    it("the EventBridge rule targets the publisher with a retry policy and a DLQ, and the function reports failed invocations", () => {
      const target = resource(a, "aws:cloudwatch/eventTarget:EventTarget", "publisher-rule-target");
      const failures = resource(a, QUEUE, "publisher-failures").outputs.arn;
      assert.equal(target.inputs.arn, fn(a, "publisher-function").outputs.arn);
      assert.deepEqual(target.inputs.deadLetterConfig, { arn: failures });
      assert.ok((target.inputs.retryPolicy as { maximumRetryAttempts: number }).maximumRetryAttempts > 0);
      const invoke = resource(
        a,
        "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig",
        "publisher-invoke-config",
      );
      assert.deepEqual(invoke.inputs.destinationConfig, { onFailure: { destination: failures } });
      const permission = resource(a, "aws:lambda/permission:Permission", "publisher-rule-invokes");
      assert.equal(permission.inputs.principal, "events.amazonaws.com");
      assert.equal(
        permission.inputs.sourceArn,
        resource(a, "aws:cloudwatch/eventRule:EventRule", "publisher-rule").outputs.arn,
      );
    });
  });

  describe("encryption and the payload bucket", () => {
    it("the topic uses a customer managed key, not alias/aws/sns", () => {
      const topic = resource(a, "aws:sns/topic:Topic", "publisher-topic");
      assert.equal(
        topic.inputs.kmsMasterKeyId,
        resource(a, "aws:kms/key:Key", "publisher-topic-key").outputs.arn,
      );
      assert.equal(resource(a, "aws:kms/key:Key", "publisher-topic-key").inputs.enableKeyRotation, true);
    });

    it("the bucket blocks public access, enforces bucket-owner ownership, encrypts (SSE-S3) and expires payloads/ and incoming/", () => {
      const pab = resource(
        a,
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "publisher-payloads-public-access",
      );
      for (const flag of [
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
      ]) {
        assert.equal(pab.inputs[flag], true, flag);
      }
      const ownership = resource(
        a,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "publisher-payloads-ownership",
      );
      assert.deepEqual(ownership.inputs.rule, { objectOwnership: "BucketOwnerEnforced" });
      const sse = resource(
        a,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "publisher-payloads-encryption",
      );
      assert.deepEqual(sse.inputs.rules, [
        { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ]);
      const lifecycle = resource(
        a,
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
        "publisher-payloads-lifecycle",
      );
      const rules = lifecycle.inputs.rules as {
        id: string;
        filter: { prefix: string };
        expiration: { days: number };
        status: string;
      }[];
      // Versions and delete markers (versioning is on for b's replica): test/messaging/replicas.spec.ts.
      assert.deepEqual(
        rules
          .filter((r) => r.id.startsWith("expire-"))
          .map((r) => [r.filter.prefix, r.expiration.days, r.status]),
        [
          [PayloadLayout.payloadPrefix, 7, "Enabled"],
          [PayloadLayout.incomingPrefix, 7, "Enabled"],
        ],
      );
    });

    it("writes the bucket's public access block, ownership controls and policy one after the other", () => {
      // S3 answers concurrent access-setting changes on one bucket with OperationAborted (409).
      const urn = (type: string, name: string) => resource(a, type, name).urn;
      const pab = urn(
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "publisher-payloads-public-access",
      );
      const ownership = resource(
        a,
        "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
        "publisher-payloads-ownership",
      );
      const policy = resource(a, "aws:s3/bucketPolicy:BucketPolicy", "publisher-payloads-policy");
      assert.ok(ownership.dependencies?.includes(pab), "ownership controls wait for the public access block");
      assert.ok(policy.dependencies?.includes(pab), "the policy waits for the public access block");
      assert.ok(policy.dependencies?.includes(ownership.urn), "the policy waits for the ownership controls");
    });

    it("with offload.kms, the bucket uses SSE-KMS under its own key and the publisher writes with it", () => {
      const key = resource(kms, "aws:kms/key:Key", "publisher-payload-key");
      const sse = resource(
        kms,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "publisher-payloads-encryption",
      );
      assert.deepEqual(sse.inputs.rules, [
        {
          applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.outputs.arn },
          bucketKeyEnabled: true,
        },
      ]);
      assert.equal(env(fn(kms, "publisher-function"))[PublisherEnv.kmsKeyId], key.outputs.arn);
    });
  });

  describe("functions", () => {
    const contractNames = new Set<string>([
      ...Object.values(PublisherEnv),
      ...Object.values(SubscriberEnv),
      OperationsMetrics.namespaceEnv,
      OperationsMetrics.traceEnabledEnv,
    ]);

    it("run the handler bundles on nodejs22.x with index.handler, a subscriber the bundle of its downstream", () => {
      const expected: Record<string, [HandlerName, Downstream?]> = {
        "publisher-function": ["publish"],
        "subscriber-b-consumer": ["consume-queue", "stepfunctions"],
        "subscriber-c-consumer": ["consume-topic", "ecs"],
      };
      for (const f of ofType(dev, FUNCTION)) {
        assert.equal(f.inputs.runtime, "nodejs22.x");
        assert.equal(f.inputs.handler, "index.handler");
        const code = f.inputs.code as { path: string };
        const [handler, downstream] = expected[f.name];
        assert.equal(env(f)[SubscriberEnv.downstream], downstream, f.name);
        assert.equal(code.path, handlerBundle(handler, downstream), f.name);
        assert.equal(path.basename(code.path), handler, f.name);
        assert.ok(fs.existsSync(path.join(code.path, "index.js")), `${code.path}/index.js was built`);
      }
    });

    it("set exactly the contract's variables, none of them reserved by Lambda", () => {
      // Read by Powertools in every handler: the metrics namespace and whether to trace.
      const telemetry = [OperationsMetrics.namespaceEnv, OperationsMetrics.traceEnabledEnv];
      const keys = (name: string, plan: Plan) => Object.keys(env(fn(plan, name))).sort();
      assert.deepEqual(
        keys("publisher-function", a),
        [
          PublisherEnv.topicArn,
          PublisherEnv.payloadBucket,
          PublisherEnv.keyPrefix,
          PublisherEnv.threshold,
          PublisherEnv.alwaysThroughS3,
          PublisherEnv.sourceAllowList,
          ...telemetry,
        ].sort(),
      );
      const common = [
        ...telemetry,
        SubscriberEnv.subscriberName,
        SubscriberEnv.bucketAllowList,
        SubscriberEnv.bucketRegion,
        SubscriberEnv.keyPrefixAllowList,
        SubscriberEnv.downstream,
        SubscriberEnv.previewBytes,
      ];
      assert.deepEqual(
        keys("subscriber-b-consumer", b),
        [
          ...common,
          SubscriberEnv.stateMachineArn,
          SubscriberEnv.sqsRawDelivery,
          // b has replica: true in the project topology (test/messaging/replicas.spec.ts).
          SubscriberEnv.payloadReplicas,
        ].sort(),
      );
      assert.deepEqual(
        keys("subscriber-c-consumer", c),
        [
          ...common,
          SubscriberEnv.ecsClusterArn,
          SubscriberEnv.ecsTaskDefinitionArn,
          SubscriberEnv.ecsContainerName,
          SubscriberEnv.ecsSubnetIds,
          SubscriberEnv.ecsSecurityGroupIds,
        ].sort(),
      );
      for (const plan of [a, b, c, dev, kms]) {
        for (const f of ofType(plan, FUNCTION)) {
          for (const key of Object.keys(env(f))) {
            assert.ok(contractNames.has(key), `${f.name}: ${key} is not in messaging/contract.ts`);
            assert.ok(!RESERVED_ENV.test(key), `${f.name}: ${key} is reserved`);
          }
        }
      }
    });

    it("point every subscriber at A's bucket and Region, and the publisher at its topic and bucket", () => {
      const pub = env(fn(a, "publisher-function"));
      assert.equal(pub[PublisherEnv.topicArn], topicArn);
      assert.equal(pub[PublisherEnv.payloadBucket], bucket);
      assert.equal(pub[PublisherEnv.keyPrefix], PayloadLayout.payloadPrefix);
      assert.equal(pub[PublisherEnv.threshold], "262144");
      assert.equal(pub[PublisherEnv.sourceAllowList], `${bucket}/${PayloadLayout.incomingPrefix}`);
      for (const [plan, name, account] of [
        [b, "subscriber-b-consumer", ACCOUNT_B],
        [c, "subscriber-c-consumer", ACCOUNT_C],
      ] as const) {
        const vars = env(fn(plan, name));
        // b may also read its Region's replica of the bucket (replica: true in the project topology).
        const replica = bucket.replace(/-us-east-1$/, "-us-west-2");
        assert.equal(
          vars[SubscriberEnv.bucketAllowList],
          account === ACCOUNT_B ? `${bucket},${replica}` : bucket,
        );
        assert.equal(vars[SubscriberEnv.bucketRegion], "us-east-1");
        assert.equal(fn(plan, name).provider?.account, account);
      }
      assert.equal(
        env(fn(b, "subscriber-b-consumer"))[SubscriberEnv.stateMachineArn],
        resource(b, "aws:sfn/stateMachine:StateMachine", "subscriber-b-app").outputs.arn,
      );
      const cEnv = env(fn(c, "subscriber-c-consumer"));
      assert.equal(
        cEnv[SubscriberEnv.ecsTaskDefinitionArn],
        resource(c, "aws:ecs/taskDefinition:TaskDefinition", "subscriber-c-app-task").outputs.arn,
      );
      assert.equal(cEnv[SubscriberEnv.ecsSubnetIds], "subnet-0c0c0c0c0c0c0c0c0,subnet-0c0c0c0c0c0c0c0c1");
      assert.equal(cEnv[SubscriberEnv.ecsSecurityGroupIds], "sg-0c0c0c0c0c0c0c0c0");
    });

    it("A's policies name the role ARNs B's and C's stacks create, though no stack read another's state", () => {
      const bucketPolicy = policyInput(
        resource(a, "aws:s3/bucketPolicy:BucketPolicy", "publisher-payloads-policy"),
      );
      const readers = bucketPolicy.Statement.find((s) => s.Sid === "SubscriberRolesReadPayloads") as {
        Condition: { ArnEquals: Record<string, string[]> };
      };
      const roles = [
        resource(b, "aws:iam/role:Role", "subscriber-b-consumer-role").outputs.arn,
        resource(c, "aws:iam/role:Role", "subscriber-c-consumer-role").outputs.arn,
      ];
      assert.deepEqual(readers.Condition.ArnEquals["aws:PrincipalArn"], roles);
      assert.equal(ACCOUNT_A, (topicArn as string).split(":")[4]);
    });
  });
});
