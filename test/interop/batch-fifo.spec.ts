// Issue 12: batch and FIFO wire compatibility with AWS's Java and Python extended clients, both
// directions, on the loopback emulators. What arrives is checked by sha256 and size against digests
// this suite computes itself. The SNS extended clients have no batch API (PublishBatch), so the
// clients' side of batching is their SQS SendMessageBatch.
import * as assert from "node:assert/strict";
import { CreateTopicCommand, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { PayloadLayout } from "../../messaging/contract";
import {
  MARKER_ATTRIBUTE_NAMES,
  digestPayload,
  publishBatchToSns,
  resolveSqsMessage,
  sendBatchToSqs,
  type ReaderOptions,
  type WriterOptions,
} from "../../messaging/payload";
import { assertClientsInstalled, java, python, type ClientRecord } from "./support/clients";
import { digestOf, payloadText, type Digest } from "./support/payload";
import { receiveRaw, startWorld, type InteropWorld } from "./support/world";

const KiB = 1024;
/** Inline, offloaded (over the 256 KiB SNS limit), inline again: one batch, both paths. */
const SIZES = [KiB, 300 * KiB, 2 * KiB];
const digestFields = (r: { sha256: string; size: number }): Digest => ({ sha256: r.sha256, size: r.size });
const sorted = (ds: Digest[]) => [...ds].sort((a, b) => a.sha256.localeCompare(b.sha256));

describe("batch and FIFO compatibility with AWS's Java and Python extended clients", function () {
  let world: InteropWorld;
  let writer: WriterOptions;
  let reader: ReaderOptions;
  let fifoCount = 0;

  before(async function () {
    assertClientsInstalled();
    world = await startWorld();
    writer = { s3: world.s3, bucket: world.bucket, keyPrefix: PayloadLayout.payloadPrefix };
    reader = { s3: world.s3, allowedBuckets: [world.bucket] };
  });
  after(async function () {
    await world?.stop();
  });

  const payloads = (seed: number) => SIZES.map((size, i) => payloadText(size, seed + i));

  /** A FIFO queue and, when asked, a FIFO topic delivering to it with raw delivery. */
  async function fifoQueue(name: string, withTopic = false) {
    const n = ++fifoCount;
    const { QueueUrl } = await world.sqs.send(
      new CreateQueueCommand({
        QueueName: `${name}-${n}.fifo`,
        Attributes: { FifoQueue: "true", ContentBasedDeduplication: "false" },
      }),
    );
    const { Attributes } = await world.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
    );
    const queue = { url: QueueUrl!, arn: Attributes!.QueueArn! };
    if (!withTopic) return { queue, topicArn: "" };
    const { TopicArn } = await world.sns.send(
      new CreateTopicCommand({
        Name: `${name}-${n}.fifo`,
        Attributes: { FifoTopic: "true", ContentBasedDeduplication: "false" },
      }),
    );
    await world.sns.send(
      new SubscribeCommand({
        TopicArn,
        Protocol: "sqs",
        Endpoint: queue.arn,
        Attributes: { RawMessageDelivery: "true" },
      }),
    );
    return { queue, topicArn: TopicArn! };
  }

  /**
   * Receives `count` messages with the project's reader and digests each payload, in arrival order.
   * Each is deleted once read: a FIFO queue hands out the rest of a group only after that.
   */
  async function projectReads(queueUrl: string, count: number): Promise<Digest[]> {
    const out: Digest[] = [];
    while (out.length < count) {
      const [m] = await receiveRaw(world.sqs, queueUrl, 1, [...MARKER_ATTRIBUTE_NAMES, "All"]);
      out.push(digestFields(await digestPayload(resolveSqsMessage(m, reader))));
      await world.sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }));
    }
    return out;
  }

  const clientReads = (
    client: "Java" | "Python",
    queueUrl: string,
    count: number,
  ): Promise<ClientRecord[]> => {
    const args = ["--queue-url", queueUrl, "--bucket", world.bucket, "--count", String(count)];
    return client === "Java"
      ? java(["sqs-receive", ...args, "--keep-payload"], world.env)
      : python("sqs_receive.py", [...args, "--delete"], world.env);
  };

  /** One SendMessageBatch of SIZES from the client (seeds seed, seed + 1, …), FIFO with a group. */
  const clientSendsBatch = (
    client: "Java" | "Python",
    queueUrl: string,
    seed: number,
    groupId?: string,
  ): Promise<ClientRecord[]> => {
    const args = [
      "--queue-url",
      queueUrl,
      "--bucket",
      world.bucket,
      "--sizes",
      SIZES.join(","),
      "--seed",
      String(seed),
    ];
    if (groupId) args.push("--group-id", groupId);
    return client === "Java"
      ? java(["sqs-send-batch", ...args], world.env)
      : python("sqs_send_batch.py", args, world.env);
  };

  describe("1. this project's batch writers → AWS's SQS clients", function () {
    for (const client of ["Java", "Python"] as const) {
      it(`${client} receives every entry of a sendBatchToSqs batch (inline and offloaded)`, async function () {
        const queue = await world.queue(`b1-${client.toLowerCase()}`);
        const texts = payloads(client === "Java" ? 12_100 : 12_200);
        const out = await sendBatchToSqs(
          world.sqs,
          queue.url,
          texts.map((body, i) => ({ id: `e${i}`, body })),
          writer,
        );
        assert.deepEqual(out.failed, []);
        assert.deepEqual(
          out.successful.map((s) => s.offloaded),
          [false, true, false],
        );
        const got = await clientReads(client, queue.url, texts.length);
        assert.deepEqual(sorted(got.map(digestFields)), sorted(texts.map(digestOf)));
      });

      it(`${client} receives every entry of a publishBatchToSns batch through SNS → SQS (raw)`, async function () {
        const queue = await world.queue(`b1s-${client.toLowerCase()}`);
        const topicArn = await world.topic(`b1s-${client.toLowerCase()}`, [{ arn: queue.arn, raw: true }]);
        const texts = payloads(client === "Java" ? 12_300 : 12_400);
        const out = await publishBatchToSns(
          world.sns,
          topicArn,
          texts.map((body, i) => ({ id: `e${i}`, body })),
          writer,
        );
        assert.deepEqual(out.failed, []);
        const got = await clientReads(client, queue.url, texts.length);
        assert.deepEqual(sorted(got.map(digestFields)), sorted(texts.map(digestOf)));
      });
    }
  });

  describe("2. AWS's SQS clients' SendMessageBatch → this project's reader", function () {
    for (const client of ["Java", "Python"] as const) {
      it(`resolves every entry of the ${client} client's batch`, async function () {
        const queue = await world.queue(`b2-${client.toLowerCase()}`);
        const seed = client === "Java" ? 22_100 : 22_200;
        const sent = await clientSendsBatch(client, queue.url, seed);
        const expected = payloads(seed).map(digestOf);
        assert.deepEqual(
          sorted(sent.map(digestFields)),
          sorted(expected),
          "the client sent the shared payloads",
        );
        assert.deepEqual(sorted(await projectReads(queue.url, SIZES.length)), sorted(expected));
      });
    }
  });

  describe("3. FIFO, both directions: order within the group kept, duplicates dropped", function () {
    for (const client of ["Java", "Python"] as const) {
      it(`${client} receives a FIFO publishBatchToSns batch in order, and the same payloads again are deduplicated`, async function () {
        const { queue, topicArn } = await fifoQueue(`f1-${client.toLowerCase()}`, true);
        const texts = payloads(client === "Java" ? 32_100 : 32_200);
        const entries = texts.map((body, i) => ({ id: `e${i}`, body, messageGroupId: "g" }));
        assert.deepEqual((await publishBatchToSns(world.sns, topicArn, entries, writer)).failed, []);
        // New pointers, same payloads: the SHA-256 deduplication ids drop all three.
        assert.deepEqual((await publishBatchToSns(world.sns, topicArn, entries, writer)).failed, []);
        const got = await clientReads(client, queue.url, texts.length);
        assert.deepEqual(got.map(digestFields), texts.map(digestOf), "in send order");
        const extra = await world.sqs.send(
          new ReceiveMessageCommand({ QueueUrl: queue.url, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }),
        );
        assert.equal(extra.Messages?.length ?? 0, 0, "the second batch was deduplicated");
      });

      it(`resolves the ${client} client's FIFO SendMessageBatch in order`, async function () {
        const { queue } = await fifoQueue(`f2-${client.toLowerCase()}`);
        const seed = client === "Java" ? 42_100 : 42_200;
        await clientSendsBatch(client, queue.url, seed, "g");
        assert.deepEqual(await projectReads(queue.url, SIZES.length), payloads(seed).map(digestOf));
      });
    }
  });
});
