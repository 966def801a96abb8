// Mutation testing (docs/mutation.md). Each source file is mutated in its own run against only the
// specs that exercise it: on 2 shared cores a run over every file and every spec takes hours, and a
// narrowed run of one file takes minutes. The specs are narrowed here with `mochaOptions.spec`, not
// with Stryker's `--testFiles`: with `--testFiles` Stryker 9 activates static mutants (module-level
// constants) after their module has loaded, so they survive whatever the tests check
// (stryker-mutator/stryker-js#6144).
//
// `MUTATION_UNIT=<name> npx stryker run --mutate <file>` runs one file of a unit; `npm run
// test:mutation` (test/mutation/run.mjs) runs every file of every unit in turn and prints the scores.

import { readFileSync } from "node:fs";

/**
 * Units of mutation (test/mutation/units.json): the source files, and the specs that exercise them.
 * The handler specs load esbuild bundles that messaging/handlers/build.ts builds from the sources
 * beside it, which in Stryker's sandbox are the instrumented ones, so the mutants run inside the
 * bundles; bundle.spec.ts is left out, since it checks the size of an uninstrumented bundle.
 */
export const UNITS = JSON.parse(readFileSync(new URL("./test/mutation/units.json", import.meta.url), "utf8"));

const unitName = process.env.MUTATION_UNIT;
const unit = unitName === undefined ? undefined : UNITS[unitName];
if (unitName !== undefined && unit === undefined) {
  throw new Error(
    `MUTATION_UNIT must be one of ${Object.keys(UNITS).join(", ")}, got ${JSON.stringify(unitName)}`,
  );
}
const units = unit ? [unit] : Object.values(UNITS);

export default {
  $schema: "./node_modules/@stryker-mutator/core/schema/stryker-schema.json",
  packageManager: "npm",
  testRunner: "mocha",
  mochaOptions: { config: ".mocharc.json", spec: [...new Set(units.flatMap((u) => u.spec))] },
  mutate: units.flatMap((u) => u.mutate),
  coverageAnalysis: "perTest",
  // One worker: the machine is shared, and the emulator-backed specs are slow under contention.
  concurrency: 1,
  timeoutMS: 20000,
  timeoutFactor: 2,
  dryRunTimeoutMinutes: 20,
  thresholds: { high: 90, low: 85, break: 85 },
  // The committed results stay out of the sandbox: the runner may be writing one while another file runs.
  ignorePatterns: [
    ".build",
    ".venv",
    "bench/results",
    "test/interop/java/target",
    ".stryker-tmp",
    "reports",
    "test/mutation/incremental",
  ],
  tempDirName: ".stryker-tmp",
  reporters: ["clear-text", "progress", "json"],
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true },
  incremental: true,
  incrementalFile: "reports/mutation/incremental.json",
};
