// Metrics (CloudWatch embedded metric format, through Powertools Metrics) and X-Ray tracing
// (Powertools Tracer) for the handlers. Names, dimensions and the namespace come from the contract
// (OperationsMetrics), which the dashboard reads too. Dimensions stay bounded: the part, the
// subscriber's name and the path (inline or offloaded), never an ID or a key.
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import type { Tracer } from "@aws-lambda-powertools/tracer";
import { OperationsMetrics as M, type MessagePath } from "../contract";
import { PayloadError, type PayloadReadFrom } from "../payload";

export interface HandlerMetrics {
  /** One message published or delivered: its path, size and (subscribers) resolve time. */
  message(path: MessagePath, bytes: number, resolveMs?: number): void;
  /**
   * Where a delivered offloaded payload was read, for a reader with a replica for its bucket: the
   * replica, or the origin as a fallback; a replica refused for holding other bytes also counts.
   */
  payloadRead(readFrom: PayloadReadFrom | undefined): void;
  /** One message failed; a checksum/size mismatch or an expired payload is counted as such. */
  messageFailed(path: MessagePath, error: unknown): void;
  /** How many messages of this batch or invocation failed (0 included, so the graph has zeros). */
  failures(count: number): void;
  /** Writes the stored metrics (one EMF line per path, one per batch), and clears them. */
  flush(): void;
}

/**
 * Which failures are counted apart: a payload whose bytes do not match its checksum or marker
 * size, and a payload whose object no longer exists (expired by the bucket's lifecycle).
 */
export function failureKind(error: unknown): "verifyFailed" | "expiredPayload" | undefined {
  const code = error instanceof PayloadError ? (error.code as string) : undefined;
  if (code === "ChecksumMismatch" || code === "SizeMismatch") return "verifyFailed";
  const name = (error as { name?: string } | null)?.name;
  if (code === "PayloadMissing" || name === "NoSuchKey" || name === "NotFound") return "expiredPayload";
  return undefined;
}

/**
 * Metrics of one part: `subscriber` set for a subscriber, absent for the publisher. The namespace is
 * POWERTOOLS_METRICS_NAMESPACE, which the program sets to the topology's system name.
 */
export function createMetrics(subscriber?: string): HandlerMetrics {
  const serviceName = subscriber === undefined ? M.publisherService : M.subscriberService;
  const base: Record<string, string> =
    subscriber === undefined ? {} : { [M.dimensions.subscriber]: subscriber };
  const make = (dimensions: Record<string, string>) =>
    new Metrics({ serviceName, defaultDimensions: dimensions });
  const byPath: Record<MessagePath, Metrics> = {
    inline: make({ ...base, [M.dimensions.path]: "inline" }),
    offloaded: make({ ...base, [M.dimensions.path]: "offloaded" }),
  };
  const batch = make(base);
  return {
    message(path, bytes, resolveMs) {
      const m = byPath[path];
      m.addMetric(M.messages, MetricUnit.Count, 1);
      m.addMetric(M.offloaded, MetricUnit.Count, path === "offloaded" ? 1 : 0);
      m.addMetric(M.payloadBytes, MetricUnit.Bytes, bytes);
      if (resolveMs !== undefined) m.addMetric(M.resolveMs, MetricUnit.Milliseconds, resolveMs);
    },
    payloadRead(readFrom) {
      if (readFrom === undefined || readFrom.reason === "no-replica") return;
      const m = byPath.offloaded;
      m.addMetric(M.replicaReads, MetricUnit.Count, readFrom.from === "replica" ? 1 : 0);
      m.addMetric(M.replicaFallbacks, MetricUnit.Count, readFrom.from === "origin" ? 1 : 0);
      if (readFrom.reason === "replica-tag-mismatch" || readFrom.reason === "replica-verify-failed") {
        m.addMetric(M.replicaRefused, MetricUnit.Count, 1);
      }
    },
    messageFailed(path, error) {
      const kind = failureKind(error);
      if (kind) byPath[path].addMetric(M[kind], MetricUnit.Count, 1);
    },
    failures(count) {
      batch.addMetric(M.failures, MetricUnit.Count, count);
    },
    flush() {
      // Only instances holding metrics: an empty flush would log a warning on every invocation.
      for (const m of [byPath.inline, byPath.offloaded, batch])
        if (m.hasStoredMetrics()) m.publishStoredMetrics();
    },
  };
}

/**
 * The X-Ray tracer, or undefined when tracing is off (POWERTOOLS_TRACE_ENABLED=false, which the
 * program sets with fieldnotes:tracing false). Required lazily: the X-Ray SDK it loads is most of
 * its cold-start cost, which a function that does not trace should not pay.
 */
export function createTracer(): Tracer | undefined {
  if (process.env[M.traceEnabledEnv]?.toLowerCase() === "false") return undefined;
  const { Tracer: TracerClass } =
    require("@aws-lambda-powertools/tracer") as typeof import("@aws-lambda-powertools/tracer");
  return new TracerClass();
}

/** Traces the client's calls (S3, SNS, Step Functions, ECS) and passes the trace header on, when tracing. */
export function traced<T>(tracer: Tracer | undefined, client: T): T {
  return tracer ? tracer.captureAWSv3Client(client) : client;
}
