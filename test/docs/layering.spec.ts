// Runtime code (the program, local mode, the benchmarks, the commands) must not depend on test code:
// a production install or a reader of local/ should never need test/.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "../..");

/** Every import/require specifier in TypeScript source that resolves into test/. */
export function importsOfTestCode(file: string, source: string): string[] {
  const specifiers = [
    ...source.matchAll(/\bfrom\s+["']([^"']+)["']/g),
    ...source.matchAll(/\b(?:require|import)\(\s*["']([^"']+)["']\s*\)/g),
  ].map((m) => m[1]);
  return specifiers.filter((spec) => {
    if (!spec.startsWith(".")) return false;
    const target = path.relative(ROOT, path.resolve(ROOT, path.dirname(file), spec));
    return target === "test" || target.startsWith(`test${path.sep}`);
  });
}

describe("layering: code outside test/ never imports test code", () => {
  it("finds an import of test code when one is there (the check can fail)", () => {
    assert.deepEqual(
      importsOfTestCode("local/demo.ts", 'import { x } from "../test/support/markdown-links";'),
      ["../test/support/markdown-links"],
    );
    assert.deepEqual(importsOfTestCode("bench/x.ts", 'const y = require("../test/support/z");'), [
      "../test/support/z",
    ]);
    assert.deepEqual(importsOfTestCode("local/demo.ts", 'import { x } from "./emulators";'), []);
  });

  it("no TypeScript file outside test/ imports from test/", () => {
    const files = execFileSync("git", ["ls-files", "*.ts"], { cwd: ROOT, encoding: "utf8" })
      .split("\n")
      .filter((f) => f && !f.startsWith("test/"));
    const offenders = files.flatMap((f) =>
      importsOfTestCode(f, readFileSync(path.join(ROOT, f), "utf8")).map((spec) => `${f} imports ${spec}`),
    );
    assert.deepEqual(offenders, []);
  });
});
