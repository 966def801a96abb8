// Queue subscriber (account B): an SQS batch from the event source mapping. Each record is resolved
// and its downstream started; failures are reported per record so only they are retried or
// dead-lettered. On a FIFO queue a failed record also fails every later record of its message
// group in the batch: delivering those now would put them ahead of the failed one's retry.
import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { SubscriberEnv } from "../contract";
import { isFifoTarget, resolveSqsRecord, type ResolvedMessage } from "../payload";
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
const fifoProcessor = new SqsFifoPartialProcessorAsync();

async function recordHandler(record: SQSRecord, signal: AbortSignal): Promise<void> {
  let message: ResolvedMessage | undefined;
  try {
    message = resolveSqsRecord(record, { ...subscriber.readerOptions, signal });
    await subscriber.deliver(message, record.messageId, signal);
  } catch (error) {
    // Logged and counted here with the record's id; the batch processor only returns the id.
    subscriber.failed(record.messageId, message, error);
    throw error;
  }
}

export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  // Records of a standard queue run in parallel under one deadline: a record whose call stalls is
  // aborted and reported failed before Lambda's timeout, and the records that finished are not run
  // again. One mapping reads one queue, so the first record's source tells the queue's kind; on a
  // FIFO queue records run in order, and skipGroupOnError stops only the failed record's group.
  // An event without Records is left to processPartialResponse, which refuses it by name.
  const first = event.Records?.[0];
  const fifo = first !== undefined && isFifoTarget(first.eventSourceARN);
  const deadline = invocationDeadline(context, "record");
  // No `context` option: the batch processor only hands it to the record handler, which has no use
  // for it (the deadline above is what the context is for).
  const options = {
    // A batch where every record failed is still answered record by record, like any other.
    throwOnFullBatchFailure: false,
  };
  const run = (record: SQSRecord) => recordHandler(record, deadline.signal);
  try {
    const response = fifo
      ? await processPartialResponse(event, run, fifoProcessor, { ...options, skipGroupOnError: true })
      : await processPartialResponse(event, run, processor, options);
    subscriber.metrics.failures(response.batchItemFailures.length);
    return response;
  } finally {
    deadline.clear();
    subscriber.metrics.flush();
  }
};
