// Every command reads its flags through common/args.ts: the same mistake gets the same words in
// each of them, and a numeric flag accepts the same text everywhere.
import * as assert from "node:assert/strict";
import { parseArgs as parseBatchArgs } from "../../bench/batch";
import { parseArgs as parseBenchArgs } from "../../bench/payload";
import { failed, integerFlag, numberFlag, readFlags, UsageError } from "../../common/args";
import { parseArgs as parseStartArgs } from "../../local/cli";
import { parseSoakArgs } from "../../local/soak-cli";
import { parseDlqArgs } from "../../messaging/dlq/cli";
import { parseQcArgs } from "../../research/processing/run-qc";

const INPUT = "s3://research-bucket/incoming/heart.h5";

/** Each command's parser, and arguments it accepts that a case's flags are added to. */
const COMMANDS: Record<string, (extra: string[]) => unknown> = {
  start: (extra) => parseStartArgs(["start", ...extra]),
  soak: (extra) => parseSoakArgs(extra),
  "bench:payload": (extra) => parseBenchArgs(extra),
  "bench:batch": (extra) => parseBatchArgs(extra),
  dlq: (extra) => parseDlqArgs(["--stack", "dev", "inspect", ...extra]),
  qc: (extra) => parseQcArgs(["--stack", "r", "--input", INPUT, "--mito-prefix", "mt-", ...extra]),
};

/** The UsageError message `parse` throws; fails when it accepts or throws anything else. */
function refusal(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    assert.ok(error instanceof UsageError, `not a UsageError: ${String(error)}`);
    return error.message;
  }
  return assert.fail("accepted");
}

describe("command-line flags: one reader, one wording", () => {
  it("names an unknown flag and suggests the closest one, in every command", () => {
    const typos: Record<string, [string, string]> = {
      start: ["--stak", "--stack"],
      soak: ["--mesages", "--messages"],
      "bench:payload": ["--repeats", "--repeat"],
      "bench:batch": ["--mesages", "--messages"],
      dlq: ["--hold-second", "--hold-seconds"],
      qc: ["--poll-second", "--poll-seconds"],
    };
    for (const [name, parse] of Object.entries(COMMANDS)) {
      const [typo, meant] = typos[name];
      assert.equal(
        refusal(() => parse([typo, "1"])),
        `unknown flag "${typo}"; did you mean ${meant}?`,
        name,
      );
      assert.equal(
        refusal(() => parse(["--zzzzzzzz"])),
        'unknown flag "--zzzzzzzz"',
        name,
      );
    }
  });

  it("names a flag without its value, a flag given twice, and a value for a switch", () => {
    const flag: Record<string, string> = {
      start: "--stack",
      soak: "--rate",
      "bench:payload": "--sizes",
      "bench:batch": "--sizes",
      dlq: "--max",
      qc: "--output",
    };
    for (const [name, parse] of Object.entries(COMMANDS)) {
      assert.equal(
        refusal(() => parse([flag[name]])),
        `${flag[name]} needs a value`,
        name,
      );
      // The next flag in the value's place is a forgotten value, not the value.
      assert.match(
        refusal(() => parse([flag[name], "--help"])),
        new RegExp(`^${flag[name]} needs a value`),
        name,
      );
      assert.equal(
        refusal(() => parse([flag[name], "1", `${flag[name]}=2`])),
        `${flag[name]} is given twice`,
        name,
      );
      assert.equal(
        refusal(() => parse(["--help=yes"])),
        "--help takes no value",
        name,
      );
    }
    assert.equal(
      refusal(() => parseBenchArgs(["64MiB"])),
      'unexpected argument "64MiB"',
    );
  });

  it("reads whole numbers as digits in a range, in every command, with the same words", () => {
    const cases: [string, () => unknown, string][] = [
      [
        "bench:payload",
        () => parseBenchArgs(["--repeat", "0"]),
        '--repeat: "0" must be an integer from 1 to 1000',
      ],
      [
        "bench:payload",
        () => parseBenchArgs(["--queue-size", "65"]),
        '--queue-size: "65" must be an integer from 1 to 64',
      ],
      [
        "bench:batch",
        () => parseBatchArgs(["--messages", "2.5"]),
        '--messages: "2.5" must be an integer from 1 to 100000',
      ],
      [
        "soak",
        () => parseSoakArgs(["--messages", "1e3"]),
        '--messages: "1e3" must be an integer from 1 to 1000000',
      ],
      ["soak", () => parseSoakArgs(["--large", "0x10"]), '--large: "0x10" must be an integer from 0 to 1000'],
      ["dlq", () => COMMANDS.dlq(["--max", " 5"]), '--max: " 5" must be an integer from 1 to 100000'],
      [
        "qc",
        () => COMMANDS.qc(["--poll-seconds", "0"]),
        '--poll-seconds: "0" must be an integer from 1 to 3600',
      ],
    ];
    for (const [name, parse, message] of cases) assert.equal(refusal(parse), message, name);
    assert.equal(parseBenchArgs(["--repeat", "1000"])!.repeat, 1000);
    assert.equal(parseSoakArgs(["--large", "0"]).options.large, 0);
    assert.equal((COMMANDS.qc(["--poll-seconds", "3600"]) as { pollSeconds: number }).pollSeconds, 3600);
  });

  it("reads decimals as digits with an optional fraction, inclusive bounds", () => {
    assert.equal(numberFlag("--fault-rate", "0", 0, 1), 0);
    assert.equal(numberFlag("--fault-rate", "1", 0, 1), 1);
    assert.equal(numberFlag("--rate", "0.1", 0.1, 10_000), 0.1);
    for (const text of ["-0.5", "1.5", ".5", "5%", "1e-2", "", "Infinity"]) {
      assert.equal(
        refusal(() => numberFlag("--fault-rate", text, 0, 1)),
        `--fault-rate: "${text}" must be a number from 0 to 1`,
      );
    }
    assert.equal(
      refusal(() => parseSoakArgs(["--fault-rate=-1"])),
      '--fault-rate: "-1" must be a number from 0 to 1',
    );
    assert.equal(integerFlag("--n", "007", 1, 10), 7);
    assert.equal(
      refusal(() => integerFlag("--n", "11", 1, 10)),
      '--n: "11" must be an integer from 1 to 10',
    );
  });

  it("reads a hidden flag but never suggests it", () => {
    const options = { sizes: { type: "string" }, size: { type: "string" } } as const;
    assert.equal(readFlags(["--size", "1KiB"], options, { hidden: ["size"] }).values.size, "1KiB");
    assert.throws(() => readFlags(["--sise", "1KiB"], options, { hidden: ["size"] }), {
      message: 'unknown flag "--sise"; did you mean --sizes?',
    });
    assert.throws(() => readFlags(["--sise", "1KiB"], options), {
      message: 'unknown flag "--sise"; did you mean --size?',
    });
  });

  it("gives every command -h and --help", () => {
    const { values } = readFlags(["-h"], {});
    assert.equal(values.help, true);
    assert.equal(parseBatchArgs(["-h"]), undefined);
    assert.equal(parseDlqArgs(["-h"]), undefined);
    assert.equal(parseQcArgs(["-h"]), undefined);
    assert.equal(parseSoakArgs(["-h"]).help, true);
    assert.equal(parseStartArgs(["plan", "-h"]).help, true);
  });

  it("exits 2 with the message and the usage for a usage error, 1 with the error for anything else", () => {
    const lines: string[] = [];
    const error = console.error;
    console.error = (line: string) => void lines.push(line);
    try {
      assert.equal(failed(new UsageError("--max: bad"), "usage: x", "dlq: "), 2);
      assert.equal(failed(new TypeError("boom"), "usage: x", "dlq: "), 1);
    } finally {
      console.error = error;
    }
    assert.deepEqual(lines, ["dlq: --max: bad\nusage: x", "dlq: TypeError: boom"]);
  });
});
