import { strict as assert } from "assert";
import { boundedName, NameLimits } from "../../common/names";
import { regionCode } from "../../common/regions";
import { loadStackSettings, StackSettings } from "../../common/stack";
import { checkEnvironment, LAMBDA_ENV_MAX_BYTES } from "../../messaging/handler-function";
import { publisherNames, replicaNames, replicaRegions, subscriberNames } from "../../messaging/naming";
import { subscriberEnvironment } from "../../messaging/subscriber-common";
import { parseTopology, queueRetentionSeconds, selectParts } from "../../messaging/topology";

// The config validators the program calls first, called here directly in the test process (no
// plan), so that mutation testing of messaging/topology.ts sees them decide (docs/mutation.md).
// config.spec.ts runs the issue's cases through the whole program.

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

  it("refuses accounts of 11 and 13 digits, wherever an account is given", () => {
    // 11 digits reads as a 12-digit ID whose leading zero YAML dropped; the message says so.
    const reasons: Record<string, string> = {
      "11111111111":
        'is not a 12-digit AWS account ID: if you typed 011111111111, YAML read it as a number and dropped the leading zero; quote it: "011111111111"',
      "1111111111111": "is not a 12-digit AWS account ID",
    };
    for (const [bad, reason] of Object.entries(reasons)) {
      const t = topology();
      t.publisher.account = bad;
      assert.throws(() => parseTopology(t), {
        message: `Invalid config fieldnotes:topology.publisher.account: "${bad}" ${reason}`,
      });
      const u = topology();
      u.subscribers[1].account = bad;
      assert.throws(() => parseTopology(u), {
        message: `Invalid config fieldnotes:topology.subscribers[1].account: "${bad}" ${reason}`,
      });
      const w = topology();
      Object.assign(w.publisher, { producers: ["111111111111", bad] });
      assert.throws(() => parseTopology(w), {
        message: `Invalid config fieldnotes:topology.publisher.producers[1]: "${bad}" ${reason}`,
      });
    }
  });

  it("refuses an STS session ARN as a producer, naming the role ARN to use", () => {
    const t = topology();
    Object.assign(t.publisher, {
      producers: ["arn:aws:sts::444444444444:assumed-role/uploader/botocore-session-17"],
    });
    assert.throws(() => parseTopology(t), {
      message:
        "Invalid config fieldnotes:topology.publisher.producers[0]: \"arn:aws:sts::444444444444:assumed-role/uploader/botocore-session-17\" is an STS assumed-role session ARN, which never matches aws:PrincipalArn; use the role's ARN arn:aws:iam::444444444444:role/uploader (with the role's path, if it has one)",
    });
    Object.assign(t.publisher, { producers: ["arn:aws:sts::444444444444:federated-user/bob"] });
    assert.throws(() => parseTopology(t), /producers\[0\]: .* is an STS session ARN, which never matches/);
  });

  it("refuses producer ARNs with an empty or malformed name, and accepts roles and users with paths", () => {
    const bad = [
      "arn:aws:iam::444444444444:role/",
      "arn:aws:iam::444444444444:role",
      "arn:aws:iam::444444444444:role//x",
      "arn:aws:iam::444444444444:group/uploaders",
      "arn:aws:iam::44444444444:role/uploader",
      "arn:aws:iam::444444444444:role/up loader",
      `arn:aws:iam::444444444444:role/${"r".repeat(65)}`,
      "arn:aws-cn:iam::444444444444:role/uploader",
    ];
    for (const arn of bad) {
      const t = topology();
      Object.assign(t.publisher, { producers: [arn] });
      assert.throws(
        () => parseTopology(t),
        {
          message: `Invalid config fieldnotes:topology.publisher.producers[0]: ${JSON.stringify(arn)} is neither a 12-digit account ID nor an IAM role or user ARN (arn:aws:iam::<account>:role/<name>, name 1–64 characters)`,
        },
        arn,
      );
    }
    const good = [
      "arn:aws:iam::444444444444:role/uploader",
      "arn:aws:iam::444444444444:role/teams/data/uploader",
      "arn:aws:iam::444444444444:user/ci",
      `arn:aws:iam::444444444444:role/${"r".repeat(64)}`,
    ];
    const t = topology();
    Object.assign(t.publisher, { producers: good });
    assert.deepEqual(parseTopology(t).publisher.producers, good);
  });

  it("refuses a subnet or security group listed twice", () => {
    const parsed = parseTopology(topology());
    const net = (subnetIds: string[], securityGroupIds: string[]) => ({ c: { subnetIds, securityGroupIds } });
    assert.throws(
      () =>
        selectParts(
          parsed,
          stack(["c"]),
          net(["subnet-0aa11bb2", "subnet-0aa11bb2"], ["sg-0123456789abcdef0"]),
        ),
      { message: 'Invalid config fieldnotes:ecsNetwork.c.subnetIds[1]: "subnet-0aa11bb2" is listed twice' },
    );
    assert.throws(
      () =>
        selectParts(
          parsed,
          stack(["c"]),
          net(["subnet-0aa11bb2"], ["sg-0123456789abcdef0", "sg-0123456789abcdef0"]),
        ),
      {
        message:
          'Invalid config fieldnotes:ecsNetwork.c.securityGroupIds[1]: "sg-0123456789abcdef0" is listed twice',
      },
    );
    assert.deepEqual(
      selectParts(parsed, stack(["c"]), net(["subnet-0aa11bb2", "subnet-0aa11bb3"], ["sg-0123456789abcdef0"]))
        .ecsNetworks.c.subnetIds,
      ["subnet-0aa11bb2", "subnet-0aa11bb3"],
    );
  });

  describe("opt-in Regions (SNS cross-Region delivery)", () => {
    const withRegions = (topic: string, b: string, c: string) => {
      const t = topology();
      t.publisher.region = topic;
      t.subscribers[0].region = b;
      t.subscribers[1].region = c;
      return t;
    };

    it("refuses a topic in a default Region delivering to Lambda in an opt-in Region", () => {
      assert.throws(() => parseTopology(withRegions("us-east-1", "us-west-2", "af-south-1")), {
        message:
          'Invalid config fieldnotes:topology.subscribers[1].region: "af-south-1" is an opt-in Region; SNS does not deliver from a topic in a default Region (us-east-1) to Lambda in an opt-in Region (use delivery "sqs", or the topic\'s Region)',
      });
    });

    it("refuses a topic in an opt-in Region delivering to another opt-in Region, by queue or by Lambda", () => {
      assert.throws(() => parseTopology(withRegions("ap-east-1", "me-south-1", "ap-east-1")), {
        message:
          'Invalid config fieldnotes:topology.subscribers[0].region: "me-south-1" is an opt-in Region and the topic\'s Region ap-east-1 is another opt-in Region; SNS does not deliver from one opt-in Region to another',
      });
      assert.throws(
        () => parseTopology(withRegions("ap-east-1", "ap-east-1", "eu-south-2")),
        /subscribers\[1\]\.region: "eu-south-2" is an opt-in Region and the topic's Region ap-east-1 is another opt-in Region/,
      );
    });

    it("accepts the supported combinations", () => {
      // opt-in topic → default Regions (queue and Lambda), same opt-in Region, default topic → opt-in queue.
      assert.doesNotThrow(() => parseTopology(withRegions("ap-east-1", "us-west-2", "us-east-1")));
      assert.doesNotThrow(() => parseTopology(withRegions("ap-east-1", "ap-east-1", "ap-east-1")));
      assert.doesNotThrow(() => parseTopology(withRegions("us-east-1", "af-south-1", "us-east-1")));
    });
  });

  it("accepts redrive roles only for a queue subscriber, and only in its own account", () => {
    const t = topology();
    Object.assign(t.subscribers[0], { redriveRoles: ["arn:aws:iam::222222222222:role/ops/redrive"] });
    assert.deepEqual(parseTopology(t).subscribers[0].redriveRoles, [
      "arn:aws:iam::222222222222:role/ops/redrive",
    ]);
    assert.deepEqual(parseTopology(topology()).subscribers[0].redriveRoles, []);
    Object.assign(t.subscribers[0], { redriveRoles: ["arn:aws:iam::333333333333:role/redrive"] });
    assert.throws(() => parseTopology(t), {
      message:
        "Invalid config fieldnotes:topology.subscribers[0].redriveRoles[0]: \"arn:aws:iam::333333333333:role/redrive\" is a role in account 333333333333, not in the subscriber's account 222222222222; a DLQ redrive runs in the queue's account",
    });
    Object.assign(t.subscribers[0], { redriveRoles: ["arn:aws:iam::222222222222:user/ops"] });
    assert.throws(
      () => parseTopology(t),
      /redriveRoles\[0\]: "arn:aws:iam::222222222222:user\/ops" is not an IAM role ARN/,
    );
    Object.assign(t.subscribers[0], { redriveRoles: ["arn:aws:sts::222222222222:assumed-role/ops/me"] });
    assert.throws(() => parseTopology(t), /use the role's ARN arn:aws:iam::222222222222:role\/ops/);
    const u = topology();
    Object.assign(u.subscribers[1], { redriveRoles: ["arn:aws:iam::333333333333:role/redrive"] });
    assert.throws(
      () => parseTopology(u),
      /subscribers\[1\]\.redriveRoles: .* applies only to delivery "sqs"/,
    );
  });

  it("gives a replica only to a subscriber outside the publisher's Region, one bucket per Region", () => {
    assert.equal(parseTopology(topology()).subscribers[0].replica, false);
    const t = topology();
    Object.assign(t.subscribers[0], { replica: true });
    const parsed = parseTopology(t);
    assert.deepEqual(replicaRegions(parsed), ["us-west-2"]);
    const replica = replicaNames(parsed, "us-west-2");
    assert.equal(replica.account, "111111111111");
    assert.equal(replica.bucket, "fieldnotes-payloads-111111111111-us-west-2");
    assert.notEqual(replica.bucket, publisherNames(parsed).bucket);
    Object.assign(t.subscribers[1], { replica: true });
    assert.throws(() => parseTopology(t), {
      message:
        "Invalid config fieldnotes:topology.subscribers[1].replica: true needs a subscriber in another Region than the publisher's (us-east-1): there the payload bucket is already local",
    });
    Object.assign(t.subscribers[1], { replica: "yes" });
    assert.throws(() => parseTopology(t), /subscribers\[1\]\.replica: "yes"/);
  });

  it("derives queue retention from payload retention, so no queue outlives its payloads", () => {
    // Payloads kept 7 days: queues keep messages 7 days less one Lambda timeout (the longest time
    // between writing an object and publishing its pointer).
    assert.equal(queueRetentionSeconds({ retentionDays: 7 }), 7 * 86_400 - 900);
    assert.equal(queueRetentionSeconds({ retentionDays: 1 }), 86_400 - 900);
    // SQS keeps at most 14 days: longer payload retention leaves the queues at 14 days.
    assert.equal(queueRetentionSeconds({ retentionDays: 14 }), 14 * 86_400 - 900);
    assert.equal(queueRetentionSeconds({ retentionDays: 15 }), 1_209_600);
    assert.equal(queueRetentionSeconds({ retentionDays: 3650 }), 1_209_600);
  });

  it("refuses a Lambda environment over 4 KB (names + values), naming the largest variable", () => {
    const base = { TOPIC_ARN: "arn:aws:sns:us-east-1:111111111111:fieldnotes-messages" };
    const room =
      LAMBDA_ENV_MAX_BYTES - "TOPIC_ARN".length - base.TOPIC_ARN.length - "SOURCE_ALLOWLIST".length;
    // Exactly at the limit: accepted. One byte over (a two-byte character in place of one): refused.
    assert.doesNotThrow(() => checkEnvironment({ ...base, SOURCE_ALLOWLIST: "b".repeat(room) }));
    assert.throws(
      () =>
        checkEnvironment({ ...base, SOURCE_ALLOWLIST: `${"b".repeat(room - 1)}é` }, "fieldnotes-publisher"),
      {
        message: `Lambda environment of fieldnotes-publisher is ${LAMBDA_ENV_MAX_BYTES + 1} bytes (names + values), over Lambda's limit of 4096; SOURCE_ALLOWLIST takes ${room + 1 + "SOURCE_ALLOWLIST".length} bytes (from fieldnotes:topology.publisher.extraSources: shorten or remove entries)`,
      },
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

  it("tells a subscriber with a replica where it is: PAYLOAD_REPLICAS and both buckets allowed", () => {
    const t = topology();
    Object.assign(t.subscribers[0], { replica: true });
    const parsed = parseTopology(t);
    const pub = publisherNames(parsed);
    const [b] = parsed.subscribers;
    const replica = replicaNames(parsed, "us-west-2");
    const env = subscriberEnvironment(pub, b, {}, undefined, { rawMessageDelivery: true }, replica);
    assert.equal(
      env.PAYLOAD_REPLICAS,
      "fieldnotes-payloads-111111111111-us-east-1=fieldnotes-payloads-111111111111-us-west-2",
    );
    assert.equal(
      env.PAYLOAD_BUCKET_ALLOWLIST,
      "fieldnotes-payloads-111111111111-us-east-1,fieldnotes-payloads-111111111111-us-west-2",
    );
    // The key prefix allow-list is the same in both buckets: only payloads/ replicates.
    assert.equal(env.PAYLOAD_KEY_PREFIX_ALLOWLIST, "payloads/");
    const withoutReplica = parseTopology(topology()).subscribers[0];
    const plain = subscriberEnvironment(pub, withoutReplica, {}, undefined, { rawMessageDelivery: true });
    assert.ok(!("PAYLOAD_REPLICAS" in plain));
    assert.equal(plain.PAYLOAD_BUCKET_ALLOWLIST, pub.bucket);
    // A replica given where none was asked for, asked for but not given, or in another Region: refused.
    assert.throws(
      () => subscriberEnvironment(pub, b, {}, undefined, { rawMessageDelivery: true }),
      /subscriber b: replica is true but the environment was given no replica/,
    );
    assert.throws(
      () => subscriberEnvironment(pub, b, {}, undefined, undefined, replicaNames(parsed, "eu-west-1")),
      /the replica fieldnotes-payloads-111111111111-eu-west-1 in eu-west-1; a replica must be in the subscriber's Region \(us-west-2\)/,
    );
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

describe("topology rules across keys, reported with every other problem", () => {
  const A = "111111111111";
  const B = "222222222222";
  const C = "333333333333";
  const lines = (t: unknown) => {
    try {
      parseTopology(t);
    } catch (e) {
      return (e as Error).message.split("\n").map((l) => l.replace("Invalid config fieldnotes:topology", ""));
    }
    assert.fail("the topology should have been refused");
  };

  it("runs each rule whose keys are valid while other keys are wrong, and reports both kinds at once", () => {
    const t = {
      fifo: true,
      publisher: { account: A, region: "us-east-1", memoryMb: 100 },
      subscribers: [
        {
          ...{ name: "b", account: B, region: "us-west-2", delivery: "sqs", downstream: "stepfunctions" },
          ...{ retryAttempts: 3, batchSize: 50, replica: true },
        },
        {
          ...{ name: "b", account: C, region: "af-south-1", delivery: "lambda", downstream: "ecs" },
          ...{ taskMemoryMb: 4096, redriveRoles: [`arn:aws:iam::${B}:role/redrive`] },
        },
        {
          ...{ name: "d", account: A, region: "us-east-1", delivery: "sqs", downstream: "none" },
          ...{ replica: true, filterPolicy: {}, previewBytes: -1 },
        },
      ],
      offload: { kmss: true },
    };
    assert.deepEqual(lines(t), [
      ".publisher.memoryMb: 100 must be an integer from 128 to 10240",
      ".subscribers[0].retryAttempts: 3 must be an integer from 0 to 2",
      ".subscribers[0].batchWindowSeconds: 0 must be at least 1 when batchSize (50) is over 10",
      '.subscribers[1].redriveRoles: ["arn:aws:iam::222222222222:role/redrive"] applies only to delivery "sqs" (a DLQ redrive moves messages back into the SNS-fed queue)',
      ".subscribers[1].redriveRoles[0]: \"arn:aws:iam::222222222222:role/redrive\" is a role in account 222222222222, not in the subscriber's account 333333333333; a DLQ redrive runs in the queue's account",
      ".subscribers[1].taskMemoryMb: 4096 is not a Fargate memory size for taskCpu 256; use one of 512, 1024, 2048",
      ".subscribers[2].previewBytes: -1 must be an integer from 0 to 65536",
      ".subscribers[2].filterPolicy: {} must name at least one attribute",
      ".offload.kmss: true is not a known key; did you mean kms? (known: thresholdBytes, alwaysThroughS3, retentionDays, kms, replicationTimeControl)",
      '.subscribers[1].region: "af-south-1" is an opt-in Region; SNS does not deliver from a topic in a default Region (us-east-1) to Lambda in an opt-in Region (use delivery "sqs", or the topic\'s Region)',
      '.subscribers[1].name: "b" is a duplicate subscriber name',
      ".subscribers[2].replica: true needs a subscriber in another Region than the publisher's (us-east-1): there the payload bucket is already local",
      ".subscribers[0].batchSize: 50 must be at most 10: Lambda reads a FIFO queue in batches of 10 or fewer",
      '.subscribers[1].delivery: "lambda" cannot subscribe to a FIFO topic (fieldnotes:topology.fifo is true): SNS FIFO topics do not deliver to Lambda. Use delivery "sqs": the subscriber gets a FIFO queue and its function keeps each message group\'s order',
    ]);
    const u = {
      publisher: { account: A, region: "us-east-1", timeoutSeconds: 0 },
      subscribers: [{ name: "b", account: B, region: "us-west-2", delivery: "sqs", downstream: "none" }],
      offload: { replicationTimeControl: true },
    };
    assert.deepEqual(lines(u), [
      ".publisher.timeoutSeconds: 0 must be an integer from 1 to 900",
      ".offload.replicationTimeControl: true applies to replication, which needs at least one subscriber with replica: true",
    ]);
  });

  it("skips a rule when a key it reads is wrong itself, and reports that key", () => {
    const t = {
      fifo: "yes",
      publisher: { account: A, region: "mars-1" },
      subscribers: [
        {
          ...{ name: "b", account: B, region: "af-south-1", delivery: "lambda", downstream: "none" },
          ...{ batchSize: 20_000 },
        },
        {
          ...{ name: "d", account: C, region: "us-east-1", delivery: "lambda", downstream: "ecs" },
          ...{ taskCpu: 300, taskMemoryMb: 4096, redriveRoles: ["nope"], filterPolicyScope: "MessageBody" },
        },
      ],
      offload: { replicationTimeControl: "yes" },
    };
    // Not reported: the FIFO rules (fifo), the opt-in Region rule (publisher.region), the batching
    // window (batchSize), the Fargate pair (taskCpu) and the redrive rule (redriveRoles); the
    // filter scope's rule reads nothing wrong, so it runs.
    assert.deepEqual(lines(t), [
      '.fifo: "yes" must be true or false',
      '.publisher.region: "mars-1" is not a known AWS Region (commercial partition, e.g. us-east-1)',
      ".subscribers[0].batchSize: 20000 must be an integer from 1 to 10000",
      '.subscribers[1].redriveRoles[0]: "nope" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>, name 1–64 characters)',
      ".subscribers[1].taskCpu: 300 is not one of 256, 512, 1024, 2048, 4096",
      '.subscribers[1].filterPolicyScope: "MessageBody" must be "MessageAttributes": a MessageBody policy is matched against the body SNS carries, which for an offloaded payload is the S3 pointer, so it would match or drop messages by their size, not their content. Have the producer set message attributes and filter on those',
      '.offload.replicationTimeControl: "yes" must be true or false',
    ]);
    // Wrong keys inside subscribers: a rule across subscribers waits for every one of them (the
    // duplicate name of [2] is not reported while [0]'s name is wrong), and each rule that reads a
    // wrong key waits: the redrive rules (delivery, account), the opt-in Region rule (delivery),
    // replication time control (replica).
    const role = `arn:aws:iam::${B}:role/redrive`;
    const u = {
      publisher: { account: A, region: "ap-east-1" },
      subscribers: [
        {
          ...{ name: "B", account: B, region: "me-south-1", delivery: "http", downstream: "none" },
          ...{ redriveRoles: [role], replica: 0 },
        },
        {
          name: "b",
          account: "12345",
          region: "ap-east-1",
          delivery: "sqs",
          downstream: "none",
          redriveRoles: [role],
        },
        { name: "b", account: C, region: "ap-east-1", delivery: "sqs", downstream: "none" },
      ],
      offload: { replicationTimeControl: true },
    };
    assert.deepEqual(lines(u), [
      '.subscribers[0].name: "B" must be 1–32 lowercase letters, digits or hyphens, starting with a letter',
      '.subscribers[0].delivery: "http" is not one of "sqs", "lambda"',
      ".subscribers[0].replica: 0 must be true or false",
      '.subscribers[1].account: "12345" is not a 12-digit AWS account ID',
    ]);
    // A subscriber that is not an object: the rules across subscribers wait; each other
    // subscriber's own rules still run.
    const w = {
      publisher: { account: A, region: "us-east-1" },
      subscribers: [
        { name: "b", account: B, region: "us-west-2", delivery: "sqs", downstream: "none" },
        {
          name: "b",
          account: C,
          region: "us-east-1",
          delivery: "sqs",
          downstream: "none",
          taskMemoryMb: 4096,
        },
        "x",
      ],
    };
    assert.deepEqual(lines(w), [
      ".subscribers[1].taskMemoryMb: 4096 is not a Fargate memory size for taskCpu 256; use one of 512, 1024, 2048",
      '.subscribers[2]: "x" must be an object with name, account, region, delivery and downstream',
    ]);
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
