// The downstream a subscriber starts for each payload (messaging/handlers/downstream*.ts), in
// process against the recording Step Functions / ECS endpoint: the exact request, the idempotency
// names, what is refused before a call and what an answer that started nothing becomes.
import * as assert from "node:assert/strict";
import type { ECSClient } from "@aws-sdk/client-ecs";
import type { SFNClient } from "@aws-sdk/client-sfn";
import { createDownstream, type PayloadSummary } from "../../messaging/handlers/downstream";
import { SUMMARY_ENV, taskToken } from "../../messaging/handlers/downstream-ecs";
import { executionName } from "../../messaging/handlers/downstream-stepfunctions";
import type { DownstreamConfig } from "../../messaging/handlers/config";
import { emulatorEnv } from "../../local/emulators";
import { clientTimeouts, startDownstreamRecorder, withEnv } from "./support";
import { PROMPT_CALL_TIMEOUTS } from "../../messaging/handlers/deadline";

const STATE_MACHINE = "arn:aws:states:us-east-1:000000000000:stateMachine:sm";
const ECS: DownstreamConfig = {
  kind: "ecs",
  clusterArn: "arn:aws:ecs:us-east-1:000000000000:cluster/c",
  taskDefinitionArn: "arn:aws:ecs:us-east-1:000000000000:task-definition/t:1",
  containerName: "consumer",
  subnetIds: ["subnet-1", "subnet-2"],
  securityGroupIds: ["sg-1"],
};
/** ECS refuses container overrides over 8 KiB; the summary keeps 512 bytes of that for the rest. */
const SUMMARY_LIMIT = 8192 - 512;

function summary(messageId: string, extra: Partial<PayloadSummary> = {}): PayloadSummary {
  return {
    subscriber: "b",
    messageId,
    pointer: { s3BucketName: "bkt", s3Key: "payloads/k" },
    size: 3,
    sha256: "ab".repeat(32),
    attributes: { a: { DataType: "String", StringValue: "v" } },
    ...extra,
  };
}

/** A summary whose JSON is exactly `bytes` long, its preview mostly `fill` (a 1- or 2-byte character). */
function summaryOfSize(messageId: string, bytes: number, fill: string): PayloadSummary {
  const room = bytes - Buffer.byteLength(JSON.stringify(summary(messageId, { preview: "" })));
  const n = Math.floor(room / Buffer.byteLength(fill));
  const preview = fill.repeat(n) + "x".repeat(room - n * Buffer.byteLength(fill));
  const out = summary(messageId, { preview });
  assert.equal(Buffer.byteLength(JSON.stringify(out)), bytes);
  return out;
}

describe("executionName and taskToken: the same message always gets the same name", () => {
  it("a message id Step Functions takes as a name is kept, prefixed; any other is hashed", () => {
    assert.equal(executionName("abc-DEF_123"), "msg-abc-DEF_123");
    assert.equal(executionName("a".repeat(76)), `msg-${"a".repeat(76)}`);
    assert.equal(
      executionName("a".repeat(77)),
      "msh-bc19b9d355411a4e3d3426f5d39bfc9a856ca5f042bc3a468572080086ad1384",
    );
    assert.equal(
      executionName("id with spaces"),
      "msh-bd1e442c96c6045c725994464547f529e9b7d77de2919ab0c0e27a3b7ebeabfa",
    );
    assert.equal(executionName(""), "msh-e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    assert.match(executionName("x y"), /^[0-9A-Za-z_-]{1,80}$/);
  });

  it("a RunTask client token is the message id's SHA-256 in hex (64 characters, ECS's limit)", () => {
    assert.equal(
      taskToken("id with spaces"),
      "bd1e442c96c6045c725994464547f529e9b7d77de2919ab0c0e27a3b7ebeabfa",
    );
  });
});

describe("downstreams against a recording Step Functions and ECS endpoint", () => {
  const env = withEnv();
  let recorder: Awaited<ReturnType<typeof startDownstreamRecorder>>;

  before(async () => {
    recorder = await startDownstreamRecorder();
    env.set(emulatorEnv({ sfn: recorder.endpoint, ecs: recorder.endpoint }));
  });
  afterEach(() => {
    recorder.reply = undefined;
    recorder.calls.length = 0;
  });
  after(async () => {
    env.restore();
    await recorder.stop();
  });

  it("a bundle built for one downstream refuses another at load, and starts its own", () => {
    // esbuild defines BUNDLED_DOWNSTREAM in a subscriber bundle (build.ts); from source the same
    // free identifier is read from the global scope, so defining it there runs the bundle's branch.
    const global = globalThis as { BUNDLED_DOWNSTREAM?: string };
    const sfn: DownstreamConfig = { kind: "stepfunctions", stateMachineArn: STATE_MACHINE };
    const refusal = (kind: string, built: string) =>
      `DOWNSTREAM is "${kind}", but this bundle was built for the "${built}" downstream and carries no ` +
      "other's client: deploy the bundle built for the subscriber's downstream (handlerBundle in messaging/handlers/build.ts)";
    try {
      global.BUNDLED_DOWNSTREAM = "ecs";
      assert.throws(() => createDownstream(sfn), { message: refusal("stepfunctions", "ecs") });
      assert.throws(() => createDownstream({ kind: "none" }), { message: refusal("none", "ecs") });
      assert.equal(createDownstream(ECS).kind, "ecs");
      global.BUNDLED_DOWNSTREAM = "stepfunctions";
      assert.equal(createDownstream(sfn).kind, "stepfunctions");
      assert.throws(() => createDownstream(ECS), { message: refusal("ecs", "stepfunctions") });
      global.BUNDLED_DOWNSTREAM = "none";
      assert.equal(createDownstream({ kind: "none" }).kind, "none");
    } finally {
      delete global.BUNDLED_DOWNSTREAM;
    }
  });

  it("none: starts nothing", async () => {
    const none = createDownstream({ kind: "none" });
    assert.equal(none.kind, "none");
    assert.deepEqual(await none.start(summary("m-none")), {});
    assert.deepEqual(recorder.calls, []);
  });

  it("stepfunctions: one execution per message, named after it, with the summary as input", async () => {
    const wrapped: unknown[] = [];
    const sfn = createDownstream({ kind: "stepfunctions", stateMachineArn: STATE_MACHINE }, (client) => {
      wrapped.push(client);
      return client;
    });
    assert.equal(sfn.kind, "stepfunctions");
    assert.equal(wrapped.length, 1, "the client is handed to the tracer");
    assert.deepEqual(await clientTimeouts(wrapped[0] as SFNClient), { ...PROMPT_CALL_TIMEOUTS });
    const s = summary("m-sfn", { preview: "abc" });
    assert.deepEqual(await sfn.start(s), {
      id: `${STATE_MACHINE.replace(":stateMachine:", ":execution:")}:msg-m-sfn`,
    });
    assert.deepEqual(
      recorder.calls.map((c) => c.input),
      [{ stateMachineArn: STATE_MACHINE, name: "msg-m-sfn", input: JSON.stringify(s) }],
    );
    // A redelivery of the same message: the execution exists already, which is success.
    assert.deepEqual(await sfn.start(s), { duplicate: true });
  });

  it("stepfunctions: any other error is the caller's, and an aborted signal stops the call", async () => {
    const sfn = createDownstream({ kind: "stepfunctions", stateMachineArn: STATE_MACHINE });
    recorder.reply = () => ({ status: 400, body: { __type: "StateMachineDoesNotExist", message: "gone" } });
    await assert.rejects(sfn.start(summary("m-missing")), { name: "StateMachineDoesNotExist" });
    recorder.reply = undefined;
    const calls = recorder.calls.length;
    await assert.rejects(sfn.start(summary("m-aborted"), AbortSignal.abort()), { name: "AbortError" });
    assert.equal(recorder.calls.length, calls, "no call once aborted");
    assert.ok((await sfn.start(summary("m-signal"), new AbortController().signal)).id);
  });

  it("ecs: one Fargate task in the private subnets, the summary in the container's environment", async () => {
    const wrapped: unknown[] = [];
    const ecs = createDownstream(ECS, (client) => {
      wrapped.push(client);
      return client;
    });
    assert.equal(ecs.kind, "ecs");
    assert.equal(wrapped.length, 1, "the client is handed to the tracer");
    assert.deepEqual(await clientTimeouts(wrapped[0] as ECSClient), { ...PROMPT_CALL_TIMEOUTS });
    const s = summary("id with spaces", { preview: "abc" });
    const started = await ecs.start(s);
    assert.deepEqual(
      recorder.calls.map((c) => c.input),
      [
        {
          cluster: ECS.clusterArn,
          taskDefinition: ECS.taskDefinitionArn,
          launchType: "FARGATE",
          clientToken: taskToken("id with spaces"),
          networkConfiguration: {
            awsvpcConfiguration: {
              subnets: ["subnet-1", "subnet-2"],
              securityGroups: ["sg-1"],
              assignPublicIp: "DISABLED",
            },
          },
          overrides: {
            containerOverrides: [
              { name: "consumer", environment: [{ name: SUMMARY_ENV, value: JSON.stringify(s) }] },
            ],
          },
        },
      ],
    );
    assert.deepEqual(started, { id: "arn:aws:ecs:us-east-1:000000000000:task/c/1" });
    // No security groups given: ECS applies the VPC's default group, so none is sent.
    await createDownstream({ ...ECS, securityGroupIds: [] }).start(s);
    const network = recorder.calls[1].input.networkConfiguration as { awsvpcConfiguration: object };
    assert.deepEqual(network.awsvpcConfiguration, {
      subnets: ["subnet-1", "subnet-2"],
      assignPublicIp: "DISABLED",
    });
  });

  it("ecs: a summary over the override limit loses its preview; still over it, nothing is started", async () => {
    const ecs = createDownstream(ECS);
    const sent = () =>
      (
        recorder.calls.at(-1)!.input as {
          overrides: { containerOverrides: { environment: { value: string }[] }[] };
        }
      ).overrides.containerOverrides[0].environment[0].value;
    const fits = summaryOfSize("m-fits", SUMMARY_LIMIT, "x");
    await ecs.start(fits);
    assert.equal(sent(), JSON.stringify(fits));
    // One byte over in UTF-8, though fewer characters: the preview goes, the rest is sent.
    const over = summaryOfSize("m-over", SUMMARY_LIMIT + 1, "é");
    await ecs.start(over);
    const { preview: _preview, ...withoutPreview } = over;
    assert.equal(sent(), JSON.stringify(withoutPreview));

    const calls = recorder.calls.length;
    const attributes = { big: { DataType: "String", StringValue: "y".repeat(SUMMARY_LIMIT) } };
    const tooLarge = summary("m-large", { attributes, preview: "abc" });
    const bytes = Buffer.byteLength(JSON.stringify({ ...tooLarge, preview: undefined }));
    await assert.rejects(ecs.start(tooLarge), {
      message: `payload summary is ${bytes} bytes, too large for an ECS container override (8 KiB); shorten the message attributes`,
    });
    assert.equal(recorder.calls.length, calls, "no RunTask");
  });

  it("ecs: RunTask that placed no task fails, with ECS's reason when it gave one", async () => {
    const ecs = createDownstream(ECS);
    recorder.reply = () => ({
      status: 200,
      body: { tasks: [], failures: [{ arn: "arn:c", reason: "RESOURCE:MEMORY", detail: "no room" }] },
    });
    await assert.rejects(ecs.start(summary("m-1")), {
      message: "ECS RunTask started no task: RESOURCE:MEMORY (arn:c no room)",
    });
    recorder.reply = () => ({ status: 200, body: { failures: [{ reason: "AGENT" }] } });
    await assert.rejects(ecs.start(summary("m-2")), { message: "ECS RunTask started no task: AGENT ( )" });
    // A failure beside a started task still fails: the message's task may not be the one that ran.
    recorder.reply = () => ({
      status: 200,
      body: { tasks: [{ taskArn: "arn:t" }], failures: [{ reason: "MISSING", arn: "arn:x" }] },
    });
    await assert.rejects(ecs.start(summary("m-3")), {
      message: "ECS RunTask started no task: MISSING (arn:x )",
    });
    recorder.reply = () => ({ status: 200, body: {} });
    await assert.rejects(ecs.start(summary("m-4")), {
      message: "ECS RunTask started no task: no task and no failure returned",
    });
    recorder.reply = () => ({ status: 200, body: { tasks: [], failures: [] } });
    await assert.rejects(ecs.start(summary("m-5")), {
      message: "ECS RunTask started no task: no task and no failure returned",
    });
    recorder.reply = undefined;
    const calls = recorder.calls.length;
    await assert.rejects(ecs.start(summary("m-6"), AbortSignal.abort()), { name: "AbortError" });
    assert.equal(recorder.calls.length, calls, "no call once aborted");
    assert.ok((await ecs.start(summary("m-7"), new AbortController().signal)).id);
  });
});
