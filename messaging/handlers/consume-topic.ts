// Direct subscriber (account C): an SNS event delivered to Lambda asynchronously. It throws on any
// failure so that Lambda's asynchronous retries and the on-failure destination take over.
import type { Context, SNSEvent } from "aws-lambda";
import { resolveSnsRecord, type ResolvedMessage } from "../payload";
import { invocationDeadline } from "./deadline";
import { checkSnsEvent } from "./events";
import type { PayloadSummary } from "./downstream";
import { createSubscriber } from "./subscriber";

const subscriber = createSubscriber("payload-consume-topic");

export const handler = async (
  event: SNSEvent,
  context?: Context,
): Promise<{ delivered: PayloadSummary[] }> => {
  // A stalled call fails the invocation while there is time to say why, instead of a Lambda timeout.
  const deadline = invocationDeadline(context, "SNS message");
  try {
    checkSnsEvent(event);
    const delivered: PayloadSummary[] = [];
    for (const record of event.Records) {
      // checkSnsEvent has refused a record without Sns.
      const messageId = record.Sns.MessageId;
      let message: ResolvedMessage | undefined;
      try {
        message = resolveSnsRecord(record, { ...subscriber.readerOptions, signal: deadline.signal });
        delivered.push(await subscriber.deliver(message, messageId, deadline.signal));
      } catch (error) {
        subscriber.failed(messageId, message, error);
        throw error;
      }
    }
    subscriber.metrics.failures(0);
    return { delivered };
  } catch (error) {
    subscriber.metrics.failures(1);
    throw error;
  } finally {
    deadline.clear();
    subscriber.metrics.flush();
  }
};
