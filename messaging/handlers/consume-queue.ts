// Queue subscriber (account B): an SQS batch from the event source mapping. Each record is resolved
// and its downstream started; failures are reported per record so only they are retried or
// dead-lettered.
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { resolveSqsRecord } from "../payload";
import { createSubscriber } from "./subscriber";

const subscriber = createSubscriber("payload-consume-queue");
const processor = new BatchProcessor(EventType.SQS);

async function recordHandler(record: SQSRecord): Promise<void> {
  try {
    const message = resolveSqsRecord(record, subscriber.readerOptions);
    await subscriber.deliver(message, record.messageId);
  } catch (error) {
    // Logged here with the record's id; the batch processor only returns the id.
    subscriber.logger.error("record failed", { messageId: record?.messageId, error: error as Error });
    throw error;
  }
}

export const handler = async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> =>
  processPartialResponse(event, recordHandler, processor, {
    ...(context ? { context } : {}),
    // A batch where every record failed is still answered record by record, like any other.
    throwOnFullBatchFailure: false,
  });
