// The work a subscriber starts once a payload is resolved: a Step Functions execution or an ECS
// task, chosen by DOWNSTREAM, so either subscriber kind can use either downstream. Each kind's
// client is in its own module, and each subscriber bundle carries only its downstream's (build.ts).
import type { DownstreamConfig } from "./config";
import { ecsDownstream } from "./downstream-ecs";
import { stepFunctionsDownstream } from "./downstream-stepfunctions";

/** What the downstream receives: small, whatever the payload's size. */
export interface PayloadSummary {
  subscriber: string;
  messageId: string;
  pointer: { s3BucketName: string; s3Key: string } | null;
  size: number;
  sha256: string;
  attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  /** The first SUMMARY_PREVIEW_BYTES bytes, when the payload is UTF-8 text. */
  preview?: string;
  /**
   * Offloaded payloads: where the bytes were read ("replica" or "origin") and why (e.g.
   * "replica-hit", "replica-missing", "no-replica"). `pointer` names the origin either way.
   */
  readFrom?: { from: "replica" | "origin"; reason: string };
}

export interface Downstream {
  readonly kind: DownstreamConfig["kind"];
  /** Starts the downstream for one payload. Idempotent per message id. `signal` aborts the call. */
  start(summary: PayloadSummary, signal?: AbortSignal): Promise<{ id?: string; duplicate?: boolean }>;
}

/** Wraps an SDK client, e.g. to trace its calls. */
export type Traced = <T>(client: T) => T;

/**
 * The one downstream kind a subscriber bundle is built for: build.ts sets it with esbuild's
 * `define`. The conditions below then fold to constants, the other kind's function is never
 * referenced, and esbuild leaves its module and SDK client out of the bundle (the unused client was
 * about 7 ms of every cold start, docs/benchmarks.md). The named imports above are what let esbuild
 * keep only the commands used: a `require()` of a client keeps all of it. Undeclared when the
 * handlers run from source, where every kind is there.
 */
declare const BUNDLED_DOWNSTREAM: DownstreamConfig["kind"] | undefined;

/**
 * @param traced wraps each SDK client, e.g. to trace its calls: X-Ray passes the trace on to the
 * execution or task it starts.
 */
export function createDownstream(config: DownstreamConfig, traced: Traced = (c) => c): Downstream {
  if (typeof BUNDLED_DOWNSTREAM !== "undefined" && config.kind !== BUNDLED_DOWNSTREAM) {
    throw new Error(
      `DOWNSTREAM is ${JSON.stringify(config.kind)}, but this bundle was built for the ` +
        `${JSON.stringify(BUNDLED_DOWNSTREAM)} downstream and carries no other's client: deploy the ` +
        "bundle built for the subscriber's downstream (handlerBundle in messaging/handlers/build.ts)",
    );
  }
  if (
    config.kind === "stepfunctions" &&
    // Stryker disable next-line ConditionalExpression: the check above already refused any other kind; this is for esbuild, which folds it to a constant and drops the other kind's module.
    (typeof BUNDLED_DOWNSTREAM === "undefined" || BUNDLED_DOWNSTREAM === "stepfunctions")
  ) {
    return stepFunctionsDownstream(config, traced);
  }
  if (config.kind === "ecs" && (typeof BUNDLED_DOWNSTREAM === "undefined" || BUNDLED_DOWNSTREAM === "ecs")) {
    return ecsDownstream(config, traced);
  }
  return { kind: "none", start: async () => ({}) };
}
