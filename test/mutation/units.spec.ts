// The mutation units (test/mutation/units.json) must cover every file the project mutation-tests,
// name only files that exist, and be scored as Stryker scores them.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { mutatedFiles, scoreFile } from "./run";

const ROOT = path.resolve(__dirname, "..", "..");
const UNITS = JSON.parse(fs.readFileSync(path.join(__dirname, "units.json"), "utf8")) as Record<
  string,
  { mutate: string[]; spec: string[] }
>;

describe("mutation units", () => {
  it("mutate files of the payload library and the handlers (not the bundler), the policies, the topology and the research config, each once", () => {
    // A file added since is reported by npm run test:mutation as in no unit (and fails it), rather
    // than failing npm test for whoever adds it.
    const listed = Object.values(UNITS).flatMap((u) => u.mutate);
    assert.equal(new Set(listed).size, listed.length, "a file is in two units");
    const files = mutatedFiles();
    for (const file of listed)
      assert.ok(files.includes(file), `${file} is not a file the project mutation-tests`);
  });

  it("name specs that exist, and never the bundle-size spec (instrumented bundles are larger)", () => {
    for (const [name, unit] of Object.entries(UNITS)) {
      assert.ok(unit.spec.length > 0, `${name} has no specs`);
      for (const spec of unit.spec)
        assert.ok(fs.existsSync(path.join(ROOT, spec)), `${name}: ${spec} does not exist`);
      assert.ok(!unit.spec.includes("test/handlers/bundle.spec.ts"), name);
    }
  });

  it("name only specs that run the infra code in the test process (a planned program runs in a child, where no mutant is on)", () => {
    for (const spec of UNITS.infra.spec) {
      const text = fs.readFileSync(path.join(ROOT, spec), "utf8");
      assert.doesNotMatch(text, /from "\.\/plans"|planStack\(/, spec);
    }
  });

  it("score a file as detected (killed + timeout) over killed, timeout, survived and no coverage", () => {
    const mutants = (status: string, n: number) => Array.from({ length: n }, () => ({ status }));
    const report = {
      files: {
        "a.ts": {
          mutants: [
            ...mutants("Killed", 15),
            ...mutants("Timeout", 2),
            ...mutants("Survived", 2),
            ...mutants("NoCoverage", 1),
            ...mutants("Ignored", 5),
            ...mutants("CompileError", 1),
          ],
        },
      },
    };
    assert.deepEqual(scoreFile("a.ts", report), {
      file: "a.ts",
      killed: 15,
      timeout: 2,
      survived: 2,
      noCoverage: 1,
      other: 6,
      score: 85,
    });
    assert.equal(scoreFile("b.ts", report).score, undefined);
  });
});
