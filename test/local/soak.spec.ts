import * as assert from "assert";
import { Writable } from "stream";
import { planStack, type Plan } from "../../local/plan";
import { planMessages, renderSoak, runSoak, type SoakOptions } from "../../local/soak";
import { main, parseSoakArgs } from "../../local/soak-cli";

const quiet = () =>
  new Writable({
    write(_c, _e, cb) {
      cb();
    },
  });

describe("local: the soak", function () {
  this.timeout(120_000);
  let plan: Plan;
  // A short run: no large payloads, a downstream that fails more often than not. The full soak
  // with every fault (lost 0 with the real handlers) runs in .ci/run.
  const short = (): SoakOptions => ({
    messages: 12,
    rate: 200,
    seed: "spec",
    faults: ["downstream"],
    faultRate: 0,
    crashRate: 0,
    downstreamFailRate: 0.6,
    stallMs: 10,
    large: 0,
    drainTimeoutMs: 3_000,
    out: quiet(),
  });

  before(async () => {
    plan = await planStack("dev");
  });

  it("finds the loss of a subscriber that acknowledges before its downstream call", async () => {
    let progress = "";
    const out = new Writable({
      write(c, _e, cb) {
        progress += String(c);
        cb();
      },
    });
    const report = await runSoak({ ...short(), plan, plantedDefect: "ack-before-downstream", out });
    // The progress line: what is sent, published, delivered, duplicated and dead-lettered per
    // subscriber, the delivery rate, and the faults so far.
    assert.match(
      progress,
      /\] drained: sent 12\/12 · published \d+ · b \d+ ✓ \d+ dup \d+ DLQ · c \d+ ✓ \d+ dup \d+ DLQ · [\d.]+ msg\/s [\d.]+ MiB\/s · faults \d+ · crashes \d+\n/,
    );
    // The final table: throughput, latency per hop, faults by kind, the accounting with
    // duplicates, and every payload object nothing explains, with what is known of it.
    const table = renderSoak({
      ...report,
      orphans: {
        ...report.orphans,
        unexplained: [{ key: "payloads/x", why: "matches no message sent (by its content)" }],
      },
    });
    assert.match(
      table,
      /^Throughput: offered [\d.]+ msg\/s; delivered [\d.]+ msg\/s per subscriber, [\d.]+ MiB\/s/m,
    );
    for (const hop of ["publish", "deliver→b", "deliver→c", "end-to-end→b", "handler b"])
      assert.match(table, new RegExp(`^${hop} +\\d+ +\\d+ +\\d+ +\\d+ +\\d+$`, "m"), `no latency row ${hop}`);
    for (const kind of ["error5xx", "throttle", "cutRequest", "cutResponse", "stall", "crash"])
      assert.match(table, new RegExp(`^${kind} +\\d+$`, "m"), `no fault count for ${kind}`);
    assert.match(table, /^subscriber +sent +delivered +dead-lettered +\(at publisher\) +lost +duplicates/m);
    assert.match(table, /^ {2}UNEXPLAINED payloads\/x: matches no message sent \(by its content\)$/m);
    const b = report.accounts.find((a) => a.subscriber === "b")!;
    assert.equal(report.ok, false, renderSoak(report));
    assert.ok(b.lost > 0, `expected loss at b:\n${renderSoak(report)}`);
    assert.equal(b.lostIds.length, b.lost);
    assert.equal(b.sent, b.delivered + b.deadLettered + b.lost);
    assert.match(renderSoak(report), /RESULT: FAILED — subscriber b: \d+ message\(s\) lost \(spec-0000/);
  });

  it("mixes sizes on both sides of the 256 KiB threshold, reproducibly from the seed", () => {
    const mix = planMessages("15", 1000, 10);
    assert.deepEqual(mix, planMessages("15", 1000, 10));
    const kinds = new Set(mix.map((m) => m.kind));
    for (const k of [
      "inline",
      "inline-binary",
      "inline-near-threshold",
      "source",
      "source-medium",
      "source-large",
      "poison",
    ])
      assert.ok(kinds.has(k as never), `no ${k} message`);
    assert.equal(mix.filter((m) => m.kind === "source-large").length, 10);
    assert.ok(mix.some((m) => m.kind === "source" && m.size < 256 * 1024));
    assert.ok(mix.some((m) => m.kind === "source" && m.size > 256 * 1024));
  });

  describe("command line", () => {
    const error = (argv: string[]) => {
      try {
        parseSoakArgs(argv);
      } catch (err) {
        return (err as Error).message;
      }
      return assert.fail(`${argv.join(" ")} was accepted`);
    };

    it("names the flag and the value it refuses", () => {
      assert.match(
        error(["--faults", "s3,disk"]),
        /--faults: "disk" is not one of s3, sqs, sns, lambda, downstream, all, none/,
      );
      assert.match(error(["--rate", "0"]), /--rate: "0" must be a number from 0.1 to 10000/);
      assert.match(error(["--messages", "2.5"]), /--messages: "2.5" must be an integer from 1 to 1000000/);
      assert.match(error(["--duration", "ten"]), /--duration: "ten" is not a duration/);
      assert.match(error(["--fault-rate", "2"]), /--fault-rate: "2" must be a number from 0 to 1/);
      assert.match(error(["--seed", "a b"]), /--seed: "a b" must be 1–32 letters/);
      assert.match(error(["--plant-defect", "x"]), /--plant-defect: "x" is not one of ack-before-downstream/);
      assert.match(error(["--mesages", "3"]), /unknown flag "--mesages"; did you mean --messages\?/);
      assert.match(error(["--rate"]), /^--rate needs a value$/);
    });

    it("reads the documented defaults and lists", () => {
      const { options } = parseSoakArgs([]);
      assert.equal(options.messages, 300);
      assert.deepEqual(options.faults, ["s3", "sqs", "sns", "lambda", "downstream"]);
      assert.deepEqual(parseSoakArgs(["--faults", "none"]).options.faults, []);
      assert.deepEqual(parseSoakArgs(["--faults", "sqs,s3,sqs"]).options.faults, ["sqs", "s3"]);
      const timed = parseSoakArgs(["--duration", "2m"]).options;
      assert.equal(timed.durationMs, 120_000);
      assert.equal(timed.messages, undefined);
    });

    it("prints its help and exits 0, and exits 2 on a bad flag", async () => {
      let text = "";
      const out = new Writable({
        write(c, _e, cb) {
          text += String(c);
          cb();
        },
      });
      assert.equal(await main(["--help"], out), 0);
      assert.match(text, /usage: npm run soak -- /);
      const stderr = process.stderr.write;
      process.stderr.write = () => true;
      try {
        assert.equal(await main(["--faults", "disk"], out), 2);
      } finally {
        process.stderr.write = stderr;
      }
    });
  });
});
