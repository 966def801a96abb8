import { strict as assert } from "assert";
import { NameLimits } from "../../common/names";
import { filterPolicyMatches, validateFilterPolicy } from "../../messaging/filter-policy";
import { publisherNames, queueOrTopicName, subscriberNames } from "../../messaging/naming";
import { parseTopology } from "../../messaging/topology";

const base = () => ({
  publisher: { account: "111111111111", region: "us-east-1" },
  subscribers: [
    { name: "b", account: "222222222222", region: "us-east-1", delivery: "sqs", downstream: "none" },
  ] as Record<string, unknown>[],
});
const withSub = (extra: Record<string, unknown>, top: Record<string, unknown> = {}) => {
  const t = { ...base(), ...top };
  t.subscribers = [{ ...t.subscribers[0], ...extra }];
  return t;
};
const refused = (t: unknown, message: string) => assert.throws(() => parseTopology(t), { message });

describe("topology: FIFO", () => {
  it("refuses a lambda delivery on a FIFO topic, saying to use an SQS subscriber", () => {
    refused(
      withSub({ delivery: "lambda" }, { fifo: true }),
      'Invalid config fieldnotes:topology.subscribers[0].delivery: "lambda" cannot subscribe to a FIFO topic (fieldnotes:topology.fifo is true): SNS FIFO topics do not deliver to Lambda. Use delivery "sqs": the subscriber gets a FIFO queue and its function keeps each message group\'s order',
    );
  });

  it("refuses event source settings Lambda does not take for FIFO queues", () => {
    refused(
      withSub({ batchSize: 11, batchWindowSeconds: 1 }, { fifo: true }),
      "Invalid config fieldnotes:topology.subscribers[0].batchSize: 11 must be at most 10: Lambda reads a FIFO queue in batches of 10 or fewer\n" +
        "Invalid config fieldnotes:topology.subscribers[0].batchWindowSeconds: 1 must be 0: Lambda has no batching window for FIFO queues",
    );
    refused(
      withSub({ batchWindowSeconds: 5 }, { fifo: true }),
      "Invalid config fieldnotes:topology.subscribers[0].batchWindowSeconds: 5 must be 0: Lambda has no batching window for FIFO queues",
    );
    refused(
      withSub({}, { fifo: "yes" }),
      'Invalid config fieldnotes:topology.fifo: "yes" must be true or false',
    );
  });

  it("names the topic and every queue with .fifo, counted in the 80-character SQS and 256-character SNS limits", () => {
    const t = parseTopology({
      ...withSub({ name: "s".repeat(32) }),
      system: "x".repeat(24),
      fifo: true,
    });
    const pub = publisherNames(t);
    const sub = subscriberNames(t, t.subscribers[0]);
    assert.match(pub.topic, /\.fifo$/);
    assert.match(pub.topicArn, /\.fifo$/);
    for (const name of [sub.queue, sub.dlq, sub.deliveryDlq]) {
      assert.match(name, /\.fifo$/);
      assert.ok(name.length <= NameLimits.sqsQueue, `${name} is ${name.length} characters`);
    }
    const long = queueOrTopicName("q".repeat(200), NameLimits.sqsQueue, true);
    assert.equal(long.length, 80);
    assert.match(long, /^q+-[0-9a-f]{8}\.fifo$/);
    assert.equal(queueOrTopicName("t".repeat(300), NameLimits.snsTopic, true).length, 256);
    assert.doesNotMatch(
      subscriberNames(parseTopology(base()), parseTopology(base()).subscribers[0]).queue,
      /fifo/,
    );
  });
});

describe("topology: subscription filter policies", () => {
  const at = "Invalid config fieldnotes:topology.subscribers[0]";
  const policy = (filterPolicy: unknown, message: string) => refused(withSub({ filterPolicy }), message);

  it("accepts an attribute-scope policy and passes it to the topology unchanged", () => {
    const filterPolicy = { kind: ["report", { prefix: "audit-" }], priority: [{ numeric: [">=", 3] }] };
    assert.deepEqual(parseTopology(withSub({ filterPolicy })).subscribers[0].filterPolicy, filterPolicy);
    assert.equal(
      parseTopology(withSub({ filterPolicyScope: "MessageAttributes" })).subscribers[0].filterPolicy,
      undefined,
    );
  });

  it("refuses body scope: the body of an offloaded message is the pointer, not the payload", () => {
    refused(
      withSub({ filterPolicyScope: "MessageBody", filterPolicy: { kind: ["a"] } }),
      `${at}.filterPolicyScope: "MessageBody" must be "MessageAttributes": a MessageBody policy is matched against the body SNS carries, which for an offloaded payload is the S3 pointer, so it would match or drop messages by their size, not their content. Have the producer set message attributes and filter on those`,
    );
  });

  it("refuses the marker attribute and names no message can carry", () => {
    policy(
      { ExtendedPayloadSize: [{ exists: true }] },
      `${at}.filterPolicy.ExtendedPayloadSize: "ExtendedPayloadSize" is the payload marker attribute: it is present only when a payload is offloaded, so a policy on it routes by payload size and offload settings, not by content. Filter on an attribute the producer sets`,
    );
    policy(
      { $or: [{ a: ["1"] }, { SQSLargePayloadSize: [{ exists: false }] }] },
      `${at}.filterPolicy.$or[1].SQSLargePayloadSize: "SQSLargePayloadSize" is the payload marker attribute: it is present only when a payload is offloaded, so a policy on it routes by payload size and offload settings, not by content. Filter on an attribute the producer sets`,
    );
    policy(
      { "aws.region": ["x"] },
      `${at}.filterPolicy.aws.region: "aws.region" uses a prefix AWS reserves: no message can carry this attribute`,
    );
    policy(
      { "a b": ["x"] },
      `${at}.filterPolicy.a b: "a b" is not a message attribute name (1-256 of [A-Za-z0-9_.-]): no message can carry it`,
    );
  });

  it("enforces SNS's limits: 5 keys, 150 combinations, no nesting, numeric range, 256 KB", () => {
    const six = Object.fromEntries(["a", "b", "c", "d", "e", "f"].map((k) => [k, ["1"]]));
    policy(
      six,
      `${at}.filterPolicy: ["a","b","c","d","e","f"] names 6 attributes; SNS allows at most 5 keys in a policy`,
    );
    const many = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
    assert.ok(parseTopology(withSub({ filterPolicy: { a: many(10), b: many(15) } })));
    policy(
      { a: many(10), b: many(16) },
      `${at}.filterPolicy: "160 value combinations" are more than the 150 SNS allows (the product of the lists' lengths, $or branches added)`,
    );
    policy(
      { a: { b: ["x"] } },
      `${at}.filterPolicy.a: {"b":["x"]} is a nested object: attribute-scope policies are flat (nesting is for MessageBody scope, which this system refuses)`,
    );
    policy({ a: "x" }, `${at}.filterPolicy.a: "x" must be a list of conditions, e.g. ["x"]`);
    policy(
      { a: [{ numeric: [">", 2e9] }] },
      `${at}.filterPolicy.a[0].numeric[1]: 2000000000 must be a number from -1000000000 to 1000000000`,
    );
    policy(
      { a: [{ numeric: ["~", 1] }] },
      `${at}.filterPolicy.a[0].numeric[0]: "~" must be one of = < <= > >=`,
    );
    policy(
      { a: [{ wildcard: "x*" }] },
      `${at}.filterPolicy.a[0]: {"wildcard":"x*"} must have exactly one operator of prefix, suffix, anything-but, numeric, exists, equals-ignore-case`,
    );
    policy({}, `${at}.filterPolicy: {} must name at least one attribute`);
    assert.throws(
      () => validateFilterPolicy({ a: ["x".repeat(262_144)] }),
      /is over SNS's 262144-byte limit/,
    );
  });

  it("evaluates a policy as SNS does (the local runtime's filtered report relies on it)", () => {
    const p = validateFilterPolicy({
      kind: ["report", { prefix: "audit-" }],
      size: [{ numeric: [">=", 10, "<", 100] }],
    });
    const attrs = (kind: string, size: string) => ({
      kind: { DataType: "String", StringValue: kind },
      size: { DataType: "Number", StringValue: size },
    });
    assert.equal(filterPolicyMatches(p, attrs("report", "10")), true);
    assert.equal(filterPolicyMatches(p, attrs("audit-7", "99.5")), true);
    assert.equal(filterPolicyMatches(p, attrs("report", "100")), false);
    assert.equal(filterPolicyMatches(p, attrs("other", "50")), false);
    assert.equal(filterPolicyMatches(p, { kind: { DataType: "String", StringValue: "report" } }), false);
    const arrays = validateFilterPolicy({ tags: ["red"], missing: [{ exists: false }] });
    assert.equal(
      filterPolicyMatches(arrays, { tags: { DataType: "String.Array", StringValue: '["blue","red"]' } }),
      true,
    );
    assert.equal(filterPolicyMatches(arrays, { tags: { DataType: "Binary", StringValue: "red" } }), false);
    const or = validateFilterPolicy({ $or: [{ a: ["1"] }, { b: [{ "anything-but": ["x"] }] }] });
    assert.equal(filterPolicyMatches(or, { b: { DataType: "String", StringValue: "y" } }), true);
    assert.equal(filterPolicyMatches(or, { b: { DataType: "String", StringValue: "x" } }), false);
  });
});
