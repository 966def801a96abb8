import * as assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { checkMarkdownLinks, headingAnchors, markdownFiles } from "../support/markdown-links";

const ROOT = path.resolve(__dirname, "../..");

describe("Markdown links", () => {
  it("every relative link of every Markdown file in the repository resolves, with its #anchor", () => {
    const files = markdownFiles(ROOT);
    assert.ok(files.includes("README.md") && files.includes("docs/configuration.md"), files.join(", "));
    const problems = checkMarkdownLinks(ROOT, files);
    assert.deepEqual(
      problems.map((p) => `${p.file}:${p.line}: (${p.link}) ${p.problem}`),
      [],
    );
  });

  it("the README stays a front page of about 300 lines", () => {
    const lines = readFileSync(path.join(ROOT, "README.md"), "utf8").split("\n").length;
    assert.ok(lines <= 300, `README.md has ${lines} lines`);
  });

  describe("the checker itself", () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(path.join(tmpdir(), "md-links-"));
      mkdirSync(path.join(dir, "docs"));
      writeFileSync(
        path.join(dir, "docs", "page.md"),
        "# A page\n\n## Set `x` up (twice)\n\n## Set `x` up (twice)\n",
      );
      writeFileSync(
        path.join(dir, "README.md"),
        [
          "[ok](docs/page.md) [ok anchor](docs/page.md#set-x-up-twice) [ok repeat](docs/page.md#set-x-up-twice-1)",
          "[own](#title) [site](https://example.com/x.md) `[in code](missing.md)`",
          "```",
          "[in a fence](missing.md)",
          "```",
          "[missing](docs/nope.md) [bad anchor](docs/page.md#nope) [outside](../elsewhere/DESIGN.md)",
          "[absolute](/etc/passwd)",
          "[ref]: docs/gone.md",
          "# Title",
        ].join("\n"),
      );
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it("reports a missing file, a missing anchor, a link out of the repository, an absolute path", () => {
      const problems = checkMarkdownLinks(dir, ["README.md", "docs/page.md"]);
      assert.deepEqual(
        problems.map((p) => `${p.line} ${p.link}: ${p.problem}`),
        [
          "6 docs/nope.md: names docs/nope.md, which does not exist",
          "6 docs/page.md#nope: has no heading #nope in docs/page.md",
          "6 ../elsewhere/DESIGN.md: points outside the repository",
          "7 /etc/passwd: is an absolute path; link relative to this file",
          "8 docs/gone.md: names docs/gone.md, which does not exist",
        ],
      );
    });

    it("derives anchors as GitHub does: punctuation dropped, repeats numbered", () => {
      assert.deepEqual(
        [...headingAnchors("# Config (`Pulumi.yaml`): `fieldnotes:topology`\n## A b\n## A b\n")],
        ["config-pulumiyaml-fieldnotestopology", "a-b", "a-b-1"],
      );
    });
  });
});
