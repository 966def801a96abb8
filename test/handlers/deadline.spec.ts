import * as assert from "node:assert/strict";
import { invocationDeadline } from "../../messaging/handlers/deadline";

describe("the invocation deadline's signal", () => {
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
