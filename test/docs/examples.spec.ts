// Examples in the docs cannot go stale: every ```ts block is a region of a file in docs/examples/
// (which `tsc` type-checks against the real library), the payload examples run end to end against
// the local emulators, and every ```yaml block passes the program's own config validation.
import * as assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse as parseYaml } from "yaml";
import { checkStackSettings } from "../../common/stack";
import { validateFilterPolicy } from "../../messaging/filter-policy";
import { loadOperations } from "../../messaging/operations";
import { parseTopology } from "../../messaging/topology";
import { parseResearchSettings } from "../../research/config";
import { listStacks, loadStackConfig } from "../../local/stack-config";
import { S3Client } from "@aws-sdk/client-s3";
import { CreateTopicCommand, SNSClient } from "@aws-sdk/client-sns";
import { SQSClient } from "@aws-sdk/client-sqs";
import { randomBytes } from "node:crypto";
import { emulatorClientConfig, startFauxqs, startS3rver } from "../../local/emulators";
import { subscribeNewQueue } from "../../local/topics";
import { publishSample } from "../../docs/examples/publishing";
import { receiveSamples } from "../../docs/examples/resolving";

const ROOT = path.resolve(__dirname, "../..");
const EXAMPLES = path.join(ROOT, "docs", "examples");

interface Block {
  at: string;
  lang: string;
  text: string;
}

/** The fenced code blocks of the README and docs/*.md. */
function codeBlocks(): Block[] {
  const files = [
    "README.md",
    ...fs
      .readdirSync(path.join(ROOT, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => `docs/${f}`),
  ];
  const blocks: Block[] = [];
  for (const file of files) {
    const lines = fs.readFileSync(path.join(ROOT, file), "utf8").split("\n");
    for (let i = 0; i < lines.length; i++) {
      const open = /^```(\w*)\s*$/.exec(lines[i]);
      if (!open) continue;
      const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
      assert.ok(end > i, `${file}:${i + 1}: unclosed code block`);
      blocks.push({ at: `${file}:${i + 1}`, lang: open[1], text: lines.slice(i + 1, end).join("\n") });
      i = end;
    }
  }
  return blocks;
}

/**
 * `// #region name` … `// #endregion` of every file in docs/examples/, as the docs show them:
 * imports written from the repository root (`./messaging/payload`, not `../../messaging/payload`).
 */
function regions(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of fs.readdirSync(EXAMPLES).filter((f) => f.endsWith(".ts"))) {
    const text = fs.readFileSync(path.join(EXAMPLES, file), "utf8");
    for (const m of text.matchAll(/^\/\/ #region (\S+)\n([\s\S]*?)^\/\/ #endregion$/gm)) {
      out.set(`${file}#${m[1]}`, m[2].replace(/\n$/, "").replace(/from "\.\.\/\.\.\//g, 'from "./'));
    }
  }
  return out;
}

/** A ConfigSource over flat Pulumi config (`fieldnotes:key` → string), as the program reads it. */
function source(flat: Record<string, string>) {
  return { name: "fieldnotes", get: (key: string) => flat[`fieldnotes:${key}`] };
}

/** The flat config a stack file's YAML gives the program, read the way local mode reads stack files. */
function stackConfig(yaml: string): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "doc-stack-"));
  try {
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(dir, "Pulumi.yaml"));
    fs.writeFileSync(path.join(dir, "Pulumi.example.yaml"), yaml);
    const { config } = loadStackConfig("example", dir);
    // Only the keys the example sets: Pulumi.yaml's project-level values are not what it shows.
    const own = Object.keys((parseYaml(yaml) as { config: Record<string, unknown> }).config).map((k) =>
      k.includes(":") ? k : `fieldnotes:${k}`,
    );
    return Object.fromEntries(own.map((k) => [k, config[k]]));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * A fragment of stack config (`fieldnotes:research: {network: …}`): each structured key is laid
 * over the value a stack file of the repository gives it, so the fragment is checked in a full config.
 */
function partial(doc: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(doc)) {
    const base = listStacks()
      .map((stack) => loadStackConfig(stack).config[key])
      .find((v) => v !== undefined);
    const merged =
      base !== undefined && typeof value === "object" && value !== null && !Array.isArray(value)
        ? { ...(JSON.parse(base) as Record<string, unknown>), ...value }
        : value;
    out[key] = typeof merged === "string" ? merged : JSON.stringify(merged);
  }
  return out;
}

/** Runs the program's validation of each key a stack-file example sets; unknown kinds fail. */
function validateStackExample(flat: Record<string, string>): void {
  const config = source(flat);
  const keys = Object.keys(flat);
  const operations = ["fieldnotes:alarms", "fieldnotes:dashboard", "fieldnotes:tracing"];
  const checked = new Set<string>();
  if (keys.some((k) => operations.includes(k))) {
    loadOperations(config);
    operations.forEach((k) => checked.add(k));
  }
  if (flat["fieldnotes:topology"] !== undefined) {
    parseTopology(JSON.parse(flat["fieldnotes:topology"]));
    checked.add("fieldnotes:topology");
  }
  if (flat["fieldnotes:research"] !== undefined) {
    parseResearchSettings(JSON.parse(flat["fieldnotes:research"]));
    checked.add("fieldnotes:research");
  }
  const stackKeys = ["fieldnotes:parts", "fieldnotes:deployRoles", "fieldnotes:sandboxAccount"];
  if (keys.some((k) => stackKeys.includes(k))) {
    const { problems } = checkStackSettings(config, keys);
    assert.deepEqual(problems, []);
    stackKeys.forEach((k) => checked.add(k));
  }
  const unchecked = keys.filter((k) => !checked.has(k));
  assert.deepEqual(unchecked, [], "keys this spec does not know how to check: teach it");
}

describe("docs examples", () => {
  const blocks = codeBlocks();

  it("every TypeScript block is a region of docs/examples/, which tsc compiles", () => {
    const known = regions();
    const shown = new Set<string>();
    const stale: string[] = [];
    for (const b of blocks.filter((b) => ["ts", "typescript"].includes(b.lang))) {
      const match = [...known].find(([, text]) => text === b.text);
      if (match) shown.add(match[0]);
      else stale.push(`${b.at}: not a region of docs/examples/*.ts`);
    }
    assert.deepEqual(stale, []);
    assert.deepEqual(
      [...known.keys()].filter((k) => !shown.has(k)),
      [],
      "regions no doc shows",
    );
  });

  it("every YAML block passes the program's config validation", () => {
    const yamlBlocks = blocks.filter((b) => ["yaml", "yml"].includes(b.lang));
    assert.ok(yamlBlocks.length > 0);
    for (const b of yamlBlocks) {
      const doc = parseYaml(b.text) as Record<string, unknown>;
      try {
        if (doc.config !== undefined) validateStackExample(stackConfig(b.text));
        else if (Object.keys(doc).every((k) => k.startsWith("fieldnotes:")))
          validateStackExample(partial(doc));
        else if (doc.filterPolicy !== undefined) validateFilterPolicy(doc.filterPolicy);
        else assert.fail("a YAML example this spec does not know how to check: teach it");
      } catch (error) {
        assert.fail(`${b.at}: ${(error as Error).message}`);
      }
    }
  });

  it("a wrong example fails: a misspelt key in a stack-file example is refused", () => {
    assert.throws(
      () =>
        validateStackExample(
          stackConfig("config:\n  fieldnotes:alarms:\n    oldestMessageAgeSecond: 1800\n"),
        ),
      /did you mean oldestMessageAgeSeconds/,
    );
  });

  it("the payload examples run: publishSample offloads a file that receiveSamples writes back, byte for byte", async function () {
    this.timeout(60_000);
    const bucket = "payloads-111111111111-us-east-1";
    const [fauxqs, s3rver] = await Promise.all([startFauxqs(), startS3rver({ buckets: [bucket] })]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "doc-run-"));
    const cwd = process.cwd();
    const log = console.log;
    try {
      const s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
      const sns = new SNSClient(emulatorClientConfig(fauxqs.endpoint));
      const sqs = new SQSClient(emulatorClientConfig(fauxqs.endpoint));
      const topicArn = (await sns.send(new CreateTopicCommand({ Name: "payloads" }))).TopicArn!;
      const queue = await subscribeNewQueue(sns, sqs, topicArn, "payloads");
      // Over SNS's 256 KiB: the example's path through S3, not the inline one.
      const sample = randomBytes(300 * 1024);
      process.chdir(dir); // the examples read sample.h5 and write <messageId>.bin where they run
      fs.writeFileSync("sample.h5", sample);
      console.log = () => undefined;
      const sent = await publishSample(s3, sns, topicArn, bucket);
      await receiveSamples(s3, sqs, queue.url, bucket);
      console.log = log;
      assert.equal(sent.offloaded, true);
      const written = fs.readdirSync(dir).filter((f) => f.endsWith(".bin"));
      assert.equal(written.length, 1, `one payload written back: ${written.join(", ")}`);
      assert.ok(fs.readFileSync(written[0]).equals(sample), "the bytes published are the bytes written");
    } finally {
      console.log = log;
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
      await Promise.all([fauxqs.stop(), s3rver.stop()]);
    }
  });
});
