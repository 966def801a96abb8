import { strict as assert } from "assert";
import { Plan } from "../../local/plan";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ACCOUNT_C,
  assertNoError,
  limited,
  ofType,
  planOf,
  resource,
  SANDBOX,
} from "./plans";

// Each stack file runs through the real program under mocks and registers the parts it lists,
// each under a provider with the right account and Region.

const PART_TYPES = {
  publisher: "fieldnotes:messaging:Publisher",
  queue: "fieldnotes:messaging:QueueSubscriber",
  direct: "fieldnotes:messaging:DirectSubscriber",
  replica: "fieldnotes:messaging:PayloadReplica",
};

/** Account/Region of every custom resource under the component named `part`. */
function placements(plan: Plan, part: string): Set<string> {
  const root = plan.resources.find((r) => r.name === part && r.type.startsWith("fieldnotes:messaging:"));
  assert.ok(root, `stack ${plan.stack}: no part ${part}`);
  const under = new Set([root.urn]);
  const found = new Set<string>();
  for (const r of plan.resources) {
    if (r.parent && under.has(r.parent)) {
      under.add(r.urn);
      if (r.custom) found.add(`${r.provider?.account}/${r.provider?.region}`);
    }
  }
  return found;
}

/** Provider inputs are registered JSON-encoded. */
function providerList(value: unknown): string[] {
  return typeof value === "string" ? JSON.parse(value) : (value as string[]);
}

function componentNames(plan: Plan, type: string): string[] {
  return ofType(plan, type).map((r) => r.name);
}

describe("stack plans: every stack file deploys its parts with the right providers", function () {
  this.timeout(120_000);
  const stacks = ["dev", "a-use1", "b-usw2", "c-use1", "scenario1"];
  const plans: Record<string, Plan> = {};

  before(async () => {
    const done = await limited(
      2,
      stacks.map((s) => () => planOf(s)),
    );
    stacks.forEach((s, i) => (plans[s] = assertNoError(done[i])));
  });

  it("gives every AWS resource an explicit provider that pins its account and Region", () => {
    for (const plan of Object.values(plans)) {
      for (const r of plan.resources.filter((x) => x.custom && x.type.startsWith("aws:"))) {
        assert.match(
          r.provider?.urn ?? "",
          /::pulumi:providers:aws::aws-\d{12}-[a-z0-9-]+$/,
          `${plan.stack} ${r.type} ${r.name}`,
        );
        assert.match(r.provider?.account ?? "", /^\d{12}$/, `${plan.stack} ${r.name} account`);
        assert.ok(r.provider?.region, `${plan.stack} ${r.name} region`);
      }
      for (const p of ofType(plan, "pulumi:providers:aws")) {
        const [, account, region] = /^aws-(\d{12})-(.+)$/.exec(p.name) ?? [];
        assert.deepEqual(providerList(p.inputs.allowedAccountIds), [account], `${plan.stack} ${p.name}`);
        assert.equal(p.inputs.region, region, `${plan.stack} ${p.name}`);
      }
    }
  });

  it("a-use1: only the publisher, in account A, us-east-1, and B's payload replica in account A, us-west-2", () => {
    const plan = plans["a-use1"];
    assert.deepEqual(componentNames(plan, PART_TYPES.publisher), ["publisher"]);
    assert.deepEqual(componentNames(plan, PART_TYPES.queue), []);
    assert.deepEqual(componentNames(plan, PART_TYPES.direct), []);
    assert.deepEqual([...placements(plan, "publisher")], [`${ACCOUNT_A}/us-east-1`]);
    assert.deepEqual(componentNames(plan, PART_TYPES.replica), ["replica-us-west-2"]);
    assert.deepEqual([...placements(plan, "replica-us-west-2")], [`${ACCOUNT_A}/us-west-2`]);
  });

  it("b-usw2: only subscriber b, in account B, us-west-2, with its subscription and delivery DLQ in the topic's Region", () => {
    const plan = plans["b-usw2"];
    assert.deepEqual(componentNames(plan, PART_TYPES.queue), ["subscriber-b"]);
    assert.deepEqual(componentNames(plan, PART_TYPES.publisher), []);
    assert.deepEqual([...placements(plan, "subscriber-b")].sort(), [
      `${ACCOUNT_B}/us-east-1`,
      `${ACCOUNT_B}/us-west-2`,
    ]);
    const sub = resource(plan, "aws:sns/topicSubscription:TopicSubscription", "subscriber-b-subscription");
    assert.deepEqual(sub.provider, { ...sub.provider, account: ACCOUNT_B, region: "us-east-1" });
    const queue = resource(plan, "aws:sqs/queue:Queue", "subscriber-b-queue");
    assert.equal(queue.provider?.region, "us-west-2");
  });

  it("c-use1: only subscriber c, in account C, us-east-1", () => {
    const plan = plans["c-use1"];
    assert.deepEqual(componentNames(plan, PART_TYPES.direct), ["subscriber-c"]);
    assert.deepEqual(componentNames(plan, PART_TYPES.publisher), []);
    assert.deepEqual([...placements(plan, "subscriber-c")], [`${ACCOUNT_C}/us-east-1`]);
  });

  it("dev: every part in the one sandbox account, keeping production's Regions", () => {
    const plan = plans.dev;
    assert.deepEqual(componentNames(plan, PART_TYPES.publisher), ["publisher"]);
    assert.deepEqual(componentNames(plan, PART_TYPES.queue), ["subscriber-b"]);
    assert.deepEqual(componentNames(plan, PART_TYPES.direct), ["subscriber-c"]);
    const accounts = new Set(
      ofType(plan, "pulumi:providers:aws").flatMap((p) => providerList(p.inputs.allowedAccountIds)),
    );
    assert.deepEqual([...accounts], [SANDBOX]);
    assert.deepEqual([...placements(plan, "subscriber-b")].sort(), [
      `${SANDBOX}/us-east-1`,
      `${SANDBOX}/us-west-2`,
    ]);
    assert.equal(
      ofType(plan, "pulumi:providers:aws").length,
      2,
      "one provider per (account, Region), shared by the parts",
    );
  });

  it("scenario 1 (all us-east-1) plans, every part in us-east-1", () => {
    const plan = plans.scenario1;
    for (const part of ["publisher", "subscriber-b", "subscriber-c"]) {
      assert.deepEqual([...placements(plan, part)], [`${SANDBOX}/us-east-1`], part);
    }
  });

  it("scenario 1 in production: B's stack with B's Region changed in the topology plans in us-east-1", async () => {
    const base = plans["b-usw2"].config["fieldnotes:topology"];
    const topology = JSON.parse(base);
    // In the publisher's Region a replica is refused (the bucket is already local).
    Object.assign(
      topology.subscribers.find((s: { name: string }) => s.name === "b"),
      { region: "us-east-1", replica: false },
    );
    const plan = assertNoError(await planOf("b-usw2", { "fieldnotes:topology": JSON.stringify(topology) }));
    assert.deepEqual([...placements(plan, "subscriber-b")], [`${ACCOUNT_B}/us-east-1`]);
    assert.equal(ofType(plan, "pulumi:providers:aws").length, 1);
  });

  it("dev without the sandbox account deploys into three accounts, assuming the configured role per account", async () => {
    const roles = {
      [ACCOUNT_B]: `arn:aws:iam::${ACCOUNT_B}:role/fieldnotes-deployer`,
      [ACCOUNT_C]: `arn:aws:iam::${ACCOUNT_C}:role/fieldnotes-deployer`,
    };
    const plan = assertNoError(
      await planOf("dev", {
        "fieldnotes:sandboxAccount": null,
        "fieldnotes:deployRoles": JSON.stringify(roles),
      }),
    );
    const assumed = Object.fromEntries(
      ofType(plan, "pulumi:providers:aws").map((p) => {
        const list = p.inputs.assumeRoles === undefined ? [] : providerList(p.inputs.assumeRoles);
        return [p.name, (list as unknown as { roleArn: string }[]).map((r) => r.roleArn)];
      }),
    );
    assert.deepEqual(assumed, {
      [`aws-${ACCOUNT_A}-us-east-1`]: [],
      // B's payload replica, owned by account A.
      [`aws-${ACCOUNT_A}-us-west-2`]: [],
      [`aws-${ACCOUNT_B}-us-west-2`]: [roles[ACCOUNT_B]],
      [`aws-${ACCOUNT_B}-us-east-1`]: [roles[ACCOUNT_B]],
      [`aws-${ACCOUNT_C}-us-east-1`]: [roles[ACCOUNT_C]],
    });
    assert.deepEqual([...placements(plan, "subscriber-c")], [`${ACCOUNT_C}/us-east-1`]);
  });

  it("exports the outputs of the parts a stack deploys", () => {
    const a = plans["a-use1"].outputs.messaging as { publisher: Record<string, string> };
    assert.equal(a.publisher.topicArn, `arn:aws:sns:us-east-1:${ACCOUNT_A}:fieldnotes-messages`);
    assert.equal(a.publisher.bucketName, `fieldnotes-payloads-${ACCOUNT_A}-us-east-1`);
    const b = plans["b-usw2"].outputs.messaging as { subscribers: Record<string, Record<string, string>> };
    assert.equal(b.subscribers.b.functionName, "fieldnotes-b-consumer");
    assert.match(b.subscribers.b.queueUrl, /fieldnotes-b-queue$/);
  });
});

describe("stack plans: fifo", function () {
  this.timeout(120_000);

  it("plans stack fifo: FIFO topic and queues without content-based deduplication, DLQs FIFO, batch of at most 10 and no batching window", async () => {
    const plan = assertNoError(await planOf("fifo"));
    // The messages topic; the alarm topics of the operations part stay standard.
    const [topic] = ofType(plan, "aws:sns/topic:Topic").filter((t) =>
      /-messages/.test(String(t.inputs.name)),
    );
    assert.equal(topic.inputs.fifoTopic, true);
    assert.equal(topic.inputs.contentBasedDeduplication, false);
    assert.match(String(topic.inputs.name), /\.fifo$/);
    const queues = ofType(plan, "aws:sqs/queue:Queue").filter(
      (q) => !/publisher-failures/.test(String(q.inputs.name)),
    );
    assert.equal(queues.length, 6, "queue, DLQ and delivery DLQ for each of b and c");
    for (const q of queues) {
      assert.equal(q.inputs.fifoQueue, true, `${q.name}: ${JSON.stringify(q.inputs.name)}`);
      assert.match(String(q.inputs.name), /\.fifo$/);
    }
    for (const esm of ofType(plan, "aws:lambda/eventSourceMapping:EventSourceMapping")) {
      assert.ok(Number(esm.inputs.batchSize) <= 10);
      assert.equal(esm.inputs.maximumBatchingWindowInSeconds, undefined, "no batching window sent");
    }
    const subs = ofType(plan, "aws:sns/topicSubscription:TopicSubscription");
    const c = subs.find((s) => String(s.name).includes("-c-") || String(s.name).endsWith("c-subscription"));
    assert.ok(c, `subscription of c among ${subs.map((s) => s.name).join(", ")}`);
    assert.deepEqual(JSON.parse(String(c.inputs.filterPolicy)), {
      "demo-size": [{ numeric: ["<", 1048576] }],
    });
    assert.equal(c.inputs.filterPolicyScope, "MessageAttributes");
    const b = subs.find((s) => s !== c)!;
    assert.equal(b.inputs.filterPolicy, undefined);
  });
});
