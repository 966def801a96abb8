import * as assert from "node:assert/strict";
import type { Message } from "@aws-sdk/client-sqs";
import { snsEventRecord, sqsEventRecord, type SnsEnvelope } from "../../local/lambda-events";

const QUEUE_ARN = "arn:aws:sqs:eu-west-1:111111111111:queue-b";
const TOPIC_ARN = "arn:aws:sns:eu-west-1:111111111111:events";

describe("Lambda event records built from what an emulator delivered", () => {
  describe("sqsEventRecord", () => {
    it("carries a received message over in the event source mapping's shape", () => {
      const m: Message = {
        MessageId: "m-1",
        ReceiptHandle: "rh-1",
        Body: "hello",
        MD5OfBody: "from-the-emulator",
        MD5OfMessageAttributes: "attrs-md5",
        Attributes: {
          ApproximateReceiveCount: "3",
          SentTimestamp: "1700000000000",
          SenderId: "AIDASENDER",
          ApproximateFirstReceiveTimestamp: "1700000000500",
        },
        MessageAttributes: {
          traceId: { DataType: "String", StringValue: "abc" },
          size: { DataType: "Number", StringValue: "42" },
          blob: { DataType: "Binary", BinaryValue: Uint8Array.from([1, 2, 0xff]) },
        },
      };
      assert.deepEqual(sqsEventRecord(m, { queueArn: QUEUE_ARN, region: "eu-west-1" }), {
        messageId: "m-1",
        receiptHandle: "rh-1",
        body: "hello",
        attributes: {
          ApproximateReceiveCount: "3",
          SentTimestamp: "1700000000000",
          SenderId: "AIDASENDER",
          ApproximateFirstReceiveTimestamp: "1700000000500",
        },
        messageAttributes: {
          traceId: { dataType: "String", stringValue: "abc", stringListValues: [], binaryListValues: [] },
          size: { dataType: "Number", stringValue: "42", stringListValues: [], binaryListValues: [] },
          blob: { dataType: "Binary", binaryValue: "AQL/", stringListValues: [], binaryListValues: [] },
        },
        md5OfBody: "from-the-emulator",
        md5OfMessageAttributes: "attrs-md5",
        eventSource: "aws:sqs",
        eventSourceARN: QUEUE_ARN,
        awsRegion: "eu-west-1",
      });
    });

    it("fills what the emulator left out: receive count 1, the clock, the sender, the body's MD5", () => {
      const m: Message = { MessageId: "m-2", ReceiptHandle: "rh-2", Body: "hello" };
      const record = sqsEventRecord(m, { queueArn: QUEUE_ARN, region: "us-east-1", now: 1234 });
      assert.deepEqual(record.attributes, {
        ApproximateReceiveCount: "1",
        SentTimestamp: "1234",
        SenderId: "000000000000",
        ApproximateFirstReceiveTimestamp: "1234",
      });
      assert.equal(record.md5OfBody, "5d41402abc4b2a76b9719d911017c592", "MD5 hex of the body");
      assert.ok(!("md5OfMessageAttributes" in record), "no attribute MD5 without attributes");
      assert.deepEqual(record.messageAttributes, {});
      const other = sqsEventRecord(
        { MessageId: "m-3", ReceiptHandle: "rh-3" },
        { queueArn: QUEUE_ARN, region: "us-east-1", senderId: "AIDALOCALMODE" },
      );
      assert.equal(other.attributes.SenderId, "AIDALOCALMODE");
      assert.equal(other.body, "");
      assert.equal(other.md5OfBody, "d41d8cd98f00b204e9800998ecf8427e", "MD5 of the empty body");
      assert.match(other.attributes.SentTimestamp, /^\d{13}$/);
    });
  });

  describe("snsEventRecord", () => {
    const envelope: SnsEnvelope = {
      Type: "Notification",
      MessageId: "sns-1",
      TopicArn: "arn:aws:sns:us-east-1:000000000000:events",
      Subject: null,
      Message: "payload",
      Timestamp: "2026-01-02T03:04:05.678Z",
      SignatureVersion: "1",
      Signature: "c2lnbmF0dXJl",
      SigningCertURL: "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
      UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=sub",
      MessageAttributes: { size: { Type: "Number", Value: "7" } },
    };

    it("renames the envelope's URL fields to the record's Url ones and keeps the rest", () => {
      const { SigningCertURL, UnsubscribeURL, ...same } = envelope;
      assert.deepEqual(snsEventRecord(envelope, { subscriptionArn: `${TOPIC_ARN}:sub` }), {
        EventSource: "aws:sns",
        EventVersion: "1.0",
        EventSubscriptionArn: `${TOPIC_ARN}:sub`,
        Sns: { ...same, SigningCertUrl: SigningCertURL, UnsubscribeUrl: UnsubscribeURL },
      });
    });

    it("reports the topic ARN it is given, and a subject when there is one", () => {
      const record = snsEventRecord(
        { ...envelope, Subject: "hi" },
        { subscriptionArn: "s", topicArn: TOPIC_ARN },
      );
      assert.equal(record.Sns.TopicArn, TOPIC_ARN);
      assert.equal(record.Sns.Subject, "hi");
    });

    it("uses the caller's stand-ins for fields a hand-made envelope lacks", () => {
      const bare = {
        Type: "Notification",
        MessageId: "sns-2",
        TopicArn: TOPIC_ARN,
        Message: "m",
      } as SnsEnvelope;
      const defaults = snsEventRecord(bare, { subscriptionArn: "s" }).Sns;
      assert.deepEqual(
        [defaults.Subject, defaults.SignatureVersion, defaults.MessageAttributes],
        [null, "1", {}],
      );
      assert.equal(defaults.Signature, undefined, "no stand-in: passed through as it came");
      const filled = snsEventRecord(bare, {
        subscriptionArn: "s",
        missing: { Subject: "", Signature: "", SigningCertUrl: "", UnsubscribeUrl: "" },
      }).Sns;
      assert.deepEqual(
        [filled.Subject, filled.Signature, filled.SigningCertUrl, filled.UnsubscribeUrl],
        ["", "", "", ""],
      );
      assert.equal(
        snsEventRecord({ ...bare, Type: undefined } as unknown as SnsEnvelope, { subscriptionArn: "s" }).Sns
          .Type,
        "Notification",
      );
    });
  });
});
