// `npm run test:mutation [-- FILE|UNIT ...] [--report] [--force] [--ignore-static]`: mutation testing one source file
// at a time (stryker.config.mjs says why), each against its unit's specs, then the score per file.
//
// Each file keeps its results in test/mutation/incremental/<file>.json (committed): Stryker's
// incremental mode re-tests only the mutants whose code or covering tests changed since, so a re-run
// after a small change takes minutes, not hours. `--force` re-tests every mutant; `--report` runs
// nothing and prints the scores those files hold. Exits 1 when a file scores under the break
// threshold, or when a run fails.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";

const ROOT = path.resolve(__dirname, "..", "..");
const BREAK = 85;

interface Unit {
  mutate: string[];
  spec: string[];
}
const UNITS = JSON.parse(fs.readFileSync(path.join(__dirname, "units.json"), "utf8")) as Record<string, Unit>;

function tsFiles(dir: string): string[] {
  return fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `${dir}/${f}`);
}

/** Every file the project mutation-tests (issue 9): each must be in a unit of units.json. */
export function mutatedFiles(): string[] {
  return [
    ...tsFiles("messaging/payload"),
    // Not the bundler, nor the stand-in it bundles for a package no handler calls.
    ...tsFiles("messaging/handlers").filter(
      (f) => f !== "messaging/handlers/build.ts" && f !== "messaging/handlers/xray-semver.ts",
    ),
    "messaging/policies.ts",
    "messaging/topology.ts",
    "research/config.ts",
  ].sort();
}

export function incrementalFile(file: string): string {
  return path.join(
    "test",
    "mutation",
    "incremental",
    `${file.replace(/\.ts$/, "").replace(/\//g, "__")}.json`,
  );
}

interface MutantResult {
  status: string;
}
interface Report {
  files: Record<string, { mutants: MutantResult[] }>;
}

export interface FileScore {
  file: string;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  other: number;
  /** Detected (killed + timeout) over valid mutants, as Stryker scores them; undefined with none. */
  score?: number;
}

/** Counts one file's mutants in a Stryker report (the incremental file is one). */
export function scoreFile(file: string, report: Report): FileScore {
  const mutants = report.files[file]?.mutants ?? [];
  const count = (status: string) => mutants.filter((m) => m.status === status).length;
  const killed = count("Killed");
  const timeout = count("Timeout");
  const survived = count("Survived");
  const noCoverage = count("NoCoverage");
  const valid = killed + timeout + survived + noCoverage;
  return {
    file,
    killed,
    timeout,
    survived,
    noCoverage,
    other: mutants.length - valid,
    score: valid === 0 ? undefined : (100 * (killed + timeout)) / valid,
  };
}

function resultsTime(file: string): number | undefined {
  const inc = path.join(ROOT, incrementalFile(file));
  return fs.existsSync(inc) ? fs.statSync(inc).mtimeMs : undefined;
}

function readScore(file: string): FileScore | undefined {
  const inc = path.join(ROOT, incrementalFile(file));
  if (!fs.existsSync(inc)) return undefined;
  return scoreFile(file, JSON.parse(fs.readFileSync(inc, "utf8")) as Report);
}

export function main(args: string[]): number {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      report: { type: "boolean" },
      force: { type: "boolean" },
      "ignore-static": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    console.log(
      `usage: npm run test:mutation [-- FILE|UNIT ...] [--report] [--force] [--ignore-static]\nunits: ${Object.keys(UNITS).join(", ")}`,
    );
    return 0;
  }
  const runs: { unit: string; file: string }[] = [];
  for (const [unit, { mutate }] of Object.entries(UNITS)) {
    for (const file of mutate) {
      if (positionals.length === 0 || positionals.includes(unit) || positionals.includes(file))
        runs.push({ unit, file });
    }
  }
  const unknown = positionals.filter((p) => !runs.some((r) => r.unit === p || r.file === p));
  if (unknown.length > 0) {
    console.error(`not a unit or a file of one (test/mutation/units.json): ${unknown.join(", ")}`);
    return 2;
  }
  const failed = new Set<string>();
  const seconds = new Map<string, number>();
  if (!values.report) {
    for (const { unit, file } of runs) {
      const started = Date.now();
      const before = resultsTime(file);
      // nice: the machine is shared, and others' test runs should not wait on mutants.
      const args = [
        "-n",
        "10",
        "npx",
        "stryker",
        "run",
        "--mutate",
        file,
        "--incrementalFile",
        incrementalFile(file),
      ];
      if (values.force) args.push("--force");
      if (values["ignore-static"]) args.push("--ignoreStatic");
      console.log(`\n== ${file} (${unit}) ==`);
      const run = spawnSync("nice", args, {
        cwd: ROOT,
        stdio: "inherit",
        env: { ...process.env, MUTATION_UNIT: unit },
      });
      seconds.set(file, Math.round((Date.now() - started) / 1000));
      // Stryker exits 1 for a score under the break threshold too, after writing the results; a run
      // that fails before (a failing spec in the initial run) leaves the old results, not a score.
      if (run.status !== 0 && resultsTime(file) === before) failed.add(file);
    }
  }
  // A file added since units.json was written is measured by nobody: say so rather than skip it.
  const listed = new Set(Object.values(UNITS).flatMap((u) => u.mutate));
  const unlisted = positionals.length === 0 ? mutatedFiles().filter((f) => !listed.has(f)) : [];
  for (const file of unlisted)
    console.log(`${file}: in no unit of test/mutation/units.json, so not measured`);
  const rows = runs.map(({ file }) => (failed.has(file) ? undefined : readScore(file)) ?? { file });
  console.log("\n| File | Score | Killed | Timeout | Survived | No coverage | Ignored | Run |");
  console.log("| --- | --- | --- | --- | --- | --- | --- | --- |");
  let below = 0;
  const total = { killed: 0, timeout: 0, survived: 0, noCoverage: 0, other: 0 };
  for (const row of rows) {
    if (!("killed" in row)) {
      console.log(`| ${row.file} | ${failed.has(row.file) ? "run failed" : "not measured"} | | | | | | |`);
      below++;
      continue;
    }
    if (row.score !== undefined && row.score < BREAK) below++;
    for (const k of ["killed", "timeout", "survived", "noCoverage", "other"] as const) total[k] += row[k];
    const time = seconds.has(row.file) ? `${seconds.get(row.file)} s` : "";
    console.log(
      `| ${row.file} | ${row.score?.toFixed(1) ?? "-"}% | ${row.killed} | ${row.timeout} | ${row.survived} | ${row.noCoverage} | ${row.other} | ${time} |`,
    );
  }
  const valid = total.killed + total.timeout + total.survived + total.noCoverage;
  if (valid > 0) {
    const score = (100 * (total.killed + total.timeout)) / valid;
    console.log(
      `| all | ${score.toFixed(1)}% | ${total.killed} | ${total.timeout} | ${total.survived} | ${total.noCoverage} | ${total.other} | |`,
    );
  }
  below += unlisted.length;
  if (below > 0) console.error(`${below} file(s) under the break threshold of ${BREAK}% or not measured`);
  return below > 0 ? 1 : 0;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
