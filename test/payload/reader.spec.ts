// The readers' own rules, in process: what they refuse and how they say it, the inline path, the
// envelope test, text()'s bound and digestPayload's preview. The S3 paths are in library.spec.ts and
// replica.spec.ts; here the S3 client points at a closed port, so a test that reaches S3 fails.
import * as assert from "node:assert/strict";
import { Readable } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import {
  PayloadError,
  PayloadStream,
  digestPayload,
  formatPointer,
  resolveMessage,
  resolveSnsRecord,
  resolveSqsMessage,
  resolveSqsRecord,
  type ReaderOptions,
  type ResolvedMessage,
} from "../../messaging/payload";
import { sha256 } from "./helpers";

const options: ReaderOptions = {
  s3: new S3Client({
    region: "us-east-1",
    endpoint: "http://127.0.0.1:9",
    credentials: { accessKeyId: "x", secretAccessKey: "x" },
    maxAttempts: 1,
  }),
  allowedBuckets: ["my-bucket"],
};
const POINTER = formatPointer({ s3BucketName: "my-bucket", s3Key: "payloads/k" });
const marker = (size: number) => ({ ExtendedPayloadSize: { DataType: "Number", StringValue: String(size) } });

function refused(fn: () => unknown, code: string, message: string | RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof PayloadError, String(e));
    assert.equal(e.code, code);
    if (typeof message === "string") assert.equal(e.message, message);
    else assert.match(e.message, message);
    return true;
  });
}

describe("readers: what they refuse, named", () => {
  it("a message without a string body, with or without its id", () => {
    refused(
      () => resolveMessage({ messageId: "m1", body: undefined as never, attributes: {} }, options),
      "InvalidBody",
      "message m1 has no string body",
    );
    refused(
      () => resolveMessage({ body: 5 as never, attributes: {} }, options),
      "InvalidBody",
      "message has no string body",
    );
    refused(
      () => resolveSqsMessage({ MessageId: "q" }, options),
      "InvalidBody",
      "message q has no string body",
    );
  });

  it("Lambda records that are not records", () => {
    for (const record of [undefined, null, "body", { messageId: "x" }, { messageId: "x", body: 5 }])
      refused(
        () => resolveSqsRecord(record as never, options),
        "InvalidBody",
        "SQS record must have a string body",
      );
    for (const record of [undefined, {}, { Sns: null }, { Sns: "text" }, { Sns: { Message: 5 } }])
      refused(
        () => resolveSnsRecord(record as never, options),
        "InvalidBody",
        "SNS record must have Sns.Message (a string)",
      );
  });

  it("an envelope is JSON with Type Notification and a string TopicArn, leading blanks allowed", () => {
    const envelope = (fields: object) => JSON.stringify({ Message: "payload", ...fields });
    // Each is the payload itself: only a notification with a topic is an envelope.
    for (const body of [
      "{ not json",
      envelope({ Type: "Notification" }),
      envelope({ Type: "SubscriptionConfirmation", TopicArn: "arn:aws:sns:us-east-1:1:t" }),
      envelope({ Type: "Notification", TopicArn: 5 }),
      `x${envelope({ Type: "Notification", TopicArn: "arn:aws:sns:us-east-1:1:t" })}`,
    ]) {
      const r = resolveSqsMessage({ MessageId: "p", Body: body }, options);
      assert.deepEqual([r.offloaded, r.size], [false, Buffer.byteLength(body)], body);
    }
    refused(
      () =>
        resolveSqsMessage(
          { Body: ` \n${envelope({ Type: "Notification", TopicArn: "arn:aws:sns:us-east-1:1:t" })}` },
          options,
        ),
      "UnexpectedEnvelope",
      /^message \(no id\): the SQS body is an SNS notification envelope \(TopicArn arn:aws:sns:us-east-1:1:t\)\. Say how the subscription delivers: sqsDelivery "envelope" if RawMessageDelivery is off, "raw" if it is on \(the payload itself is then SNS-notification JSON\)$/,
    );
    refused(
      () => resolveSqsMessage({ Body: "hello" }, { ...options, sqsDelivery: "envelope" }),
      "MalformedEnvelope",
      'message (no id): the subscription delivers SNS envelopes (sqsDelivery "envelope"), but the SQS body ' +
        "is not an SNS notification (JSON with Type Notification, a TopicArn and a string Message)",
    );
    refused(
      () =>
        resolveSqsMessage(
          {
            Body: JSON.stringify({ Type: "Notification", TopicArn: "arn:aws:sns:us-east-1:1:t", Message: 5 }),
          },
          { ...options, sqsDelivery: "envelope" },
        ),
      "MalformedEnvelope",
      "SNS envelope has no string Message",
    );
  });

  it("an envelope's attributes are the message's", async () => {
    const body = JSON.stringify({
      Type: "Notification",
      TopicArn: "arn:aws:sns:us-east-1:1:t",
      Message: "inline text",
      MessageAttributes: { traceId: { Type: "String", Value: "abc" } },
    });
    const r = resolveSqsMessage({ Body: body }, { ...options, sqsDelivery: "envelope" });
    assert.deepEqual(Object.keys(r.attributes), ["traceId"]);
    assert.deepEqual(r.attributes.traceId, { DataType: "String", StringValue: "abc" });
    assert.equal(await r.text(), "inline text");
  });

  it("an SQS attribute that arrived without a value (the SDK drops __proto__'s) is refused, naming it", () => {
    refused(
      () => resolveSqsMessage({ Body: "x", MessageAttributes: { note: null as never } }, options),
      "InvalidAttribute",
      'message (no id): attribute "note" arrived without a value ' +
        "(the AWS SDK for JavaScript drops the value of an attribute named __proto__ on receive)",
    );
    refused(
      () =>
        resolveSqsMessage({ MessageId: "q", Body: "x", MessageAttributes: { note: null as never } }, options),
      "InvalidAttribute",
      /^message q: attribute "note"/,
    );
  });

  it("an SQS attribute without a DataType is a String", () => {
    const r = resolveSqsMessage(
      { Body: "x", MessageAttributes: { note: { StringValue: "v" } as never } },
      options,
    );
    assert.deepEqual(r.attributes.note, { DataType: "String", StringValue: "v", BinaryValue: undefined });
  });

  it("9 user attributes fit beside the marker", () => {
    const nine = Object.fromEntries(
      Array.from({ length: 9 }, (_, i) => [`a${i}`, { DataType: "String", StringValue: "v" }]),
    );
    const r = resolveSqsMessage({ Body: POINTER, MessageAttributes: { ...nine, ...marker(1) } }, options);
    assert.equal(Object.keys(r.attributes).length, 9);
    refused(
      () =>
        resolveSqsMessage(
          { Body: POINTER, MessageAttributes: { ...nine, a9: nine.a0, ...marker(1) } },
          options,
        ),
      "InvalidAttribute",
      "offloaded message carries 10 user attributes; at most 9 fit beside the marker",
    );
  });
});

describe("readers: text() and stream() of an inline payload", () => {
  const inline = (body: string) => resolveSqsRecord({ messageId: "i", body }, options);

  it("text(maxBytes) takes exactly maxBytes and refuses one more, in UTF-8 bytes", async () => {
    assert.equal(await inline("éé").text(4), "éé");
    await assert.rejects(
      inline("éé").text(3),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.code === "TooLarge" &&
        e.message === "payload is 4 bytes, over the 3-byte limit for text(); use stream()",
    );
  });

  it("stream() hands back the body's bytes, unverified, read from nowhere", async () => {
    const m = inline("inline body");
    const stream = await m.stream();
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    assert.equal(Buffer.concat(chunks).toString(), "inline body");
    assert.deepEqual([stream.verified, stream.sha256, m.readFrom], [false, sha256("inline body"), undefined]);
  });

  it("an offloaded text(maxBytes) refuses a larger marker before any S3 call, and asks S3 at exactly maxBytes", async () => {
    const m = resolveSqsMessage({ Body: POINTER, MessageAttributes: marker(1000) }, options);
    await assert.rejects(
      m.text(999),
      (e: unknown) =>
        e instanceof PayloadError &&
        e.message === "payload is 1000 bytes, over the 999-byte limit for text(); use stream()",
    );
    // At the limit the read goes on to S3, which is unreachable here.
    await assert.rejects(m.text(1000), (e: unknown) => !(e instanceof PayloadError));
  });
});

describe("digestPayload's preview", () => {
  /** A message whose payload arrives in the given chunks (an offloaded read, cut by the network). */
  function chunked(...chunks: Buffer[]): ResolvedMessage {
    const bytes = Buffer.concat(chunks);
    return {
      offloaded: true,
      pointer: null,
      size: bytes.length,
      attributes: {},
      stream: async () => new PayloadStream(Readable.from(chunks), sha256(bytes), bytes.length, "test"),
      text: async () => bytes.toString(),
    };
  }
  const preview = async (text: string | Buffer, bytes: number) =>
    (await digestPayload(chunked(Buffer.from(text as string)), bytes)).preview;

  it("is left out without previewBytes, and is the whole payload when it is shorter", async () => {
    const digest = await digestPayload(chunked(Buffer.from("abc")));
    assert.deepEqual(digest, { sha256: sha256("abc"), size: 3, verified: true });
    assert.equal(await preview("abc", 10), "abc");
  });

  it("takes its bytes across chunks, as they arrive one by one", async () => {
    const pieces = ["ab", "cdefgh", "ij"].map((t) => Buffer.from(t));
    const bytes = Buffer.concat(pieces);
    const arriving: ResolvedMessage = {
      ...chunked(bytes),
      stream: async () =>
        new PayloadStream(
          Readable.from(
            (async function* () {
              for (const piece of pieces) {
                await new Promise((resolve) => setTimeout(resolve, 5));
                yield piece;
              }
            })(),
          ),
          sha256(bytes),
          bytes.length,
          "test",
        ),
    };
    const digest = await digestPayload(arriving, 5);
    assert.deepEqual([digest.preview, digest.size], ["abcde", 10]);
  });

  it("drops only a multi-byte character cut by its end (2, 3 and 4 bytes)", async () => {
    assert.equal(await preview("aé", 2), "a");
    assert.equal(await preview("aé", 3), "aé");
    for (const cut of [2, 3]) assert.equal(await preview("a€", cut), "a", `€ cut after ${cut - 1}`);
    assert.equal(await preview("a€", 4), "a€");
    // U+0800, the first 3-byte character: its lead byte is exactly 0xE0.
    assert.equal(await preview("a\u0800", 3), "a");
    for (const cut of [2, 3, 4]) assert.equal(await preview("a😀", cut), "a", `😀 cut after ${cut - 1}`);
    assert.equal(await preview("a😀", 5), "a😀");
    // Nothing left but the cut character: no preview.
    assert.equal(await preview("😀", 3), undefined);
  });

  it("is no text when a byte is invalid anywhere, or continuation bytes run longer than a character", async () => {
    assert.equal(await preview(Buffer.from([0x61, 0xff, 0x62]), 3), undefined);
    assert.equal(await preview(Buffer.from([0x61, 0x80, 0x80, 0x80, 0x80]), 5), undefined);
    assert.equal(await preview(Buffer.from([0x80]), 1), undefined);
    assert.equal(await preview("a\u0000b", 3), undefined);
  });
});
