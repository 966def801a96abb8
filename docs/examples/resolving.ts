// The resolving example of docs/payload.md (see publishing.ts for how the docs show it).

// #region resolving
import { S3Client } from "@aws-sdk/client-s3";
import { DeleteMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { receiveFromSqs } from "../../messaging/payload";

export async function receiveSamples(
  s3 = new S3Client({ region: "us-east-1", followRegionRedirects: true }),
  sqs = new SQSClient({}),
  QueueUrl = "https://sqs.us-west-2.amazonaws.com/222222222222/payloads",
  bucket = "payloads-111111111111-us-east-1",
): Promise<void> {
  const received = await receiveFromSqs(
    sqs,
    { QueueUrl, WaitTimeSeconds: 20 },
    {
      s3,
      allowedBuckets: [bucket],
      allowedKeyPrefixes: ["payloads/"],
      sqsDelivery: "raw", // the subscription has RawMessageDelivery on
    },
  );
  for (const got of received) {
    if ("error" in got) {
      console.error(got.error.message); // left on the queue, then the DLQ
      continue;
    }
    const payload = await got.message.stream(); // verified at its end
    await pipeline(payload, createWriteStream(`${got.message.messageId}.bin`));
    await sqs.send(new DeleteMessageCommand({ QueueUrl, ReceiptHandle: got.receiptHandle }));
  }
}
// #endregion
