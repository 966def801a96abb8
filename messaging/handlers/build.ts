// Bundles a handler for Lambda (and for the local runner, which loads the same file).
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSync, type BuildOptions } from "esbuild";
import type { HandlerName } from "../contract";

const HANDLERS: readonly HandlerName[] = ["publish", "consume-queue", "consume-topic"];
const built = new Map<HandlerName, string>();

function repoRoot(): string {
  // From source (ts-node) or from a compiled copy: the root is where the handler sources are.
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (
      fs.existsSync(path.join(dir, "package.json")) &&
      fs.existsSync(path.join(dir, "messaging", "handlers", "publish.ts"))
    ) {
      return dir;
    }
    if (path.dirname(dir) === dir)
      throw new Error(`cannot find messaging/handlers sources above ${__dirname}`);
  }
}

/** The esbuild options of a handler bundle (the benchmark builds variants of them). */
export function handlerBuildOptions(name: HandlerName, outfile: string): BuildOptions {
  return {
    entryPoints: [path.join(repoRoot(), "messaging", "handlers", `${name}.ts`)],
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    minify: true,
    // ES modules first: their named exports are what lets esbuild drop unused commands.
    mainFields: ["module", "main"],
    legalComments: "none",
    // The SDK's default credential chain, narrowed to the links a Lambda function reaches.
    alias: {
      "@aws-sdk/credential-provider-node": path.join(repoRoot(), "messaging", "handlers", "credentials.ts"),
    },
    logLevel: "silent",
    outfile,
  };
}

/**
 * Builds `messaging/handlers/<name>.ts` into `.build/handlers/<name>/index.js` and returns that
 * directory (handler string `index.handler`). Synchronous so a Pulumi program can call it while
 * declaring resources; memoised per process.
 *
 * Everything is bundled, the AWS SDK clients too, from their ES module builds so that esbuild keeps
 * only the commands and schemas the handler uses. Loading the runtime's SDK from node_modules means
 * resolving and compiling dozens of packages whole at every cold start, and took a handler's init
 * past the 100 ms target (docs/benchmarks.md); one minified file of the parts in use loads in about half that. It also
 * pins the SDK to the version the tests ran against instead of whatever the runtime ships.
 */
export function handlerBundle(name: HandlerName): string {
  if (!HANDLERS.includes(name)) {
    throw new Error(`handler name must be one of ${HANDLERS.join(", ")}, got ${JSON.stringify(name)}`);
  }
  const cached = built.get(name);
  if (cached) return cached;
  const outdir = path.join(repoRoot(), ".build", "handlers", name);
  const result = buildSync({ ...handlerBuildOptions(name, path.join(outdir, "index.js")), write: false });
  fs.mkdirSync(outdir, { recursive: true });
  for (const file of result.outputFiles) {
    // Write then rename: other processes (tests, the local runner) may be loading the same file.
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
  }
  built.set(name, outdir);
  return outdir;
}
