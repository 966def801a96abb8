// Issue 6: wire compatibility with AWS's real Java and Python extended clients, both directions, on
// the loopback emulators. Every case checks the sha256 and byte count of what arrives against a
// digest this suite computes itself from the shared deterministic payload.
import * as assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { PayloadLayout } from "../../messaging/contract";
import {
  LEGACY_MARKER_ATTRIBUTE,
  MARKER_ATTRIBUTE,
  MARKER_ATTRIBUTE_NAMES,
  PayloadError,
  digestPayload,
  formatPointer,
  parsePointer,
  publishToSns,
  receiveFromSqs,
  resolveSqsMessage,
  sendToSqs,
  type ReaderOptions,
  type WriterOptions,
} from "../../messaging/payload";
import { assertClientsInstalled, java, python, type ClientRecord } from "./support/clients";
import { invokeConsumeQueue, sqsLambdaEvent, type HandlerLog } from "./support/handler";
import { PAYLOAD_SIZES, digestOf, payloadText, type Digest } from "./support/payload";
import { receiveRaw, startWorld, type InteropWorld } from "./support/world";

const digestFields = (r: { sha256: string; size: number }): Digest => ({ sha256: r.sha256, size: r.size });

describe("wire compatibility with AWS's Java and Python extended clients", function () {
  let world: InteropWorld;
  let writer: WriterOptions;
  let reader: ReaderOptions;

  before(async function () {
    assertClientsInstalled();
    world = await startWorld();
    writer = { s3: world.s3, bucket: world.bucket, keyPrefix: PayloadLayout.payloadPrefix };
    reader = { s3: world.s3, allowedBuckets: [world.bucket] };
  });
  after(async function () {
    await world?.stop();
  });

  /** A topic with one queue subscribed, raw delivery as given. */
  async function topicToQueue(name: string, raw: boolean) {
    const queue = await world.queue(name);
    const topicArn = await world.topic(name, [{ arn: queue.arn, raw }]);
    return { queue, topicArn };
  }

  /** Receives as the project's consumers do: the marker names requested explicitly. */
  async function receiveOne(queueUrl: string): Promise<Message> {
    const [message] = await receiveRaw(world.sqs, queueUrl, 1, [...MARKER_ATTRIBUTE_NAMES]);
    return message;
  }

  /** The project's receive API, retried until one message arrives; fails on a resolve error. */
  async function receiveOneResolved(queueUrl: string, attributeNames: string[]) {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const slots = await receiveFromSqs(
        world.sqs,
        { QueueUrl: queueUrl, MaxNumberOfMessages: 1, WaitTimeSeconds: 5, attributeNames },
        reader,
      );
      const [slot] = slots;
      if (!slot) continue;
      if ("error" in slot) throw slot.error;
      return slot;
    }
    throw new Error(`no message arrived on ${queueUrl} within 30 s`);
  }

  function assertArrived(record: ClientRecord | undefined, expected: Digest, offloaded: boolean) {
    assert.ok(record, "a message arrived");
    assert.deepEqual(digestFields(record), expected);
    assert.equal(
      record.pointerInReceiptHandle,
      offloaded,
      offloaded ? "the client fetched it from S3" : "it came inline",
    );
  }

  /**
   * Runs the consume-queue bundle on these messages as one SQS → Lambda batch and checks, from the
   * handler's own "payload delivered" log, that it read exactly the expected bytes.
   */
  async function assertHandlerDelivered(
    messages: Message[],
    queueArn: string,
    expected: Digest,
    offloaded: boolean,
  ) {
    const run = await invokeConsumeQueue(sqsLambdaEvent(messages, queueArn), {
      awsEnv: world.env,
      allowedBuckets: [world.bucket],
    });
    const logs = JSON.stringify(run.logs, null, 1);
    assert.deepEqual(run.response, { batchItemFailures: [] }, `handler logs:\n${logs}`);
    const log: HandlerLog | undefined = run.logs.find((l) => l.message === "payload delivered");
    assert.ok(log, `the handler logged "payload delivered":\n${logs}`);
    assert.deepEqual({ sha256: log.sha256, size: log.size }, expected);
    assert.equal(
      log.pointer !== null && log.pointer !== undefined,
      offloaded,
      "resolved through S3 iff offloaded",
    );
  }

  describe("1. this project's SNS publisher → SNS → SQS (raw) → AWS's SQS clients", function () {
    PAYLOAD_SIZES.forEach(({ label, size, offloaded }, i) => {
      for (const client of ["Java", "Python"] as const) {
        it(`${client} SQS client receives the original ${label} payload`, async function () {
          const seed = 1000 + i * 10 + (client === "Java" ? 1 : 2);
          const { queue, topicArn } = await topicToQueue(`c1-${client.toLowerCase()}`, true);
          const text = payloadText(size, seed);
          const expected = digestOf(text);
          const sent = await publishToSns(world.sns, { topicArn, body: text }, writer);
          assert.equal(sent.offloaded, offloaded);
          const args = ["--queue-url", queue.url, "--bucket", world.bucket, "--count", "1"];
          const [received] =
            client === "Java"
              ? await java(["sqs-receive", ...args], world.env)
              : await python("sqs_receive.py", args, world.env);
          assertArrived(received, expected, offloaded);
        });
      }
    });
  });

  describe("2. AWS's SNS clients → SNS → SQS (raw) → this project's consume-queue handler (bundled)", function () {
    PAYLOAD_SIZES.forEach(({ label, size, offloaded }, i) => {
      for (const client of ["Java", "Python"] as const) {
        it(`resolves a ${label} payload the ${client} SNS client published`, async function () {
          const seed = 2000 + i * 10 + (client === "Java" ? 1 : 2);
          const { queue, topicArn } = await topicToQueue(`c2-${client.toLowerCase()}`, true);
          const expected = digestOf(payloadText(size, seed));
          const args = [
            "--topic-arn",
            topicArn,
            "--bucket",
            world.bucket,
            "--size",
            String(size),
            "--seed",
            String(seed),
          ];
          const [sent] =
            client === "Java"
              ? await java(["sns-publish", ...args], world.env)
              : await python("sns_publish.py", args, world.env);
          assert.deepEqual(digestFields(sent), expected, "the client sent the shared payload");
          // The event source mapping always receives every attribute.
          const messages = await receiveRaw(world.sqs, queue.url, 1, ["All"]);
          const marker = messages[0].MessageAttributes?.[MARKER_ATTRIBUTE];
          assert.equal(marker !== undefined, offloaded, "marker present iff offloaded");
          if (offloaded) {
            assert.deepEqual(
              marker,
              { DataType: "Number", StringValue: String(size) },
              "marker = UTF-8 byte length",
            );
            const body = messages[0].Body!;
            // The Java writer's bytes are the canonical form this project writes too; Python adds spaces.
            if (client === "Java")
              assert.equal(formatPointer(parsePointer(body)), body, "Java pointer bytes = ours");
            assert.equal(parsePointer(body).s3BucketName, world.bucket);
          }
          await assertHandlerDelivered(messages, queue.arn, expected, offloaded);
        });
      }
    });
  });

  describe("3. AWS's Java SQS client, default config (legacy SQSLargePayloadSize) → this project's reader", function () {
    PAYLOAD_SIZES.forEach(({ label, size, offloaded }, i) => {
      it(`resolves a ${label} payload`, async function () {
        const seed = 3000 + i;
        const queue = await world.queue("c3-java");
        const expected = digestOf(payloadText(size, seed));
        const [sent] = await java(
          [
            "sqs-send",
            "--queue-url",
            queue.url,
            "--bucket",
            world.bucket,
            "--size",
            String(size),
            "--seed",
            String(seed),
          ],
          world.env,
        );
        assert.deepEqual(digestFields(sent), expected);
        // The project's own receive, asking for a user attribute too: once any name is requested, SQS
        // (and fauxqs) return only those, so this resolves only if receiveFromSqs adds the legacy
        // marker name itself.
        const slot = await receiveOneResolved(queue.url, ["traceId"]);
        assert.equal(slot.message.offloaded, offloaded, "offloaded iff the Java client offloaded");
        assert.equal(slot.message.size, size);
        assert.deepEqual(digestFields(await digestPayload(slot.message)), expected);
      });
    });

    it("the consume-queue handler resolves the legacy marker in the SQS → Lambda record shape (300 KiB)", async function () {
      const size = 300 * 1024;
      const queue = await world.queue("c3-java-handler");
      const args = [
        "--queue-url",
        queue.url,
        "--bucket",
        world.bucket,
        "--size",
        String(size),
        "--seed",
        "3100",
      ];
      await java(["sqs-send", ...args], world.env);
      const messages = await receiveRaw(world.sqs, queue.url, 1, ["All"]);
      assert.ok(messages[0].MessageAttributes?.[LEGACY_MARKER_ATTRIBUTE], "sent with SQSLargePayloadSize");
      await assertHandlerDelivered(messages, queue.arn, digestOf(payloadText(size, 3100)), true);
    });
  });

  describe("4. AWS's Python SNS client → SNS → SQS without raw delivery → this project's reader", function () {
    /** Publishes with the Python SNS client to a queue subscribed with raw delivery off. */
    async function envelopeMessage(size: number, seed: number): Promise<Message> {
      const { queue, topicArn } = await topicToQueue("c4-python", false);
      await python(
        "sns_publish.py",
        ["--topic-arn", topicArn, "--bucket", world.bucket, "--size", String(size), "--seed", String(seed)],
        world.env,
      );
      const message = await receiveOne(queue.url);
      assert.equal(
        JSON.parse(message.Body!).Type,
        "Notification",
        "raw delivery off: the body is the SNS envelope",
      );
      return message;
    }

    PAYLOAD_SIZES.forEach(({ label, size, offloaded }, i) => {
      it(`resolves a ${label} payload from the SNS envelope with sqsDelivery "envelope"`, async function () {
        const seed = 4000 + i;
        const message = await envelopeMessage(size, seed);
        const resolved = resolveSqsMessage(message, { ...reader, sqsDelivery: "envelope" });
        assert.equal(resolved.offloaded, offloaded);
        assert.deepEqual(digestFields(await digestPayload(resolved)), digestOf(payloadText(size, seed)));
      });

      it(`without sqsDelivery, refuses a ${label} envelope with a clear error instead of passing it off as the payload`, async function () {
        const seed = 4100 + i;
        const message = await envelopeMessage(size, seed);
        const expected = digestOf(payloadText(size, seed));
        let outcome: unknown;
        try {
          const digest = await digestPayload(resolveSqsMessage(message, reader));
          outcome = digestFields(digest);
        } catch (err) {
          outcome = err;
        }
        if (!(outcome instanceof Error)) {
          assert.fail(
            `the reader returned ${JSON.stringify(outcome)} as the payload (the envelope JSON, ${Buffer.byteLength(message.Body!)} bytes) ` +
              `instead of an error; the payload is ${JSON.stringify(expected)}`,
          );
        }
        assert.ok(outcome instanceof PayloadError, `a PayloadError, got ${String(outcome)}`);
        assert.match(outcome.message, /envelope|notification|raw/i, "the error says what arrived");
      });
    });
  });

  describe("5. this project's SQS writer → AWS's SQS clients", function () {
    PAYLOAD_SIZES.forEach(({ label, size, offloaded }, i) => {
      for (const client of ["Python", "Java"] as const) {
        it(`${client} SQS client receives the original ${label} payload`, async function () {
          const seed = 5000 + i * 10 + (client === "Java" ? 1 : 2);
          const queue = await world.queue(`c5-${client.toLowerCase()}`);
          const text = payloadText(size, seed);
          const expected = digestOf(text);
          const sent = await sendToSqs(world.sqs, { queueUrl: queue.url, body: text }, writer);
          assert.equal(sent.offloaded, offloaded);
          assert.equal(sent.sha256, expected.sha256);
          const args = ["--queue-url", queue.url, "--bucket", world.bucket, "--count", "1"];
          const [received] =
            client === "Java"
              ? await java(["sqs-receive", ...args], world.env)
              : await python("sqs_receive.py", args, world.env);
          assertArrived(received, expected, offloaded);
        });
      }
    });
  });
});
