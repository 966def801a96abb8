// Cold start, guarded without timing: a timed test on a shared machine fails for the neighbours.
// What made the init slow was loading the AWS SDK from node_modules; these check that each bundle
// carries everything it loads, and that it stays about the size it was measured at.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { coldStartCases } from "../../bench/cold-start";
import type { Downstream, HandlerName } from "../../messaging/contract";
import { HANDLER_BUNDLES, handlerBundle, handlerBundleMetafile } from "../../messaging/handlers/build";

/**
 * Bundles measured at 470–680 KiB (docs/benchmarks.md), then 625–810 KiB with Powertools Metrics and
 * Tracer (the X-Ray SDK is ~135 KiB of it; its init cost is in docs/operations.md#cold-start-cost).
 * The ceiling leaves room for ordinary growth; a new dependency that doubles a bundle (a second SDK
 * copy) should fail here and be measured with `npm run bench:payload -- --only cold` before it lands.
 */
const MAX_BUNDLE_BYTES = 900 * 1024;

const PROBE = `require(process.argv[1]);
process.stdout.write(JSON.stringify(Object.keys(require.cache)));`;

describe("handler bundles load on their own", function () {
  this.timeout(60_000);

  for (const c of coldStartCases()) {
    it(`${c.name}: loads from a directory without node_modules, requiring no package`, () => {
      // A copy outside the repository, so that nothing can resolve from its node_modules.
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bundle-"));
      try {
        const file = path.join(dir, "index.js");
        fs.copyFileSync(path.join(handlerBundle(c.handler, c.downstream), "index.js"), file);
        const loaded = JSON.parse(
          execFileSync(process.execPath, ["-e", PROBE, file], {
            env: {
              PATH: process.env.PATH ?? "",
              AWS_REGION: "us-east-1",
              AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
              ...c.env,
            },
            cwd: dir,
          }).toString(),
        ) as string[];
        assert.deepEqual(loaded, [file]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }

  for (const { handler, downstream } of HANDLER_BUNDLES) {
    const name = `${handler}${downstream ? ` (${downstream})` : ""}`;
    it(`${name}: the bundle is at most ${MAX_BUNDLE_BYTES / 1024} KiB`, () => {
      const bytes = fs.statSync(path.join(handlerBundle(handler, downstream), "index.js")).size;
      assert.ok(bytes <= MAX_BUNDLE_BYTES, `${name} bundle is ${(bytes / 1024).toFixed(1)} KiB`);
    });
  }
});

describe("handler bundles carry only what their path runs", function () {
  this.timeout(60_000);
  /** Each downstream's SDK client, by the package esbuild bundles it from. */
  const CLIENTS = { stepfunctions: "@aws-sdk/client-sfn", ecs: "@aws-sdk/client-ecs" } as const;
  const packages = (inputs: string[], pkg: string) => inputs.filter((file) => file.includes(`/${pkg}/`));
  /** The modules of which the bundle kept any code (esbuild reads more than tree shaking keeps). */
  const kept = (handler: HandlerName, downstream?: Downstream) =>
    Object.entries(Object.values(handlerBundleMetafile(handler, downstream).outputs)[0].inputs)
      .filter(([, input]) => input.bytesInOutput > 0)
      .map(([file]) => file);

  for (const { handler, downstream } of HANDLER_BUNDLES.filter((b) => b.downstream)) {
    it(`${handler} (${downstream}): only its downstream's client, and only the commands it sends`, () => {
      const inputs = kept(handler, downstream);
      for (const [kind, pkg] of Object.entries(CLIENTS)) {
        const files = packages(inputs, pkg);
        if (kind !== downstream) {
          assert.deepEqual(files, [], `${pkg} in the ${downstream} bundle`);
          continue;
        }
        // Imported by name, so esbuild keeps the one command: a require() of the client kept all of it.
        const commands = files
          .filter((file) => file.includes("/commands/"))
          .map((file) => path.basename(file));
        assert.deepEqual(commands, [kind === "ecs" ? "RunTaskCommand.js" : "StartExecutionCommand.js"]);
      }
    });
  }

  it("a subscriber bundle refuses another DOWNSTREAM at load, naming both", () => {
    const file = path.join(handlerBundle("consume-queue", "stepfunctions"), "index.js");
    const env = {
      PATH: process.env.PATH ?? "",
      AWS_REGION: "us-east-1",
      ...coldStartCases().find((c) => c.handler === "consume-queue" && c.downstream === "ecs")!.env,
    };
    assert.throws(
      () => execFileSync(process.execPath, [file], { env, stdio: "pipe" }),
      (error: { stderr: Buffer }) =>
        /DOWNSTREAM is "ecs", but this bundle was built for the "stepfunctions" downstream/.test(
          error.stderr.toString(),
        ),
    );
  });

  it("semver is left out, and in every bundle only the X-Ray SDK's v2 patcher imports it", () => {
    // messaging/handlers/xray-semver.ts stands in for it: a package that used semver for real would
    // get that stand-in, so each importer must be one that never calls it in a handler.
    for (const { handler, downstream } of HANDLER_BUNDLES) {
      assert.deepEqual(packages(kept(handler, downstream), "semver"), [], `${handler} ${downstream ?? ""}`);
      const importers = Object.entries(handlerBundleMetafile(handler, downstream).inputs)
        .filter(([, input]) => input.imports.some((i) => i.original === "semver"))
        .map(([file]) => file.slice(file.lastIndexOf("node_modules/") + "node_modules/".length));
      assert.deepEqual(
        importers,
        ["aws-xray-sdk-core/dist/lib/patchers/aws_p.js"],
        `${handler} ${downstream ?? ""}`,
      );
    }
  });
});
