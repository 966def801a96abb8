import * as assert from "node:assert/strict";
import { S3Client } from "@aws-sdk/client-s3";
import {
  PROMPT_CALL_TIMEOUTS,
  S3_WRITE_TIMEOUTS,
  deadlineError,
  invocationDeadline,
  reserveMs,
} from "../../messaging/handlers/deadline";
import { PayloadError } from "../../messaging/payload";
import { clientTimeouts } from "./support";

/** The timeouts an S3 client given `requestHandler` applies. */
async function handlerTimeouts(requestHandler: object): Promise<Record<string, unknown>> {
  const client = new S3Client({ region: "us-east-1", requestHandler });
  try {
    return await clientTimeouts(client);
  } finally {
    client.destroy();
  }
}

/** The types of the resources that keep the event loop alive (ref'd timers show as "Timeout"). */
const liveTimers = () => process.getActiveResourcesInfo().filter((r) => r === "Timeout").length;

describe("the invocation deadline", () => {
  it("keeps back a tenth of the time left, at least 1 s and at most 5 s", () => {
    assert.deepEqual(
      [0, 5_000, 10_000, 10_004, 10_006, 20_000, 50_000, 60_000, 900_000].map(reserveMs),
      [1_000, 1_000, 1_000, 1_000, 1_001, 2_000, 5_000, 5_000, 5_000],
    );
  });

  it("fires the reserve before the function's timeout, with a Timeout error naming the work", async () => {
    const deadline = invocationDeadline({ getRemainingTimeInMillis: () => 1_080 }, "the batch");
    try {
      assert.equal(deadline.ms, 80);
      assert.equal(deadline.signal.aborted, false);
      const started = performance.now();
      const reason = await new Promise<unknown>((resolve) =>
        deadline.signal.addEventListener("abort", () => resolve(deadline.signal.reason), { once: true }),
      );
      assert.ok(performance.now() - started >= 70, "not before its time");
      assert.ok(reason instanceof PayloadError);
      assert.equal(reason.code, "Timeout");
      assert.equal(
        reason.message,
        "the batch did not finish within 80 ms, the time left before the function's timeout (less a 1000 ms reserve)",
      );
    } finally {
      deadline.clear();
    }
  });

  it("is already aborted, before the caller starts anything, when less than the reserve is left", () => {
    const deadline = invocationDeadline({ getRemainingTimeInMillis: () => 400 }, "publish");
    try {
      assert.equal(deadline.ms, 0);
      // Synchronously: a request sent before a 0 ms timer fired could reach the service while the
      // invocation reports it failed.
      assert.equal(deadline.signal.aborted, true);
      assert.equal(
        (deadline.signal.reason as Error).message,
        "publish did not finish within 0 ms, the time left before the function's timeout (less a 1000 ms reserve)",
      );
    } finally {
      deadline.clear();
    }
  });

  it("without a Lambda context, allows the longest a function may run (15 minutes, less 5 s)", () => {
    const deadline = invocationDeadline(undefined, "publish");
    deadline.clear();
    assert.equal(deadline.ms, 895_000);
  });

  it("clear() stops it, and its timer never keeps the process alive", async () => {
    const before = liveTimers();
    const deadline = invocationDeadline({ getRemainingTimeInMillis: () => 1_050 }, "record");
    assert.equal(liveTimers(), before, "an unref'd timer");
    deadline.clear();
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(deadline.signal.aborted, false);
  });

  it("a call's error is the deadline's reason once it fired, the call's own before", () => {
    const own = new Error("StateMachineDoesNotExist");
    const controller = new AbortController();
    assert.equal(deadlineError(undefined, own), own);
    assert.equal(deadlineError(controller.signal, own), own);
    const reason = new PayloadError("Timeout", "record did not finish");
    controller.abort(reason);
    assert.equal(deadlineError(controller.signal, own), reason);
  });

  it("takes one listener per request of a large batch without a leak warning", async () => {
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on("warning", onWarning);
    const deadline = invocationDeadline({ getRemainingTimeInMillis: () => 60_000 }, "the batch");
    try {
      const listeners = Array.from({ length: 40 }, () => () => {});
      for (const l of listeners) deadline.signal.addEventListener("abort", l, { once: true });
      // Warnings are emitted on the next tick.
      await new Promise((resolve) => setImmediate(resolve));
      assert.deepEqual(
        warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message),
        [],
      );
      for (const l of listeners) deadline.signal.removeEventListener("abort", l);
    } finally {
      deadline.clear();
      process.off("warning", onWarning);
    }
  });
});

describe("SDK client timeouts", () => {
  it("prompt calls: 3 s to connect, 15 s for the response and between bytes, a timed-out request fails", async () => {
    assert.deepEqual(await handlerTimeouts(PROMPT_CALL_TIMEOUTS), {
      connectionTimeout: 3_000,
      requestTimeout: 15_000,
      socketTimeout: 15_000,
      throwOnRequestTimeout: true,
    });
  });

  it("S3 writes: 3 s to connect, 5 minutes between bytes, no request timeout (the deadline bounds them)", async () => {
    assert.deepEqual(await handlerTimeouts(S3_WRITE_TIMEOUTS), {
      connectionTimeout: 3_000,
      requestTimeout: undefined,
      socketTimeout: 300_000,
      throwOnRequestTimeout: undefined,
    });
  });
});
