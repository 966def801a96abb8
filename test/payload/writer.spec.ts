// The writers' decisions that need no transport: every refusal happens before any S3, SNS or SQS
// call (the clients point at a closed port, so a call would fail with a connection error instead),
// and what an inline message carries. Offloading against S3 is in library.spec.ts.
import * as assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import {
  checkFifoIds,
  formatPointer,
  isFifoTarget,
  publishToSns,
  sendToSqs,
  PayloadError,
  type WriterOptions,
} from "../../messaging/payload";
import { fifoIds, prepare, result, type PreparedMessage } from "../../messaging/payload/writer";

const closed = {
  region: "us-east-1",
  endpoint: "http://127.0.0.1:9",
  maxAttempts: 1,
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
};
const s3 = new S3Client(closed);
const sns = new SNSClient(closed);
const sqs = new SQSClient(closed);
const options: WriterOptions = { s3, bucket: "payloads-a", keyPrefix: "payloads/" };
const TOPIC = "arn:aws:sns:us-east-1:111111111111:t";
const QUEUE = "https://sqs.us-east-1.amazonaws.com/111111111111/q";

async function refused(promise: Promise<unknown>, code: string, message: string) {
  await assert.rejects(promise, (e: unknown) => {
    assert.ok(e instanceof PayloadError, `not a PayloadError: ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}
const sha256 = (b: Buffer | string) => createHash("sha256").update(b).digest("hex");

describe("writers: refusals before any call", () => {
  it("threshold: an integer from 0 to 1,048,576", async () => {
    for (const threshold of [-1, 1.5, 1_048_577]) {
      await refused(
        prepare({ body: "x" }, { ...options, threshold }, "sns"),
        "InvalidOption",
        `threshold must be an integer from 0 to 1048576, got ${threshold}`,
      );
    }
    assert.equal(
      (await prepare({ body: "x" }, { ...options, threshold: 1_048_576 }, "sqs")).offloaded,
      false,
    );
    // 0 is a threshold: an empty body is still refused for being empty, not for the threshold.
    await refused(
      prepare({ body: "" }, { ...options, threshold: 0 }, "sqs"),
      "InvalidBody",
      "body is empty: SNS and SQS refuse empty messages",
    );
  });

  it("exactly one of body or source, each of the right shape", async () => {
    await refused(
      prepare({ body: "x", source: { bucket: "b", key: "k" } }, options, "sns"),
      "InvalidBody",
      "exactly one of body or source is required, got body and source",
    );
    await refused(
      prepare({}, options, "sns"),
      "InvalidBody",
      "exactly one of body or source is required, got neither",
    );
    for (const source of [
      { bucket: "", key: "k" },
      { bucket: "b", key: "" },
      { bucket: "b", key: 5 },
      { bucket: 5, key: "k" },
    ]) {
      await refused(
        prepare({ source: source as never }, options, "sns"),
        "InvalidBody",
        `source must be {bucket, key} with non-empty strings, got ${JSON.stringify(source)}`,
      );
    }
    await refused(
      prepare({ body: 5 as never }, options, "sns"),
      "InvalidBody",
      "body must be a string, a Buffer/Uint8Array or a Readable, got number",
    );
  });

  it("targets: an SNS topic ARN, an SQS queue URL", async () => {
    for (const topicArn of ["t", "sns:t", 5]) {
      await refused(
        publishToSns(sns, { topicArn: topicArn as never, body: "x" }, options),
        "InvalidOption",
        `topicArn must be an SNS topic ARN, got ${JSON.stringify(topicArn)}`,
      );
    }
    for (const queueUrl of [
      "sqs.us-east-1.amazonaws.com/1/q",
      "ftp://x/q",
      " https://x/q",
      5,
      ["https://x/q"],
    ]) {
      await refused(
        sendToSqs(sqs, { queueUrl: queueUrl as never, body: "x" }, options),
        "InvalidOption",
        `queueUrl must be an SQS queue URL, got ${JSON.stringify(queueUrl)}`,
      );
    }
  });

  it("FIFO ids: 1-128 alphanumeric or punctuation characters, and a group for a FIFO target", () => {
    assert.equal(isFifoTarget(`${TOPIC}.fifo`), true);
    assert.equal(isFifoTarget(`${QUEUE}.fifo`), true);
    assert.equal(isFifoTarget(`${TOPIC}-fifo`), false);
    checkFifoIds(`${TOPIC}.fifo`, {
      messageGroupId: "g".repeat(128),
      messageDeduplicationId: `a-Z_9!"#$%&'()*+,./:;<=>?@[\\]^\`{|}~`,
    });
    checkFifoIds(TOPIC, {});
    for (const field of ["messageGroupId", "messageDeduplicationId"]) {
      for (const bad of ["", "g".repeat(129), "a b", "é", 5]) {
        assert.throws(
          () => checkFifoIds(`${TOPIC}.fifo`, { messageGroupId: "g", [field]: bad }),
          (e: unknown) =>
            e instanceof PayloadError &&
            e.code === "InvalidOption" &&
            e.message ===
              `${field} must be 1-128 alphanumeric or punctuation characters, got ${JSON.stringify(bad)}`,
        );
      }
    }
    assert.throws(
      () => checkFifoIds(`${QUEUE}.fifo`, { messageDeduplicationId: "d" }),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "InvalidOption" &&
        e.message === `messageGroupId is required to send to the FIFO target ${QUEUE}.fifo`,
    );
  });
});

describe("writers: what an inline message carries", () => {
  it("the body's text, its UTF-8 size and SHA-256, the user attributes and no marker", async () => {
    const attributes = { k: { DataType: "String", StringValue: "v" } };
    const m = await prepare({ body: "é€x", attributes }, options, "sns");
    assert.deepEqual(
      { ...m, attributes: { ...m.attributes } },
      {
        body: "é€x",
        attributes,
        offloaded: false,
        size: 6,
        sha256: sha256("é€x"),
      },
    );
  });

  it("exactly the threshold, attributes counted, stays inline", async () => {
    const attributes = { k: { DataType: "String", StringValue: "v" } }; // 1 + 6 + 1 bytes
    const m = await prepare({ body: "x".repeat(92), attributes }, { ...options, threshold: 100 }, "sqs");
    assert.equal(m.offloaded, false);
    assert.equal(m.size, 92);
  });

  it("bytes: only the view's own bytes, not the rest of its buffer", async () => {
    const view = new Uint8Array(Buffer.from("abcd")).subarray(1, 3);
    const m = await prepare({ body: view }, options, "sqs");
    assert.deepEqual([m.body, m.size, m.sha256], ["bc", 2, sha256("bc")]);
  });

  it("a short stream, of strings or bytes, is read whole and sent inline", async () => {
    const text = await prepare({ body: Readable.from(["ab", "é"]) }, options, "sns");
    assert.deepEqual([text.body, text.size, text.offloaded], ["abé", 4, false]);
    const bytes = await prepare(
      { body: Readable.from([Buffer.from("ab"), Buffer.from("c")]) },
      { ...options, threshold: 3 },
      "sns",
    );
    assert.deepEqual([bytes.body, bytes.size, bytes.offloaded], ["abc", 3, false]);
  });
});

describe("writers: FIFO deduplication ids", () => {
  const prepared = (over: Partial<PreparedMessage>): PreparedMessage => ({
    body: "",
    attributes: {},
    offloaded: true,
    size: 10,
    ...over,
  });

  it("a standard target, or a producer-given id, is left alone", () => {
    assert.deepEqual(fifoIds(TOPIC, { messageGroupId: "g" }, prepared({ sha256: "h" })), {
      messageGroupId: "g",
    });
    const given = { messageGroupId: "g", messageDeduplicationId: "mine" };
    assert.deepEqual(fifoIds(`${TOPIC}.fifo`, given, prepared({ sha256: "h" })), given);
  });

  it("otherwise the payload's SHA-256, or for a copied source without one a digest of its ETag and size", () => {
    assert.deepEqual(fifoIds(`${TOPIC}.fifo`, { messageGroupId: "g" }, prepared({ sha256: "h" })), {
      messageGroupId: "g",
      messageDeduplicationId: "h",
    });
    const id = (etag: string, size: number) =>
      fifoIds(`${QUEUE}.fifo`, { messageGroupId: "g" }, prepared({ sourceETag: etag, size }))
        .messageDeduplicationId!;
    assert.match(id('"e1"', 10), /^[0-9a-f]{64}$/);
    assert.equal(id('"e1"', 10), id('"e1"', 10), "the same staged object sent twice deduplicates");
    assert.notEqual(id('"e1"', 10), id('"e2"', 10));
    assert.notEqual(id('"e1"', 10), id('"e1"', 11));
    assert.throws(
      () => fifoIds(`${QUEUE}.fifo`, { messageGroupId: "g" }, prepared({})),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "InvalidOption" &&
        e.message ===
          "messageDeduplicationId is required: the payload's SHA-256 and its source's ETag are both unknown",
    );
  });
});

describe("writers: room for the pointer, the caller's signal, the response", () => {
  // Two equal attributes and a smaller one, 262,021 bytes, leave a 1,000-byte body no room inline.
  const attributes = {
    a: { DataType: "String", StringValue: "a".repeat(100_000) },
    b: { DataType: "String", StringValue: "b".repeat(100_000) },
    c: { DataType: "String", StringValue: "c".repeat(62_000) },
  };
  const body = "x".repeat(1000);

  it("SNS: attributes that leave no room for the pointer and marker are refused, naming the first largest", async () => {
    const pointer = Buffer.byteLength(
      formatPointer({ s3BucketName: "payloads-a", s3Key: `payloads/${"0".repeat(36)}` }),
    );
    const marker = "ExtendedPayloadSize".length + "Number".length + "1000".length;
    await refused(
      prepare({ body, attributes }, options, "sns"),
      "InvalidAttribute",
      `attributes take 262021 bytes (the largest, "a", 100007); with the pointer (${pointer}) and the marker (${marker}) ` +
        `the offloaded message would be ${262021 + pointer + marker} bytes, over the SNS limit of 262144: shorten the attribute or carry it in the payload`,
    );
  });

  it("SQS (1 MiB), and SNS with a raised limit, have room: the writer goes on to upload", async () => {
    // The clients point at a closed port: reaching S3 is a refused connection.
    const uploadAttempted = (e: unknown) => /ECONNREFUSED/.test(String(e));
    await assert.rejects(prepare({ body, attributes }, options, "sqs"), uploadAttempted);
    await assert.rejects(
      prepare({ body: "x".repeat(800_000), attributes }, { ...options, threshold: 1_048_576 }, "sns"),
      uploadAttempted,
    );
  });

  it("without a key prefix, the pointer is counted as it will be written", async () => {
    const pointer = Buffer.byteLength(formatPointer({ s3BucketName: "payloads-a", s3Key: "0".repeat(36) }));
    const marker = "ExtendedPayloadSize".length + "Number".length + "1000".length;
    await refused(
      prepare({ body, attributes }, { s3, bucket: "payloads-a" }, "sns"),
      "InvalidAttribute",
      `attributes take 262021 bytes (the largest, "a", 100007); with the pointer (${pointer}) and the marker (${marker}) ` +
        `the offloaded message would be ${262021 + pointer + marker} bytes, over the SNS limit of 262144: shorten the attribute or carry it in the payload`,
    );
  });

  it("alwaysThroughS3 uploads a stream, however short", async () => {
    await assert.rejects(
      prepare({ body: Readable.from(["ab"]) }, { ...options, alwaysThroughS3: true }, "sqs"),
      (e: unknown) => /ECONNREFUSED/.test(String(e)),
    );
  });

  it("the caller's abort signal reaches the publish", async () => {
    const aborted = AbortSignal.abort();
    const isAbort = (e: unknown) => (e as Error).name === "AbortError";
    await assert.rejects(
      publishToSns(sns, { topicArn: TOPIC, body: "x" }, { ...options, signal: aborted }),
      isAbort,
    );
    await assert.rejects(
      sendToSqs(sqs, { queueUrl: QUEUE, body: "x" }, { ...options, signal: aborted }),
      isAbort,
    );
  });

  it("a publish response without a MessageId is an error, not a result", () => {
    const inline: PreparedMessage = {
      body: "x",
      attributes: {},
      offloaded: false,
      size: 1,
      sha256: sha256("x"),
    };
    assert.throws(() => result(inline, undefined), /the publish response carried no MessageId/);
    assert.deepEqual(result(inline, "m-1"), {
      messageId: "m-1",
      offloaded: false,
      size: 1,
      sha256: sha256("x"),
    });
  });
});
