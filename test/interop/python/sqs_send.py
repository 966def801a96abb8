"""Sends one payload through the Python SQS extended client (amazon-sqs-extended-client)."""

import boto3
import sqs_extended_client  # noqa: F401  (patches boto3's Session: that is how the library works)

from interop_payload import Parser, digest, emit, generate, non_negative_int, require_env, seed


def main() -> None:
    parser = Parser(prog="sqs_send.py", description=__doc__)
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--size", required=True, type=non_negative_int)
    parser.add_argument("--seed", required=True, type=seed)
    parser.add_argument("--legacy-attribute-name", action="store_true",
                        help="write SQSLargePayloadSize and the legacy pointer class")
    args = parser.parse_args()
    require_env("AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3")

    sqs = boto3.client("sqs")
    sqs.large_payload_support = args.bucket
    sqs.use_legacy_attribute = args.legacy_attribute_name
    payload = generate(args.size, args.seed)
    response = sqs.send_message(QueueUrl=args.queue_url, MessageBody=payload.decode("utf-8"))
    emit({"role": "sent", "messageId": response["MessageId"], **digest(payload)})


if __name__ == "__main__":
    main()
