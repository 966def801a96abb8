import * as assert from "assert";
import { startDownstreamRecorder } from "../../local/downstream";

describe("local: the downstream recorder's idempotency", () => {
  it("answers a repeated RunTask clientToken with the first task, recorded once", async () => {
    const recorder = await startDownstreamRecorder();
    try {
      const run = async () => {
        const res = await fetch(recorder.endpoint, {
          method: "POST",
          headers: { "x-amz-target": "AmazonEC2ContainerServiceV20141113.RunTask" },
          body: JSON.stringify({
            cluster: "arn:aws:ecs:us-east-1:1:cluster/c",
            taskDefinition: "td",
            clientToken: "tok",
          }),
        });
        return ((await res.json()) as { tasks: Array<{ taskArn: string }> }).tasks[0].taskArn;
      };
      const first = await run();
      assert.equal(await run(), first);
      assert.equal(recorder.calls.length, 1);
      assert.equal(recorder.repeats(), 1);
    } finally {
      await recorder.stop();
    }
  });
});
