import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

// The walkthrough's notebook, updated: valid nbformat 4, the SDK pinned below v3, and every value
// that names the deployment read from the stack outputs.

const NOTEBOOK = path.join(
  __dirname,
  "..",
  "..",
  "research",
  "notebooks",
  "sagemaker_pegasus_processing.ipynb",
);

describe("research notebook", () => {
  const nb = JSON.parse(fs.readFileSync(NOTEBOOK, "utf8"));
  const source = (cell: { source: string[] | string }) =>
    Array.isArray(cell.source) ? cell.source.join("") : cell.source;
  const code = nb.cells
    .filter((c: { cell_type: string }) => c.cell_type === "code")
    .map(source)
    .join("\n");

  it("is nbformat 4 with cells that have sources", () => {
    assert.equal(nb.nbformat, 4);
    assert.ok(nb.cells.length > 3);
    for (const cell of nb.cells) {
      assert.ok(["code", "markdown"].includes(cell.cell_type));
      assert.equal(typeof source(cell), "string");
      if (cell.cell_type === "code") assert.deepEqual(cell.outputs, []);
    }
  });

  it('pins "sagemaker>=2,<3" in its first cell (v3 removed ScriptProcessor)', () => {
    assert.equal(nb.cells[0].cell_type, "code");
    assert.equal(source(nb.cells[0]).trim(), '%pip install "sagemaker>=2,<3"');
    assert.match(code, /from sagemaker\.processing import .*ScriptProcessor/);
  });

  it("takes the image URI, role and bucket from the stack outputs", () => {
    for (const output of ["imageUri", "executionRoleArn", "bucket", "region"])
      assert.ok(code.includes(`"${output}"`), output);
    assert.match(code, /pulumi stack output --json --stack research/);
    assert.doesNotMatch(
      code,
      /get_execution_role|default_bucket\(\)|\d{12}\.dkr\.ecr/,
      "nothing looked up or typed by hand",
    );
  });

  it("runs the QC script with explicit thresholds and the documented input/output paths", () => {
    assert.match(code, /code="qc_metrics\.py"/);
    // The organism's choice is one named variable the researcher sets (mt- mouse, MT- human).
    assert.match(code, /^mito_prefix = "mt-"$/m);
    assert.match(code, /"--mito-prefix", mito_prefix, "--percent-mito", "10"/);
    // An explicit job name: SDK v2 would derive one from the digest-pinned image URI ("@sha256").
    assert.match(code, /base_job_name="pegasus-qc"/);
    assert.match(code, /destination="\/opt\/ml\/processing\/input\/data"/);
    assert.match(code, /source="\/opt\/ml\/processing\/output"/);
  });
});
