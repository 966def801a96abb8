import * as assert from "assert";
import { startDownstreamRecorder, type DownstreamRecorder } from "../../local/downstream";

describe("local: the downstream recorder's RunTask idempotency", () => {
  let recorder: DownstreamRecorder;
  beforeEach(async () => (recorder = await startDownstreamRecorder()));
  afterEach(() => recorder.stop());

  const runTask = async (body: Record<string, unknown>) => {
    const res = await fetch(recorder.endpoint, {
      method: "POST",
      headers: { "x-amz-target": "AmazonEC2ContainerServiceV20141113.RunTask" },
      body: JSON.stringify({ cluster: "arn:aws:ecs:us-east-1:1:cluster/c", taskDefinition: "td", ...body }),
    });
    const json = (await res.json()) as { tasks?: Array<{ taskArn: string }>; __type?: string };
    return { status: res.status, taskArn: json.tasks?.[0].taskArn, type: json.__type };
  };

  it("answers a repeat with the same clientToken and parameters with the first task, recorded once", async () => {
    const first = await runTask({ clientToken: "tok" });
    assert.equal((await runTask({ clientToken: "tok" })).taskArn, first.taskArn);
    assert.equal(recorder.calls.length, 1);
    assert.equal(recorder.repeats(), 1);
  });

  it("refuses the same clientToken with other parameters (ConflictException), and scopes tokens by cluster", async () => {
    await runTask({ clientToken: "tok" });
    const conflict = await runTask({ clientToken: "tok", taskDefinition: "other" });
    assert.deepEqual([conflict.status, conflict.type], [400, "ConflictException"]);
    const elsewhere = await runTask({ clientToken: "tok", cluster: "arn:aws:ecs:us-east-1:1:cluster/d" });
    assert.equal(elsewhere.status, 200);
    assert.equal(recorder.calls.length, 2);
    assert.equal(recorder.repeats(), 0);
  });

  it("starts a task per call without a clientToken", async () => {
    const [a, b] = [await runTask({}), await runTask({})];
    assert.notEqual(a.taskArn, b.taskArn);
    assert.equal(recorder.calls.length, 2);
  });
});
