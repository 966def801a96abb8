"""Shared by the role scripts: the deterministic payload and the command-line conventions.

The generator is the one in test/interop/java/.../Payload.java and test/interop/support/payload.ts:
same seed, same bytes, on every side. The text mixes 1- to 3-byte UTF-8 characters and the
characters JSON, XML and the SNS query protocol must escape, so a client that counts characters
instead of bytes, or mangles escaping, changes the digest. (No 4-byte characters: fauxqs 1.9.2
refuses them in SQS bodies, though SQS accepts them.)
"""

import argparse
import hashlib
import json
import os
import sys

ASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;:-_/\"\\<>&'{}[]\n\t"
THREE = "\u20ac".encode("utf-8")
TWO = "\u00e9".encode("utf-8")

EXIT_USAGE = 64
EXIT_TOO_FEW_MESSAGES = 2


def generate(size: int, seed: int) -> bytes:
    """Exactly `size` bytes of valid UTF-8, the same for the same seed on every side."""
    out = bytearray()
    x = seed & 0xFFFFFFFF or 0x9E3779B9
    while len(out) < size:
        # xorshift32
        x ^= (x << 13) & 0xFFFFFFFF
        x ^= x >> 17
        x ^= (x << 5) & 0xFFFFFFFF
        remaining = size - len(out)
        kind = x % 16
        if kind == 1 and remaining >= 3:
            out += THREE
        elif kind == 2 and remaining >= 2:
            out += TWO
        else:
            out.append(ord(ASCII[(x >> 8) % len(ASCII)]))
    return bytes(out)


def digest(body: bytes) -> dict:
    return {"sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}


def emit(record: dict) -> None:
    print(json.dumps(record, sort_keys=True), flush=True)


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake exits 64 like the Java program, naming the option and value."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(f"{self.prog}: {message}", file=sys.stderr)
        sys.exit(EXIT_USAGE)


def non_negative_int(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {raw!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be a non-negative integer, got {raw!r}")
    return value


def seed(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = -1
    if not 0 <= value <= 0xFFFFFFFF:
        raise argparse.ArgumentTypeError(f"must be an integer from 0 to 4294967295, got {raw!r}")
    return value


def require_env(*names: str) -> None:
    """The extended clients build their own S3 client from the session, with no endpoint argument,
    so loopback can only come from the AWS_ENDPOINT_URL_* variables: refuse to run without them
    rather than reach for real AWS."""
    for name in names:
        if not os.environ.get(name):
            print(f"environment variable {name} is required (the emulator's URL)", file=sys.stderr)
            sys.exit(EXIT_USAGE)


if __name__ == "__main__":
    # payload-digest: no AWS, proves the generators on every side agree.
    cli = Parser(prog="interop_payload.py", description="Print the sha256 and size of a test payload.")
    cli.add_argument("--size", required=True, type=non_negative_int)
    cli.add_argument("--seed", required=True, type=seed)
    cli_args = cli.parse_args()
    emit(digest(generate(cli_args.size, cli_args.seed)))
