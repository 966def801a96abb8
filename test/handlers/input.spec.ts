// The handlers' input checks on their own (the bundles run them in handlers.spec.ts): every problem of
// an environment or an event is reported at once, each line naming the variable or field and the value.
import * as assert from "node:assert/strict";
import { readPublisherConfig, readSubscriberConfig } from "../../messaging/handlers/config";
import { checkSnsEvent, EventError, publishEventReader } from "../../messaging/handlers/events";

const TOPIC = "arn:aws:sns:us-east-1:111111111111:t";

/** The lines of the error `run` throws. */
function lines(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    return (error as Error).message.split("\n");
  }
  assert.fail("expected an error");
}

describe("handler environment", () => {
  it("publisher: reads a valid environment, with the defaults and trimming", () => {
    assert.deepEqual(
      readPublisherConfig({
        TOPIC_ARN: ` ${TOPIC} `,
        PAYLOAD_BUCKET: "payloads-a",
        OFFLOAD_THRESHOLD_BYTES: " 1000 ",
        ALWAYS_THROUGH_S3: "TRUE",
        PAYLOAD_KMS_KEY_ID: " ",
        SOURCE_ALLOWLIST: "staging-a/incoming/, staging-b",
      }),
      {
        topicArn: TOPIC,
        payloadBucket: "payloads-a",
        keyPrefix: "payloads/",
        threshold: 1000,
        alwaysThroughS3: true,
        kmsKeyId: undefined,
        sourceAllowList: [
          { bucket: "staging-a", prefix: "incoming/" },
          { bucket: "staging-b", prefix: "" },
        ],
      },
    );
  });

  it("publisher: every wrong variable at once, each with its name and value", () => {
    assert.deepEqual(
      lines(() =>
        readPublisherConfig({
          TOPIC_ARN: "my-topic",
          PAYLOAD_KEY_PREFIX: "/abs/",
          OFFLOAD_THRESHOLD_BYTES: "2000000",
          ALWAYS_THROUGH_S3: "yes",
          SOURCE_ALLOWLIST: "staging-a/in/,Not_A_Bucket/x",
        }),
      ),
      [
        'environment variable TOPIC_ARN must be a topic ARN, got "my-topic"',
        "environment variable PAYLOAD_BUCKET is required",
        'environment variable PAYLOAD_KEY_PREFIX: keyPrefix "/abs/" must not start with "." or "/"',
        'environment variable OFFLOAD_THRESHOLD_BYTES must be an integer from 0 to 1048576, got "2000000"',
        'environment variable ALWAYS_THROUGH_S3 must be "true" or "false", got "yes"',
        'environment variable SOURCE_ALLOWLIST: entry "Not_A_Bucket/x" must be "bucket/prefix"',
      ],
    );
  });

  it("subscriber: reads a valid environment; SQS_RAW_DELIVERY unset leaves the delivery unset", () => {
    const base = { SUBSCRIBER_NAME: "s", PAYLOAD_BUCKET_ALLOWLIST: "bkt, other-bkt" };
    assert.deepEqual(readSubscriberConfig(base), {
      subscriberName: "s",
      bucketAllowList: ["bkt", "other-bkt"],
      keyPrefixAllowList: [],
      replicas: [],
      bucketRegion: undefined,
      previewBytes: 1024,
      downstream: { kind: "none" },
    });
    assert.equal(readSubscriberConfig({ ...base, SQS_RAW_DELIVERY: "false" }).sqsDelivery, "envelope");
    assert.equal(readSubscriberConfig({ ...base, SQS_RAW_DELIVERY: "true" }).sqsDelivery, "raw");
    assert.deepEqual(
      readSubscriberConfig({
        ...base,
        DOWNSTREAM: "ecs",
        ECS_CLUSTER_ARN: "c",
        ECS_TASK_DEFINITION_ARN: "t",
        ECS_CONTAINER_NAME: "n",
        ECS_SUBNET_IDS: "subnet-1,subnet-2",
      }).downstream,
      {
        kind: "ecs",
        clusterArn: "c",
        taskDefinitionArn: "t",
        containerName: "n",
        subnetIds: ["subnet-1", "subnet-2"],
        securityGroupIds: [],
      },
    );
  });

  it("subscriber: PAYLOAD_REPLICAS entries reported with the other wrong variables, each naming its entry", () => {
    assert.throws(
      () =>
        readSubscriberConfig({
          SUBSCRIBER_NAME: "b",
          PAYLOAD_BUCKET_ALLOWLIST: "origin-a,replica-a",
          PAYLOAD_REPLICAS: "origin-a,replica-a=replica-a",
          SUMMARY_PREVIEW_BYTES: "-1",
        }),
      {
        message: [
          'environment variable PAYLOAD_REPLICAS: entry "origin-a" must be "originBucket=replicaBucket"',
          'environment variable PAYLOAD_REPLICAS: entry "replica-a=replica-a" names the same bucket as origin and replica',
          'environment variable SUMMARY_PREVIEW_BYTES must be an integer from 0 to 4096, got "-1"',
        ].join("\n"),
      },
    );
    assert.deepEqual(
      readSubscriberConfig({
        SUBSCRIBER_NAME: "b",
        PAYLOAD_BUCKET_ALLOWLIST: "origin-a,replica-a",
        PAYLOAD_REPLICAS: " origin-a = replica-a ,",
      }).replicas,
      [{ origin: "origin-a", replica: "replica-a" }],
    );
  });

  it("subscriber: every wrong variable at once, the downstream's own variables included", () => {
    assert.deepEqual(
      lines(() =>
        readSubscriberConfig({
          PAYLOAD_BUCKET_ALLOWLIST: "bkt,Other_Bucket",
          PAYLOAD_KEY_PREFIX_ALLOWLIST: "payloads/,../up/",
          SQS_RAW_DELIVERY: "yes",
          SUMMARY_PREVIEW_BYTES: "5000",
          DOWNSTREAM: "ecs",
          ECS_CLUSTER_ARN: "c",
        }),
      ),
      [
        "environment variable SUBSCRIBER_NAME is required",
        'environment variable PAYLOAD_BUCKET_ALLOWLIST: "Other_Bucket" is not an S3 bucket name',
        'environment variable PAYLOAD_KEY_PREFIX_ALLOWLIST: keyPrefix "../up/" must not start with "." or "/"',
        'environment variable SQS_RAW_DELIVERY must be "true" or "false", got "yes"',
        'environment variable SUMMARY_PREVIEW_BYTES must be an integer from 0 to 4096, got "5000"',
        "environment variable ECS_TASK_DEFINITION_ARN is required",
        "environment variable ECS_CONTAINER_NAME is required",
        "environment variable ECS_SUBNET_IDS must name at least one subnet",
      ],
    );
    assert.deepEqual(
      lines(() =>
        readSubscriberConfig({ SUBSCRIBER_NAME: "s", PAYLOAD_BUCKET_ALLOWLIST: " , ", DOWNSTREAM: "lambda" }),
      ),
      [
        "environment variable PAYLOAD_BUCKET_ALLOWLIST must name at least one bucket",
        'environment variable DOWNSTREAM must be "stepfunctions", "ecs" or "none", got "lambda"',
      ],
    );
  });
});

describe("handler environment: each rule at its edges", () => {
  const publisher = { TOPIC_ARN: TOPIC, PAYLOAD_BUCKET: "payloads-a" };
  const subscriber = { SUBSCRIBER_NAME: "s", PAYLOAD_BUCKET_ALLOWLIST: "origin-a,replica-a,replica-b" };

  it("publisher defaults: the library's threshold and prefix, no forced offload, no KMS key, no sources", () => {
    assert.deepEqual(readPublisherConfig(publisher), {
      topicArn: TOPIC,
      payloadBucket: "payloads-a",
      keyPrefix: "payloads/",
      threshold: 262144,
      alwaysThroughS3: false,
      kmsKeyId: undefined,
      sourceAllowList: [],
    });
    assert.equal(readPublisherConfig({ ...publisher, PAYLOAD_KMS_KEY_ID: " alias/k " }).kmsKeyId, "alias/k");
  });

  it("integers: digits only, from 0 to the maximum inclusive", () => {
    const threshold = (value: string) =>
      readPublisherConfig({ ...publisher, OFFLOAD_THRESHOLD_BYTES: value });
    assert.equal(threshold("0").threshold, 0);
    assert.equal(threshold("1048576").threshold, 1048576);
    assert.equal(threshold(" ").threshold, 262144);
    for (const bad of ["1048577", "+5", "5.0", "0x10", "1e3", "-1", "x5"]) {
      assert.deepEqual(
        lines(() => threshold(bad)),
        [`environment variable OFFLOAD_THRESHOLD_BYTES must be an integer from 0 to 1048576, got "${bad}"`],
      );
    }
    const preview = (value: string) => readSubscriberConfig({ ...subscriber, SUMMARY_PREVIEW_BYTES: value });
    assert.equal(preview("4096").previewBytes, 4096);
    assert.equal(preview("0").previewBytes, 0);
  });

  it("flags: true or false in any case, around blanks; blank is the default", () => {
    const always = (value: string) =>
      readPublisherConfig({ ...publisher, ALWAYS_THROUGH_S3: value }).alwaysThroughS3;
    assert.deepEqual([" true ", "True", " FALSE ", "false", "  "].map(always), [
      true,
      true,
      false,
      false,
      false,
    ]);
    const raw = (value: string) =>
      readSubscriberConfig({ ...subscriber, SQS_RAW_DELIVERY: value }).sqsDelivery;
    assert.deepEqual([" true ", " false", " "].map(raw), ["raw", "envelope", undefined]);
  });

  it("bucket names: 3 to 63 of [a-z0-9.-], a letter or digit at each end", () => {
    const allow = (value: string) =>
      readSubscriberConfig({ SUBSCRIBER_NAME: "s", PAYLOAD_BUCKET_ALLOWLIST: value }).bucketAllowList;
    const longest = `a${"b".repeat(61)}c`;
    assert.deepEqual(allow(`abc,a.b-c,${longest}`), ["abc", "a.b-c", longest]);
    for (const bad of ["ab", `${longest}d`, "bucket-", "-bucket", "bucket_x", "Bucket"]) {
      assert.deepEqual(
        lines(() => allow(bad)),
        [`environment variable PAYLOAD_BUCKET_ALLOWLIST: "${bad}" is not an S3 bucket name`],
      );
    }
    assert.deepEqual(
      lines(() => readPublisherConfig({ ...publisher, SOURCE_ALLOWLIST: "staging-/x" })),
      ['environment variable SOURCE_ALLOWLIST: entry "staging-/x" must be "bucket/prefix"'],
    );
    // The prefix is everything after the first slash, slashes included.
    assert.deepEqual(
      readPublisherConfig({ ...publisher, SOURCE_ALLOWLIST: "staging-a/in/sub/" }).sourceAllowList,
      [{ bucket: "staging-a", prefix: "in/sub/" }],
    );
  });

  it("PAYLOAD_REPLICAS: each entry bucket=bucket, both in the allow-list, one replica per origin", () => {
    const replicas = (value: string) => readSubscriberConfig({ ...subscriber, PAYLOAD_REPLICAS: value });
    const refused: [string, string][] = [
      ["origin-a", 'entry "origin-a" must be "originBucket=replicaBucket"'],
      ["origin-a=replica-a=x", 'entry "origin-a=replica-a=x" must be "originBucket=replicaBucket"'],
      ["origin-a=", 'entry "origin-a=" must be "originBucket=replicaBucket"'],
      ["=replica-a", 'entry "=replica-a" must be "originBucket=replicaBucket"'],
      ["origin-a = ", 'entry "origin-a =" must be "originBucket=replicaBucket"'],
      [
        "origin-a=replica-c",
        'entry "origin-a=replica-c" names replica "replica-c", which is not in PAYLOAD_BUCKET_ALLOWLIST [origin-a, replica-a, replica-b]',
      ],
      [
        "other-origin=replica-c",
        'entry "other-origin=replica-c" names origin "other-origin", which is not in PAYLOAD_BUCKET_ALLOWLIST [origin-a, replica-a, replica-b]',
      ],
      ["origin-a=origin-a", 'entry "origin-a=origin-a" names the same bucket as origin and replica'],
      [
        "origin-a=replica-a,origin-a=replica-b",
        'entry "origin-a=replica-b" gives origin "origin-a" a second replica',
      ],
    ];
    for (const [value, reason] of refused)
      assert.deepEqual(
        lines(() => replicas(value)),
        [`environment variable PAYLOAD_REPLICAS: ${reason}`],
        value,
      );
    // Every bad entry at once, each once, with the other wrong variables.
    assert.deepEqual(
      lines(() =>
        readSubscriberConfig({
          ...subscriber,
          PAYLOAD_REPLICAS: "x=replica-a,origin-a=y,replica-a=origin-a,replica-a=replica-b",
          SUMMARY_PREVIEW_BYTES: "-1",
        }),
      ),
      ['environment variable SUMMARY_PREVIEW_BYTES must be an integer from 0 to 4096, got "-1"'],
      "the entries are checked against the allow-list once every variable has its form",
    );
    assert.deepEqual(
      lines(() => replicas("x=replica-a,origin-a=y,replica-a=origin-a,replica-a=replica-b")),
      [
        'environment variable PAYLOAD_REPLICAS: entry "x=replica-a" names origin "x", which is not in PAYLOAD_BUCKET_ALLOWLIST [origin-a, replica-a, replica-b]',
        'environment variable PAYLOAD_REPLICAS: entry "origin-a=y" names replica "y", which is not in PAYLOAD_BUCKET_ALLOWLIST [origin-a, replica-a, replica-b]',
        'environment variable PAYLOAD_REPLICAS: entry "replica-a=replica-b" gives origin "replica-a" a second replica',
      ],
    );
    assert.deepEqual(replicas(" ").replicas, []);
    assert.deepEqual(replicas("origin-a=replica-a, replica-a=replica-b").replicas, [
      { origin: "origin-a", replica: "replica-a" },
      { origin: "replica-a", replica: "replica-b" },
    ]);
  });

  it("DOWNSTREAM: trimmed, and its own variables read only for it", () => {
    const arn = "arn:aws:states:us-east-1:111111111111:stateMachine:m";
    assert.deepEqual(
      readSubscriberConfig({ ...subscriber, DOWNSTREAM: " stepfunctions ", STATE_MACHINE_ARN: ` ${arn} ` })
        .downstream,
      { kind: "stepfunctions", stateMachineArn: arn },
    );
    assert.deepEqual(
      lines(() => readSubscriberConfig({ ...subscriber, DOWNSTREAM: "stepfunctions" })),
      ["environment variable STATE_MACHINE_ARN is required"],
    );
    assert.deepEqual(readSubscriberConfig({ ...subscriber, DOWNSTREAM: " none " }).downstream, {
      kind: "none",
    });
    // Blank is unset, as for every variable: Lambda has no "unset" for a key the stack gives it.
    assert.deepEqual(readSubscriberConfig({ ...subscriber, DOWNSTREAM: "  " }).downstream, { kind: "none" });
    assert.deepEqual(
      lines(() => readSubscriberConfig({ ...subscriber, DOWNSTREAM: " Lambda " })),
      ['environment variable DOWNSTREAM must be "stepfunctions", "ecs" or "none", got "Lambda"'],
    );
    assert.deepEqual(
      readSubscriberConfig({
        ...subscriber,
        DOWNSTREAM: "ecs",
        ECS_CLUSTER_ARN: "c",
        ECS_TASK_DEFINITION_ARN: "t",
        ECS_CONTAINER_NAME: "n",
        ECS_SUBNET_IDS: "subnet-1",
        ECS_SECURITY_GROUP_IDS: " sg-1 , sg-2 ",
        PAYLOAD_BUCKET_REGION: " eu-west-1 ",
      }),
      {
        subscriberName: "s",
        bucketAllowList: ["origin-a", "replica-a", "replica-b"],
        keyPrefixAllowList: [],
        replicas: [],
        bucketRegion: "eu-west-1",
        previewBytes: 1024,
        downstream: {
          kind: "ecs",
          clusterArn: "c",
          taskDefinitionArn: "t",
          containerName: "n",
          subnetIds: ["subnet-1"],
          securityGroupIds: ["sg-1", "sg-2"],
        },
      },
    );
  });
});

describe("publisher events", () => {
  // Built inside each test: the schema is then part of the test that uses it (mutation testing).
  const read = (event: unknown) =>
    publishEventReader({
      topicArn: TOPIC,
      fifo: false,
      sourceAllowList: [{ bucket: "staging-a", prefix: "incoming/" }],
    })(event);
  const readFifo = (event: unknown) =>
    publishEventReader({ topicArn: `${TOPIC}.fifo`, fifo: true, sourceAllowList: [] })(event);

  it("reads each kind of entry, attributes named __proto__ included", () => {
    const attributes = JSON.parse(
      '{"__proto__":{"DataType":"String","StringValue":"p"},"b":{"DataType":"Binary","BinaryValue":"AAE="}}',
    ) as unknown;
    const one = read({ detail: { payload: "hi", attributes } });
    assert.equal(one.kind, "one");
    if (one.kind !== "one") return;
    assert.equal(one.entry.body, "hi");
    assert.deepEqual(Object.keys(one.entry.attributes ?? {}), ["__proto__", "b"]);
    assert.deepEqual(one.entry.attributes?.b, { DataType: "Binary", BinaryValue: Buffer.from([0, 1]) });
    const bytes = read({ detail: { payloadBase64: "AAE=" } });
    assert.deepEqual(bytes.kind === "one" && bytes.entry.body, Buffer.from([0, 1]));
    const copied = read({ detail: { source: { bucket: "staging-a", key: "incoming/x" } } });
    assert.deepEqual(copied.kind === "one" && copied.entry.source, {
      bucket: "staging-a",
      key: "incoming/x",
    });
  });

  it("a single-payload detail: every wrong field at once, each with its value", () => {
    assert.deepEqual(
      lines(() =>
        read({
          detail: {
            payload: 42,
            payloadBase64: "not base64!",
            attributs: {},
            attributes: {
              a: { DataType: "Text", StringValue: "v" },
              b: { DataType: "Binary", BinaryValue: "AAE" },
              c: 5,
              d: { DataType: "String" },
              e: { DataType: "String", StringValue: "v", Stringvalue: "w" },
            },
            messageGroupId: "g",
          },
        }),
      ),
      [
        "event field detail.payload must be a string, got number",
        "event field detail.payloadBase64 must be a base64 string",
        'event field detail.attributes.a.DataType must be "String", "Number" or "Binary", got "Text"',
        "event field detail.attributes.b.BinaryValue must be a base64 string",
        "event field detail.attributes.c must be an object {DataType, StringValue|BinaryValue}, got 5",
        "event field detail.attributes.d.StringValue must be a string",
        "event field detail.attributes.e.Stringvalue is not a known key; did you mean StringValue? (known: DataType, StringValue)",
        `event field detail.messageGroupId is set but topic ${TOPIC} is not a FIFO topic`,
        "event field detail.attributs is not a known key; did you mean attributes? (known: payload, payloadBase64, source, attributes, messageGroupId, messageDeduplicationId)",
      ],
    );
  });

  it("each field's own rule: one payload field, sources, attributes the library refuses, FIFO ids", () => {
    const cases: [unknown, string][] = [
      [{}, "event field detail is required"],
      [null, "event field (event) must be an EventBridge event (an object with detail), got null"],
      [{ detail: 7 }, "event field detail must be an object, got 7"],
      [
        { detail: { payload: "x", payloadBase64: "AA==" } },
        "event field detail must have exactly one of payload, payloadBase64 or source, got payload, payloadBase64",
      ],
      [{ detail: { source: { bucket: "staging-a" } } }, "event field detail.source.key is required"],
      [
        { detail: { source: "s3://staging-a/x" } },
        'event field detail.source must be {bucket, key} with non-empty strings, got "s3://staging-a/x"',
      ],
      [
        { detail: { source: { bucket: "staging-a", key: "incoming/../private/x" } } },
        'event field detail.source key "incoming/../private/x" is refused: it has a ".." path segment',
      ],
      [
        { detail: { source: { bucket: "staging-a", key: "private/x" } } },
        "event field detail.source s3://staging-a/private/x is not under an allowed source (staging-a/incoming/)",
      ],
      [
        { detail: { payload: "x", attributes: ["a"] } },
        "event field detail.attributes must be an object of name → {DataType, StringValue|BinaryValue}",
      ],
      [
        {
          detail: {
            payload: "x",
            attributes: { SQSLargePayloadSize: { DataType: "Number", StringValue: "1" } },
          },
        },
        'event field detail.attributes attribute name "SQSLargePayloadSize" is reserved',
      ],
    ];
    for (const [event, line] of cases)
      assert.match(lines(() => read(event))[0], new RegExp(`^${escape(line)}`));
    assert.match(
      lines(() => readFifo({ detail: { payload: "x" } }))[0],
      /^event field detail messageGroupId is required/,
    );
    assert.match(
      lines(() => readFifo({ detail: { payload: "x", messageGroupId: 7 } }))[0],
      /^event field detail.messageGroupId must be a string, got number/,
    );
  });

  it("a payloads detail: every wrong entry at once; ids default to p<index>; groups inherit", () => {
    assert.deepEqual(
      lines(() =>
        read({
          detail: {
            payload: "x",
            payloads: [
              { id: "a", payload: "1" },
              { id: "a", payload: "2" },
              5,
              { id: "bad id!", payload: "3" },
              {},
            ],
          },
        }),
      ),
      [
        "event field detail.payloads[2] must be an object, got 5",
        'event field detail.payloads[3].id must be 1-80 of [A-Za-z0-9_-], got "bad id!"',
        "event field detail.payloads[4] must have exactly one of payload, payloadBase64 or source, got none",
        "event field detail.payload must not be set when the event has payloads (set it on each entry)",
      ],
    );
    assert.deepEqual(
      lines(() =>
        read({
          detail: {
            payloads: [
              { id: "a", payload: "1" },
              { id: "a", payload: "2" },
            ],
          },
        }),
      ),
      ['event field detail.payloads[1].id "a" is a duplicate'],
    );
    assert.deepEqual(
      lines(() => read({ detail: { payloads: [] } })),
      ["event field detail.payloads must be a non-empty list, got []"],
    );
    const many = Array.from({ length: 101 }, () => ({ payload: "x" }));
    assert.deepEqual(
      lines(() => read({ detail: { payloads: many } })),
      ["event field detail.payloads has 101 entries; at most 100"],
    );
    const fifo = readFifo({
      source: "app",
      detail: {
        payloads: [{ payload: "1" }, { payload: "2", messageGroupId: "g2", messageDeduplicationId: "d" }],
      },
    });
    assert.deepEqual(fifo.kind === "batch" && fifo.entries, [
      { id: "p0", body: "1", messageGroupId: "app" },
      { id: "p1", body: "2", messageGroupId: "g2", messageDeduplicationId: "d" },
    ]);
  });

  it("an SNS event: Records and each MessageId are checked before any record is delivered", () => {
    assert.throws(() => checkSnsEvent({}), /^EventError: event field Records must be a non-empty array/);
    assert.throws(() => checkSnsEvent({ Records: [] }), /event field Records must be a non-empty array/);
    assert.throws(
      () => checkSnsEvent({ Records: [{ Sns: { MessageId: "1" } }, { Sns: { MessageId: 2 } }] }),
      (e: unknown) =>
        e instanceof EventError &&
        e.message === "event field Records[1].Sns.MessageId must be a string, got 2",
    );
  });
});

describe("publisher events: each rule at its edges", () => {
  const rules = [
    { bucket: "staging-a", prefix: "incoming/" },
    { bucket: "staging-b", prefix: "in/" },
  ];
  const read = (event: unknown) =>
    publishEventReader({ topicArn: TOPIC, fifo: false, sourceAllowList: rules })(event);
  const readFifo = (event: unknown) =>
    publishEventReader({ topicArn: `${TOPIC}.fifo`, fifo: true, sourceAllowList: [] })(event);
  const detailLines = (detail: unknown) => lines(() => read({ detail }));

  it("base64: the whole value, padded to a multiple of 4", () => {
    for (const bad of ["!AAA", "AA=A", "AAA", 5]) {
      assert.deepEqual(detailLines({ payloadBase64: bad }), [
        "event field detail.payloadBase64 must be a base64 string",
      ]);
    }
    const bytes = read({ detail: { payloadBase64: "AAE=" } });
    assert.deepEqual(bytes, { kind: "one", entry: { body: Buffer.from([0, 1]) } });
  });

  it("attributes: an object of attributes, each with every problem it has", () => {
    for (const bad of ["x", null, 5])
      assert.deepEqual(detailLines({ payload: "x", attributes: bad }), [
        "event field detail.attributes must be an object of name → {DataType, StringValue|BinaryValue}",
      ]);
    assert.deepEqual(
      detailLines({ payload: "x", attributes: { a: { DataType: "String", StringValue: 5, extra: 1 } } }),
      [
        "event field detail.attributes.a.StringValue must be a string",
        "event field detail.attributes.a.extra is not a known key (known: DataType, StringValue)",
      ],
    );
  });

  it("sources: a bucket and prefix the stack allows, any of them", () => {
    assert.deepEqual(read({ detail: { source: { bucket: "staging-b", key: "in/x" } } }), {
      kind: "one",
      entry: { source: { bucket: "staging-b", key: "in/x" } },
    });
    assert.deepEqual(detailLines({ source: { bucket: "staging-b", key: "incoming/x" } }), [
      "event field detail.source s3://staging-b/incoming/x is not under an allowed source (staging-a/incoming/, staging-b/in/)",
    ]);
    const none = publishEventReader({ topicArn: TOPIC, fifo: false, sourceAllowList: [] });
    assert.deepEqual(
      lines(() => none({ detail: { source: { bucket: "staging-a", key: "incoming/x" } } })),
      [
        "event field detail.source s3://staging-a/incoming/x is not under an allowed source (none configured)",
      ],
    );
  });

  it("the detail itself: an object; with payloads, a list of 1 to 100 entries with ids of 1-80 of [A-Za-z0-9_-]", () => {
    assert.deepEqual(
      lines(() => read({ detail: null })),
      ["event field detail must be an object, got null"],
    );
    assert.deepEqual(
      lines(() => read({ detail: "x" })),
      ['event field detail must be an object, got "x"'],
    );
    assert.deepEqual(detailLines({ payloads: 5 }), [
      "event field detail.payloads must be a non-empty list, got 5",
    ]);
    assert.deepEqual(detailLines({ payloads: [{ payload: "1" }, 7] }), [
      "event field detail.payloads[1] must be an object, got 7",
    ]);
    const hundred = read({ detail: { payloads: Array.from({ length: 100 }, () => ({ payload: "x" })) } });
    assert.equal(hundred.kind === "batch" && hundred.entries.length, 100);
    const ids = [5, "x".repeat(81), "!ab", "ab!", ""];
    assert.deepEqual(
      detailLines({ payloads: ids.map((id) => ({ id, payload: "x" })) }),
      ids.map(
        (id, i) =>
          `event field detail.payloads[${i}].id must be 1-80 of [A-Za-z0-9_-], got ${JSON.stringify(id)}`,
      ),
    );
    const good = read({
      detail: {
        payloads: [
          { id: "a".repeat(80), payload: "x" },
          { id: "B_-9", source: { bucket: "staging-a", key: "incoming/k" } },
        ],
      },
    });
    assert.deepEqual(good, {
      kind: "batch",
      entries: [
        { id: "a".repeat(80), body: "x" },
        { id: "B_-9", source: { bucket: "staging-a", key: "incoming/k" } },
      ],
    });
  });

  it("message groups: only on a FIFO topic; from the entry, the detail, then a string source", () => {
    // A standard topic's entries carry no group, whatever the event's source.
    assert.deepEqual(read({ source: "app", detail: { payload: "x" } }), {
      kind: "one",
      entry: { body: "x" },
    });
    assert.deepEqual(readFifo({ source: "app", detail: { payload: "x", messageDeduplicationId: "d" } }), {
      kind: "one",
      entry: { body: "x", messageGroupId: "app", messageDeduplicationId: "d" },
    });
    assert.match(
      lines(() => readFifo({ source: 5, detail: { payload: "x" } }))[0],
      /^event field detail messageGroupId is required/,
    );
    assert.match(
      lines(() => readFifo({ detail: { payloads: [{ payload: "1" }] } }))[0],
      /^event field detail\.payloads\[0\] messageGroupId is required/,
    );
    const long = "g".repeat(129);
    const badGroup = lines(() =>
      readFifo({ detail: { messageGroupId: long, payloads: [{ payload: "1", messageGroupId: "ok" }] } }),
    );
    assert.equal(badGroup.length, 1);
    assert.match(badGroup[0], /^event field detail messageGroupId /);
    assert.deepEqual(readFifo({ detail: { messageGroupId: "g", payloads: [{ payload: "1" }] } }), {
      kind: "batch",
      entries: [{ id: "p0", body: "1", messageGroupId: "g" }],
    });
  });

  it("an SNS event: an object with Records, each an object with Sns", () => {
    assert.throws(() => checkSnsEvent(5), { message: "event field (event) must be an SNS event, got 5" });
    assert.throws(() => checkSnsEvent({ Records: [5] }), {
      message: "event field Records[0] must be an SNS record, got 5",
    });
    assert.throws(() => checkSnsEvent({ Records: [{ Sns: 5 }] }), {
      message: "event field Records[0].Sns must be an object, got 5",
    });
    const event = { Records: [{ Sns: { MessageId: "1" } }] };
    assert.equal(checkSnsEvent(event), event);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
