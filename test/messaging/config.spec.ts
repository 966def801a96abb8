import { strict as assert } from "assert";
import { limited, planOf, topologyOverride } from "./plans";

// Bad config stops the program before any resource is registered, with a message naming the key
// and the value. The issue's cases run through the real program (planStack); the rest call the
// validators directly (config-rules.spec.ts), which is what the program calls first.

describe("config errors stop the program before any resource is registered", function () {
  this.timeout(120_000);

  const cases: { what: string; config: () => Promise<Record<string, string | null>>; message: string }[] = [
    {
      what: "an account that is not 12 digits",
      config: () => topologyOverride((t) => (t.subscribers[0].account = "12345")),
      message:
        'Invalid config fieldnotes:topology.subscribers[0].account: "12345" is not a 12-digit AWS account ID',
    },
    {
      what: "an unknown Region",
      config: () => topologyOverride((t) => (t.publisher.region = "us-east-9")),
      message:
        'Invalid config fieldnotes:topology.publisher.region: "us-east-9" is not a known AWS Region (commercial partition, e.g. us-east-1)',
    },
    {
      what: "an unknown delivery",
      config: () => topologyOverride((t) => (t.subscribers[1].delivery = "http")),
      message:
        'Invalid config fieldnotes:topology.subscribers[1].delivery: "http" is not one of "sqs", "lambda"',
    },
    {
      what: "an unknown downstream",
      config: () => topologyOverride((t) => (t.subscribers[0].downstream = "batch")),
      message:
        'Invalid config fieldnotes:topology.subscribers[0].downstream: "batch" is not one of "stepfunctions", "ecs", "none"',
    },
    {
      what: "duplicate subscriber names",
      config: () => topologyOverride((t) => (t.subscribers[1].name = "b")),
      message: 'Invalid config fieldnotes:topology.subscribers[1].name: "b" is a duplicate subscriber name',
    },
    {
      what: "a threshold above the SNS limit",
      config: () => topologyOverride((t) => (t.offload.thresholdBytes = 262145)),
      message:
        "Invalid config fieldnotes:topology.offload.thresholdBytes: 262145 is above the SNS message limit of 262144 bytes; messages that large cannot be published inline",
    },
    {
      what: "an empty subscriber list",
      config: () => topologyOverride((t) => (t.subscribers = [])),
      message: "Invalid config fieldnotes:topology.subscribers: [] must be a non-empty list of subscribers",
    },
    {
      what: "a stack deploying a part that is not in the topology",
      config: async () => ({ "fieldnotes:parts": JSON.stringify(["publisher", "subscriber/d"]) }),
      message:
        'Invalid config fieldnotes:parts: "subscriber/d" is not in the topology; its subscribers are: subscriber/b, subscriber/c',
    },
    {
      what: "a misspelt key inside the topology",
      config: () => topologyOverride((t) => (t.offload.kmss = true)),
      message:
        "Invalid config fieldnotes:topology.offload.kmss: true is not a known key; did you mean kms? (known: thresholdBytes, alwaysThroughS3, retentionDays, kms, replicationTimeControl)",
    },
    {
      what: "a misspelt stack key (which would deploy into the topology's production accounts)",
      config: async () => ({ "fieldnotes:sandboxAccount": null, "fieldnotes:sandboxAcount": "123456789012" }),
      message:
        'Invalid config fieldnotes:sandboxAcount: "123456789012" is not a known key; did you mean fieldnotes:sandboxAccount? (known: fieldnotes:topology, fieldnotes:parts, fieldnotes:sandboxAccount, fieldnotes:deployRoles, fieldnotes:ecsNetwork, fieldnotes:logRetentionDays, fieldnotes:research, fieldnotes:alarms, fieldnotes:dashboard, fieldnotes:tracing)',
    },
    {
      what: "an unquoted account that lost its leading zero",
      config: () => topologyOverride((t) => (t.subscribers[0].account = 22222222222)),
      message:
        'Invalid config fieldnotes:topology.subscribers[0].account: 22222222222 is not a 12-digit AWS account ID: if you typed 022222222222, YAML read it as a number and dropped the leading zero; quote it: "022222222222"',
    },
    {
      what: "several problems at once, one line each",
      config: async () => ({
        ...(await topologyOverride((t) => {
          t.subscribers[0].account = "12345";
          t.subscribers[1].delivery = "http";
          t.offload.kmss = true;
        })),
        "fieldnotes:sandboxAcount": "123456789012",
      }),
      message: [
        'Invalid config fieldnotes:sandboxAcount: "123456789012" is not a known key; did you mean fieldnotes:sandboxAccount? (known: fieldnotes:topology, fieldnotes:parts, fieldnotes:sandboxAccount, fieldnotes:deployRoles, fieldnotes:ecsNetwork, fieldnotes:logRetentionDays, fieldnotes:research, fieldnotes:alarms, fieldnotes:dashboard, fieldnotes:tracing)',
        'Invalid config fieldnotes:topology.subscribers[0].account: "12345" is not a 12-digit AWS account ID',
        'Invalid config fieldnotes:topology.subscribers[1].delivery: "http" is not one of "sqs", "lambda"',
        "Invalid config fieldnotes:topology.offload.kmss: true is not a known key; did you mean kms? (known: thresholdBytes, alwaysThroughS3, retentionDays, kms, replicationTimeControl)",
      ].join("\n"),
    },
  ];

  const results = new Map<string, Awaited<ReturnType<typeof planOf>>>();
  before(async () => {
    const configs = await Promise.all(cases.map((c) => c.config()));
    const plans = await limited(
      2,
      cases.map((_, i) => () => planOf("dev", configs[i])),
    );
    cases.forEach((c, i) => results.set(c.what, plans[i]));
  });

  for (const c of cases) {
    it(`${c.what}: "${c.message}"`, () => {
      const plan = results.get(c.what);
      assert.ok(plan?.error, "the program should have failed");
      assert.equal(plan.error.message, c.message);
      assert.equal(plan.error.resourcesBefore, 0);
      assert.deepEqual(plan.resources, []);
    });
  }
});

describe("a Lambda environment over 4 KB stops the program", function () {
  this.timeout(120_000);
  it("extraSources long enough to push SOURCE_ALLOWLIST over the limit: the error names the variable and the key", async () => {
    const extraSources = Array.from(
      { length: 60 },
      (_, i) => `research-data-${String(i).padStart(2, "0")}/${"p".repeat(50)}/`,
    );
    const plan = await planOf(
      "a-use1",
      await topologyOverride((t) => {
        t.publisher.extraSources = extraSources;
      }),
    );
    assert.ok(plan.error, "the program should have failed");
    assert.match(
      plan.error.message,
      /Lambda environment of fieldnotes-publisher is \d+ bytes \(names \+ values\), over Lambda's limit of 4096; SOURCE_ALLOWLIST takes \d+ bytes \(from fieldnotes:topology\.publisher\.extraSources/,
    );
  });
});
