import { strict as assert } from "assert";
import { StackSettings } from "../../common/stack";
import {
  checkMessaging,
  DEFAULT_TASK_IMAGE,
  fargateMemoryMb,
  loadMessaging,
  parseTopology,
  selectParts,
} from "../../messaging/topology";

// fieldnotes:topology at the edges of every rule, called in the test process: each key's default,
// the first and last value it accepts and the first it refuses (with the message naming the key and
// the value), and what the parsed topology carries on to the program. config-rules.spec.ts has the
// cross-key rules' cases; this spec is what lets mutation testing of messaging/topology.ts
// (docs/mutation.md) see a changed bound or default.

const A = "111111111111";
const B = "222222222222";
const C = "333333333333";
const SANDBOX = "123456789012";

type Raw = {
  publisher: Record<string, unknown>;
  subscribers: Record<string, unknown>[];
  offload?: unknown;
  [key: string]: unknown;
};
const base = (): Raw => ({
  publisher: { account: A, region: "us-east-1" },
  subscribers: [
    { name: "b", account: B, region: "us-west-2", delivery: "sqs", downstream: "stepfunctions" },
    { name: "c", account: C, region: "us-east-1", delivery: "lambda", downstream: "ecs" },
  ],
});
const changed = (change: (t: Raw) => void): Raw => {
  const t = base();
  change(t);
  return t;
};
/** The refusal of `t`, one line per problem, each "Invalid config <key>: <value> <reason>". */
const refused = (t: unknown, ...lines: string[]) =>
  assert.throws(() => parseTopology(t), {
    message: lines.map((l) => `Invalid config fieldnotes:topology${l}`).join("\n"),
  });

/** The same for a value too long to be quoted whole in the message. */
const refusedLong = (t: unknown, path: string, reason: string) =>
  assert.throws(
    () => parseTopology(t),
    (e: Error) =>
      e.message.startsWith(`Invalid config fieldnotes:topology${path}: "`) &&
      e.message.endsWith(` ${reason}`) &&
      !e.message.includes("\n"),
    path,
  );

const SUBSCRIBER_DEFAULTS = {
  timeoutSeconds: 300,
  memoryMb: 512,
  batchSize: 10,
  batchWindowSeconds: 0,
  maxReceiveCount: 5,
  retryAttempts: 2,
  previewBytes: 1024,
  redriveRoles: [],
  taskImage: DEFAULT_TASK_IMAGE,
  taskCpu: 256,
  taskMemoryMb: 512,
  replica: false,
};
const DEFAULTS = {
  system: "fieldnotes",
  fifo: false,
  publisher: {
    account: A,
    region: "us-east-1",
    producers: [A],
    detailType: "PublishPayload",
    extraSources: [],
    timeoutSeconds: 900,
    memoryMb: 512,
  },
  subscribers: [
    { ...base().subscribers[0], ...SUBSCRIBER_DEFAULTS },
    { ...base().subscribers[1], ...SUBSCRIBER_DEFAULTS },
  ],
  offload: {
    thresholdBytes: 262_144,
    alwaysThroughS3: false,
    retentionDays: 7,
    kms: false,
    replicationTimeControl: false,
  },
  logRetentionDays: 14,
};

describe("topology: every key at its edges", () => {
  it("fills every key left out with its default", () => {
    assert.deepEqual(parseTopology(base()), DEFAULTS);
    assert.equal(DEFAULT_TASK_IMAGE, "public.ecr.aws/docker/library/busybox:stable");
  });

  it("reads a key given as null (a YAML key left empty) as its default", () => {
    const nulls = (keys: string[]) => Object.fromEntries(keys.map((k) => [k, null]));
    const t = base();
    Object.assign(t, nulls(["system", "fifo", "offload"]));
    Object.assign(
      t.publisher,
      nulls(["producers", "detailType", "extraSources", "timeoutSeconds", "memoryMb"]),
    );
    for (const sub of t.subscribers)
      Object.assign(sub, nulls([...Object.keys(SUBSCRIBER_DEFAULTS), "filterPolicy", "filterPolicyScope"]));
    assert.deepEqual(parseTopology(t), DEFAULTS);
    const o = base();
    o.offload = nulls([
      "thresholdBytes",
      "alwaysThroughS3",
      "retentionDays",
      "kms",
      "replicationTimeControl",
    ]);
    assert.deepEqual(parseTopology(o), DEFAULTS);
  });

  // [where, key, first accepted, last accepted, what else the last value needs]
  const ranges: [string, string, number, number, Record<string, unknown>?][] = [
    ["publisher", "timeoutSeconds", 1, 900],
    ["publisher", "memoryMb", 128, 10_240],
    ["subscriber", "timeoutSeconds", 1, 900],
    ["subscriber", "memoryMb", 128, 10_240],
    ["subscriber", "batchSize", 1, 10_000, { batchWindowSeconds: 1 }],
    ["subscriber", "batchWindowSeconds", 0, 300],
    ["subscriber", "maxReceiveCount", 1, 1000],
    ["subscriber", "retryAttempts", 0, 2],
    ["subscriber", "previewBytes", 0, 65_536],
    ["subscriber", "taskMemoryMb", 512, 30_720, { taskCpu: 4096 }],
    ["offload", "retentionDays", 1, 3650],
    ["offload", "thresholdBytes", 0, 262_144],
  ];
  for (const [where, key, min, max, needs = {}] of ranges) {
    it(`${where}.${key}: ${min} to ${max}, integers only`, () => {
      const path = where === "subscriber" ? ".subscribers[0]" : `.${where}`;
      const at = (value: number) =>
        changed((t) => {
          const target =
            where === "subscriber"
              ? t.subscribers[0]
              : where === "publisher"
                ? t.publisher
                : (t.offload = {});
          Object.assign(target as Record<string, unknown>, value === max ? needs : {}, { [key]: value });
        });
      const read = (value: number) => {
        const parsed = parseTopology(at(value));
        const holder =
          where === "subscriber"
            ? parsed.subscribers[0]
            : where === "publisher"
              ? parsed.publisher
              : parsed.offload;
        return (holder as unknown as Record<string, unknown>)[key];
      };
      assert.equal(read(min), min);
      assert.equal(read(max), max);
      const upper = key === "thresholdBytes" ? Number.MAX_SAFE_INTEGER : max;
      for (const bad of [min - 1, min + 0.5])
        refused(at(bad), `${path}.${key}: ${bad} must be an integer from ${min} to ${upper}`);
      if (key === "thresholdBytes")
        refused(
          at(max + 1),
          `${path}.${key}: ${max + 1} is above the SNS message limit of 262144 bytes; messages that large cannot be published inline`,
        );
      else refused(at(max + 1), `${path}.${key}: ${max + 1} must be an integer from ${min} to ${max}`);
      refused(
        at(String(min) as unknown as number),
        `${path}.${key}: "${min}" must be an integer from ${min} to ${upper}`,
      );
    });
  }

  it("booleans take true or false only", () => {
    for (const [key, target] of [
      ["fifo", (t: Raw) => t],
      ["replica", (t: Raw) => t.subscribers[0]],
      ["alwaysThroughS3", (t: Raw) => (t.offload = {})],
      ["kms", (t: Raw) => (t.offload = {})],
    ] as const) {
      const where = key === "fifo" ? "" : key === "replica" ? ".subscribers[0]" : ".offload";
      refused(
        changed((t) => Object.assign(target(t) as object, { [key]: "true" })),
        `${where}.${key}: "true" must be true or false`,
      );
    }
    const on = parseTopology(
      changed((t) => {
        Object.assign(t, { fifo: true });
        t.subscribers = [{ ...t.subscribers[0], replica: true }];
        t.offload = { alwaysThroughS3: true, kms: true, replicationTimeControl: true };
      }),
    );
    assert.equal(on.fifo, true);
    assert.equal(on.subscribers[0].replica, true);
    assert.deepEqual(on.offload, {
      thresholdBytes: 262_144,
      alwaysThroughS3: true,
      retentionDays: 7,
      kms: true,
      replicationTimeControl: true,
    });
  });

  it("system: 1–24 lowercase letters, digits or hyphens, starting with a letter", () => {
    for (const ok of ["a", `a${"b1-".repeat(7)}cd`, "x-1"]) {
      assert.equal(ok.length <= 24, true);
      assert.equal(parseTopology(changed((t) => Object.assign(t, { system: ok }))).system, ok);
    }
    for (const bad of [`a${"b".repeat(24)}`, "1abc", "Abc", "a_b", "", "-ab"])
      refused(
        changed((t) => Object.assign(t, { system: bad })),
        `.system: ${JSON.stringify(bad)} must be 1–24 lowercase letters, digits or hyphens, starting with a letter`,
      );
  });

  it("subscriber name: 1–32 lowercase letters, digits or hyphens, starting with a letter", () => {
    const named = (name: string) => changed((t) => Object.assign(t.subscribers[0], { name }));
    for (const ok of ["d", `d${"9-".repeat(15)}x`])
      assert.equal(parseTopology(named(ok)).subscribers[0].name, ok);
    for (const bad of [`d${"x".repeat(32)}`, "9d", "D", "d.e", ""])
      refused(
        named(bad),
        `.subscribers[0].name: ${JSON.stringify(bad)} must be 1–32 lowercase letters, digits or hyphens, starting with a letter`,
      );
  });

  it("detailType: 1–128 of letters, digits, _, space, ., : and -", () => {
    const typed = (detailType: string) => changed((t) => Object.assign(t.publisher, { detailType }));
    for (const ok of ["x", "Order placed: v1.2-b_c", "d".repeat(128)])
      assert.equal(parseTopology(typed(ok)).publisher.detailType, ok);
    for (const bad of ["d".repeat(129), "", "a/b", "a\nb"])
      refusedLong(
        typed(bad),
        ".publisher.detailType",
        "must be 1 to 128 letters, digits, spaces and _ . : -",
      );
  });

  it("taskImage: 1–255 of letters, digits, _, ., -, /, : and @", () => {
    const image = (taskImage: string) => changed((t) => Object.assign(t.subscribers[1], { taskImage }));
    for (const ok of [
      "a",
      "111111111111.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2@sha256:ab_c",
      "i".repeat(255),
    ])
      assert.equal(parseTopology(image(ok)).subscribers[1].taskImage, ok);
    for (const bad of ["i".repeat(256), "", "app:1 2", "app;rm"])
      refusedLong(
        image(bad),
        ".subscribers[1].taskImage",
        "must be a container image reference: 1 to 255 letters, digits and _ . - / : @ (no spaces)",
      );
  });

  it('extraSources: "bucket/prefix" with a valid bucket name (3–63 characters) and a prefix without spaces or commas', () => {
    const sources = (extraSources: unknown) => changed((t) => Object.assign(t.publisher, { extraSources }));
    const good = ["abc/", "my.bucket-1/deep/prefix/", `${"a".repeat(63)}/`, "0ab/x"];
    assert.deepEqual(parseTopology(sources(good)).publisher.extraSources, good);
    for (const bad of [
      "ab/",
      `${"a".repeat(64)}/`,
      "Abc/x",
      "abc/x y",
      "abc/x,y",
      "abc",
      "abc-/x",
      "-abc/x",
      " abc/x",
    ])
      refused(
        sources(["abc/", bad]),
        `.publisher.extraSources[1]: ${JSON.stringify(bad)} is not a "bucket/prefix" S3 source`,
      );
    refused(sources(["abc/", 7]), `.publisher.extraSources[1]: 7 must be a string`);
    refused(sources("abc/"), `.publisher.extraSources: "abc/" must be a list`);
  });

  it("taskCpu is one of Fargate's CPU sizes; delivery and downstream one of theirs", () => {
    for (const cpu of [256, 512, 1024, 2048, 4096]) {
      const t = changed((t) =>
        Object.assign(t.subscribers[1], { taskCpu: cpu, taskMemoryMb: fargateMemoryMb(cpu)[0] }),
      );
      assert.equal(parseTopology(t).subscribers[1].taskCpu, cpu);
    }
    refused(
      changed((t) => Object.assign(t.subscribers[1], { taskCpu: 128 })),
      ".subscribers[1].taskCpu: 128 is not one of 256, 512, 1024, 2048, 4096",
    );
    for (const downstream of ["stepfunctions", "ecs", "none"])
      assert.equal(
        parseTopology(changed((t) => Object.assign(t.subscribers[0], { downstream }))).subscribers[0]
          .downstream,
        downstream,
      );
    refused(
      changed((t) => Object.assign(t.subscribers[0], { downstream: "lambda" })),
      '.subscribers[0].downstream: "lambda" is not one of "stepfunctions", "ecs", "none"',
    );
    refused(
      changed((t) => Object.assign(t.subscribers[1], { delivery: "https" })),
      '.subscribers[1].delivery: "https" is not one of "sqs", "lambda"',
    );
  });

  it("names the shape expected when a part of the topology is not an object or list", () => {
    refused("x", ': "x" must be an object with publisher, subscribers and offload');
    refused(
      changed((t) => Object.assign(t, { publisher: "x" })),
      '.publisher: "x" must be an object with account and region',
    );
    refused(
      changed((t) => Object.assign(t, { subscribers: "x" })),
      '.subscribers: "x" must be a non-empty list of subscribers',
    );
    refused(
      changed((t) => Object.assign(t, { subscribers: [] })),
      ".subscribers: [] must be a non-empty list of subscribers",
    );
    refused(
      changed((t) => Object.assign(t, { subscribers: ["x"] })),
      '.subscribers[0]: "x" must be an object with name, account, region, delivery and downstream',
    );
    refused(
      changed((t) => Object.assign(t, { offload: "x" })),
      '.offload: "x" must be an object',
    );
    refused(
      changed((t) => Object.assign(t.publisher, { producers: "x" })),
      '.publisher.producers: "x" must be a list',
    );
  });

  it("refuses principals that are not account IDs or IAM role or user ARNs, saying why", () => {
    const producer = (p: unknown) => changed((t) => Object.assign(t.publisher, { producers: [A, p] }));
    const redrive = (r: unknown) => changed((t) => Object.assign(t.subscribers[0], { redriveRoles: [r] }));
    refused(producer(5), ".publisher.producers[1]: 5 must be a string");
    refused(redrive(5), ".subscribers[0].redriveRoles[0]: 5 must be a string");
    // A list nested by a YAML indentation slip: its text would pass for the ARN.
    const nested = [`arn:aws:iam::${B}:role/r`];
    refused(producer(nested), `.publisher.producers[1]: ["arn:aws:iam::${B}:role/r"] must be a string`);
    refused(
      redrive(nested),
      `.subscribers[0].redriveRoles[0]: ["arn:aws:iam::${B}:role/r"] must be a string`,
    );
    refused(producer("1234"), '.publisher.producers[1]: "1234" is not a 12-digit AWS account ID');
    refused(
      producer(`${B}x`),
      `.publisher.producers[1]: "${B}x" is neither a 12-digit account ID nor an IAM role or user ARN (arn:aws:iam::<account>:role/<name>, name 1–64 characters)`,
    );
    const federated = `arn:aws:sts::${B}:federated-user/bob`;
    const sessionReason =
      "is an STS session ARN, which never matches aws:PrincipalArn; use the IAM role or user ARN (arn:aws:iam::<account>:role/<name>)";
    refused(producer(federated), `.publisher.producers[1]: "${federated}" ${sessionReason}`);
    refused(redrive(federated), `.subscribers[0].redriveRoles[0]: "${federated}" ${sessionReason}`);
    const session = `arn:aws:sts::${B}:assumed-role/ops.redrive/me@example.com`;
    refused(
      redrive(session),
      `.subscribers[0].redriveRoles[0]: "${session}" is an STS assumed-role session ARN, which never matches aws:PrincipalArn; use the role's ARN arn:aws:iam::${B}:role/ops.redrive (with the role's path, if it has one)`,
    );
    for (const bad of [`arn:aws:iam::${B}:user/ops`, `arn:aws:iam::${B}:role/`, B])
      refused(
        redrive(bad),
        `.subscribers[0].redriveRoles[0]: "${bad}" is not an IAM role ARN (arn:aws:iam::<account>:role/<name>, name 1–64 characters)`,
      );
    // IAM's name characters, and a path.
    const odd = `arn:aws:iam::${B}:role/a/b+=,.@-_/R0le+=,.@-_`;
    assert.deepEqual(parseTopology(redrive(odd)).subscribers[0].redriveRoles, [odd]);
    assert.deepEqual(parseTopology(producer(odd)).publisher.producers, [A, odd]);
  });

  it("reports the redrive and replica rules with the key and the value", () => {
    refused(
      changed((t) => Object.assign(t.subscribers[1], { redriveRoles: [`arn:aws:iam::${C}:role/r`] })),
      `.subscribers[1].redriveRoles: ["arn:aws:iam::${C}:role/r"] applies only to delivery "sqs" (a DLQ redrive moves messages back into the SNS-fed queue)`,
    );
    refused(
      changed((t) => Object.assign(t.subscribers[1], { name: "b" })),
      '.subscribers[1].name: "b" is a duplicate subscriber name',
    );
    refused(
      changed((t) => (t.offload = { replicationTimeControl: true })),
      ".offload.replicationTimeControl: true applies to replication, which needs at least one subscriber with replica: true",
    );
    const withReplica = parseTopology(
      changed((t) => {
        t.subscribers[0].replica = true;
        t.offload = { replicationTimeControl: true };
      }),
    );
    assert.equal(withReplica.offload.replicationTimeControl, true);
  });

  it("a batch over 10 needs a batching window of at least 1 s; FIFO allows neither", () => {
    const batch = (batchSize: number, batchWindowSeconds: number, fifo = false) =>
      changed((t) => {
        Object.assign(t, { fifo });
        t.subscribers = [{ ...t.subscribers[0], batchSize, batchWindowSeconds }];
      });
    assert.equal(parseTopology(batch(10, 0)).subscribers[0].batchSize, 10);
    assert.equal(parseTopology(batch(11, 1)).subscribers[0].batchSize, 11);
    refused(
      batch(11, 0),
      ".subscribers[0].batchWindowSeconds: 0 must be at least 1 when batchSize (11) is over 10",
    );
    const fifo = parseTopology(batch(10, 0, true));
    assert.equal(fifo.fifo, true);
    refused(
      batch(11, 0, true),
      ".subscribers[0].batchWindowSeconds: 0 must be at least 1 when batchSize (11) is over 10",
      ".subscribers[0].batchSize: 11 must be at most 10: Lambda reads a FIFO queue in batches of 10 or fewer",
    );
    refused(
      batch(1, 1, true),
      ".subscribers[0].batchWindowSeconds: 1 must be 0: Lambda has no batching window for FIFO queues",
    );
  });

  it("carries a filter policy on unchanged, and no scope key", () => {
    const filterPolicy = { kind: ["report"] };
    const parsed = parseTopology(
      changed((t) =>
        Object.assign(t.subscribers[0], { filterPolicy, filterPolicyScope: "MessageAttributes" }),
      ),
    );
    assert.deepEqual(parsed.subscribers[0].filterPolicy, filterPolicy);
    assert.ok(!("filterPolicyScope" in parsed.subscribers[0]));
    assert.ok(!("filterPolicy" in parsed.subscribers[1]));
    refused(
      changed((t) => Object.assign(t.subscribers[0], { filterPolicy: { kind: [] } })),
      ".subscribers[0].filterPolicy.kind: [] must list at least one condition",
    );
  });

  it("logRetentionDays: one of CloudWatch Logs' retention periods, 14 when not set, reported with the topology's problems", () => {
    const periods = [
      1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
    ];
    for (const days of periods)
      assert.equal(parseTopology(base(), { logRetentionDays: String(days) }).logRetentionDays, days);
    const reason = `must be one of the CloudWatch Logs retention periods: ${periods.join(", ")}`;
    for (const bad of ["10", "abc", ""])
      assert.throws(() => parseTopology(base(), { logRetentionDays: bad }), {
        message: `Invalid config fieldnotes:logRetentionDays: ${JSON.stringify(bad)} ${reason}`,
      });
    assert.throws(() => parseTopology("x", { logRetentionDays: "10" }), {
      message: [
        `Invalid config fieldnotes:logRetentionDays: "10" ${reason}`,
        'Invalid config fieldnotes:topology: "x" must be an object with publisher, subscribers and offload',
      ].join("\n"),
    });
  });

  it("sandboxAccount moves every account and every principal ARN into the sandbox; without it nothing moves", () => {
    const t = changed((t) => {
      t.publisher.producers = [A, `arn:aws:iam::${B}:role/teams/uploader`, `arn:aws:iam::${C}:user/ci`];
      t.subscribers[0].redriveRoles = [`arn:aws:iam::${B}:role/ops/redrive`];
    });
    const sandboxed = parseTopology(t, { sandboxAccount: SANDBOX });
    assert.deepEqual(sandboxed.publisher.producers, [
      SANDBOX,
      `arn:aws:iam::${SANDBOX}:role/teams/uploader`,
      `arn:aws:iam::${SANDBOX}:user/ci`,
    ]);
    assert.deepEqual(sandboxed.subscribers[0].redriveRoles, [`arn:aws:iam::${SANDBOX}:role/ops/redrive`]);
    assert.deepEqual(
      [sandboxed.publisher.account, ...sandboxed.subscribers.map((s) => s.account)],
      [SANDBOX, SANDBOX, SANDBOX],
    );
    const plain = parseTopology(t);
    assert.deepEqual(plain.publisher.producers, t.publisher.producers);
    assert.deepEqual(plain.subscribers[0].redriveRoles, t.subscribers[0].redriveRoles);
    assert.equal(parseTopology(base(), { sandboxAccount: SANDBOX }).publisher.producers[0], SANDBOX);
  });

  it("Fargate's memory sizes per CPU size (Linux), in 1 GiB steps", () => {
    const gib = (from: number, to: number) =>
      Array.from({ length: to - from + 1 }, (_, i) => (from + i) * 1024);
    assert.deepEqual(fargateMemoryMb(256), [512, 1024, 2048]);
    assert.deepEqual(fargateMemoryMb(512), gib(1, 4));
    assert.deepEqual(fargateMemoryMb(1024), gib(2, 8));
    assert.deepEqual(fargateMemoryMb(2048), gib(4, 16));
    assert.deepEqual(fargateMemoryMb(4096), gib(8, 30));
    assert.deepEqual(fargateMemoryMb(300), []);
    refused(
      changed((t) => Object.assign(t.subscribers[1], { taskCpu: 2048, taskMemoryMb: 3072 })),
      `.subscribers[1].taskMemoryMb: 3072 is not a Fargate memory size for taskCpu 2048; use one of ${gib(4, 16).join(", ")}`,
    );
  });
});

describe("topology: what a stack deploys of it", () => {
  const stack = (publisher: boolean, subscribers: string[]): StackSettings => ({
    parts: { publisher, subscribers, research: false },
    deployRoles: {},
  });
  const network = { subnetIds: ["subnet-0123abcd"], securityGroupIds: ["sg-0123abcd"] };
  const config = (values: Record<string, unknown>) => ({
    name: "fieldnotes",
    get: (key: string) => (values[key] === undefined ? undefined : JSON.stringify(values[key])),
  });

  it("selects the stack's parts, with the network of each ECS subscriber it deploys", () => {
    const topology = parseTopology(base());
    assert.deepEqual(selectParts(topology, stack(true, ["c", "b"]), { c: network }), {
      topology,
      publisher: true,
      subscribers: [topology.subscribers[1], topology.subscribers[0]],
      ecsNetworks: { c: network },
    });
    assert.deepEqual(selectParts(topology, stack(false, ["b"]), { c: network }).ecsNetworks, {});
    assert.throws(() => selectParts(topology, stack(true, ["b", "d"]), undefined), {
      message:
        'Invalid config fieldnotes:parts: "subscriber/d" is not in the topology; its subscribers are: subscriber/b, subscriber/c',
    });
  });

  it("checks subnet and security group IDs (8 or 17 hex digits), and the network map's shape", () => {
    const topology = parseTopology(base());
    const select = (net: unknown) => selectParts(topology, stack(false, ["c"]), { c: net });
    for (const id of ["subnet-0123abcd", "subnet-0123456789abcdef0"])
      assert.deepEqual(select({ ...network, subnetIds: [id] }).ecsNetworks.c.subnetIds, [id]);
    for (const id of ["sg-0123abcd", "sg-0123456789abcdef0"])
      assert.deepEqual(select({ ...network, securityGroupIds: [id] }).ecsNetworks.c.securityGroupIds, [id]);
    const bad = (net: unknown, line: string) =>
      assert.throws(() => select(net), { message: `Invalid config fieldnotes:ecsNetwork.c${line}` });
    for (const id of ["subnet-0123abc", "subnet-0123456789abcdef01", "subnet-0123ABCD", "x-subnet-0123abcd"])
      bad({ ...network, subnetIds: [id] }, `.subnetIds[0]: "${id}" is not a subnet ID (subnet-…)`);
    for (const id of ["sg-0123abc", "sg-0123456789abcdef01", "sg-0123ABCD", "sg-0123abcd "])
      bad(
        { ...network, securityGroupIds: [id] },
        `.securityGroupIds[0]: "${id}" is not a security group ID (sg-…)`,
      );
    bad({ ...network, subnetIds: [] }, ".subnetIds: [] must not be empty");
    bad({ ...network, securityGroupIds: [] }, ".securityGroupIds: [] must not be empty");
    bad("x", ': "x" must be {subnetIds: [subnet-…], securityGroupIds: [sg-…]}');
    assert.throws(() => selectParts(topology, stack(false, ["b"]), null), {
      message:
        "Invalid config fieldnotes:ecsNetwork: null must be a map of subscriber name to {subnetIds, securityGroupIds}",
    });
    assert.throws(() => selectParts(topology, stack(false, ["c"]), "x"), {
      message:
        'Invalid config fieldnotes:ecsNetwork: "x" must be a map of subscriber name to {subnetIds, securityGroupIds}',
    });
  });

  it("loadMessaging reads both keys from the stack's config, and checks the network map even when the topology is wrong", () => {
    const selection = loadMessaging(config({ topology: base(), ecsNetwork: { c: network } }), {
      ...stack(true, ["c"]),
      sandboxAccount: SANDBOX,
    });
    assert.equal(selection.topology.publisher.account, SANDBOX);
    assert.deepEqual(selection.ecsNetworks, { c: network });
    assert.throws(
      () => loadMessaging(config({ topology: "x", ecsNetwork: { c: "y" } }), stack(true, ["c"])),
      {
        message: [
          'Invalid config fieldnotes:topology: "x" must be an object with publisher, subscribers and offload',
          'Invalid config fieldnotes:ecsNetwork.c: "y" must be {subnetIds: [subnet-…], securityGroupIds: [sg-…]}',
        ].join("\n"),
      },
    );
    const wrongPart = checkMessaging(config({ topology: base() }), stack(true, ["d"]));
    assert.equal(wrongPart.value, undefined, "no selection comes with problems");
    assert.deepEqual(
      wrongPart.problems.map((p) => p.key),
      ["fieldnotes:parts"],
    );
    assert.throws(
      () => loadMessaging(config({ topology: base(), logRetentionDays: 2 }), stack(true, [])),
      /Invalid config fieldnotes:logRetentionDays: "2" must be one of the CloudWatch Logs retention periods/,
    );
  });
});
