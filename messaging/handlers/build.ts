// Bundles a handler for Lambda (and for the local runner, which loads the same file).
import * as fs from "node:fs";
import * as path from "node:path";
import { buildSync, type BuildOptions, type Metafile } from "esbuild";
import { DOWNSTREAMS, type Downstream, type HandlerName } from "../contract";

const HANDLERS: readonly HandlerName[] = ["publish", "consume-queue", "consume-topic"];
/** The handlers that start a downstream: one bundle of each per downstream kind. */
export type SubscriberHandler = Exclude<HandlerName, "publish">;

/** Every bundle the program can deploy: the publisher's, and each subscriber's per downstream. */
export const HANDLER_BUNDLES: ReadonlyArray<{ handler: HandlerName; downstream?: Downstream }> = [
  { handler: "publish" },
  ...(["consume-queue", "consume-topic"] as const).flatMap((handler) =>
    DOWNSTREAMS.map((downstream) => ({ handler, downstream })),
  ),
];
/** Each bundle built by this process: its directory, and what esbuild put in it. */
const built = new Map<string, Metafile>();

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

/**
 * The esbuild options of a handler bundle (the benchmark builds variants of them). A subscriber's
 * bundle carries the client of `downstream` only: downstream.ts reads BUNDLED_DOWNSTREAM.
 */
export function handlerBuildOptions(
  name: HandlerName,
  outfile: string,
  downstream?: Downstream,
): BuildOptions {
  checkBundle(name, downstream);
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
    alias: {
      // The SDK's default credential chain, narrowed to the links a Lambda function reaches.
      "@aws-sdk/credential-provider-node": path.join(repoRoot(), "messaging", "handlers", "credentials.ts"),
      // Required at load by the X-Ray SDK for a call the handlers never make (see the file).
      semver: path.join(repoRoot(), "messaging", "handlers", "xray-semver.ts"),
    },
    ...(downstream ? { define: { BUNDLED_DOWNSTREAM: JSON.stringify(downstream) } } : {}),
    logLevel: "silent",
    outfile,
  };
}

function checkBundle(name: HandlerName, downstream: Downstream | undefined): void {
  if (!HANDLERS.includes(name)) {
    throw new Error(`handler name must be one of ${HANDLERS.join(", ")}, got ${JSON.stringify(name)}`);
  }
  if (name === "publish" ? downstream !== undefined : !DOWNSTREAMS.includes(downstream as Downstream)) {
    throw new Error(
      name === "publish"
        ? `the publish handler starts no downstream, got downstream ${JSON.stringify(downstream)}`
        : `the ${name} handler is bundled per downstream: downstream must be one of ${DOWNSTREAMS.join(", ")}, got ${JSON.stringify(downstream)}`,
    );
  }
}

/**
 * Builds `messaging/handlers/<name>.ts` into `.build/handlers/publish/index.js` for the publisher and
 * `.build/handlers/<downstream>/<name>/index.js` for a subscriber, and returns that directory
 * (handler string `index.handler`; the directory's name is the handler's, which local mode reads).
 * Synchronous so a Pulumi program can call it while declaring resources; memoised per process.
 *
 * A subscriber bundle carries only the SDK client of the downstream it was built for, and refuses to
 * load with any other DOWNSTREAM: a client it does not use would be compiled at every cold start.
 *
 * Everything is bundled, the AWS SDK clients too, from their ES module builds so that esbuild keeps
 * only the commands and schemas the handler uses. Loading the runtime's SDK from node_modules means
 * resolving and compiling dozens of packages whole at every cold start, and took a handler's init
 * past the 100 ms target (docs/benchmarks.md); one minified file of the parts in use loads in about half that. It also
 * pins the SDK to the version the tests ran against instead of whatever the runtime ships.
 */
export function handlerBundle(name: "publish"): string;
export function handlerBundle(name: SubscriberHandler, downstream: Downstream): string;
export function handlerBundle(name: HandlerName, downstream?: Downstream): string;
export function handlerBundle(name: HandlerName, downstream?: Downstream): string {
  checkBundle(name, downstream);
  const outdir = path.join(repoRoot(), ".build", "handlers", ...(downstream ? [downstream] : []), name);
  if (built.has(outdir)) return outdir;
  const result = buildSync({
    ...handlerBuildOptions(name, path.join(outdir, "index.js"), downstream),
    write: false,
    metafile: true,
  });
  fs.mkdirSync(outdir, { recursive: true });
  for (const file of result.outputFiles) {
    // Write then rename: other processes (tests, the local runner) may be loading the same file.
    const tmp = `${file.path}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, file.contents);
    fs.renameSync(tmp, file.path);
  }
  built.set(outdir, result.metafile);
  return outdir;
}

/**
 * What esbuild reports of a bundle (built if need be): `inputs`, every module it read and what each
 * imports; `outputs[…].inputs`, the bytes each kept after tree shaking.
 */
export function handlerBundleMetafile(name: HandlerName, downstream?: Downstream): Metafile {
  return built.get(handlerBundle(name, downstream))!;
}
