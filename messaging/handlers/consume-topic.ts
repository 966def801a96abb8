// Direct subscriber (account C): an SNS event delivered to Lambda asynchronously. It throws on any
// failure so that Lambda's asynchronous retries and the on-failure destination take over.
import type { SNSEvent } from "aws-lambda";
import { resolveSnsRecord } from "../payload";
import type { PayloadSummary } from "./downstream";
import { createSubscriber } from "./subscriber";

const subscriber = createSubscriber("payload-consume-topic");

export const handler = async (event: SNSEvent): Promise<{ delivered: PayloadSummary[] }> => {
  if (!Array.isArray(event?.Records) || event.Records.length === 0) {
    throw new Error("event field Records must be a non-empty array of SNS records");
  }
  const delivered: PayloadSummary[] = [];
  for (const record of event.Records) {
    const messageId = record?.Sns?.MessageId;
    try {
      if (typeof messageId !== "string")
        throw new Error("event field Records[].Sns.MessageId must be a string");
      delivered.push(await subscriber.deliver(resolveSnsRecord(record, subscriber.readerOptions), messageId));
    } catch (error) {
      subscriber.logger.error("message failed", { messageId, error: error as Error });
      throw error;
    }
  }
  return { delivered };
};
