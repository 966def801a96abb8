import { strict as assert } from "assert";
import { Plan, PlannedResource } from "../../local/plan";
import {
  ALARMS_KEY,
  AlarmSettings,
  DEFAULT_ALARMS,
  parseAlarms,
  partAlarms,
} from "../../messaging/operations";
import { parseTopology } from "../../messaging/topology";
import { Policy, simulate } from "./simulation";
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
  SANDBOX,
} from "./plans";

// Operations on every part, read from the plans of the real program for every messaging stack
// file: alarms in the account and Region of what they watch, one alarm topic per account and
// Region that only CloudWatch may publish to (simulated), the dashboard, and tracing.

const T = {
  alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
  dashboard: "aws:cloudwatch/dashboard:Dashboard",
  topic: "aws:sns/topic:Topic",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  subscription: "aws:sns/topicSubscription:TopicSubscription",
  key: "aws:kms/key:Key",
  fn: "aws:lambda/function:Function",
  stateMachine: "aws:sfn/stateMachine:StateMachine",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
};

const where = (r: PlannedResource) => `${r.provider?.account}/${r.provider?.region}`;
const json = <T>(v: unknown): T => (typeof v === "string" ? JSON.parse(v) : v) as T;

/** Alarm name → "account/region metric dimensions threshold", as a reviewer reads the plan. */
function alarmTable(plan: Plan): Record<string, string> {
  return Object.fromEntries(
    ofType(plan, T.alarm).map((a) => {
      const dims = json<Record<string, string>>(a.inputs.dimensions);
      const shown = Object.entries(dims)
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
      return [
        a.inputs.name as string,
        `${where(a)} ${a.inputs.namespace}/${a.inputs.metricName} ${shown} > ${a.inputs.threshold}`,
      ];
    }),
  );
}

const alarmTopics = (plan: Plan) =>
  ofType(plan, T.topic).filter((t) => String(t.inputs.name).endsWith("-alarms"));

describe("operations: alarms, alarm topics, dashboard and tracing in every stack's plan", function () {
  this.timeout(180_000);
  const stacks = ["dev", "a-use1", "b-usw2", "c-use1", "scenario1"];
  const plans: Record<string, Plan> = {};
  let off: Plan, noDashboard: Plan, tuned: Plan;

  before(async () => {
    const done = await limited(2, [
      ...stacks.map((s) => () => planOf(s)),
      () => planOf("dev", { "fieldnotes:alarms": "false", "fieldnotes:tracing": "false" }),
      () => planOf("a-use1", { "fieldnotes:dashboard": "false" }),
      () =>
        planOf("b-usw2", {
          "fieldnotes:alarms": JSON.stringify({
            oldestMessageAgeSeconds: 3600,
            periodSeconds: 60,
            evaluationPeriods: 5,
            dlqMessages: 2,
            endpoints: [
              { protocol: "email", endpoint: "ops@example.org" },
              { protocol: "https", endpoint: "https://hooks.example.org/sns" },
            ],
          }),
        }),
    ]);
    stacks.forEach((s, i) => (plans[s] = assertNoError(done[i])));
    [off, noDashboard, tuned] = done.slice(stacks.length).map(assertNoError);
  });

  it("a-use1: the publisher's failure queue, function, rule and topic alarm in account A, us-east-1", () => {
    const where = `${ACCOUNT_A}/us-east-1`;
    assert.deepEqual(alarmTable(plans["a-use1"]), {
      "fieldnotes-a-use1-publisher-failures-messages": `${where} AWS/SQS/ApproximateNumberOfMessagesVisible QueueName=fieldnotes-publisher-failures > 0`,
      "fieldnotes-a-use1-publisher-function-errors": `${where} AWS/Lambda/Errors FunctionName=fieldnotes-publisher > 0`,
      "fieldnotes-a-use1-publisher-function-throttles": `${where} AWS/Lambda/Throttles FunctionName=fieldnotes-publisher > 0`,
      "fieldnotes-a-use1-publisher-rule-failed-invocations": `${where} AWS/Events/FailedInvocations EventBusName=fieldnotes-events,RuleName=fieldnotes-publish > 0`,
      "fieldnotes-a-use1-publisher-topic-notifications-failed": `${where} AWS/SNS/NumberOfNotificationsFailed TopicName=fieldnotes-messages > 0`,
      // Subscriber b reads a replica in us-west-2: its replication rule's failures, in A's Region.
      "fieldnotes-a-use1-publisher-replication-failed-us-west-2": `${where} AWS/S3/OperationsFailedReplication DestinationBucket=fieldnotes-payloads-${ACCOUNT_A}-us-west-2,RuleId=payloads-to-us-west-2,SourceBucket=fieldnotes-payloads-${ACCOUNT_A}-us-east-1 > 0`,
    });
  });

  it("b-usw2: queue age, queue DLQ and function in us-west-2; the subscription DLQ's alarm in the topic's Region", () => {
    const home = `${ACCOUNT_B}/us-west-2`;
    assert.deepEqual(alarmTable(plans["b-usw2"]), {
      "fieldnotes-b-usw2-b-delivery-dlq-messages": `${ACCOUNT_B}/us-east-1 AWS/SQS/ApproximateNumberOfMessagesVisible QueueName=fieldnotes-b-delivery-dlq > 0`,
      "fieldnotes-b-usw2-b-dlq-messages": `${home} AWS/SQS/ApproximateNumberOfMessagesVisible QueueName=fieldnotes-b-dlq > 0`,
      "fieldnotes-b-usw2-b-function-errors": `${home} AWS/Lambda/Errors FunctionName=fieldnotes-b-consumer > 0`,
      "fieldnotes-b-usw2-b-function-throttles": `${home} AWS/Lambda/Throttles FunctionName=fieldnotes-b-consumer > 0`,
      "fieldnotes-b-usw2-b-queue-oldest-message": `${home} AWS/SQS/ApproximateAgeOfOldestMessage QueueName=fieldnotes-b-queue > 900`,
    });
  });

  it("c-use1: the on-failure queue, the subscription DLQ and the function", () => {
    const here = `${ACCOUNT_C}/us-east-1`;
    assert.deepEqual(alarmTable(plans["c-use1"]), {
      "fieldnotes-c-use1-c-delivery-dlq-messages": `${here} AWS/SQS/ApproximateNumberOfMessagesVisible QueueName=fieldnotes-c-delivery-dlq > 0`,
      "fieldnotes-c-use1-c-dlq-messages": `${here} AWS/SQS/ApproximateNumberOfMessagesVisible QueueName=fieldnotes-c-dlq > 0`,
      "fieldnotes-c-use1-c-function-errors": `${here} AWS/Lambda/Errors FunctionName=fieldnotes-c-consumer > 0`,
      "fieldnotes-c-use1-c-function-throttles": `${here} AWS/Lambda/Throttles FunctionName=fieldnotes-c-consumer > 0`,
    });
  });

  it("dev and scenario1: every part's alarms, each notifying the alarm topic of its own account and Region", () => {
    // dev has the project topology's replica for b (one replication alarm); scenario1 has none.
    for (const [stack, replicas] of [
      ["dev", 1],
      ["scenario1", 0],
    ] as const) {
      const plan = plans[stack];
      assert.equal(ofType(plan, T.alarm).length, 5 + replicas + 5 + 4, stack);
      const topicOf = new Map(alarmTopics(plan).map((t) => [t.outputs.arn, where(t)]));
      for (const a of ofType(plan, T.alarm)) {
        const actions = json<string[]>(a.inputs.alarmActions);
        assert.equal(actions.length, 1, `${stack} ${a.name}`);
        assert.equal(topicOf.get(actions[0]), where(a), `${stack} ${a.name} notifies a topic elsewhere`);
        assert.deepEqual(json<string[]>(a.inputs.okActions), actions);
        assert.equal(a.inputs.treatMissingData, "notBreaching");
        assert.equal(a.inputs.comparisonOperator, "GreaterThanThreshold");
        assert.equal(a.inputs.period, DEFAULT_ALARMS.periodSeconds);
      }
    }
    assert.deepEqual(alarmTopics(plans.dev).map(where).sort(), [
      `${SANDBOX}/us-east-1`,
      `${SANDBOX}/us-west-2`,
    ]);
    assert.deepEqual(alarmTopics(plans.scenario1).map(where), [`${SANDBOX}/us-east-1`]);
  });

  it("one alarm topic per account and Region, encrypted with its own key that admits CloudWatch", () => {
    const expected: Record<string, string[]> = {
      "a-use1": [`${ACCOUNT_A}/us-east-1`],
      "b-usw2": [`${ACCOUNT_B}/us-east-1`, `${ACCOUNT_B}/us-west-2`],
      "c-use1": [`${ACCOUNT_C}/us-east-1`],
    };
    for (const [stack, places] of Object.entries(expected)) {
      const plan = plans[stack];
      const topics = alarmTopics(plan);
      assert.deepEqual(topics.map(where).sort(), places, stack);
      for (const topic of topics) {
        assert.equal(topic.inputs.name, `fieldnotes-${stack}-alarms`);
        const key = ofType(plan, T.key).find((k) => k.outputs.arn === topic.inputs.kmsMasterKeyId);
        assert.ok(
          key,
          `${stack}: alarm topic not encrypted with a key of the stack (alias/aws/sns would drop alarms)`,
        );
        assert.equal(where(key), where(topic));
        const cw = policyInput(key).Statement.find(
          (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: "cloudwatch.amazonaws.com" }),
        );
        assert.ok(cw, `${stack}: the key policy does not admit CloudWatch`);
        assert.deepEqual(cw.Action, ["kms:GenerateDataKey*", "kms:Decrypt"]);
      }
    }
  });

  it("one dashboard per stack showing the part's flow, in the part's account", () => {
    for (const stack of stacks) {
      const dashboards = ofType(plans[stack], T.dashboard);
      assert.equal(dashboards.length, 1, stack);
      assert.equal(dashboards[0].inputs.dashboardName, `fieldnotes-${stack}`);
    }
    const body = (stack: string) =>
      json<{ widgets: { properties: { title: string; metrics: unknown[][] } }[] }>(
        ofType(plans[stack], T.dashboard)[0].inputs.dashboardBody,
      );
    const titles = (stack: string) => body(stack).widgets.map((w) => w.properties.title);
    assert.deepEqual(titles("a-use1"), [
      "Publisher: events in",
      "Publisher: published, inline vs offloaded",
      "Publisher: delivered and failed",
      "Publisher: payload bytes",
      "Publisher: replication to the replicas",
    ]);
    assert.deepEqual(titles("b-usw2"), [
      "Subscriber b: delivered, inline vs offloaded",
      "Subscriber b: failed",
      "Subscriber b: payload bytes",
      "Subscriber b: resolve latency (ms)",
      "Subscriber b: read from the replica or the origin",
    ]);
    assert.equal(titles("dev").length, 14);
    assert.equal(titles("scenario1").length, 12, "no replica: no replication or replica widgets");
    // S3's replication metrics, per rule: failures in the source bucket's Region, pending and
    // latency in the destination's.
    const replication = body("a-use1").widgets[4].properties.metrics;
    const ruleDims = [
      "SourceBucket",
      `fieldnotes-payloads-${ACCOUNT_A}-us-east-1`,
      "DestinationBucket",
      `fieldnotes-payloads-${ACCOUNT_A}-us-west-2`,
      "RuleId",
      "payloads-to-us-west-2",
    ];
    assert.deepEqual(
      replication.map((m) => m.slice(0, 8)),
      ["OperationsFailedReplication", "OperationsPendingReplication", "ReplicationLatency"].map((metric) => [
        "AWS/S3",
        metric,
        ...ruleDims,
      ]),
    );
    assert.deepEqual(
      replication.map((m) => (m[8] as { region: string }).region),
      ["us-east-1", "us-west-2", "us-west-2"],
    );
    // The handlers' replica counters: subscriber b, offloaded path.
    const reads = body("b-usw2").widgets[4].properties.metrics;
    assert.deepEqual(
      reads.map((m) => m.slice(0, 8)),
      ["replicaReads", "replicaFallbacks", "replicaRefused"].map((metric) => [
        "fieldnotes",
        metric,
        "service",
        "subscriber",
        "subscriber",
        "b",
        "path",
        "offloaded",
      ]),
    );
    // Custom metrics: the handlers' namespace (the system) and exact dimension sets.
    const published = body("a-use1").widgets[1].properties.metrics;
    assert.deepEqual(
      published.map((m) => m.slice(0, 6)),
      [
        ["fieldnotes", "messages", "service", "publisher", "path", "inline"],
        ["fieldnotes", "messages", "service", "publisher", "path", "offloaded"],
      ],
    );
    assert.equal(where(ofType(plans["b-usw2"], T.dashboard)[0]), `${ACCOUNT_B}/us-west-2`);
  });

  it("exports every dead-letter queue with what npm run dlq needs", () => {
    const queues = (
      plans.dev.outputs.messaging as { deadLetterQueues: Record<string, Record<string, string>> }
    ).deadLetterQueues;
    assert.deepEqual(
      Object.entries(queues).map(([id, q]) => `${id} ${q.kind} ${q.region} ${q.sourceArn ?? "-"}`),
      [
        "publisher/failures publisher-failures us-east-1 -",
        `b/dlq queue-dlq us-west-2 arn:aws:sqs:us-west-2:${SANDBOX}:fieldnotes-b-queue`,
        "b/delivery-dlq subscription-dlq us-east-1 -",
        "c/dlq on-failure us-east-1 -",
        "c/delivery-dlq subscription-dlq us-east-1 -",
      ],
    );
    assert.equal(queues["b/dlq"].url, `https://sqs.us-west-2.amazonaws.com/${SANDBOX}/fieldnotes-b-dlq`);
    assert.equal(queues["b/dlq"].payloadBucket, `fieldnotes-payloads-${SANDBOX}-us-east-1`);
  });

  it("traces every function (Active) and the state machine, with the X-Ray permissions", () => {
    for (const stack of stacks) {
      const plan = plans[stack];
      for (const fn of ofType(plan, T.fn)) {
        assert.deepEqual(json(fn.inputs.tracingConfig), { mode: "Active" }, `${stack} ${fn.name}`);
        const role = resource(plan, T.rolePolicy, `${fn.name}-policy`);
        const sendsTraces = policyInput(role).Statement.find((s) => s.Sid === "SendTraces");
        assert.deepEqual(sendsTraces?.Action, ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], fn.name);
      }
      for (const sm of ofType(plan, T.stateMachine)) {
        assert.deepEqual(json(sm.inputs.tracingConfiguration), { enabled: true }, `${stack} ${sm.name}`);
        const role = resource(plan, T.rolePolicy, `${sm.name}-policy`);
        assert.ok(
          (policyInput(role).Statement[0].Action as string[]).includes("xray:PutTraceSegments"),
          `${stack} ${sm.name}`,
        );
      }
    }
    assert.equal(ofType(plans.dev, T.stateMachine).length, 1);
  });

  it("fieldnotes:alarms: false removes every alarm and alarm topic; tracing: false turns tracing off", () => {
    assert.equal(ofType(off, T.alarm).length, 0);
    assert.equal(alarmTopics(off).length, 0);
    assert.equal(ofType(off, T.key).length, 1, "only the message topic's key is left");
    assert.equal(ofType(off, T.dashboard).length, 1, "the dashboard has its own key");
    for (const fn of ofType(off, T.fn))
      assert.deepEqual(json(fn.inputs.tracingConfig), { mode: "PassThrough" });
    for (const sm of ofType(off, T.stateMachine))
      assert.deepEqual(json(sm.inputs.tracingConfiguration), { enabled: false });
    assert.equal(ofType(noDashboard, T.dashboard).length, 0);
    assert.equal(ofType(noDashboard, T.alarm).length, 6);
  });

  it("thresholds and endpoints come from config; each endpoint subscribes every alarm topic", () => {
    const table = alarmTable(tuned);
    assert.match(table["fieldnotes-b-usw2-b-queue-oldest-message"], / > 3600$/);
    assert.match(table["fieldnotes-b-usw2-b-dlq-messages"], / > 2$/);
    for (const a of ofType(tuned, T.alarm)) {
      assert.equal(a.inputs.period, 60);
      assert.equal(a.inputs.evaluationPeriods, 5);
    }
    const subs = ofType(tuned, T.subscription).filter((s) => s.name.startsWith("alarms-"));
    assert.deepEqual(subs.map((s) => `${where(s)} ${s.inputs.protocol} ${s.inputs.endpoint}`).sort(), [
      `${ACCOUNT_B}/us-east-1 email ops@example.org`,
      `${ACCOUNT_B}/us-east-1 https https://hooks.example.org/sns`,
      `${ACCOUNT_B}/us-west-2 email ops@example.org`,
      `${ACCOUNT_B}/us-west-2 https https://hooks.example.org/sns`,
    ]);
  });

  describe("alarm topic policy, simulated", () => {
    let topicArn: string;
    let policy: Policy;
    const alarmArn = (name: string, account = ACCOUNT_A, region = "us-east-1") =>
      `arn:aws:cloudwatch:${region}:${account}:alarm:${name}`;

    before(() => {
      const topic = alarmTopics(plans["a-use1"])[0];
      topicArn = topic.outputs.arn as string;
      policy = policyInput(
        ofType(plans["a-use1"], T.topicPolicy).find((p) => p.inputs.arn === topicArn) as PlannedResource,
      );
    });

    const publish = (principal: string, context: Record<string, string>, identity: Policy[] = []) =>
      simulate({
        principal,
        identity,
        action: "sns:Publish",
        resource: topicArn,
        resourceAccount: ACCOUNT_A,
        resourcePolicy: policy,
        context,
      });
    const cloudwatch = (source: string, account = ACCOUNT_A) =>
      publish("cloudwatch.amazonaws.com", {
        "aws:SourceAccount": account,
        "aws:SourceArn": source,
        "aws:PrincipalServiceName": "cloudwatch.amazonaws.com",
      });

    it("CloudWatch may publish for the stack's alarms", async () => {
      assert.equal(await cloudwatch(alarmArn("fieldnotes-a-use1-publisher-function-errors")), "Allowed");
    });

    it("CloudWatch may not publish for another stack's alarm, nor for an alarm of another account", async () => {
      assert.notEqual(await cloudwatch(alarmArn("someone-else-alarm")), "Allowed");
      assert.notEqual(
        await cloudwatch(alarmArn("fieldnotes-a-use1-x", "444444444444"), "444444444444"),
        "Allowed",
      );
    });

    it("no IAM identity may publish, even an admin of the account", async () => {
      const admin = `arn:aws:iam::${ACCOUNT_A}:role/admin`;
      const everything = { Statement: [{ Effect: "Allow", Action: "sns:*", Resource: "*" }] };
      assert.equal(
        await publish(admin, { "aws:PrincipalArn": admin, "aws:PrincipalAccount": ACCOUNT_A }, [everything]),
        "ExplicitlyDenied",
      );
    });

    it("publishing without TLS is denied", async () => {
      assert.equal(
        await publish("cloudwatch.amazonaws.com", {
          "aws:SourceAccount": ACCOUNT_A,
          "aws:SourceArn": alarmArn("fieldnotes-a-use1-x"),
          "aws:PrincipalServiceName": "cloudwatch.amazonaws.com",
          "aws:SecureTransport": "false",
        }),
        "ExplicitlyDenied",
      );
    });
  });
});

describe("operations config validation", () => {
  const err = (raw: unknown) => {
    try {
      parseAlarms(raw);
    } catch (e) {
      return (e as Error).message;
    }
    return "(accepted)";
  };

  it("false turns alarms off; true or absent keeps every default; a map overrides some", () => {
    assert.equal(parseAlarms(false), false);
    assert.deepEqual(parseAlarms(undefined), DEFAULT_ALARMS);
    assert.deepEqual(parseAlarms(true), DEFAULT_ALARMS);
    assert.deepEqual(parseAlarms({ functionErrors: 3 }), { ...DEFAULT_ALARMS, functionErrors: 3 });
  });

  it("replicationFailures: one alarm per replica Region on the publisher's part, at that threshold; none without replicas", () => {
    const subscriber = (name: string, region: string, replica: boolean) => ({
      name,
      account: ACCOUNT_B,
      region,
      delivery: "sqs",
      downstream: "none",
      replica,
    });
    const topology = (replica: boolean) =>
      parseTopology({
        publisher: { account: ACCOUNT_A, region: "us-east-1" },
        subscribers: [
          subscriber("b", "us-west-2", replica),
          subscriber("d", "eu-west-1", replica),
          subscriber("e", "eu-west-1", replica),
        ],
      });
    const settings = parseAlarms({ replicationFailures: 4 }) as AlarmSettings;
    assert.equal(settings.replicationFailures, 4);
    const replication = (replica: boolean) =>
      partAlarms(topology(replica), { kind: "publisher" }, settings).filter(
        (a) => a.metricName === "OperationsFailedReplication",
      );
    assert.deepEqual(
      replication(true).map((a) => [a.id, a.account, a.region, a.dimensions.RuleId, a.threshold]),
      [
        ["publisher-replication-failed-eu-west-1", ACCOUNT_A, "us-east-1", "payloads-to-eu-west-1", 4],
        ["publisher-replication-failed-us-west-2", ACCOUNT_A, "us-east-1", "payloads-to-us-west-2", 4],
      ],
    );
    assert.deepEqual(replication(false), []);
    assert.match(
      err({ replicationFailures: -1 }),
      /replicationFailures: -1 must be an integer from 0 to 1000000/,
    );
  });

  it("names the key and the value of a bad threshold, period or endpoint", () => {
    const cases: [unknown, string][] = [
      ["yes", `Invalid config ${ALARMS_KEY}: "yes" must be false, true or a map of alarm settings`],
      [
        { dlqMesages: 1 },
        `Invalid config ${ALARMS_KEY}.dlqMesages: 1 is not a known key; did you mean dlqMessages?`,
      ],
      [{ periodSeconds: 90 }, `Invalid config ${ALARMS_KEY}.periodSeconds: 90 must be a multiple of 60`],
      [
        { periodSeconds: 30 },
        `Invalid config ${ALARMS_KEY}.periodSeconds: 30 must be an integer from 60 to 86400`,
      ],
      [
        { periodSeconds: 600, evaluationPeriods: 145 },
        `Invalid config ${ALARMS_KEY}.evaluationPeriods: 145 times periodSeconds (600) is over 86400 seconds`,
      ],
      [
        { oldestMessageAgeSeconds: 2_000_000 },
        `${ALARMS_KEY}.oldestMessageAgeSeconds: 2000000 must be an integer from 60 to 1209600`,
      ],
      [{ functionErrors: -1 }, `${ALARMS_KEY}.functionErrors: -1 must be an integer from 0`],
      [{ dlqMessages: "0" }, `${ALARMS_KEY}.dlqMessages: "0" must be an integer`],
      [{ endpoints: "ops@example.org" }, `${ALARMS_KEY}.endpoints: "ops@example.org" must be a list`],
      [
        { endpoints: [{ protocol: "sms", endpoint: "+15550100" }] },
        `${ALARMS_KEY}.endpoints[0].protocol: "sms" is not one of "email", "email-json", "https"`,
      ],
      [
        { endpoints: [{ protocol: "email", endpoint: "ops" }] },
        `${ALARMS_KEY}.endpoints[0].endpoint: "ops" is not an email address`,
      ],
      [
        { endpoints: [{ protocol: "https", endpoint: "http://hooks.example.org" }] },
        `${ALARMS_KEY}.endpoints[0].endpoint: "http://hooks.example.org" is not an https:// URL`,
      ],
      [
        { endpoints: [{ protocol: "email", endpoint: "a@b.org", filter: 1 }] },
        `${ALARMS_KEY}.endpoints[0].filter: 1 is not a known key`,
      ],
      [
        {
          endpoints: [
            { protocol: "email", endpoint: "a@b.org" },
            { protocol: "email", endpoint: "a@b.org" },
          ],
        },
        `${ALARMS_KEY}.endpoints[1].endpoint: "a@b.org" is listed twice`,
      ],
    ];
    for (const [raw, message] of cases)
      assert.ok(err(raw).includes(message), `${JSON.stringify(raw)}: ${err(raw)}`);
  });

  it("reports every problem at once, one line each", () => {
    const text = err({ periodSeconds: 90, functionErrors: -1, endpoints: "ops" });
    assert.equal(text.split("\n").length, 3, text);
    assert.match(text, /periodSeconds: 90 must be a multiple of 60/);
    assert.match(text, /functionErrors: -1 must be an integer/);
    assert.match(text, /endpoints: "ops" must be a list/);
  });

  it("reports an endpoint's problem with the other keys' in one pass; a list is not a map", () => {
    assert.deepEqual(
      err({ dlqMesages: 1, endpoints: [{ protocol: "email", endpoint: "ops" }] }).split("\n"),
      [
        `Invalid config ${ALARMS_KEY}.endpoints[0].endpoint: "ops" is not an email address`,
        `Invalid config ${ALARMS_KEY}.dlqMesages: 1 is not a known key; did you mean dlqMessages? (known: periodSeconds, evaluationPeriods, dlqMessages, oldestMessageAgeSeconds, functionErrors, functionThrottles, failedInvocations, notificationsFailed, replicationFailures, endpoints)`,
      ],
    );
    assert.equal(err([]), `Invalid config ${ALARMS_KEY}: [] must be false, true or a map of alarm settings`);
  });

  it("a bad value stops the real program before any resource is registered", async function () {
    this.timeout(60_000);
    const plan = await planOf("c-use1", { "fieldnotes:tracing": '"on"' });
    assert.equal(plan.error?.message, 'Invalid config fieldnotes:tracing: "on" must be true or false');
    assert.equal(plan.error?.resourcesBefore, 0);
  });
});
