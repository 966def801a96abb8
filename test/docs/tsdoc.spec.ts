// Defaults and examples live in the code's TSDoc, not only in the docs: every optional option of a
// component's Args interface states its `@default`, a literal `@default` equals the fallback the
// code applies, every public function of common/ and of the payload library shows an `@example`,
// and so does every component class (a pulumi.ComponentResource) of messaging/ and research/, the
// classes a user instantiates. Read with the TypeScript compiler API. (The payload option
// interfaces have their own, stricter check against the exported defaults:
// test/payload/option-defaults.spec.ts.)
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import * as ts from "typescript";

const ROOT = path.resolve(__dirname, "../..");

const read = (file: string) =>
  ts.createSourceFile(file, fs.readFileSync(path.join(ROOT, file), "utf8"), ts.ScriptTarget.Latest, true);
const tsFiles = (dir: string) =>
  fs
    .readdirSync(path.join(ROOT, dir))
    .filter((f) => f.endsWith(".ts"))
    .map((f) => `${dir}/${f}`);
const tag = (node: ts.Node, name: string) => ts.getJSDocTags(node).find((t) => t.tagName.text === name);
const tagText = (t: ts.JSDocTag) => (ts.getTextOfJSDocComment(t.comment) ?? "").trim();
const isExported = (node: ts.Node) =>
  ts.canHaveModifiers(node) &&
  (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);

/**
 * The fallbacks `source` applies to a property `name`: `x.name ?? FALLBACK` and `{ name = FALLBACK }`,
 * as source text.
 */
function fallbacks(source: ts.SourceFile, name: string): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (
      ts.isBinaryExpression(node) &&
      node.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken &&
      ts.isPropertyAccessExpression(node.left) &&
      node.left.name.text === name
    )
      out.push(node.right.getText(source));
    if (
      ts.isBindingElement(node) &&
      node.initializer &&
      ((node.propertyName && ts.isIdentifier(node.propertyName) && node.propertyName.text === name) ||
        (!node.propertyName && ts.isIdentifier(node.name) && node.name.text === name))
    )
      out.push(node.initializer.getText(source));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** A `@default` that states a value in code (`300`, `"x"`, `true`, `[]`), as opposed to prose (`none (…)`). */
const LITERAL = /^(-?\d[\d_]*(\.\d+)?|"[^"]*"|true|false|\[\])$/;

/** Problems of the optional options of every exported `…Args` interface in `source`. */
export function argsDefaultProblems(source: ts.SourceFile): string[] {
  const problems: string[] = [];
  source.forEachChild((node) => {
    if (!ts.isInterfaceDeclaration(node) || !isExported(node) || !/Args$/.test(node.name.text)) return;
    for (const member of node.members) {
      if (!ts.isPropertySignature(member) || !member.questionToken) continue;
      const option = `${source.fileName} ${node.name.text}.${member.name.getText(source)}`;
      const stated = tag(member, "default");
      if (!stated || tagText(stated) === "") {
        problems.push(`${option}: no @default`);
        continue;
      }
      const text = tagText(stated);
      if (!LITERAL.test(text)) continue;
      const applied = fallbacks(source, member.name.getText(source));
      // An absent boolean reads as false: `@default false` needs no fallback, only none that differs.
      if (applied.length === 0 && text !== "false")
        problems.push(`${option}: @default ${text}, but the code applies no fallback to compare it with`);
      for (const code of applied.filter((c) => c.replace(/_/g, "") !== text.replace(/_/g, "")))
        problems.push(`${option}: @default ${text}, but the code falls back to ${code}`);
    }
  });
  return problems;
}

/** Exported functions (declarations and `export const f = (…) =>`) of `source` without `@example`. */
export function missingExamples(source: ts.SourceFile, only?: ReadonlySet<string>): string[] {
  const missing: string[] = [];
  const check = (name: string, doc: ts.Node) => {
    if (only && !only.has(name)) return;
    const example = tag(doc, "example");
    if (!example || tagText(example) === "") missing.push(`${source.fileName} ${name}(): no @example`);
  };
  source.forEachChild((node) => {
    if (!isExported(node)) return;
    if (ts.isFunctionDeclaration(node) && node.name && node.body) check(node.name.text, node);
    if (ts.isVariableStatement(node)) {
      for (const d of node.declarationList.declarations) {
        if (d.initializer && ts.isArrowFunction(d.initializer) && ts.isIdentifier(d.name))
          check(d.name.text, node);
      }
    }
  });
  return missing;
}

/** Exported classes of `source` that extend (pulumi.)ComponentResource without `@example`. */
export function missingComponentExamples(source: ts.SourceFile): string[] {
  const missing: string[] = [];
  source.forEachChild((node) => {
    if (!ts.isClassDeclaration(node) || !node.name || !isExported(node)) return;
    const base = node.heritageClauses
      ?.find((h) => h.token === ts.SyntaxKind.ExtendsKeyword)
      ?.types[0]?.expression.getText(source);
    if (base !== "pulumi.ComponentResource" && base !== "ComponentResource") return;
    const example = tag(node, "example");
    if (!example || tagText(example) === "")
      missing.push(`${source.fileName} ${node.name.text}: no @example`);
  });
  return missing;
}

/** The names messaging/payload/index.ts exports: the payload library's public API. */
function payloadExports(): Set<string> {
  const index = read("messaging/payload/index.ts");
  const names = new Set<string>();
  index.forEachChild((node) => {
    if (ts.isExportDeclaration(node) && node.exportClause && ts.isNamedExports(node.exportClause)) {
      for (const e of node.exportClause.elements) names.add(e.name.text);
    }
  });
  return names;
}

describe("TSDoc: defaults and examples in the code", () => {
  it("every optional option of a component's Args states its @default, and a value agrees with the code", () => {
    const problems = [...tsFiles("messaging"), ...tsFiles("research")].flatMap((f) =>
      argsDefaultProblems(read(f)),
    );
    assert.deepEqual(problems, []);
  });

  it("every exported function of common/ has an @example", () => {
    assert.deepEqual(
      tsFiles("common").flatMap((f) => missingExamples(read(f))),
      [],
    );
  });

  it("every public function of the payload library has an @example", () => {
    const api = payloadExports();
    const files = tsFiles("messaging/payload").filter((f) => !f.endsWith("index.ts"));
    assert.deepEqual(
      files.flatMap((f) => missingExamples(read(f), api)),
      [],
    );
  });

  it("every component class of messaging/ and research/ has an @example", () => {
    const files = [...tsFiles("messaging"), ...tsFiles("research")];
    // Guard against a check that silently finds nothing: the components are there to be checked.
    const components = files.flatMap((f) =>
      missingComponentExamples(
        ts.createSourceFile(
          f,
          fs.readFileSync(path.join(ROOT, f), "utf8").replace(/@example/g, "@x"),
          ts.ScriptTarget.Latest,
          true,
        ),
      ),
    );
    assert.ok(components.length >= 16, `only ${components.length} component classes found`);
    assert.deepEqual(
      files.flatMap((f) => missingComponentExamples(read(f))),
      [],
    );
  });

  it("the checks fail on a missing tag and on a default the code contradicts", () => {
    const source = ts.createSourceFile(
      "x.ts",
      [
        "export interface WidgetArgs {",
        "  /** @default 5 */ size?: number;",
        "  /** @default none (no label) */ label?: string;",
        "  /** @default 7 */ count?: number;",
        "  /** @default false */ loud?: boolean;",
        "  colour?: string;",
        "}",
        "export function widget(a: WidgetArgs) { const { count = 7 } = a; return [a.size ?? 4, count]; }",
        "/** @example twice(2) // 4 */",
        "export function twice(n: number) { return 2 * n; }",
        "export const thrice = (n: number) => 3 * n;",
      ].join("\n"),
      ts.ScriptTarget.Latest,
      true,
    );
    assert.deepEqual(argsDefaultProblems(source), [
      "x.ts WidgetArgs.size: @default 5, but the code falls back to 4",
      "x.ts WidgetArgs.colour: no @default",
    ]);
    assert.deepEqual(missingExamples(source), ["x.ts widget(): no @example", "x.ts thrice(): no @example"]);
    const components = ts.createSourceFile(
      "c.ts",
      [
        "/**",
        " * Has one.",
        ' * @example new Shown("a", {});',
        " */",
        "export class Shown extends pulumi.ComponentResource {}",
        "export class Bare extends pulumi.ComponentResource {}",
        "export class Imported extends ComponentResource {}",
        "/** @example */",
        "export class Empty extends pulumi.ComponentResource {}",
        "export class NotAComponent extends Error {}",
        "class Private extends pulumi.ComponentResource {}",
      ].join("\n"),
      ts.ScriptTarget.Latest,
      true,
    );
    assert.deepEqual(missingComponentExamples(components), [
      "c.ts Bare: no @example",
      "c.ts Imported: no @example",
      "c.ts Empty: no @example",
    ]);
  });
});
