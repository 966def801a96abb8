import { SubscribeCommand, type SNSClient } from "@aws-sdk/client-sns";
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

/**
 * Creates a queue and subscribes it to the topic, as the subscriber stacks do: raw delivery unless
 * `raw` is false (then SQS receives SNS envelopes). SNS subscribes by ARN; senders use the URL.
 */
export async function subscribeNewQueue(
  sns: SNSClient,
  sqs: SQSClient,
  topicArn: string,
  queueName: string,
  raw = true,
): Promise<{ url: string; arn: string }> {
  const url = (await sqs.send(new CreateQueueCommand({ QueueName: queueName }))).QueueUrl!;
  const arn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["QueueArn"] })))
    .Attributes!.QueueArn!;
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: arn,
      Attributes: { RawMessageDelivery: String(raw) },
    }),
  );
  return { url, arn };
}
