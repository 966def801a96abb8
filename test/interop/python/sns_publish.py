"""Publishes one payload through the Python SNS extended client (amazon-sns-extended-client)."""

import boto3
import sns_extended_client  # noqa: F401  (patches boto3's Session: that is how the library works)

from interop_payload import Parser, digest, emit, generate, non_negative_int, require_env, seed


def main() -> None:
    parser = Parser(prog="sns_publish.py", description=__doc__)
    parser.add_argument("--topic-arn", required=True)
    parser.add_argument("--bucket", required=True)
    parser.add_argument("--size", required=True, type=non_negative_int)
    parser.add_argument("--seed", required=True, type=seed)
    args = parser.parse_args()
    require_env("AWS_ENDPOINT_URL_SNS", "AWS_ENDPOINT_URL_S3")

    sns = boto3.client("sns")
    sns.large_payload_support = args.bucket
    payload = generate(args.size, args.seed)
    response = sns.publish(TopicArn=args.topic_arn, Message=payload.decode("utf-8"))
    emit({"role": "sent", "messageId": response["MessageId"], **digest(payload)})


if __name__ == "__main__":
    main()
