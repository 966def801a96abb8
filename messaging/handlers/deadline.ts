// Bounds on every call a handler makes, so that one stalled request costs one record, not the batch.
// Without them an S3 GetObject that never answers holds the invocation until Lambda kills it: every
// record of the batch, delivered downstream or not, comes back and runs again, and under a
// persistent stall good messages end in the DLQ.
import type { Context } from "aws-lambda";
import { setMaxListeners } from "node:events";
import { PayloadError } from "../payload";

/**
 * SDK client timeouts (`requestHandler`) for calls that answer promptly: GetObject and its tagging,
 * Publish, StartExecution, RunTask. Connect: a TCP/TLS handshake to a regional endpoint takes
 * milliseconds, 3 s leaves room for one lost SYN. Response headers within 15 s, and never 15 s
 * without a byte while a body streams. The SDK retries a timed-out attempt (3 attempts by default).
 */
export const PROMPT_CALL_TIMEOUTS = {
  connectionTimeout: 3_000,
  requestTimeout: 15_000,
  throwOnRequestTimeout: true,
  socketTimeout: 15_000,
} as const;

/**
 * For the publisher's S3 writes. A server-side copy (CopyObject up to 5 GiB, UploadPartCopy of a
 * ~512 MiB part) and CompleteMultipartUpload answer only once S3 has done the work, which can take
 * minutes; the invocation's deadline bounds them instead.
 */
export const S3_WRITE_TIMEOUTS = {
  connectionTimeout: 3_000,
  socketTimeout: 300_000,
} as const;

/** Time kept back from the function's timeout to report failures and return the batch response. */
export function reserveMs(remainingMs: number): number {
  return Math.min(5_000, Math.max(1_000, Math.round(remainingMs * 0.1)));
}

/** When no Lambda context is given (a direct call): the longest a Lambda function may run. */
const NO_CONTEXT_BUDGET_MS = 900_000;

/** An abort signal that fires before the function's own timeout, and its clean-up. */
export interface Deadline {
  signal: AbortSignal;
  /** Milliseconds from the start until the signal fires. */
  ms: number;
  clear(): void;
}

/**
 * A deadline for one invocation's work: `reserveMs` before Lambda's own timeout. Everything started
 * under it (S3 requests, streamed bodies, downstream calls) is aborted with a PayloadError
 * (Timeout) naming `what`, so the caller fails that record alone while there is time to say so.
 */
export function invocationDeadline(
  context: Pick<Context, "getRemainingTimeInMillis"> | undefined,
  what: string,
): Deadline {
  const remaining = context?.getRemainingTimeInMillis() ?? NO_CONTEXT_BUDGET_MS;
  const ms = Math.max(0, remaining - reserveMs(remaining));
  const controller = new AbortController();
  // Every request of the batch listens on this one signal while it runs (the SDK removes its listener
  // when the request closes), so a batch of 10 records with a replica read makes 30 at once: Node's
  // default of 10 would log a MaxListenersExceededWarning for a leak that is not there.
  setMaxListeners(0, controller.signal);
  const expire = () =>
    controller.abort(
      new PayloadError(
        "Timeout",
        `${what} did not finish within ${ms} ms, the time left before the function's timeout (less a ${reserveMs(remaining)} ms reserve)`,
      ),
    );
  // No time left: aborted before the caller starts anything. A 0 ms timer would fire only on the next
  // turn of the event loop, after a request had been sent, so a publish could reach SNS while the
  // invocation reports it failed and Lambda runs it again.
  if (ms === 0) {
    expire();
    return { signal: controller.signal, ms, clear: () => undefined };
  }
  const timer = setTimeout(expire, ms);
  timer.unref();
  return { signal: controller.signal, ms, clear: () => clearTimeout(timer) };
}

/**
 * The error to report for a call made under `signal`: once the signal has fired, its reason (which
 * deadline passed, and how long the call had) instead of the SDK's own "Request aborted".
 */
export function deadlineError(signal: AbortSignal | undefined, error: unknown): unknown {
  return signal?.aborted ? signal.reason : error;
}
