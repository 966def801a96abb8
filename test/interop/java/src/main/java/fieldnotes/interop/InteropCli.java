package fieldnotes.interop;

import com.amazon.sqs.javamessaging.AmazonSQSExtendedClient;
import com.amazon.sqs.javamessaging.ExtendedClientConfiguration;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.sns.SnsClient;
import software.amazon.awssdk.services.sns.model.PublishRequest;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.DeleteMessageRequest;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequest;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchResponse;
import software.amazon.awssdk.services.sqs.model.SendMessageRequest;
import software.amazon.sns.AmazonSNSExtendedClient;
import software.amazon.sns.SNSExtendedClientConfiguration;

/**
 * Drives AWS's Java extended clients, configured the way an application would configure them,
 * against loopback emulators. One role per invocation; results are JSON lines on stdout.
 *
 * <pre>
 * sqs-send     --queue-url URL --bucket B --size N --seed S [--extended-attribute-name]
 * sqs-send-batch --queue-url URL --bucket B --sizes N,N,... --seed S [--group-id G]
 * sqs-receive  --queue-url URL --bucket B --count N [--wait-seconds 30] [--keep-payload]
 * sns-publish  --topic-arn ARN --bucket B --size N --seed S
 * payload-digest --size N --seed S    (no AWS: proves the generators on every side agree)
 * </pre>
 *
 * Environment: AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_ENDPOINT_URL_SQS,
 * AWS_ENDPOINT_URL_SNS, AWS_ENDPOINT_URL_S3.
 */
public final class InteropCli {
  static final int EXIT_USAGE = 64;
  static final int EXIT_TOO_FEW_MESSAGES = 2;

  private InteropCli() {}

  public static void main(String[] argv) {
    try {
      System.exit(run(argv));
    } catch (Args.UsageError e) {
      System.err.println("interop-clients: " + e.getMessage());
      System.exit(EXIT_USAGE);
    }
  }

  static int run(String[] argv) {
    if (argv.length == 0) {
      throw new Args.UsageError("a command is required: sqs-send, sqs-receive or sns-publish");
    }
    String command = argv[0];
    switch (command) {
      case "sqs-send":
        return sqsSend(new Args(argv, 1, Set.of("extended-attribute-name")));
      case "sqs-send-batch":
        return sqsSendBatch(new Args(argv, 1, Set.of()));
      case "sqs-receive":
        return sqsReceive(new Args(argv, 1, Set.of("keep-payload")));
      case "sns-publish":
        return snsPublish(new Args(argv, 1, Set.of()));
      case "payload-digest":
        return payloadDigest(new Args(argv, 1, Set.of()));
      default:
        throw new Args.UsageError(
            "unknown command \""
                + command
                + "\" (expected sqs-send, sqs-send-batch, sqs-receive, sns-publish or payload-digest)");
    }
  }

  /** Sends with the client's defaults, which still name the marker SQSLargePayloadSize. */
  private static int sqsSend(Args args) {
    String queueUrl = args.required("queue-url");
    String bucket = args.required("bucket");
    int size = args.nonNegativeInt("size", null);
    long seed = args.seed();
    boolean extendedName = args.flag("extended-attribute-name");
    args.rejectUnknown();

    ExtendedClientConfiguration config =
        new ExtendedClientConfiguration().withPayloadSupportEnabled(s3(), bucket);
    if (extendedName) {
      config = config.withLegacyReservedAttributeNameDisabled();
    }
    byte[] payload = Payload.generate(size, seed);
    try (SqsClient sqs = new AmazonSQSExtendedClient(sqs(), config)) {
      String messageId =
          sqs.sendMessage(
                  SendMessageRequest.builder()
                      .queueUrl(queueUrl)
                      .messageBody(new String(payload, StandardCharsets.UTF_8))
                      .build())
              .messageId();
      System.out.println(sentJson(messageId, payload));
    }
    return 0;
  }

  /**
   * One SendMessageBatch through the extended client, entry i carrying the payload of seed S + i and
   * size sizes[i]. With --group-id the queue is FIFO: every entry is in that group, deduplicated by
   * the payload's SHA-256 (content-based deduplication would hash the pointer).
   */
  private static int sqsSendBatch(Args args) {
    String queueUrl = args.required("queue-url");
    String bucket = args.required("bucket");
    String rawSizes = args.required("sizes");
    long seed = args.seed();
    String groupId = args.optional("group-id", null);
    args.rejectUnknown();

    String[] parts = rawSizes.split(",");
    if (parts.length == 0 || parts.length > 10) {
      throw new Args.UsageError("--sizes must list 1 to 10 sizes, got \"" + rawSizes + "\"");
    }
    ExtendedClientConfiguration config =
        new ExtendedClientConfiguration()
            .withPayloadSupportEnabled(s3(), bucket)
            .withLegacyReservedAttributeNameDisabled();
    List<byte[]> payloads = new java.util.ArrayList<>();
    List<SendMessageBatchRequestEntry> entries = new java.util.ArrayList<>();
    for (int i = 0; i < parts.length; i++) {
      int size;
      try {
        size = Integer.parseInt(parts[i].trim());
      } catch (NumberFormatException e) {
        throw new Args.UsageError("--sizes entry \"" + parts[i] + "\" is not an integer");
      }
      byte[] payload = Payload.generate(size, seed + i);
      payloads.add(payload);
      SendMessageBatchRequestEntry.Builder entry =
          SendMessageBatchRequestEntry.builder()
              .id("e" + i)
              .messageBody(new String(payload, StandardCharsets.UTF_8));
      if (groupId != null) {
        entry = entry.messageGroupId(groupId).messageDeduplicationId(Payload.sha256Hex(payload));
      }
      entries.add(entry.build());
    }
    try (SqsClient sqs = new AmazonSQSExtendedClient(sqs(), config)) {
      SendMessageBatchResponse response =
          sqs.sendMessageBatch(
              SendMessageBatchRequest.builder().queueUrl(queueUrl).entries(entries).build());
      if (!response.failed().isEmpty()) {
        System.err.println("interop-clients: entries failed: " + response.failed());
        return 1;
      }
      for (var ok : response.successful()) {
        int i = Integer.parseInt(ok.id().substring(1));
        System.out.println(sentJson(ok.messageId(), payloads.get(i)));
      }
    }
    return 0;
  }

  /**
   * Receives until {@code count} messages arrived, prints each body's digest, then deletes each
   * through the extended client, which also exercises its receipt-handle markers.
   */
  private static int sqsReceive(Args args) {
    String queueUrl = args.required("queue-url");
    String bucket = args.required("bucket");
    int count = args.nonNegativeInt("count", null);
    int waitSeconds = args.nonNegativeInt("wait-seconds", "30");
    boolean keepPayload = args.flag("keep-payload");
    args.rejectUnknown();

    // The library's default deletes the S3 object with the message; --keep-payload mirrors what a
    // fan-out subscriber must do instead.
    ExtendedClientConfiguration config =
        keepPayload
            ? new ExtendedClientConfiguration().withPayloadSupportEnabled(s3(), bucket, false)
            : new ExtendedClientConfiguration().withPayloadSupportEnabled(s3(), bucket);
    Instant deadline = Instant.now().plus(Duration.ofSeconds(waitSeconds));
    int received = 0;
    try (SqsClient sqs = new AmazonSQSExtendedClient(sqs(), config)) {
      while (received < count) {
        long left = Duration.between(Instant.now(), deadline).toSeconds();
        if (left <= 0) {
          break;
        }
        List<Message> messages =
            sqs.receiveMessage(
                    ReceiveMessageRequest.builder()
                        .queueUrl(queueUrl)
                        .maxNumberOfMessages(Math.min(10, count - received))
                        .waitTimeSeconds((int) Math.min(20, left))
                        .build())
                .messages();
        for (Message message : messages) {
          System.out.println(receivedJson(message));
          sqs.deleteMessage(
              DeleteMessageRequest.builder()
                  .queueUrl(queueUrl)
                  .receiptHandle(message.receiptHandle())
                  .build());
          received++;
        }
      }
    }
    if (received < count) {
      System.err.println(
          "interop-clients: received " + received + " of " + count + " messages within " + waitSeconds + " s");
      return EXIT_TOO_FEW_MESSAGES;
    }
    return 0;
  }

  private static int snsPublish(Args args) {
    String topicArn = args.required("topic-arn");
    String bucket = args.required("bucket");
    int size = args.nonNegativeInt("size", null);
    long seed = args.seed();
    args.rejectUnknown();

    SNSExtendedClientConfiguration config =
        new SNSExtendedClientConfiguration().withPayloadSupportEnabled(s3(), bucket);
    byte[] payload = Payload.generate(size, seed);
    try (SnsClient sns = new AmazonSNSExtendedClient(sns(), config)) {
      String messageId =
          sns.publish(
                  PublishRequest.builder()
                      .topicArn(topicArn)
                      .message(new String(payload, StandardCharsets.UTF_8))
                      .build())
              .messageId();
      System.out.println(sentJson(messageId, payload));
    }
    return 0;
  }

  private static int payloadDigest(Args args) {
    int size = args.nonNegativeInt("size", null);
    long seed = args.seed();
    args.rejectUnknown();
    System.out.println(sentJson("", Payload.generate(size, seed)));
    return 0;
  }

  private static S3Client s3() {
    // s3rver stores aws-chunked framing as object data (real S3 decodes it). The SDK sends that
    // framing for checksums (default since 2.30) and, over plain http, for streaming signatures.
    return S3Client.builder()
        .endpointOverride(Args.endpointFromEnv("AWS_ENDPOINT_URL_S3"))
        .forcePathStyle(true)
        .serviceConfiguration(S3Configuration.builder().chunkedEncodingEnabled(false).build())
        .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
        .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
        .region(region())
        .credentialsProvider(credentials())
        .build();
  }

  private static SqsClient sqs() {
    return SqsClient.builder()
        .endpointOverride(Args.endpointFromEnv("AWS_ENDPOINT_URL_SQS"))
        .region(region())
        .credentialsProvider(credentials())
        .build();
  }

  private static SnsClient sns() {
    return SnsClient.builder()
        .endpointOverride(Args.endpointFromEnv("AWS_ENDPOINT_URL_SNS"))
        .region(region())
        .credentialsProvider(credentials())
        .build();
  }

  private static Region region() {
    return Region.of(Args.requiredEnv("AWS_REGION"));
  }

  private static StaticCredentialsProvider credentials() {
    // Only the variables the test sets: never a developer's ~/.aws profile.
    return StaticCredentialsProvider.create(
        AwsBasicCredentials.create(
            Args.requiredEnv("AWS_ACCESS_KEY_ID"), Args.requiredEnv("AWS_SECRET_ACCESS_KEY")));
  }

  private static String sentJson(String messageId, byte[] payload) {
    return "{\"role\":\"sent\",\"messageId\":"
        + quote(messageId)
        + ",\"sha256\":\""
        + Payload.sha256Hex(payload)
        + "\",\"size\":"
        + payload.length
        + "}";
  }

  private static String receivedJson(Message message) {
    byte[] body = message.body().getBytes(StandardCharsets.UTF_8);
    StringBuilder names = new StringBuilder("[");
    for (String name : new TreeSet<>(message.messageAttributes().keySet())) {
      names.append(names.length() > 1 ? "," : "").append(quote(name));
    }
    names.append(']');
    return "{\"role\":\"received\",\"messageId\":"
        + quote(message.messageId())
        + ",\"sha256\":\""
        + Payload.sha256Hex(body)
        + "\",\"size\":"
        + body.length
        + ",\"attributeNames\":"
        + names
        + ",\"pointerInReceiptHandle\":"
        + message.receiptHandle().startsWith("-..s3BucketName..-")
        + "}";
  }

  private static String quote(String value) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : value.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

}
