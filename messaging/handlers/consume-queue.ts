// Queue subscriber (account B): an SQS batch from the event source mapping. Each record is resolved
// and its downstream started; failures are reported per record so only they are retried or
// dead-lettered.
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { SubscriberEnv } from "../contract";
import { resolveSqsRecord, type ResolvedMessage } from "../payload";
import { invocationDeadline } from "./deadline";
import { createSubscriber } from "./subscriber";

const subscriber = createSubscriber("payload-consume-queue");
// Whether the body is the message or SNS's envelope is the subscription's configuration, which the
// program states; guessing from the body would unwrap a payload that is itself SNS-notification JSON.
if (subscriber.config.sqsDelivery === undefined) {
  throw new Error(
    `environment variable ${SubscriberEnv.sqsRawDelivery} is required by the queue consumer: "true" when ` +
      'its subscription has RawMessageDelivery on, "false" when off',
  );
}
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord, signal: AbortSignal): Promise<void> {
  let message: ResolvedMessage | undefined;
  try {
    message = resolveSqsRecord(record, { ...subscriber.readerOptions, signal });
    await subscriber.deliver(message, record.messageId, signal);
  } catch (error) {
    // Logged and counted here with the record's id; the batch processor only returns the id.
    subscriber.failed(record?.messageId, message, error);
    throw error;
  }
}

export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  // Records run in parallel under one deadline: a record whose call stalls is aborted and reported
  // failed before Lambda's timeout, and the records that finished are not run again.
  const deadline = invocationDeadline(context, "record");
  try {
    const response = await processPartialResponse(
      event,
      (record: SQSRecord) => recordHandler(record, deadline.signal),
      processor,
      {
        ...(context ? { context } : {}),
        // A batch where every record failed is still answered record by record, like any other.
        throwOnFullBatchFailure: false,
      },
    );
    subscriber.metrics.failures(response.batchItemFailures.length);
    return response;
  } finally {
    deadline.clear();
    subscriber.metrics.flush();
  }
};
