// The payload library's documented defaults are the ones the code applies: each optional option of
// the public option interfaces carries a TSDoc `@default`, read here with the TypeScript compiler
// API, and a value default must equal the exported constant the code falls back to.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";
import * as payload from "../../messaging/payload";

const DIR = path.resolve(__dirname, "../../messaging/payload");

/** Each interface, its file, and the runtime defaults of its own options. */
const INTERFACES: { name: string; file: string; defaults: Record<string, unknown> }[] = [
  { name: "StoreOptions", file: "store.ts", defaults: payload.STORE_DEFAULTS },
  { name: "PayloadLocationRules", file: "store.ts", defaults: {} },
  { name: "OpenOptions", file: "store.ts", defaults: {} },
  { name: "WriterOptions", file: "writer.ts", defaults: payload.WRITER_DEFAULTS },
  { name: "BatchOptions", file: "batch.ts", defaults: payload.BATCH_DEFAULTS },
  {
    name: "ReaderOptions",
    file: "reader.ts",
    defaults: { originTagWaitMs: payload.DEFAULT_ORIGIN_TAG_WAIT_MS },
  },
];

/** Optional properties of `name` in `file` with their `@default` text (undefined when missing). */
function documentedDefaults(file: string, name: string): Map<string, string | undefined> {
  const text = fs.readFileSync(path.join(DIR, file), "utf8");
  // Parent pointers set: the JSDoc of a node is found through them.
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const out = new Map<string, string | undefined>();
  const visit = (node: ts.Node) => {
    if (ts.isInterfaceDeclaration(node) && node.name.text === name) {
      for (const member of node.members) {
        if (!ts.isPropertySignature(member) || !member.questionToken) continue;
        const tag = ts.getJSDocTags(member).find((t) => t.tagName.text === "default");
        const comment = tag === undefined ? undefined : ts.getTextOfJSDocComment(tag.comment)?.trim();
        out.set((member.name as ts.Identifier).text, tag === undefined ? undefined : (comment ?? ""));
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  assert.ok(out.size > 0, `${file}: no optional properties found in ${name}`);
  return out;
}

/**
 * The value a `@default` states: `{@link NAME}` (an export of the library), a literal (number with
 * `_` separators and `*`, string, boolean), or prose (`none (…)`: no value default), as undefined.
 */
function valueOf(text: string): { value: unknown } | undefined {
  const link = /^\{@link (\w+)\}$/.exec(text);
  if (link) {
    assert.ok(link[1] in payload, `@default {@link ${link[1]}} is not an export of the payload library`);
    return { value: (payload as Record<string, unknown>)[link[1]] };
  }
  if (/^\d[\d_]*( \* \d[\d_]*)*$/.test(text)) {
    return { value: text.split(" * ").reduce((p, n) => p * Number(n.replace(/_/g, "")), 1) };
  }
  if (/^"[^"]*"$/.test(text)) return { value: JSON.parse(text) };
  if (text === "true" || text === "false") return { value: text === "true" };
  return undefined;
}

describe("payload library option defaults", () => {
  for (const { name, file, defaults } of INTERFACES) {
    it(`${name}: every optional option documents its @default, equal to the one the code applies`, () => {
      const problems: string[] = [];
      const documented = documentedDefaults(file, name);
      for (const [option, text] of documented) {
        if (text === undefined || text === "") {
          problems.push(`${option}: no @default`);
          continue;
        }
        const stated = valueOf(text);
        if (option in defaults) {
          if (!stated)
            problems.push(`${option}: @default ${text} states no value, the code uses ${defaults[option]}`);
          else if (stated.value !== defaults[option])
            problems.push(
              `${option}: @default ${text} is ${stated.value}, the code uses ${defaults[option]}`,
            );
        } else if (stated) {
          problems.push(`${option}: @default ${text} has no runtime default constant to check it against`);
        }
      }
      for (const option of Object.keys(defaults)) {
        if (!documented.has(option))
          problems.push(`${option}: a runtime default for an option ${name} lacks`);
      }
      assert.deepEqual(problems, []);
    });
  }

  it("the check fails on a wrong default (the reader works on real doc comments)", () => {
    assert.deepEqual(valueOf("8 * 1024 * 1024"), { value: 8 * 1024 * 1024 });
    assert.deepEqual(valueOf("{@link DEFAULT_THRESHOLD}"), { value: 262_144 });
    assert.equal(valueOf("none (no deadline)"), undefined);
    assert.notEqual(valueOf("5")?.value, payload.STORE_DEFAULTS.queueSize);
  });
});
