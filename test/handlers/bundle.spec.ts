// Cold start, guarded without timing: a timed test on a shared machine fails for the neighbours.
// What made the init slow was loading the AWS SDK from node_modules; these check that each bundle
// carries everything it loads, and that it stays about the size it was measured at.
import * as assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { coldStartCases } from "../../bench/cold-start";
import { handlerBundle } from "../../messaging/handlers/build";

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
        fs.copyFileSync(path.join(handlerBundle(c.handler), "index.js"), file);
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

  for (const name of ["publish", "consume-queue", "consume-topic"] as const) {
    it(`${name}: the bundle is at most ${MAX_BUNDLE_BYTES / 1024} KiB`, () => {
      const bytes = fs.statSync(path.join(handlerBundle(name), "index.js")).size;
      assert.ok(bytes <= MAX_BUNDLE_BYTES, `${name} bundle is ${(bytes / 1024).toFixed(1)} KiB`);
    });
  }
});
