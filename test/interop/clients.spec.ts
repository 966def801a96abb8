// The harness itself: the three payload generators agree, the Java and Python programs refuse bad
// input clearly, and AWS's Java and Python SQS clients understand each other on these emulators.
// If a project case fails while these pass, the project's code is at fault, not the harness.
import * as assert from "node:assert/strict";
import { assertClientsInstalled, java, python, runJava, runPython } from "./support/clients";
import { digestOf, payloadBytes } from "./support/payload";
import { startWorld, type InteropWorld } from "./support/world";

describe("interop harness", function () {
  before(assertClientsInstalled);

  describe("payload generator", function () {
    const cases = [
      { size: 0, seed: 1 },
      { size: 1, seed: 0 },
      { size: 3, seed: 4294967295 },
      { size: 1000, seed: 42 },
      { size: 300 * 1024, seed: 7 },
    ];

    it("Java, Python and TypeScript generate the same bytes for the same size and seed", async function () {
      for (const { size, seed } of cases) {
        const expected = digestOf(payloadBytes(size, seed));
        const args = ["--size", String(size), "--seed", String(seed)];
        const [fromJava] = await java(["payload-digest", ...args], {});
        const [fromPython] = await python("interop_payload.py", args, {});
        assert.deepEqual(
          { sha256: fromJava.sha256, size: fromJava.size },
          expected,
          `Java, ${JSON.stringify({ size, seed })}`,
        );
        assert.deepEqual(
          { sha256: fromPython.sha256, size: fromPython.size },
          expected,
          `Python, ${JSON.stringify({ size, seed })}`,
        );
      }
    });

    it("generates exactly the requested number of UTF-8 bytes, with multi-byte characters", function () {
      const bytes = payloadBytes(4096, 3);
      assert.equal(bytes.length, 4096);
      const text = bytes.toString("utf8");
      assert.equal(Buffer.byteLength(text, "utf8"), 4096, "valid UTF-8 round-trips");
      assert.ok(text.length < 4096, "some characters take more than one byte");
      assert.match(text, /\u20AC/, "a 3-byte character");
      assert.match(text, /\u00E9/, "a 2-byte character");
    });

    it("refuses a size or seed it cannot honour, naming the value", function () {
      assert.throws(() => payloadBytes(-1, 1), /size must be a non-negative integer, got -1/);
      assert.throws(
        () => payloadBytes(1, 2 ** 32),
        /seed must be an integer from 0 to 4294967295, got 4294967296/,
      );
    });
  });

  describe("command-line errors", function () {
    it("the Java program names a bad option value and exits 64", async function () {
      const bad = await runJava(["payload-digest", "--size", "lots", "--seed", "1"], {});
      assert.equal(bad.code, 64);
      assert.match(bad.stderr, /--size must be a non-negative integer, got "lots"/);
      const unknown = await runJava(["payload-digest", "--size", "1", "--seed", "1", "--sede", "2"], {});
      assert.equal(unknown.code, 64);
      assert.match(unknown.stderr, /unknown option --sede \(value "2"\)/);
      const command = await runJava(["sqs-recieve"], {});
      assert.equal(command.code, 64);
      assert.match(command.stderr, /unknown command "sqs-recieve"/);
    });

    it("the Java program refuses to run without an emulator endpoint rather than reach AWS", async function () {
      const result = await runJava(
        ["sqs-send", "--queue-url", "http://127.0.0.1:9/q", "--bucket", "b", "--size", "1", "--seed", "1"],
        { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "x", AWS_SECRET_ACCESS_KEY: "x" },
      );
      assert.equal(result.code, 64);
      assert.match(result.stderr, /environment variable AWS_ENDPOINT_URL_S3 is required/);
    });

    it("the Python scripts name a bad option value and exit 64", async function () {
      const bad = await runPython(
        "sqs_send.py",
        ["--queue-url", "u", "--bucket", "b", "--size", "-3", "--seed", "1"],
        {},
      );
      assert.equal(bad.code, 64);
      assert.match(bad.stderr, /--size: must be a non-negative integer, got '-3'/);
      const seed = await runPython(
        "sns_publish.py",
        ["--topic-arn", "t", "--bucket", "b", "--size", "1", "--seed", "x"],
        {},
      );
      assert.equal(seed.code, 64);
      assert.match(seed.stderr, /--seed: must be an integer from 0 to 4294967295, got 'x'/);
    });

    it("the Python scripts refuse to run without an emulator endpoint rather than reach AWS", async function () {
      const result = await runPython(
        "sqs_receive.py",
        ["--queue-url", "u", "--bucket", "b", "--count", "1"],
        {},
      );
      assert.equal(result.code, 64);
      assert.match(result.stderr, /environment variable AWS_ENDPOINT_URL_SQS is required/);
    });
  });

  describe("AWS's own clients against each other on the emulators (control)", function () {
    let world: InteropWorld;
    before(async function () {
      world = await startWorld();
    });
    after(async function () {
      await world?.stop();
    });

    it("Java SQS client (default config) → Python SQS client asking for All attributes, 300 KiB offloaded", async function () {
      const queue = await world.queue("java-to-python");
      const expected = digestOf(payloadBytes(300 * 1024, 11));
      const [sent] = await java(
        [
          "sqs-send",
          "--queue-url",
          queue.url,
          "--bucket",
          world.bucket,
          "--size",
          String(300 * 1024),
          "--seed",
          "11",
        ],
        world.env,
      );
      assert.deepEqual({ sha256: sent.sha256, size: sent.size }, expected);
      const [received] = await python(
        "sqs_receive.py",
        ["--queue-url", queue.url, "--bucket", world.bucket, "--count", "1", "--request-all-attributes"],
        world.env,
      );
      assert.deepEqual({ sha256: received.sha256, size: received.size }, expected);
      assert.equal(received.pointerInReceiptHandle, true, "the Python client saw an offloaded message");
    });

    // Upstream incompatibility between AWS's own clients (docs/interop.md): Python 1.0.1 requests only
    // ExtendedPayloadSize, the Java client's default writes SQSLargePayloadSize, and SQS returns only
    // requested attributes, so the caller gets the pointer JSON as if it were the body. If this starts
    // failing after a version bump, upstream fixed it: update docs/interop.md.
    it("known upstream gap: Python SQS client (default receive) does not resolve the Java client's legacy marker", async function () {
      const queue = await world.queue("java-legacy-to-python");
      await java(
        ["sqs-send", "--queue-url", queue.url, "--bucket", world.bucket, "--size", "300000", "--seed", "13"],
        world.env,
      );
      const [received] = await python(
        "sqs_receive.py",
        ["--queue-url", queue.url, "--bucket", world.bucket, "--count", "1"],
        world.env,
      );
      assert.equal(received.pointerInReceiptHandle, false);
      assert.ok(
        received.size < 300,
        `the pointer body (${received.size} bytes) arrived instead of the payload`,
      );
    });

    it("Python SQS client → Java SQS client, 300 KiB offloaded", async function () {
      const queue = await world.queue("python-to-java");
      const expected = digestOf(payloadBytes(300 * 1024, 12));
      await python(
        "sqs_send.py",
        ["--queue-url", queue.url, "--bucket", world.bucket, "--size", String(300 * 1024), "--seed", "12"],
        world.env,
      );
      const [received] = await java(
        ["sqs-receive", "--queue-url", queue.url, "--bucket", world.bucket, "--count", "1"],
        world.env,
      );
      assert.deepEqual({ sha256: received.sha256, size: received.size }, expected);
      assert.equal(received.pointerInReceiptHandle, true, "the Java client saw an offloaded message");
    });
  });
});
