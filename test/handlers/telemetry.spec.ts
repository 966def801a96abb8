// The handlers' metrics and tracing (messaging/handlers/telemetry.ts) in process: the embedded
// metric format documents Powertools writes for each call, with their dimensions, and when a
// client is traced. The bundles emit the same through real batches in metrics.spec.ts.
import * as assert from "node:assert/strict";
import { S3Client } from "@aws-sdk/client-s3";
import { OperationsMetrics } from "../../messaging/contract";
import { createMetrics, createTracer, failureKind, traced } from "../../messaging/handlers/telemetry";
import { PayloadError } from "../../messaging/payload";
import { emitted, table, withEnv } from "./support";

const NAMESPACE = "fieldnotes-telemetry";

/** What `fn` makes a fresh subscriber's (or the publisher's) metrics write on flush. */
async function flushed(
  subscriber: string | undefined,
  fn: (m: ReturnType<typeof createMetrics>) => void,
): Promise<Record<string, Record<string, unknown>>> {
  const metrics = createMetrics(subscriber);
  const { emf } = await emitted(async () => {
    fn(metrics);
    metrics.flush();
  });
  return table(NAMESPACE, emf);
}

/** What `fn` makes Powertools warn (its own console writes warnings to stderr). */
function warnings(fn: () => void): string[] {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  process.stderr.write = ((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  }) as typeof process.stderr.write;
  try {
    fn();
  } finally {
    process.stderr.write = write;
  }
  return lines;
}

const error = (name: string) => Object.assign(new Error(name), { name });

describe("handler metrics and tracing", () => {
  const env = withEnv();
  before(() => env.set({ [OperationsMetrics.namespaceEnv]: NAMESPACE, POWERTOOLS_TRACE_ENABLED: "" }));
  after(() => env.restore());

  it("failure kinds: checksum and size mismatches are verification failures; a missing object an expired payload", () => {
    const kinds = [
      new PayloadError("ChecksumMismatch", "x"),
      new PayloadError("SizeMismatch", "x"),
      new PayloadError("PayloadMissing", "x"),
      error("NoSuchKey"),
      error("NotFound"),
      new PayloadError("Timeout", "x"),
      error("AccessDenied"),
      // A PayloadError's name is "PayloadError"; only its code counts.
      Object.assign(new Error("x"), { code: "ChecksumMismatch" }),
      null,
      undefined,
      "NoSuchKey",
    ].map(failureKind);
    assert.deepEqual(kinds, [
      "verifyFailed",
      "verifyFailed",
      "expiredPayload",
      "expiredPayload",
      "expiredPayload",
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it("publisher: a message per path with its size, no resolve time; the invocation's failures", async () => {
    assert.deepEqual(
      await flushed(undefined, (m) => {
        m.message("inline", 10);
        m.message("offloaded", 2_000_000);
        m.failures(0);
      }),
      {
        "service=publisher,path=inline": {
          "messages (Count)": 1,
          "offloaded (Count)": 0,
          "payloadBytes (Bytes)": 10,
        },
        "service=publisher,path=offloaded": {
          "messages (Count)": 1,
          "offloaded (Count)": 1,
          "payloadBytes (Bytes)": 2_000_000,
        },
        "service=publisher": { "failures (Count)": 0 },
      },
    );
  });

  it("subscriber: its name as a dimension, the resolve time, and failed messages by kind and path", async () => {
    assert.deepEqual(
      await flushed("b", (m) => {
        m.message("inline", 3, 0);
        m.message("offloaded", 5, 12.5);
        m.messageFailed("inline", new PayloadError("ChecksumMismatch", "x"));
        m.messageFailed("offloaded", error("NoSuchKey"));
        m.messageFailed("offloaded", error("AccessDenied"));
        m.failures(3);
      }),
      {
        "service=subscriber,subscriber=b,path=inline": {
          "messages (Count)": 1,
          "offloaded (Count)": 0,
          "payloadBytes (Bytes)": 3,
          "resolveMs (Milliseconds)": 0,
          "verifyFailed (Count)": 1,
        },
        "service=subscriber,subscriber=b,path=offloaded": {
          "messages (Count)": 1,
          "offloaded (Count)": 1,
          "payloadBytes (Bytes)": 5,
          "resolveMs (Milliseconds)": 12.5,
          "expiredPayload (Count)": 1,
        },
        "service=subscriber,subscriber=b": { "failures (Count)": 3 },
      },
    );
  });

  it("replica reads: served by the replica, by the origin instead, refused; nothing without a replica", async () => {
    const read = (from: "replica" | "origin", reason: string) =>
      flushed("b", (m) => m.payloadRead({ from, reason } as Parameters<typeof m.payloadRead>[0]));
    const offloaded = "service=subscriber,subscriber=b,path=offloaded";
    assert.deepEqual(await read("replica", "replica-hit"), {
      [offloaded]: { "replicaReads (Count)": 1, "replicaFallbacks (Count)": 0 },
    });
    assert.deepEqual(await read("origin", "replica-missing"), {
      [offloaded]: { "replicaReads (Count)": 0, "replicaFallbacks (Count)": 1 },
    });
    for (const reason of ["replica-tag-mismatch", "replica-verify-failed"]) {
      assert.deepEqual(await read("origin", reason), {
        [offloaded]: {
          "replicaReads (Count)": 0,
          "replicaFallbacks (Count)": 1,
          "replicaRefused (Count)": 1,
        },
      });
    }
    assert.deepEqual(await read("origin", "no-replica"), {});
    assert.deepEqual(await flushed("b", (m) => m.payloadRead(undefined)), {});
  });

  it("flush writes nothing, and warns of nothing, when nothing was counted; the publisher has no subscriber dimension", async () => {
    let emf: unknown[] = [];
    const warned = warnings(() => {
      const metrics = createMetrics("b");
      const publisher = createMetrics();
      void emitted(async () => {
        metrics.flush();
        publisher.flush();
      }).then((out) => (emf = out.emf));
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual([emf, warned], [[], []]);
  });

  it("tracing: off when POWERTOOLS_TRACE_ENABLED is false in any case; on, a client's calls are captured", () => {
    for (const off of ["false", "FALSE"]) {
      env.set({ POWERTOOLS_TRACE_ENABLED: off });
      assert.equal(createTracer(), undefined, off);
    }
    // Powertools traces only inside Lambda, which it tells by AWS_EXECUTION_ENV.
    env.set({ POWERTOOLS_TRACE_ENABLED: "true", AWS_EXECUTION_ENV: "AWS_Lambda_nodejs22.x" });
    const tracer = createTracer();
    assert.equal(tracer?.isTracingEnabled(), true);
    const client = new S3Client({ region: "us-east-1" });
    const before = client.middlewareStack.identify();
    assert.equal(traced(tracer, client), client);
    const added = client.middlewareStack.identify().filter((m) => !before.includes(m));
    assert.ok(added.length > 0, "the tracer adds its middleware");
    const untraced = new S3Client({ region: "us-east-1" });
    const plain = untraced.middlewareStack.identify();
    assert.equal(traced(undefined, untraced), untraced);
    assert.deepEqual(untraced.middlewareStack.identify(), plain);
    env.set({ POWERTOOLS_TRACE_ENABLED: "", AWS_EXECUTION_ENV: "" });
    assert.notEqual(createTracer(), undefined, "blank is on (Powertools then decides)");
    delete process.env.POWERTOOLS_TRACE_ENABLED;
    assert.notEqual(createTracer(), undefined, "unset is on (Powertools then decides)");
  });
});
