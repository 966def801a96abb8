import * as assert from "assert";
import { Writable } from "stream";
import { loadStackSettings } from "../../common/stack";
import { main, parseArgs } from "../../local/cli";
import { renderReport, runDemo, type DemoReport } from "../../local/demo";
import { KiB, MiB, parseSize } from "../../local/size";
import { coldStartProblems, matchesPattern } from "../../local/lambda-runtime";
import { planStack, type Plan, type PlannedResource } from "../../local/plan";
import { planView, renderPlanView } from "../../local/plan-view";
import { listStacks, loadStackConfig } from "../../local/stack-config";
import { checkWiring, envOf } from "../../local/wiring";
import { loadMessaging } from "../../messaging/topology";
import { loadResearchSettings } from "../../research";

const quiet = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

/** A deep copy of the plan with one resource's inputs changed: a wiring mistake to detect. */
function mutate(plan: Plan, name: string, change: (inputs: Record<string, unknown>) => void): Plan {
  const copy = JSON.parse(JSON.stringify(plan)) as Plan;
  const r = copy.resources.find((x) => x.name === name && x.custom);
  assert.ok(r, `no resource ${name} in the plan`);
  change(r.inputs);
  return copy;
}

const byName = (plan: Plan, name: string): PlannedResource =>
  plan.resources.find((r) => r.name === name && r.custom)!;

describe("local mode: the demo run of the dev stack", function () {
  this.timeout(180_000);
  let plan: Plan;
  let report: DemoReport;
  let text: string;

  before(async () => {
    plan = await planStack("dev");
    assert.equal(plan.error, undefined, plan.error?.message);
    report = await runDemo({ plan, sizes: [KiB, 300 * KiB, 64 * MiB], malformed: true, out: quiet() });
    text = renderReport(report);
  });

  it("delivers 1 KiB inline and 300 KiB and 64 MiB through S3 to every subscriber, checksums verified", () => {
    assert.ok(report.ok, `${report.reason}\n${text}`);
    const subscribers = [...new Set(report.rows.map((r) => r.subscriber))].sort();
    assert.deepEqual(subscribers, ["b", "c"]);
    for (const row of report.rows) {
      assert.equal(row.reportedSha256, row.sha256, `${row.subscriber} ${row.size}`);
      assert.equal(row.path, row.size <= 200 * KiB ? "inline" : "S3");
      assert.ok(row.times.handlerMs !== undefined && row.times.deliveryMs !== undefined);
    }
    // Beside the replica-lag step's rows, when the stack has a replica (test/local/replica.spec.ts).
    assert.equal(report.rows.filter((r) => !r.replicaLag).length, 6);
  });

  it("records the downstream calls instead of running them: a Step Functions execution for b, an ECS task for c", () => {
    const byAction = (a: string) => report.downstreamCalls.filter((c) => c.action === a);
    // Three sizes, and the replica-lag step of b's replica (Pulumi.yaml: b has replica: true).
    assert.equal(byAction("states:StartExecution").length, 4);
    assert.equal(byAction("ecs:RunTask").length, 4);
    const execution = byAction("states:StartExecution")[0];
    assert.equal(
      execution.request.stateMachineArn,
      envOf(byName(plan, "subscriber-b-consumer")).STATE_MACHINE_ARN,
    );
    assert.match(text, / StartExecution fieldnotes-b-app\n/);
    assert.match(text, / RunTask fieldnotes-c-app:1\n/);
  });

  it("shows the metrics each handler emitted: messages by path, payload bytes, resolve time, failures", () => {
    const sum = (fn: string, dims: string, name: string) =>
      report.metrics.find((m) => m.fn === fn && m.dimensions === dims && m.name === name)?.sum;
    assert.equal(sum("fieldnotes-publisher", "service=publisher,path=inline", "messages"), 1);
    // 300 KiB and 64 MiB, and the replica-lag step's 300 KiB.
    assert.equal(sum("fieldnotes-publisher", "service=publisher,path=offloaded", "messages"), 3);
    assert.equal(
      sum("fieldnotes-publisher", "service=publisher,path=offloaded", "payloadBytes"),
      600 * KiB + 64 * MiB,
    );
    const b = "service=subscriber,subscriber=b";
    assert.equal(sum("fieldnotes-b-consumer", `${b},path=offloaded`, "messages"), 3);
    assert.equal(sum("fieldnotes-b-consumer", `${b},path=offloaded`, "replicaReads"), 2);
    assert.equal(sum("fieldnotes-b-consumer", `${b},path=offloaded`, "replicaFallbacks"), 1);
    assert.ok((sum("fieldnotes-b-consumer", `${b},path=offloaded`, "resolveMs") ?? 0) > 0);
    // The malformed record fails on every attempt until it is dead-lettered.
    assert.ok((sum("fieldnotes-b-consumer", b, "failures") ?? 0) >= 1);
    assert.match(text, /Metrics the handlers emitted/);
  });

  it("dead-letters a malformed pointer published straight to the topic, in each subscriber's DLQ, and says so", () => {
    const b = report.malformed.find((m) => m.subscriber === "b");
    const c = report.malformed.find((m) => m.subscriber === "c");
    assert.ok(b?.inQueue && c?.inQueue, JSON.stringify(report.malformed));
    // b: the queue's redrive after maxReceiveCount (5) receives; c: 1 + 2 async retries, then the destination.
    assert.equal(b.deadLetterQueue, "fieldnotes-b-dlq");
    assert.equal(b.attempts, 5);
    assert.equal(c.deadLetterQueue, "fieldnotes-c-dlq");
    assert.equal(c.attempts, 3);
    assert.match(b.reason ?? "", /s3Key/);
    assert.match(text, /✓ b: dead-lettered in fieldnotes-b-dlq after 5 attempt\(s\)/);
    assert.match(text, /RESULT: OK/);
  });

  it("fits the report on one screen: at most 100 columns, RESULT on the last line", () => {
    const lines = text.split("\n");
    const wide = lines.filter((l) => [...l].length > 100);
    assert.deepEqual(wide, [], "lines wider than 100 columns");
    assert.match(lines[lines.length - 1], /^RESULT: OK/);
    assert.ok(lines.length <= 30, `${lines.length} lines`);
  });

  it("fails, naming the function and the variable, when a handler needs an environment variable the component does not set", async () => {
    const broken = mutate(plan, "subscriber-b-consumer", (i) => {
      delete (i.environment as { variables: Record<string, string> }).variables.STATE_MACHINE_ARN;
    });
    const r = await runDemo({ plan: broken, sizes: [KiB], out: quiet() });
    assert.equal(r.ok, false);
    assert.match(
      r.reason ?? "",
      /Function "subscriber-b-consumer" .*cold start.*STATE_MACHINE_ARN is required/,
    );
  });

  it("refuses to run when a subscriber would refuse the publisher's bucket, naming the function and the variable", async () => {
    // The subscriber is told to expect another bucket: every offloaded payload is refused.
    const broken = mutate(plan, "subscriber-c-consumer", (i) => {
      (i.environment as { variables: Record<string, string> }).variables.PAYLOAD_BUCKET_ALLOWLIST =
        "some-other-bucket";
    });
    const r = await runDemo({ plan: broken, sizes: [300 * KiB], out: quiet(), timeoutMs: 20_000 });
    assert.equal(r.ok, false);
    assert.match(r.reason ?? "", /wiring mistakes:.*subscriber-c-consumer.*PAYLOAD_BUCKET_ALLOWLIST/s);
  });
});

describe("local mode: wiring checks name the resource", function () {
  this.timeout(60_000);
  let plan: Plan;
  before(async () => {
    plan = await planStack("dev");
  });

  it("finds no problem in the dev stack as the program defines it", async () => {
    assert.deepEqual(checkWiring(plan), []);
    assert.deepEqual(await coldStartProblems(plan), []);
  });

  it("reports, without running anything, a handler that needs a variable its component does not set", async () => {
    const broken = mutate(plan, "subscriber-c-consumer", (i) => {
      delete (i.environment as { variables: Record<string, string> }).variables.ECS_CLUSTER_ARN;
    });
    const problems = await coldStartProblems(broken);
    assert.deepEqual(problems, [
      {
        resource: 'Function "subscriber-c-consumer"',
        message: "fails at cold start (consume-topic): environment variable ECS_CLUSTER_ARN is required",
      },
    ]);
  });

  const cases: Array<[string, string, (i: Record<string, unknown>) => void, RegExp]> = [
    [
      "an SQS subscription without raw delivery",
      "subscriber-b-subscription",
      (i) => delete i.rawMessageDelivery,
      /TopicSubscription "subscriber-b-subscription": delivers to SQS without raw message delivery/,
    ],
    [
      "a subscription made outside the topic's Region",
      "subscriber-b-subscription",
      (i) => (i.topic = "arn:aws:sns:eu-west-1:123456789012:fieldnotes-messages"),
      /only subscribes in the topic's Region/,
    ],
    [
      "an allow-list without the publisher's payload bucket",
      "subscriber-b-consumer",
      (i) =>
        ((i.environment as { variables: Record<string, string> }).variables.PAYLOAD_BUCKET_ALLOWLIST =
          "other-bucket"),
      /Function "subscriber-b-consumer": PAYLOAD_BUCKET_ALLOWLIST="other-bucket" does not include the publisher's payload bucket/,
    ],
    [
      "a variable the handler never reads (a typo)",
      "publisher-function",
      (i) => ((i.environment as { variables: Record<string, string> }).variables.TOPIC_ARNS = "x"),
      /sets TOPIC_ARNS, which the publish handler never reads/,
    ],
    [
      "a reserved Lambda variable",
      "subscriber-c-consumer",
      (i) => ((i.environment as { variables: Record<string, string> }).variables.AWS_REGION = "us-east-1"),
      /sets the environment variable AWS_REGION, a name Lambda reserves/,
    ],
    [
      "a state machine ARN that is no state machine of the stack",
      "subscriber-b-consumer",
      (i) =>
        ((i.environment as { variables: Record<string, string> }).variables.STATE_MACHINE_ARN =
          "arn:aws:states:us-west-2:123456789012:stateMachine:typo"),
      /STATE_MACHINE_ARN=.*:typo is no state machine of this stack/,
    ],
    [
      "a consumer role the bucket policy does not name",
      "subscriber-c-consumer",
      (i) => (i.role = "arn:aws:iam::123456789012:role/someone-else"),
      /Function "subscriber-c-consumer": its role arn:aws:iam::123456789012:role\/someone-else is not allowed s3:GetObject by the bucket policy/,
    ],
    [
      "a consumer role policy without GetObject on the payload bucket",
      "subscriber-b-consumer-policy",
      (i) =>
        (i.policy = JSON.stringify({
          Version: "2012-10-17",
          Statement: [{ Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::another-bucket/*" }],
        })),
      /Function "subscriber-b-consumer": its role fieldnotes-b-consumer's policies do not allow s3:GetObject/,
    ],
    [
      "a queue consumer told its raw subscription delivers envelopes",
      "subscriber-b-consumer",
      (i) => ((i.environment as { variables: Record<string, string> }).variables.SQS_RAW_DELIVERY = "false"),
      /Function "subscriber-b-consumer": SQS_RAW_DELIVERY=false, but TopicSubscription "subscriber-b-subscription" has rawMessageDelivery true/,
    ],
    [
      "a mapping without partial batch responses",
      "subscriber-b-mapping",
      (i) => delete i.functionResponseTypes,
      /EventSourceMapping "subscriber-b-mapping": lacks functionResponseTypes \[ReportBatchItemFailures\]/,
    ],
    [
      "a queue visibility timeout below the function timeout",
      "subscriber-b-queue",
      (i) => (i.visibilityTimeoutSeconds = 30),
      /visibility timeout \(30 s\) is below/,
    ],
    [
      "a Lambda subscription whose permission has no matching sourceArn",
      "subscriber-c-topic-invokes",
      (i) => delete i.sourceArn,
      /TopicSubscription "subscriber-c-subscription": delivers to Function "subscriber-c-consumer", but no lambda Permission/,
    ],
  ];
  for (const [what, name, change, expected] of cases) {
    it(`reports ${what}`, () => {
      const problems = checkWiring(mutate(plan, name, change)).map((p) => `${p.resource}: ${p.message}`);
      assert.ok(
        problems.some((p) => expected.test(p)),
        problems.join("\n") || "no problem reported",
      );
    });
  }
});

describe("local mode: the plan view of every stack file", function () {
  this.timeout(120_000);
  const stacks = listStacks();
  let plans: Plan[];
  before(async () => {
    plans = await Promise.all(stacks.map((s) => planStack(s)));
  });

  it("renders each stack with each of its parts under the account and Region the topology gives it", () => {
    assert.ok(stacks.includes("dev"));
    stacks.forEach((stack, n) => {
      const plan = plans[n];
      assert.equal(plan.error, undefined, `${stack}: ${plan.error?.message}`);
      const { project, config } = loadStackConfig(stack);
      const source = { name: project, get: (k: string) => config[`${project}:${k}`] };
      const settings = loadStackSettings(source);
      const view = planView(plan);
      const text = renderPlanView(view);
      const groupOf = (account: string, region: string) => {
        const g = view.groups.find((x) => x.account === account && x.region === region);
        assert.ok(g, `${stack}: no group for ${account} · ${region}`);
        assert.ok(
          text.includes(`account ${account} · ${region}`),
          `${stack}: text lacks ${account} · ${region}`,
        );
        return g;
      };
      const hasResource = (account: string, region: string, test: (type: string, name: string) => boolean) =>
        groupOf(account, region).parts.some((p) => p.resources.some((r) => test(r.type, r.name)));
      if (settings.parts.publisher || settings.parts.subscribers.length) {
        const m = loadMessaging(source, settings);
        if (m.publisher) {
          const { account, region } = m.topology.publisher;
          assert.ok(
            hasResource(account, region, (t) => t === "aws:sns/topic:Topic"),
            `${stack}: publisher topic not under ${account} · ${region}`,
          );
        }
        for (const sub of m.subscribers) {
          const fn = plan.resources.find(
            (r) => r.type === "aws:lambda/function:Function" && envOf(r).SUBSCRIBER_NAME === sub.name,
          );
          assert.ok(fn, `${stack}: no function for subscriber ${sub.name}`);
          assert.ok(
            hasResource(sub.account, sub.region, (t, name) => t === fn.type && name === fn.name),
            `${stack}: subscriber ${sub.name} not under ${sub.account} · ${sub.region}`,
          );
          // Its subscription is made by its own account, in the topic's Region, within the same part.
          const part = view.groups
            .flatMap((g) => g.parts)
            .find((p) => p.resources.some((r) => r.type === fn.type && r.name === fn.name))!.part;
          const subscriptionGroup = groupOf(sub.account, m.topology.publisher.region);
          assert.ok(
            subscriptionGroup.parts.some(
              (p) =>
                p.part === part &&
                p.resources.some((r) => r.type === "aws:sns/topicSubscription:TopicSubscription"),
            ),
            `${stack}: ${part}'s subscription not under ${sub.account} · ${m.topology.publisher.region}`,
          );
        }
      }
      if (settings.parts.research) {
        const r = loadResearchSettings(source);
        assert.ok(
          hasResource(r.account, r.region, (t) => t.startsWith("aws:sagemaker/")),
          `${stack}: research not under ${r.account} · ${r.region}`,
        );
      }
    });
  });

  it("gives the same view as JSON data", () => {
    const view = JSON.parse(JSON.stringify(planView(plans[stacks.indexOf("dev")])));
    const parts = view.groups.flatMap((g: { parts: Array<{ part: string }> }) => g.parts.map((p) => p.part));
    assert.ok(
      parts.includes("publisher") && parts.includes("subscriber-b") && parts.includes("subscriber-c"),
      parts.join(","),
    );
    const sub = view.groups
      .flatMap(
        (g: { parts: Array<{ resources: Array<{ name: string; settings: Record<string, string> }> }> }) =>
          g.parts.flatMap((p) => p.resources),
      )
      .find((r: { name: string }) => r.name === "subscriber-b-subscription");
    assert.equal(sub.settings.rawDelivery, "on");
  });
});

describe("local mode: inputs that can be wrong", () => {
  it("refuses unknown arguments, missing values and bad sizes, naming them", () => {
    assert.throws(() => parseArgs(["deploy"]), /unknown command "deploy"/);
    assert.throws(
      () => parseArgs(["start", "--sise", "1KiB"]),
      /unknown flag "--sise"; did you mean --sizes\?/,
    );
    // The old spelling still works, but a typo is never pointed to it.
    assert.deepEqual(parseArgs(["start", "--size", "1KiB"]).sizes, [1024]);
    assert.throws(() => parseArgs(["plan"]), /plan needs --stack NAME; stacks: .*dev/);
    assert.throws(() => parseArgs(["plan", "--stack"]), /--stack needs a value/);
    assert.throws(
      () => parseArgs(["start", "--sizes", "12 parsecs"]),
      /--sizes: "12 parsecs" has an unknown unit "parsecs"/,
    );
    assert.throws(
      () => parseArgs(["plan", "--stack", "dev", "--sizes", "1KiB"]),
      /--sizes is an option of "start", not of "plan"/,
    );
    assert.throws(() => parseArgs(["start", "--sizes", "6GiB"]), /--sizes: 6 GiB is over 5 GiB/);
    assert.deepEqual(parseArgs(["start", "--sizes", "1KiB,2GiB", "--sizes=3MiB", "--malformed"]).sizes, [
      1024,
      2 * 1024 * 1024 * 1024,
      3 * 1024 * 1024,
    ]);
    // The old spelling still works, read by the same grammar.
    assert.deepEqual(parseArgs(["start", "--size", "1KiB"]).sizes, [1024]);
    assert.equal(parseSize("300KiB"), 300 * 1024);
    assert.throws(() => parseSize("0"), /at least 1 byte/);
  });

  it("npm run plan -- --stack dev --json prints the view as one JSON document and exits 0", async function () {
    this.timeout(60_000);
    const written: string[] = [];
    const write = process.stdout.write;
    process.stdout.write = ((chunk: string) => (
      written.push(String(chunk)),
      true
    )) as typeof process.stdout.write;
    let code: number;
    try {
      code = await main(["plan", "--stack", "dev", "--json"]);
    } finally {
      process.stdout.write = write;
    }
    assert.equal(code, 0);
    const view = JSON.parse(written.join(""));
    assert.equal(view.stack, "dev");
    assert.deepEqual(view.wiring, []);
    const errors: string[] = [];
    const writeErr = process.stderr.write;
    process.stderr.write = ((chunk: string) => (
      errors.push(String(chunk)),
      true
    )) as typeof process.stderr.write;
    try {
      assert.equal(await main(["plan", "--stack", "nosuchstack"]), 2);
      assert.equal(await main(["start", "--sizes", "lots"]), 2);
    } finally {
      process.stderr.write = writeErr;
    }
    assert.match(errors.join(""), /no file Pulumi\.nosuchstack\.yaml/);
    assert.match(errors.join(""), /--sizes: "lots" is not a size/);
  });

  it("names the missing stack file and lists the available stacks", async () => {
    await assert.rejects(
      planStack("nosuchstack"),
      /no file Pulumi\.nosuchstack\.yaml .*Available stacks: .*dev/,
    );
  });

  it("routes EventBridge events by the rule's pattern", () => {
    const event = { source: "app", "detail-type": "PublishPayload", detail: { kind: "x", n: 5 } };
    assert.ok(matchesPattern({ "detail-type": ["PublishPayload"] }, event));
    assert.ok(!matchesPattern({ "detail-type": ["Other"] }, event));
    assert.ok(matchesPattern({ source: [{ prefix: "ap" }], detail: { n: [{ numeric: [">", 4] }] } }, event));
    assert.ok(!matchesPattern({ detail: { missing: [{ exists: true }] } }, event));
    assert.throws(
      () => matchesPattern({ source: [{ wildcard: "a*" }] }, event),
      /operator "wildcard" is not emulated/,
    );
  });
});

describe("local mode: the EventBridge entry point and the downstream recorder", () => {
  it("refuses PutEvents entries EventBridge would refuse, naming the field", async () => {
    const { LambdaRuntime } = await import("../../local/lambda-runtime");
    const deployment = {
      plan: { resources: [{ type: "aws:cloudwatch/eventBus:EventBus", outputs: { name: "bus" } }] },
      routes: [],
      endpoints: { sqs: "http://127.0.0.1:9", sns: "", s3: "", sfn: "", ecs: "" },
    } as unknown as import("../../local/deploy").LocalDeployment;
    const runtime = new LambdaRuntime(deployment);
    const entry = { Source: "s", DetailType: "PublishPayload", EventBusName: "bus" };
    assert.throws(() => runtime.putEvents([{ ...entry }]), /entry 0: Detail is required/);
    assert.throws(() => runtime.putEvents([{ ...entry, Detail: "{" }]), /entry 0: Detail is not valid JSON/);
    assert.throws(() => runtime.putEvents([{ ...entry, Detail: "[1]" }]), /Detail must be a JSON object/);
    const big = JSON.stringify({ payload: "x".repeat(256 * 1024) });
    assert.throws(() => runtime.putEvents([{ ...entry, Detail: big }]), /EventBridge accepts at most 262144/);
    assert.throws(
      () => runtime.putEvents([{ ...entry, Detail: "{}", EventBusName: "other" }]),
      /EventBusName "other" is no bus/,
    );
    await runtime.stop();
  });

  it("records StartExecution once per execution name, and refuses the same name with another input", async () => {
    const { SFNClient, StartExecutionCommand } = await import("@aws-sdk/client-sfn");
    const { startDownstreamRecorder } = await import("../../local/downstream");
    const recorder = await startDownstreamRecorder();
    const sfn = new SFNClient({
      endpoint: recorder.endpoint,
      region: "us-west-2",
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
    });
    try {
      const start = (input: string) =>
        sfn.send(
          new StartExecutionCommand({
            stateMachineArn: "arn:aws:states:us-west-2:123456789012:stateMachine:app",
            name: "msg-1",
            input,
          }),
        );
      const first = await start('{"sha256":"aa"}');
      assert.equal(first.executionArn, "arn:aws:states:us-west-2:123456789012:execution:app:msg-1");
      await start('{"sha256":"aa"}');
      assert.equal(
        recorder.calls.length,
        1,
        "a redelivery with the same name and input is the same execution",
      );
      assert.deepEqual(recorder.calls[0].summary, { sha256: "aa" });
      await assert.rejects(start('{"sha256":"bb"}'), (e: Error) => e.name === "ExecutionAlreadyExists");
    } finally {
      sfn.destroy();
      await recorder.stop();
    }
  });
});
