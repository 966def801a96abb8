// The loopback world one interop spec file runs in: fauxqs for SNS and SQS, s3rver for S3 (on disk,
// so 5 MiB payloads do not sit in the emulator's memory), and SDK v3 clients pointed at them.
import { S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
  type Message,
} from "@aws-sdk/client-sqs";
import {
  emulatorClientConfig,
  emulatorEnv,
  startFauxqs,
  startS3rver,
  type RunningEmulator,
} from "../../../local/emulators";

export const PAYLOAD_BUCKET = "interop-payloads";

export interface InteropWorld {
  bucket: string;
  s3: S3Client;
  sns: SNSClient;
  sqs: SQSClient;
  /** AWS_REGION, credentials and AWS_ENDPOINT_URL_{S3,SNS,SQS}: what the Java/Python programs and the handler bundle read. */
  env: Record<string, string>;
  endpoints: { s3: string; sns: string; sqs: string };
  /** A fresh queue, so cases never see each other's messages. */
  queue(name: string): Promise<{ url: string; arn: string }>;
  /** A fresh topic with each of `subscribers` (queue ARNs) subscribed, raw delivery per queue. */
  topic(name: string, subscribers: { arn: string; raw: boolean }[]): Promise<string>;
  stop(): Promise<void>;
}

export async function startWorld(): Promise<InteropWorld> {
  const running: RunningEmulator[] = [];
  try {
    const fauxqs = await startFauxqs();
    running.push(fauxqs);
    const s3rver = await startS3rver({ buckets: [PAYLOAD_BUCKET] });
    running.push(s3rver);
    const endpoints = { s3: s3rver.endpoint, sns: fauxqs.endpoint, sqs: fauxqs.endpoint };
    const s3 = new S3Client(emulatorClientConfig(endpoints.s3));
    const sns = new SNSClient(emulatorClientConfig(endpoints.sns));
    const sqs = new SQSClient(emulatorClientConfig(endpoints.sqs));
    let suffix = 0;
    const unique = (name: string) => `${name}-${++suffix}`;
    return {
      bucket: PAYLOAD_BUCKET,
      s3,
      sns,
      sqs,
      env: emulatorEnv(endpoints),
      endpoints,
      async queue(name) {
        const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: unique(name) }));
        const { Attributes } = await sqs.send(
          new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }),
        );
        return { url: QueueUrl!, arn: Attributes!.QueueArn! };
      },
      async topic(name, subscribers) {
        const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: unique(name) }));
        for (const { arn, raw } of subscribers) {
          await sns.send(
            new SubscribeCommand({
              TopicArn,
              Protocol: "sqs",
              Endpoint: arn,
              Attributes: { RawMessageDelivery: raw ? "true" : "false" },
            }),
          );
        }
        return TopicArn!;
      },
      async stop() {
        s3.destroy();
        sns.destroy();
        sqs.destroy();
        await Promise.all(running.map((emulator) => emulator.stop()));
      },
    };
  } catch (err) {
    await Promise.all(running.map((emulator) => emulator.stop()));
    throw err;
  }
}

/**
 * Receives exactly `count` messages (or fails after `waitSeconds`), asking for the attributes the
 * way the project's consumers do: by name, since real SQS returns none that were not requested.
 */
export async function receiveRaw(
  sqs: SQSClient,
  queueUrl: string,
  count: number,
  attributeNames: string[],
  waitSeconds = 30,
): Promise<Message[]> {
  const deadline = Date.now() + waitSeconds * 1000;
  const messages: Message[] = [];
  while (messages.length < count && Date.now() < deadline) {
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: Math.min(10, count - messages.length),
        WaitTimeSeconds: Math.max(1, Math.min(20, Math.floor((deadline - Date.now()) / 1000))),
        MessageAttributeNames: attributeNames,
        MessageSystemAttributeNames: ["All"],
      }),
    );
    messages.push(...(Messages ?? []));
  }
  if (messages.length < count)
    throw new Error(
      `received ${messages.length} of ${count} messages from ${queueUrl} within ${waitSeconds} s`,
    );
  return messages;
}
