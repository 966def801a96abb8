// Direct subscriber (account C): an SNS event delivered to Lambda asynchronously. It throws on any
// failure so that Lambda's asynchronous retries and the on-failure destination take over.
import type { Context, SNSEvent } from "aws-lambda";
import { resolveSnsRecord } from "../payload";
import { invocationDeadline } from "./deadline";
import type { PayloadSummary } from "./downstream";
import { createSubscriber } from "./subscriber";

const subscriber = createSubscriber("payload-consume-topic");

export const handler = async (
  event: SNSEvent,
  context?: Context,
): Promise<{ delivered: PayloadSummary[] }> => {
  if (!Array.isArray(event?.Records) || event.Records.length === 0) {
    throw new Error("event field Records must be a non-empty array of SNS records");
  }
  // A stalled call fails the invocation while there is time to say why, instead of a Lambda timeout.
  const deadline = invocationDeadline(context, "SNS message");
  const delivered: PayloadSummary[] = [];
  try {
    for (const record of event.Records) {
      const messageId = record?.Sns?.MessageId;
      try {
        if (typeof messageId !== "string")
          throw new Error("event field Records[].Sns.MessageId must be a string");
        const message = resolveSnsRecord(record, { ...subscriber.readerOptions, signal: deadline.signal });
        delivered.push(await subscriber.deliver(message, messageId, deadline.signal));
      } catch (error) {
        subscriber.logger.error("message failed", { messageId, error: error as Error });
        throw error;
      }
    }
  } finally {
    deadline.clear();
  }
  return { delivered };
};
