// planStack: run the real program (index.ts) under Pulumi's mock engine with a stack's config and
// return everything it registered. Each call runs in its own child process, because the Pulumi
// runtime is a per-process singleton: one test process can then plan many stacks, and a program
// that throws cannot poison the next plan.
import { fork } from "child_process";
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

/** Runs the program for `stack` under mocks; program errors come back in `plan.error`, not thrown. */
export async function planStack(stack: string, opts: PlanOptions = {}): Promise<Plan> {
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
    const child = fork(runnerPath, [], {
      cwd: root,
      // Transpile-only: a plan is for reading the program's registrations; `tsc --noEmit` type-checks.
      execArgv: ["-r", require.resolve("ts-node/register/transpile-only")],
      env: {
        ...process.env,
        TS_NODE_TRANSPILE_ONLY: "true",
        TS_NODE_PROJECT: path.join(projectRoot, "tsconfig.json"),
      },
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
