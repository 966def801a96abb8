// The payload library examples of docs/payload.md. The Markdown shows the region between the
// markers with imports written from the repository root; test/docs/examples.spec.ts checks that
// each ```ts block of the docs is such a region, and `tsc` type-checks this file, so the examples
// cannot drift from the library; the spec also runs them against the local emulators.

// #region publishing
import { S3Client } from "@aws-sdk/client-s3";
import { SNSClient } from "@aws-sdk/client-sns";
import { createReadStream } from "node:fs";
import { publishToSns, type WriteResult } from "../../messaging/payload";

export async function publishSample(
  s3 = new S3Client({}),
  sns = new SNSClient({}),
  topicArn = "arn:aws:sns:us-east-1:111111111111:payloads",
  bucket = "payloads-111111111111-us-east-1",
): Promise<WriteResult> {
  const out = await publishToSns(
    sns,
    {
      topicArn,
      body: createReadStream("sample.h5"), // or a string / Buffer, or source: { bucket, key }
      attributes: { traceId: { DataType: "String", StringValue: "abc" } },
    },
    { s3, bucket, keyPrefix: "payloads/" },
  );
  console.log(out.messageId, out.offloaded, out.pointer, out.sha256);
  return out;
}
// #endregion
