import { strict as assert } from "assert";
import { boundedName, NameLimits } from "../../common/names";
import { regionCode } from "../../common/regions";
import { loadStackSettings, StackSettings } from "../../common/stack";
import { checkEnvironment } from "../../messaging/handler-function";
import { publisherNames, subscriberNames } from "../../messaging/naming";
import { subscriberEnvironment } from "../../messaging/subscriber-common";
import { parseTopology, selectParts } from "../../messaging/topology";
import { limited, planOf, topologyOverride } from "./plans";

// Bad config stops the program before any resource is registered, with a message naming the key
// and the value. The cases run through the real program (planStack); the rest call the
// validators directly, which is what the program calls first.

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
        "Invalid config fieldnotes:topology.offload.kmss: true is not a known key; did you mean kms? (known: thresholdBytes, alwaysThroughS3, retentionDays, kms)",
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
        "Invalid config fieldnotes:topology.offload.kmss: true is not a known key; did you mean kms? (known: thresholdBytes, alwaysThroughS3, retentionDays, kms)",
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

describe("config validation details", () => {
  const topology = () => ({
    publisher: { account: "111111111111", region: "us-east-1" },
    subscribers: [
      {
        name: "b",
        account: "222222222222",
        region: "us-west-2",
        delivery: "sqs",
        downstream: "stepfunctions",
      },
      { name: "c", account: "333333333333", region: "us-east-1", delivery: "lambda", downstream: "ecs" },
    ],
  });
  const config = (values: Record<string, unknown>) => ({
    name: "fieldnotes",
    get: (key: string) => {
      const v = values[key];
      return v === undefined ? undefined : typeof v === "string" ? v : JSON.stringify(v);
    },
  });
  const stack = (subscribers: string[]): StackSettings => ({
    parts: { publisher: false, subscribers, research: false },
    deployRoles: {},
  });

  it("requires a parts list, and names unknown and repeated parts", () => {
    assert.throws(() => loadStackSettings(config({})), {
      message:
        'Invalid config fieldnotes:parts: (not set) must be a non-empty list of parts: "publisher", "subscriber/<name>" or "research"',
    });
    assert.throws(() => loadStackSettings(config({ parts: ["publisher", "queue"] })), {
      message:
        'Invalid config fieldnotes:parts[1]: "queue" is not a part: use "publisher", "subscriber/<name>" or "research"',
    });
    assert.throws(() => loadStackSettings(config({ parts: ["publisher", "publisher"] })), {
      message: 'Invalid config fieldnotes:parts[1]: "publisher" is listed twice',
    });
    assert.deepEqual(loadStackSettings(config({ parts: ["subscriber/b", "research"] })).parts, {
      publisher: false,
      subscribers: ["b"],
      research: true,
    });
  });

  it("checks deploy roles and the sandbox account", () => {
    assert.throws(
      () => loadStackSettings(config({ parts: ["publisher"], deployRoles: { "222222222222": "deployer" } })),
      {
        message:
          'Invalid config fieldnotes:deployRoles.222222222222: "deployer" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)',
      },
    );
    assert.throws(
      () =>
        loadStackSettings(
          config({
            parts: ["publisher"],
            deployRoles: { "222222222222": "arn:aws:iam::333333333333:role/deployer" },
          }),
        ),
      {
        message:
          'Invalid config fieldnotes:deployRoles.222222222222: "arn:aws:iam::333333333333:role/deployer" is a role in account 333333333333, not in 222222222222',
      },
    );
    assert.throws(() => loadStackSettings(config({ parts: ["publisher"], sandboxAccount: "1234" })), {
      message: 'Invalid config fieldnotes:sandboxAccount: "1234" is not a 12-digit AWS account ID',
    });
  });

  it("refuses an unknown key at every level of the topology, suggesting the closest known key", () => {
    const cases: [(t: ReturnType<typeof topology>) => void, string][] = [
      [
        (t) => Object.assign(t, { sytem: "x" }),
        'fieldnotes:topology.sytem: "x" is not a known key; did you mean system?',
      ],
      [
        (t) => Object.assign(t.publisher, { regoin: "us-east-1" }),
        'fieldnotes:topology.publisher.regoin: "us-east-1" is not a known key; did you mean region?',
      ],
      [
        (t) => Object.assign(t.subscribers[1], { batchsize: 5 }),
        "fieldnotes:topology.subscribers[1].batchsize: 5 is not a known key; did you mean batchSize?",
      ],
      [
        (t) => Object.assign(t, { offload: { kmss: true } }),
        "fieldnotes:topology.offload.kmss: true is not a known key; did you mean kms?",
      ],
      [
        (t) => Object.assign(t.publisher, { colour: "blue" }),
        'fieldnotes:topology.publisher.colour: "blue" is not a known key (known: account, region, producers',
      ],
    ];
    for (const [change, expected] of cases) {
      const t = topology();
      change(t);
      assert.throws(
        () => parseTopology(t),
        (e: Error) => e.message.startsWith(`Invalid config ${expected}`) && !e.message.includes("\n"),
        expected,
      );
    }
    const parsed = parseTopology(topology());
    assert.throws(
      () =>
        selectParts(parsed, stack(["c"]), {
          c: { subnetId: ["subnet-0123456789abcdef0"], securityGroupIds: ["sg-0123456789abcdef0"] },
        }),
      {
        message: [
          "Invalid config fieldnotes:ecsNetwork.c.subnetIds: (not set) must be a list",
          'Invalid config fieldnotes:ecsNetwork.c.subnetId: ["subnet-0123456789abcdef0"] is not a known key; did you mean subnetIds? (known: subnetIds, securityGroupIds)',
        ].join("\n"),
      },
    );
  });

  it("refuses an unknown stack key, and reports it with the other stack-level problems", () => {
    assert.throws(
      () =>
        loadStackSettings(config({ parts: ["publisher", "queue"], sandboxAccount: "12345678901" }), [
          "fieldnotes:parts",
          "fieldnotes:sandboxAccount",
          "fieldnotes:deployRole",
          "aws:region",
        ]),
      {
        message: [
          "Invalid config fieldnotes:deployRole: (not set) is not a known key; did you mean fieldnotes:deployRoles? (known: fieldnotes:topology, fieldnotes:parts, fieldnotes:sandboxAccount, fieldnotes:deployRoles, fieldnotes:ecsNetwork, fieldnotes:logRetentionDays, fieldnotes:research, fieldnotes:alarms, fieldnotes:dashboard, fieldnotes:tracing)",
          'Invalid config fieldnotes:parts[1]: "queue" is not a part: use "publisher", "subscriber/<name>" or "research"',
          'Invalid config fieldnotes:sandboxAccount: "12345678901" is not a 12-digit AWS account ID: if you typed 012345678901, YAML read it as a number and dropped the leading zero; quote it: "012345678901"',
        ].join("\n"),
      },
    );
  });

  it("hints at a lost leading zero in a deploy role's account", () => {
    assert.throws(
      () =>
        loadStackSettings(
          config({
            parts: ["publisher"],
            deployRoles: { "22222222222": "arn:aws:iam::022222222222:role/d" },
          }),
        ),
      {
        message:
          'Invalid config fieldnotes:deployRoles: "22222222222" has a key that is not a 12-digit AWS account ID: if you typed 022222222222, YAML read it as a number and dropped the leading zero; quote it: "022222222222"',
      },
    );
  });

  it("refuses an account given as a YAML number (leading zeros would be lost)", () => {
    const t = topology();
    (t.publisher as Record<string, unknown>).account = 111111111111;
    assert.throws(() => parseTopology(t), {
      message:
        'Invalid config fieldnotes:topology.publisher.account: 111111111111 is not a 12-digit AWS account ID: write it as a quoted string ("111111111111"), or a leading zero is lost',
    });
  });

  it("refuses a batch over 10 records without a batching window (the mapping API would)", () => {
    const t = topology();
    Object.assign(t.subscribers[0], { batchSize: 50 });
    assert.throws(() => parseTopology(t), {
      message:
        "Invalid config fieldnotes:topology.subscribers[0].batchWindowSeconds: 0 must be at least 1 when batchSize (50) is over 10",
    });
    Object.assign(t.subscribers[0], { batchWindowSeconds: 2 });
    assert.equal(parseTopology(t).subscribers[0].batchSize, 50);
  });

  it("refuses out-of-range numbers, naming the range", () => {
    const t = topology();
    Object.assign(t.subscribers[1], { retryAttempts: 3 });
    assert.throws(() => parseTopology(t), {
      message:
        "Invalid config fieldnotes:topology.subscribers[1].retryAttempts: 3 must be an integer from 0 to 2",
    });
    assert.throws(
      () => parseTopology(topology(), { logRetentionDays: "10" }),
      /Invalid config fieldnotes:logRetentionDays: "10" must be one of the CloudWatch Logs retention periods/,
    );
  });

  it("refuses a task CPU and memory that are not a Fargate pair (RegisterTaskDefinition would)", () => {
    const t = topology();
    Object.assign(t.subscribers[1], { taskCpu: 256, taskMemoryMb: 4096 });
    assert.throws(() => parseTopology(t), {
      message:
        "Invalid config fieldnotes:topology.subscribers[1].taskMemoryMb: 4096 is not a Fargate memory size for taskCpu 256; use one of 512, 1024, 2048",
    });
    Object.assign(t.subscribers[1], { taskCpu: 1024, taskMemoryMb: 3000 });
    assert.throws(() => parseTopology(t), /taskMemoryMb: 3000 is not a Fargate memory size for taskCpu 1024/);
    Object.assign(t.subscribers[1], { taskCpu: 4096, taskMemoryMb: 30720 });
    assert.equal(parseTopology(t).subscribers[1].taskMemoryMb, 30720);
    // The defaults are a valid pair.
    assert.deepEqual(
      [
        parseTopology(topology()).subscribers[1].taskCpu,
        parseTopology(topology()).subscribers[1].taskMemoryMb,
      ],
      [256, 512],
    );
  });

  it("requires the network of an ECS subscriber the stack deploys, with well-formed IDs", () => {
    const parsed = parseTopology(topology());
    assert.throws(() => selectParts(parsed, stack(["c"]), undefined), {
      message:
        "Invalid config fieldnotes:ecsNetwork.c: (not set) is required for a subscriber with downstream ecs: {subnetIds: [subnet-…], securityGroupIds: [sg-…]} of the VPC the Fargate task runs in",
    });
    assert.throws(
      () =>
        selectParts(parsed, stack(["c"]), {
          c: { subnetIds: ["subnet-xyz"], securityGroupIds: ["sg-0123456789abcdef0"] },
        }),
      {
        message:
          'Invalid config fieldnotes:ecsNetwork.c.subnetIds[0]: "subnet-xyz" is not a subnet ID (subnet-…)',
      },
    );
    assert.throws(() => selectParts(parsed, stack(["b"]), { d: {} }), {
      message: [
        "Invalid config fieldnotes:ecsNetwork.d.subnetIds: (not set) must be a list",
        "Invalid config fieldnotes:ecsNetwork.d.securityGroupIds: (not set) must be a list",
        'Invalid config fieldnotes:ecsNetwork: "d" names no subscriber of the topology',
      ].join("\n"),
    });
    assert.deepEqual(
      selectParts(parsed, stack(["b"]), undefined).ecsNetworks,
      {},
      "a stack without ECS subscribers needs no network",
    );
  });

  it("sandboxAccount replaces every account, so one account hosts all parts", () => {
    const parsed = parseTopology(topology(), { sandboxAccount: "123456789012" });
    assert.deepEqual(
      [parsed.publisher.account, ...parsed.subscribers.map((s) => s.account), ...parsed.publisher.producers],
      Array(4).fill("123456789012"),
    );
  });

  it("refuses to build an ECS subscriber's environment without its network", () => {
    const parsed = parseTopology(topology());
    const c = parsed.subscribers[1];
    assert.throws(() => subscriberEnvironment(publisherNames(parsed), c, {}, undefined), {
      message:
        'subscriber c: downstream "ecs" needs its cluster, task definition and ecsNetwork (subnets and security groups)',
    });
  });

  it("refuses Lambda's reserved environment names", () => {
    assert.throws(() => checkEnvironment({ AWS_REGION: "us-east-1" }), /AWS_REGION is reserved/);
    assert.throws(
      () => checkEnvironment({ AWS_LAMBDA_FUNCTION_NAME: "x" }),
      /AWS_LAMBDA_FUNCTION_NAME is reserved/,
    );
    assert.doesNotThrow(() => checkEnvironment({ PAYLOAD_BUCKET_REGION: "us-east-1" }));
  });
});

describe("names are deterministic and within AWS limits", () => {
  it("shortens an over-long name with a stable hash, keeping distinct names distinct", () => {
    const long = `${"x".repeat(70)}-consumer`;
    const short = boundedName(long, 64);
    assert.equal(short.length, 64);
    assert.equal(short, boundedName(long, 64));
    assert.match(short, /^x+-[0-9a-f]{8}$/);
    assert.notEqual(boundedName(`${"x".repeat(70)}-consumer2`, 64), short);
    assert.equal(boundedName("fieldnotes-b-consumer", 64), "fieldnotes-b-consumer");
  });

  it("gives short Region codes", () => {
    assert.deepEqual(
      ["us-east-1", "us-west-2", "ap-southeast-2", "eu-central-1", "ap-northeast-3"].map(regionCode),
      ["use1", "usw2", "apse2", "euc1", "apne3"],
    );
  });

  it("keeps every derived name within its limit for the longest names the topology accepts", () => {
    const t = parseTopology({
      system: "a".repeat(24),
      publisher: { account: "111111111111", region: "ap-southeast-2" },
      subscribers: [
        {
          name: "s".repeat(32),
          account: "222222222222",
          region: "ap-northeast-3",
          delivery: "sqs",
          downstream: "ecs",
        },
      ],
    });
    const pub = publisherNames(t);
    const sub = subscriberNames(t, t.subscribers[0]);
    const checks: [string, number][] = [
      [pub.bucket, NameLimits.s3Bucket],
      [pub.function, NameLimits.lambdaFunction],
      [pub.role, NameLimits.iamRole],
      [pub.rule, NameLimits.eventRule],
      [pub.failureQueue, NameLimits.sqsQueue],
      [sub.queue, NameLimits.sqsQueue],
      [sub.dlq, NameLimits.sqsQueue],
      [sub.deliveryDlq, NameLimits.sqsQueue],
      [sub.function, NameLimits.lambdaFunction],
      [sub.role, NameLimits.iamRole],
      [sub.stateMachineRole, NameLimits.iamRole],
      [sub.taskRole, NameLimits.iamRole],
      [sub.taskExecutionRole, NameLimits.iamRole],
      [sub.stateMachine, NameLimits.stateMachine],
    ];
    for (const [name, limit] of checks)
      assert.ok(name.length <= limit, `${name} (${name.length}) > ${limit}`);
    assert.match(pub.bucket, /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/);
    assert.ok(
      sub.taskExecutionRole.length === 64 && /-[0-9a-f]{8}$/.test(sub.taskExecutionRole),
      "the long role name was shortened",
    );
    assert.equal(sub.taskExecutionRoleArn, `arn:aws:iam::222222222222:role/${sub.taskExecutionRole}`);
  });
});
