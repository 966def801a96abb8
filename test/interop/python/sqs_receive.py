"""Receives through the Python SQS extended client and prints each body's sha256 and size."""

import sys
import time

import boto3
import sqs_extended_client  # noqa: F401  (patches boto3's Session: that is how the library works)

from interop_payload import EXIT_TOO_FEW_MESSAGES, Parser, digest, emit, non_negative_int, require_env

BUCKET_MARKER = "-..s3BucketName..-"
KEY_MARKER = "-..s3Key..-"


def original_handle(handle: str) -> str:
    """The queue's receipt handle inside the client's marked one. The client's own delete recovers
    it as the text after the last "-", which is the whole handle only when the handle has no "-"
    (true of SQS's base64 handles, not of fauxqs's UUIDs): there its delete removes nothing."""
    return handle[handle.rindex(KEY_MARKER) + len(KEY_MARKER):] if handle.startswith(BUCKET_MARKER) else handle


def main() -> None:
    parser = Parser(prog="sqs_receive.py", description=__doc__)
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--count", required=True, type=non_negative_int)
    parser.add_argument("--wait-seconds", default=30, type=non_negative_int)
    parser.add_argument("--request-all-attributes", action="store_true",
                        help="pass MessageAttributeNames=['All'], the workaround that lets this client "
                             "see SQSLargePayloadSize (it requests only ExtendedPayloadSize by default)")
    parser.add_argument("--delete", action="store_true",
                        help="delete each message once read: a FIFO queue hands out the rest of a "
                             "message group only after the messages received before are deleted")
    args = parser.parse_args()
    require_env("AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3")

    sqs = boto3.client("sqs")
    sqs.large_payload_support = args.bucket
    deadline = time.monotonic() + args.wait_seconds
    received = []
    while len(received) < args.count:
        left = int(deadline - time.monotonic())
        if left <= 0:
            break
        # By default no MessageAttributeNames: the client must add the marker names itself.
        extra = {"MessageAttributeNames": ["All"]} if args.request_all_attributes else {}
        response = sqs.receive_message(
            QueueUrl=args.queue_url,
            MaxNumberOfMessages=min(10, args.count - len(received)),
            WaitTimeSeconds=min(20, left),
            **extra,
        )
        for message in response.get("Messages", []):
            emit({
                "role": "received",
                "messageId": message["MessageId"],
                "attributeNames": sorted(message.get("MessageAttributes", {}).keys()),
                "pointerInReceiptHandle": message["ReceiptHandle"].startswith(BUCKET_MARKER),
                **digest(message["Body"].encode("utf-8")),
            })
            received.append(message)
            if args.delete:
                sqs.delete_message(QueueUrl=args.queue_url, ReceiptHandle=original_handle(message["ReceiptHandle"]))
    if len(received) < args.count:
        print(f"sqs_receive.py: received {len(received)} of {args.count} messages "
              f"within {args.wait_seconds} s", file=sys.stderr)
        sys.exit(EXIT_TOO_FEW_MESSAGES)


if __name__ == "__main__":
    main()
