import * as assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { parseArgs as parseBatchArgs, USAGE as BATCH_USAGE } from "../../bench/batch";
import { parseArgs as parseBenchArgs, USAGE as BENCH_USAGE } from "../../bench/payload";
import { main as startOrPlan } from "../../local/cli";
import { planView, renderPlanSummary, renderPlanView } from "../../local/plan-view";
import { planStack } from "../../local/plan";
import { formatSize, parseDuration, parseSize, parseSizes } from "../../local/size";
import { UsageError } from "../../common/args";
import { main as soak } from "../../local/soak-cli";
import { main as dlq } from "../../messaging/dlq/cli";
import { main as qc } from "../../research/processing/run-qc";
import { main as mutation } from "../mutation/run";

const ROOT = path.resolve(__dirname, "../..");

/** Runs `fn` with stdout and stderr captured. */
async function captured(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [write, writeErr, log, error] = [
    process.stdout.write,
    process.stderr.write,
    console.log,
    console.error,
  ];
  process.stdout.write = ((chunk: string) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  console.log = (...a: unknown[]) => void out.push(`${a.join(" ")}\n`);
  console.error = (...a: unknown[]) => void err.push(`${a.join(" ")}\n`);
  try {
    const code = await fn();
    return { code, out: out.join(""), err: err.join("") };
  } finally {
    [process.stdout.write, process.stderr.write, console.log, console.error] = [write, writeErr, log, error];
  }
}

describe("commands: --help, one size grammar, early refusals", function () {
  this.timeout(60_000);

  it("--help prints the usage and exits 0 on every command of package.json", async () => {
    const scripts: Record<string, string> = JSON.parse(
      readFileSync(path.join(ROOT, "package.json"), "utf8"),
    ).scripts;
    // Every script that runs one of the project's TypeScript commands is covered here.
    const commands = Object.entries(scripts)
      .filter(([, cmd]) => /\.ts\b/.test(cmd) && !/mocha/.test(cmd))
      .map(([name]) => name)
      .sort();
    assert.deepEqual(commands, [
      "bench:batch",
      "bench:payload",
      "dlq",
      "plan",
      "qc",
      "soak",
      "start",
      "test:mutation",
    ]);
    const help: Record<string, () => Promise<number>> = {
      start: () => startOrPlan(["start", "--help"]),
      plan: () => startOrPlan(["plan", "-h"]),
      qc: () => qc(["--help"]),
      dlq: () => dlq(["--help"]),
      soak: () => soak(["--help"]),
      "bench:batch": async () =>
        parseBatchArgs(["--help"]) === undefined ? (console.log(BATCH_USAGE), 0) : 1,
      "bench:payload": async () =>
        parseBenchArgs(["--help"]) === undefined ? (console.log(BENCH_USAGE), 0) : 1,
      "test:mutation": async () => mutation(["--help"]),
    };
    for (const name of commands) {
      const { code, out, err } = await captured(help[name]);
      assert.equal(code, 0, `${name} --help: exit ${code}; ${err}`);
      assert.match(out, /usage:/, `${name} --help printed no usage`);
      assert.equal(err, "", `${name} --help wrote to stderr`);
    }
  });

  it("reads sizes with one grammar: bytes or B/KiB/MiB/GiB, and refuses KB/MB/GB as ambiguous", () => {
    assert.deepEqual(parseSizes("1500,1KiB,64MiB,2GiB,1.5KiB,7B"), [1500, 1024, 64 << 20, 2 ** 31, 1536, 7]);
    assert.throws(
      () => parseSize("1GB"),
      /--sizes: "1GB" is ambiguous .*write 1GiB \(binary\) or the byte count/,
    );
    assert.throws(() => parseSize("512MB", "--part-size"), /--part-size: "512MB" is ambiguous/);
    assert.throws(() => parseSize("512mb"), /"512mb" is ambiguous/);
    assert.throws(() => parseSize("1k"), /"1k" is ambiguous/);
    assert.throws(() => parseSize("3TiB"), /unknown unit "TiB"; use B, KiB, MiB or GiB/);
    assert.throws(() => parseSize("1.5"), /fraction of a byte/);
    assert.throws(() => parseSizes("1KiB,,2KiB"), /has an empty entry/);
    assert.equal(formatSize(300 * 1024), "300 KiB");
    // The demo and the benchmark read the same text the same way (512MB once meant two sizes).
    assert.throws(() => parseBenchArgs(["--sizes", "512MB"]), /"512MB" is ambiguous/);
    assert.deepEqual(parseBenchArgs(["--sizes", "512MiB"])!.sizes, [512 * 1024 * 1024]);
  });

  it("reads durations with one grammar (npm start --replica-lag, the soak's --duration): ms, s, m, h", () => {
    assert.equal(parseDuration("--duration", "90s"), 90_000);
    assert.equal(parseDuration("--duration", "1.5m"), 90_000);
    assert.equal(parseDuration("--replica-lag", "0s", { zero: true }), 0);
    assert.throws(() => parseDuration("--duration", "0s"), /--duration: "0s" must be more than zero/);
    assert.throws(
      () => parseDuration("--replica-lag", "2 secs"),
      /--replica-lag: "2 secs" is not a duration/,
    );
    // A bad duration or size is a usage error (exit 2) in every command.
    assert.throws(
      () => parseDuration("--duration", "soon"),
      (e: unknown) => e instanceof UsageError,
    );
    assert.throws(
      () => parseSize("1GB"),
      (e: unknown) => e instanceof UsageError,
    );
  });

  it("refuses a stack that cannot run the demo before anything starts, naming the stacks that can", async () => {
    const started = Date.now();
    const { code, out, err } = await captured(() => startOrPlan(["start", "--stack", "a-use1"]));
    assert.equal(code, 2);
    assert.equal(out, "", "nothing planned or started");
    assert.match(err, /stack "a-use1" cannot be run locally: .*Stacks that can: dev, fifo, scenario1\./);
    assert.match(err, /npm run plan -- --stack a-use1/);
    assert.ok(Date.now() - started < 2000, "refused without planning");
    const missing = await captured(() => startOrPlan(["start", "--stack", "nosuch"]));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /no file Pulumi\.nosuch\.yaml/);
  });

  describe("the plan as npm start shows it", () => {
    let dev: Awaited<ReturnType<typeof planStack>>;
    let broken: Awaited<ReturnType<typeof planStack>>;
    before(async () => {
      [dev, broken] = await Promise.all([
        planStack("dev"),
        planStack("dev", { config: { "fieldnotes:sandboxAcount": "123456789012" } }),
      ]);
    });

    it("summarises the plan per account and Region and part, in a few lines of at most 100 columns", () => {
      const view = planView(dev);
      const summary = renderPlanSummary(view).split("\n");
      assert.match(
        summary[0],
        new RegExp(
          `^Plan for stack "dev": ${view.resourceCount} resources \\(full plan: npm start -- --plan\\)$`,
        ),
      );
      for (const g of view.groups) {
        const line = summary.find((l) => l.includes(`${g.account} · ${g.region}`));
        assert.ok(line, `no line for ${g.account} · ${g.region}`);
        for (const p of g.parts)
          assert.ok(summary.join(" ").includes(`${p.part} ${p.resources.length}`), p.part);
      }
      assert.equal(summary[summary.length - 1], "Wiring checks: no problem found.");
      assert.ok(summary.length <= 12, `${summary.length} lines`);
      assert.deepEqual(
        summary.filter((l) => [...l].length > 100),
        [],
      );
      assert.ok(
        renderPlanView(view).split("\n").length > 5 * summary.length,
        "the full view is the long one",
      );
    });

    it("leads with the config error, not with a plan of 0 resources", () => {
      const view = planView(broken);
      for (const text of [renderPlanSummary(view), renderPlanView(view)]) {
        const lines = text.split("\n");
        assert.match(
          lines[0],
          /^The program failed for stack "dev" \(project fieldnotes\) after 0 registration\(s\):$/,
        );
        assert.match(
          lines[1],
          /^ {2}Invalid config fieldnotes:sandboxAcount: .* did you mean fieldnotes:sandboxAccount\?/,
        );
        assert.ok(!/Plan for stack|0 resources/.test(text), text);
      }
    });
  });
});
