import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import * as assert from "assert";
import { deployLocally, type LocalDeployment } from "../../local/deploy";
import { startDownstreamRecorder, type DownstreamRecorder } from "../../local/downstream";
import { LambdaRuntime } from "../../local/lambda-runtime";
import { planStack } from "../../local/plan";
import { emulatorClientConfig, startFauxqs, startS3rver, type RunningEmulator } from "../../local/emulators";

describe("local mode: the deployer and the Lambda runtime", function () {
  this.timeout(120_000);
  const running: Array<RunningEmulator | DownstreamRecorder> = [];
  let deployment: LocalDeployment;
  let runtime: LambdaRuntime;
  let sqs: SQSClient;

  before(async () => {
    const plan = await planStack("dev");
    const [fauxqs, s3rver, recorder] = await Promise.all([
      startFauxqs(),
      startS3rver(),
      startDownstreamRecorder(),
    ]);
    running.push(fauxqs, s3rver, recorder);
    deployment = await deployLocally(plan, {
      sqs: fauxqs.endpoint,
      sns: fauxqs.endpoint,
      s3: s3rver.endpoint,
      sfn: recorder.endpoint,
      ecs: recorder.endpoint,
    });
    runtime = new LambdaRuntime(deployment);
    sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
  });

  after(async () => {
    await runtime?.stop();
    sqs?.destroy();
    for (const r of running) await r.stop();
  });

  it("creates the queues with the program's redrive and visibility settings, mapped to the emulator's ARNs", async () => {
    const queue = deployment.queues.find((q) => q.name === "fieldnotes-b-queue")!;
    const dlq = deployment.queues.find((q) => q.name === "fieldnotes-b-dlq")!;
    const { GetQueueAttributesCommand } = await import("@aws-sdk/client-sqs");
    const attrs = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url, AttributeNames: ["All"] }))
    ).Attributes!;
    assert.equal(attrs.VisibilityTimeout, String(queue.resource.inputs.visibilityTimeoutSeconds));
    assert.deepEqual(JSON.parse(attrs.RedrivePolicy!), { deadLetterTargetArn: dlq.arn, maxReceiveCount: 5 });
    assert.equal(deployment.addressMap.get(queue.plannedArn), queue.arn);
    const b = deployment.subscriptions.find((s) => s.protocol === "sqs")!;
    assert.equal(b.raw, true);
    // The function's environment points at the emulator's resources, by the same names.
    const publisher = deployment.functions.find((f) => f.handlerName === "publish")!;
    assert.equal(publisher.env.TOPIC_ARN, deployment.topics[0].arn);
    assert.notEqual(publisher.plannedEnv.TOPIC_ARN, publisher.env.TOPIC_ARN);
  });

  it("invokes the publisher asynchronously: a bad event is retried, then lands in its on-failure destination", async () => {
    const route = deployment.routes[0];
    const [entry] = runtime.putEvents([
      {
        Source: "test",
        DetailType: "PublishPayload",
        EventBusName: route.busName,
        Detail: JSON.stringify({ source: { bucket: "someone-elses-bucket", key: "incoming/x" } }),
      },
    ]);
    const [last] = await entry.delivered;
    assert.equal(last.ok, false);
    assert.match(
      last.error!.errorMessage,
      /detail\.source s3:\/\/someone-elses-bucket\/incoming\/x is not under an allowed source/,
    );
    const attempts = runtime.invocations.filter((i) => i.records[0]?.messageId === entry.EventId);
    assert.equal(attempts.length, route.fn.asyncRetries + 1);
    const destination = route.fn.onFailureQueue!;
    assert.equal(destination.name, "fieldnotes-publisher-failures");
    const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: destination.url, WaitTimeSeconds: 1 }));
    const record = JSON.parse(got.Messages![0].Body!);
    assert.equal(record.requestContext.condition, "RetriesExhausted");
    assert.equal(record.requestContext.approximateInvokeCount, 3);
    assert.equal(record.requestPayload.id, entry.EventId);
    assert.equal(record.requestPayload["detail-type"], "PublishPayload");
  });

  it("does not route an event whose detail-type the rule does not match", async () => {
    const [entry] = runtime.putEvents([
      {
        Source: "test",
        DetailType: "SomethingElse",
        EventBusName: deployment.routes[0].busName,
        Detail: "{}",
      },
    ]);
    assert.deepEqual(await entry.delivered, []);
  });
});
