"""Sends one SendMessageBatch through the Python SQS extended client (amazon-sqs-extended-client).

Entry i carries the payload of seed S + i and size sizes[i]. With --group-id the queue is FIFO: every
entry goes in that group, deduplicated by the payload's SHA-256.
"""

import hashlib

import boto3
import sqs_extended_client  # noqa: F401  (patches boto3's Session: that is how the library works)

from interop_payload import Parser, digest, emit, generate, non_negative_int, require_env, seed


def sizes(raw: str) -> list:
    values = [non_negative_int(part) for part in raw.split(",")]
    if not 1 <= len(values) <= 10:
        raise ValueError(f"--sizes must list 1 to 10 sizes, got {raw!r}")
    return values


def main() -> None:
    parser = Parser(prog="sqs_send_batch.py", description=__doc__)
    parser.add_argument("--queue-url", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--sizes", required=True, type=sizes)
    parser.add_argument("--seed", required=True, type=seed)
    parser.add_argument("--group-id")
    args = parser.parse_args()
    require_env("AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_S3")

    sqs = boto3.client("sqs")
    sqs.large_payload_support = args.bucket
    payloads = [generate(size, args.seed + i) for i, size in enumerate(args.sizes)]
    entries = []
    for i, payload in enumerate(payloads):
        entry = {"Id": f"e{i}", "MessageBody": payload.decode("utf-8")}
        if args.group_id:
            entry["MessageGroupId"] = args.group_id
            entry["MessageDeduplicationId"] = hashlib.sha256(payload).hexdigest()
        entries.append(entry)
    response = sqs.send_message_batch(QueueUrl=args.queue_url, Entries=entries)
    if response.get("Failed"):
        raise SystemExit(f"sqs_send_batch.py: entries failed: {response['Failed']}")
    for ok in response["Successful"]:
        emit({"role": "sent", "messageId": ok["MessageId"], **digest(payloads[int(ok["Id"][1:])])})


if __name__ == "__main__":
    main()
