// planStack: run the real program (index.ts) under Pulumi's mock engine with a stack's config and
// return everything it registered. Each call runs in its own child process, because the Pulumi
// runtime is a per-process singleton: one test process can then plan many stacks, and a program
// that throws cannot poison the next plan.
import { spawn } from "child_process";
import * as path from "path";
import type { MockCloudOptions } from "./mock-cloud";
import { applyOverrides, loadStackConfig, projectRoot } from "./stack-config";

export interface PlanProvider {
  urn: string;
  account?: string;
  region?: string;
}

export interface PlannedResource {
  /** Type token, e.g. "aws:sqs/queue:Queue". */
  type: string;
  /** Logical name given to the resource in the program. */
  name: string;
  urn: string;
  /** URN of the parent resource (component), when there is one. */
  parent?: string;
  /**
   * URNs this registration waits for (explicit dependsOn, and the resources its inputs come from),
   * i.e. what the engine creates first: order that AWS enforces (e.g. a bucket's sub-resources).
   */
  dependencies?: string[];
  /** True for provider-managed resources, false for components. */
  custom: boolean;
  /** The provider the resource was registered with (explicit or default) and its placement. */
  provider?: PlanProvider;
  inputs: Record<string, unknown>;
  outputs: Record<string, unknown>;
}

export interface Plan {
  stack: string;
  project: string;
  /** The flat config the program ran with. */
  config: Record<string, string>;
  resources: PlannedResource[];
  /** The program's stack outputs (index.ts exports), resolved. */
  outputs: Record<string, unknown>;
  /** Names the program exports, including any whose value is undefined (each is a stack output). */
  exportNames?: string[];
  /** Set when the program failed: its message, and how many resources were registered before. */
  error?: { message: string; resourcesBefore: number };
}

export interface PlanOptions {
  /** Config overrides: `key` (project namespace) or `ns:key`; `null` removes a key. */
  config?: Record<string, string | null>;
  /** Mock-cloud knobs, e.g. `{ ssoInstances: 0 }` for an account without Identity Center. */
  mocks?: MockCloudOptions;
  /** Another project directory (Pulumi.yaml, stack files, index.ts); tests use a fixture. */
  root?: string;
  /** Milliseconds before a program that never settles is reported as an error (default 60 s). */
  timeoutMs?: number;
}

/** Message the parent sends the runner. */
export interface PlanRequest {
  project: string;
  stack: string;
  config: Record<string, string>;
  secretKeys: string[];
  mocks: MockCloudOptions;
  program: string;
}

const runnerPath = path.join(__dirname, "plan-runner.ts");

/**
 * The child's entry: TypeScript is transpiled on load with esbuild (already a dependency, for the
 * handler bundles), about twice as fast to start as ts-node, and with the same isolated-module
 * semantics as ts-node's transpile-only mode. A plan reads registrations; `tsc --noEmit` type-checks.
 */
function childBootstrap(runner: string): string {
  const esbuild = require.resolve("esbuild");
  return `
const fs = require("fs");
const { transformSync } = require(${JSON.stringify(esbuild)});
require.extensions[".ts"] = function (module, filename) {
  const { code } = transformSync(fs.readFileSync(filename, "utf8"), {
    loader: "ts", format: "cjs", target: "node20", sourcemap: "inline", sourcefile: filename,
  });
  module._compile(code, filename);
};
require(${JSON.stringify(runner)});
`;
}

// Plans are deterministic for the same files, stack, overrides and mock knobs, and take seconds:
// one process (a test run) plans each combination once and hands out copies.
const planCache = new Map<string, Promise<Plan>>();

/**
 * Runs the program for `stack` under mocks; program errors come back in `plan.error`, not thrown.
 * Within one process, an identical request is answered from the first run (a deep copy); pass
 * `fresh: true` after changing the program's files.
 */
export async function planStack(stack: string, opts: PlanOptions & { fresh?: boolean } = {}): Promise<Plan> {
  const key = JSON.stringify([
    stack,
    opts.root ?? projectRoot,
    opts.config ?? {},
    opts.mocks ?? {},
    process.env.FIELDNOTES_MOCK_SSO_INSTANCES,
  ]);
  let pending = opts.fresh ? undefined : planCache.get(key);
  if (!pending) {
    pending = runPlan(stack, opts);
    planCache.set(key, pending);
    // A failure to run (not a program error) is not cached.
    pending.catch(() => planCache.delete(key));
  }
  return structuredClone(await pending);
}

async function runPlan(stack: string, opts: PlanOptions): Promise<Plan> {
  const root = opts.root ?? projectRoot;
  const loaded = loadStackConfig(stack, root);
  const config = applyOverrides(loaded.config, loaded.project, opts.config);
  const mocks: MockCloudOptions = { ...opts.mocks };
  if (mocks.ssoInstances === undefined && process.env.FIELDNOTES_MOCK_SSO_INSTANCES !== undefined) {
    mocks.ssoInstances = Number(process.env.FIELDNOTES_MOCK_SSO_INSTANCES);
  }
  const request: PlanRequest = {
    project: loaded.project,
    stack,
    config,
    secretKeys: loaded.secretKeys,
    mocks,
    program: path.join(root, "index.ts"),
  };
  return runChild(request, root, opts.timeoutMs ?? 60_000);
}

function runChild(request: PlanRequest, root: string, timeoutMs: number): Promise<Plan> {
  return new Promise<Plan>((resolve, reject) => {
    const child = spawn(process.execPath, ["--enable-source-maps", "-e", childBootstrap(runnerPath)], {
      cwd: root,
      env: process.env,
      stdio: ["ignore", "pipe", "pipe", "ipc"],
    });
    let output = "";
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    let plan: Plan | undefined;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`plan of stack "${request.stack}" did not finish within ${timeoutMs} ms\n${output}`));
    }, timeoutMs);
    child.on("message", (msg: { plan?: Plan }) => {
      if (msg.plan) plan = msg.plan;
    });
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      if (plan) resolve(plan);
      else
        reject(
          new Error(
            `plan runner for stack "${request.stack}" exited (${signal ?? code}) without a plan:\n${output}`,
          ),
        );
    });
    child.send(request);
  });
}

/** The account and Region a resource lands in; "?" where the provider does not say. */
export function placementOf(r: PlannedResource): { account: string; region: string } {
  return { account: r.provider?.account ?? "?", region: r.provider?.region ?? "?" };
}

/** Custom resources of one type, in registration order. */
export function resourcesOfType(plan: Plan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}
