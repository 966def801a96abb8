import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { planStack, resourcesOfType, type Plan, type PlannedResource } from "../../local/plan";
import { applyOverrides, listStacks, loadStackConfig } from "../../local/stack-config";

const fixture = path.join(__dirname, "fixture");
const byName = (plan: Plan, name: string): PlannedResource => {
  const r = plan.resources.find((x) => x.name === name);
  assert.ok(r, `resource ${name} not in plan: ${plan.resources.map((x) => x.name).join(", ")}`);
  return r;
};

describe("local: stack config", () => {
  it("merges Pulumi.yaml project config under the stack file, as setAllConfig strings", () => {
    const { project, config, secretKeys } = loadStackConfig("two", fixture);
    assert.equal(project, "fixtureproj");
    assert.equal(config["fixtureproj:greeting"], "bonjour", "stack value wins over the project's");
    assert.equal(config["fixtureproj:retries"], "3", "`default:` of a typed project entry, as a string");
    assert.deepEqual(JSON.parse(config["fixtureproj:topology"]).subscriber, {
      account: "222222222222",
      region: "us-west-2",
    });
    assert.equal(config["aws:region"], "eu-west-1");
    assert.deepEqual(secretKeys, ["fixtureproj:password"]);
    assert.match(config["fixtureproj:password"], /secret/);
  });

  it("names the missing stack file and lists the stacks that exist", () => {
    assert.deepEqual(listStacks(fixture), ["two"]);
    assert.throws(
      () => loadStackConfig("prod", fixture),
      /stack "prod": no file Pulumi\.prod\.yaml .*Available stacks: two/,
    );
    assert.throws(() => loadStackConfig("../etc", fixture), /stack name "\.\.\/etc" is not valid/);
  });

  it("refuses a Pulumi.yaml without a project name or with a config that is not a mapping", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "stackcfg-"));
    try {
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "runtime: nodejs\n");
      fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config: [1, 2]\n");
      assert.throws(() => loadStackConfig("s", dir), /"name" must be the project name, got undefined/);
      fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: p\n");
      assert.throws(() => loadStackConfig("s", dir), /Pulumi\.s\.yaml: "config" must be a mapping/);
      fs.writeFileSync(path.join(dir, "Pulumi.s.yaml"), "config: {a: [\n");
      assert.throws(() => loadStackConfig("s", dir), /Pulumi\.s\.yaml is not valid YAML/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("applies overrides in the project namespace and removes keys set to null", () => {
    const merged = applyOverrides({ "p:a": "1", "p:b": "2" }, "p", {
      a: "9",
      "p:b": null,
      "aws:region": "x",
    });
    assert.deepEqual(merged, { "p:a": "9", "aws:region": "x" });
  });
});

describe("local: planStack runs a program under the mock engine", function () {
  this.timeout(60_000);
  let ok: Plan, early: Plan, late: Plan, unknownInvoke: Plan, noSso: Plan;

  before(async () => {
    // Separate child processes, so they can run side by side.
    [ok, early, late, unknownInvoke, noSso] = await Promise.all([
      planStack("two", { root: fixture }),
      planStack("two", { root: fixture, config: { failMode: "early" } }),
      planStack("two", { root: fixture, config: { failMode: "late" } }),
      planStack("two", { root: fixture, config: { failMode: "invoke" } }),
      planStack("two", { root: fixture, config: { failMode: "sso" }, mocks: { ssoInstances: 0 } }),
    ]);
  });

  it("records each resource with its provider's account and Region", () => {
    assert.equal(ok.error, undefined, ok.error?.message);
    const topic = byName(ok, "pub-topic");
    assert.deepEqual([topic.provider?.account, topic.provider?.region], ["111111111111", "us-east-1"]);
    const queue = byName(ok, "sub-queue");
    assert.deepEqual([queue.provider?.account, queue.provider?.region], ["222222222222", "us-west-2"]);
    const provider = byName(ok, "aws-222222222222-us-west-2");
    assert.equal(provider.type, "pulumi:providers:aws");
    assert.equal(provider.provider?.region, "us-west-2");
  });

  it("records parents, and places a component where its children are", () => {
    const part = byName(ok, "pub");
    assert.equal(part.custom, false);
    assert.equal(byName(ok, "pub-topic").parent, part.urn);
    assert.equal(part.provider?.account, "111111111111");
  });

  it("waits for resources registered inside an apply", () => {
    const sub = byName(ok, "sub-subscription");
    assert.equal(sub.inputs.rawMessageDelivery, true);
    assert.equal(sub.inputs.topic, "arn:aws:sns:us-east-1:111111111111:pub-topic");
    assert.equal(sub.inputs.endpoint, "arn:aws:sqs:us-west-2:222222222222:sub-queue");
  });

  it("returns realistic outputs and resolves the stack outputs", () => {
    assert.equal(ok.outputs.queueUrl, "https://sqs.us-west-2.amazonaws.com/222222222222/sub-queue");
    assert.equal(
      ok.outputs.callerAccount,
      "222222222222",
      "getCallerIdentity answers with the provider's account",
    );
    assert.equal(ok.outputs.bucketName, "fixture-payloads");
    assert.equal(ok.outputs.retries, 3);
    assert.equal(byName(ok, "payloads").outputs.arn, "arn:aws:s3:::fixture-payloads");
    const redrive = JSON.parse(byName(ok, "sub-queue").inputs.redrivePolicy as string);
    assert.equal(redrive.deadLetterTargetArn, "arn:aws:sqs:us-west-2:222222222222:sub-dlq");
  });

  it("renders aws.iam.getPolicyDocument into the policy JSON the program emits", () => {
    const policy = JSON.parse(byName(ok, "sub-queue-policy").inputs.policy as string);
    assert.deepEqual(policy.Statement[0], {
      Effect: "Allow",
      Action: "sqs:SendMessage",
      Resource: "arn:aws:sqs:us-west-2:222222222222:sub-queue",
      Principal: { Service: "sns.amazonaws.com" },
      Condition: { ArnEquals: { "aws:SourceArn": "arn:aws:sns:us-east-1:111111111111:pub-topic" } },
    });
  });

  it("reports a program error with the number of resources registered before it", () => {
    assert.equal(early.error?.message, 'fixtureproj:failMode: refusing "early"');
    assert.equal(early.error?.resourcesBefore, 0);
    assert.equal(late.error?.message, "late failure after the topic");
    // two providers, the component and its topic were constructed before the throw
    assert.equal(late.error?.resourcesBefore, 4);
  });

  it("fails loudly, naming the token, on an invoke it has no answer for", () => {
    assert.match(
      unknownInvoke.error?.message ?? "",
      /no answer for the invoke "aws:ec2\/getVpcEndpointService/,
    );
  });

  it("can pretend the account has no IAM Identity Center instance", () => {
    assert.equal(noSso.error?.message, "no IAM Identity Center instance");
    assert.equal(ok.error, undefined);
  });
});

describe("local: planStack on this project's stack files", function () {
  this.timeout(60_000);
  for (const stack of listStacks()) {
    it(`plans stack ${stack} without error, every AWS resource placed in an account and Region`, async () => {
      const plan = await planStack(stack);
      assert.equal(plan.error, undefined, plan.error?.message);
      for (const r of plan.resources.filter((x) => x.custom && x.type.startsWith("aws:"))) {
        assert.match(r.provider?.account ?? "", /^\d{12}$/, `${r.type} ${r.name}: no account`);
        assert.ok(r.provider?.region, `${r.type} ${r.name}: no Region`);
      }
    });
  }

  it("reports an error thrown in an apply that feeds resource inputs, without hanging", async () => {
    // research/identity.ts throws inside the apply on ssoadmin.getInstances whose output is every
    // Identity Store resource's input: the registrations awaiting it never finish, so the SDK's
    // RPC queue never drains. The plan must still come back, with the program's own message.
    const started = Date.now();
    const plan = await planStack("research", { mocks: { ssoInstances: 0 }, timeoutMs: 30_000 });
    assert.match(
      plan.error?.message ?? "",
      /^No IAM Identity Center instance is enabled in account \d{12}, Region [a-z0-9-]+\. Enable Identity Center/,
    );
    assert.ok(plan.error && plan.error.resourcesBefore > 0, "resources registered before the lookup failed");
    assert.ok(plan.error.resourcesBefore <= plan.resources.length);
    assert.equal(resourcesOfType(plan, "aws:identitystore/group:Group").length, 0);
    assert.ok(Date.now() - started < 30_000, `took ${Date.now() - started} ms`);
  });
});
