// Command line of local mode (`npm start`, `npm run plan`); see USAGE. Exit status: 0 success,
// 1 the run or the plan found a problem, 2 a bad argument.
// The pinned AWS SDK warns at every start that its releases after January 2027 need Node 22; that
// says nothing about this run, and would open the report.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { failed, readFlags, UsageError } from "../common/args";
import { renderReport, runDemo } from "./demo";
import { coldStartProblems } from "./lambda-runtime";
import { planStack } from "./plan";
import { planView, renderPlanSummary, renderPlanView } from "./plan-view";
import type { ReplicationLag } from "./replication";
import { formatSize, GiB, parseDuration, parseSizes } from "./size";
import { listStacks, loadStackConfig } from "./stack-config";

export interface CliArgs {
  command: "plan" | "start";
  stack: string;
  json: boolean;
  /** start: print the full plan view before the run instead of the summary. */
  fullPlan: boolean;
  sizes?: number[];
  malformed: boolean;
  /** --replica-lag: how far emulated replication trails the origin (object, then its tag). */
  replicaLag?: ReplicationLag;
  /** --help was given: print USAGE and exit 0. */
  help: boolean;
}

export const USAGE = `usage:
  npm start [-- --stack NAME] [--sizes LIST] [--malformed] [--replica-lag LAG] [--plan] [--json]
  npm run plan -- --stack NAME [--json]

npm start      plans a stack under Pulumi's mock engine, deploys its messaging part on loopback
               emulators, delivers sample payloads and prints the delivery report
  --stack NAME   a stack holding the publisher and its subscribers (default dev)
  --sizes LIST   payload sizes, comma-separated, may repeat (default 1KiB,300KiB,64MiB, at most 5GiB)
                 SIZE is a byte count or a number with B, KiB, MiB or GiB (KB/MB/GB are ambiguous)
  --malformed    also publish a pointer without s3Key and show where each subscriber dead-letters it
  --replica-lag LAG  stacks with replicas: emulated replication copies each object LAG after it is
                 written, its checksum tag LAG after the tag is (OBJECT,TAG to differ: 1s,3s);
                 a duration in ms, s, m or h (default 0s: the replica is ready before the publish)
  --plan         print the full plan view first (default: a summary per account and Region)
  --json         one JSON document {plan, report} on stdout; progress on stderr
npm run plan   prints what stack NAME would create, by account and Region, with the wiring checks
  --stack NAME   any Pulumi.<NAME>.yaml stack (required)
  --json         the plan view as JSON
  -h, --help     this text
Exit status: 0 OK, 1 the run or a wiring check failed, 2 a bad argument.`;

/** Local mode moves payloads through one process; beyond this it measures the disk, not the code. */
const MAX_LOCAL_SIZE = 5 * GiB;

/** Parses argv (without node and script); throws with the offending argument named. */
export function parseArgs(argv: string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command === "--help" || command === "-h") {
    return { command: "start", stack: "dev", json: false, fullPlan: false, malformed: false, help: true };
  }
  if (command !== "plan" && command !== "start") {
    throw new UsageError(`unknown command ${JSON.stringify(command)}: use "plan" or "start"`);
  }
  const startOnly = ["sizes", "size", "malformed", "plan", "replica-lag"];
  const { values } = readFlags(
    rest,
    {
      stack: { type: "string" },
      json: { type: "boolean" },
      sizes: { type: "string", multiple: true },
      // The old spelling; --sizes matches the benchmark.
      size: { type: "string", multiple: true },
      malformed: { type: "boolean" },
      "replica-lag": { type: "string" },
      plan: { type: "boolean" },
    },
    { hidden: ["size"] },
  );
  if (values.help) {
    return { command, stack: "dev", json: false, fullPlan: false, malformed: false, help: true };
  }
  if (command === "plan") {
    const misplaced = startOnly.find((k) => k in values);
    if (misplaced) throw new UsageError(`--${misplaced} is an option of "start", not of "plan"`);
    if (values.stack === undefined) {
      throw new UsageError(`plan needs --stack NAME; stacks: ${listStacks().join(", ")}`);
    }
  }
  const sizeLists = [...(values.sizes ?? []), ...(values.size ?? [])];
  const sizes = sizeLists.length ? sizeLists.flatMap((list) => parseSizes(list, "--sizes")) : undefined;
  for (const size of sizes ?? []) {
    if (size > MAX_LOCAL_SIZE)
      throw new UsageError(
        `--sizes: ${formatSize(size)} is over 5 GiB, more than local mode is meant to move`,
      );
  }
  return {
    command,
    stack: values.stack ?? "dev",
    json: values.json ?? false,
    fullPlan: values.plan ?? false,
    sizes,
    malformed: values.malformed ?? false,
    ...(values["replica-lag"] !== undefined ? { replicaLag: parseReplicaLag(values["replica-lag"]) } : {}),
    help: false,
  };
}

/** `--replica-lag 2s` (object and tag 2 s behind) or `1s,3s` (object 1 s, tag 3 s behind). */
export function parseReplicaLag(text: string): ReplicationLag {
  const parts = text.split(",").map((s) => s.trim());
  if (parts.length > 2 || parts.some((p) => p === "")) {
    throw new UsageError(`--replica-lag: "${text}" must be LAG or OBJECT,TAG (e.g. 2s or 1s,3s)`);
  }
  const [objectMs, tagMs] = parts.map((p) => parseDuration("--replica-lag", p, { zero: true }));
  return { objectMs, tagMs: tagMs ?? objectMs };
}

/**
 * Why `stack` cannot run the demo, or undefined when it can: the demo puts events on the
 * publisher's bus and waits for every subscriber, so the stack must hold the publisher and at
 * least one subscriber. Read from the stack file alone, before anything is planned or started.
 */
export function demoRefusal(stack: string): string | undefined {
  const demoable = (name: string) => {
    try {
      const raw = loadStackConfig(name).config[`fieldnotes:parts`];
      const parts: unknown =
        raw === undefined ? [] : JSON.parse(raw.startsWith("[") ? raw : JSON.stringify([raw]));
      return (
        Array.isArray(parts) &&
        parts.includes("publisher") &&
        parts.some((p) => typeof p === "string" && p.startsWith("subscriber/"))
      );
    } catch {
      return false;
    }
  };
  if (demoable(stack)) return undefined;
  const can = listStacks().filter(demoable);
  return (
    `stack "${stack}" cannot be run locally: the demo needs the publisher and its subscribers in one stack ` +
    `(fieldnotes:parts). Stacks that can: ${can.join(", ") || "(none)"}. ` +
    `To see what "${stack}" creates: npm run plan -- --stack ${stack}`
  );
}

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    return failed(err, USAGE);
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (args.command === "start") {
    let refusal: string | undefined;
    try {
      refusal = demoRefusal(args.stack);
      if (refusal) loadStackConfig(args.stack); // a missing stack file says so in its own words
    } catch (err) {
      refusal = (err as Error).message;
    }
    if (refusal) {
      process.stderr.write(`${refusal}\n`);
      return 2;
    }
  }
  let plan;
  try {
    plan = await planStack(args.stack);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const view = planView(plan);
  // Each bundle is loaded with the program's environment: what a handler needs and the component
  // does not set shows up here, with the handler's own message.
  if (!plan.error) view.wiring.push(...(await coldStartProblems(plan)));
  if (args.command === "plan") {
    process.stdout.write(args.json ? `${JSON.stringify(view, null, 2)}\n` : `${renderPlanView(view)}\n`);
    return view.error || view.wiring.length ? 1 : 0;
  }
  // With --json, stdout carries one JSON document ({plan, report}); progress goes to stderr.
  const progress = args.json ? process.stderr : process.stdout;
  if (!args.json) {
    process.stdout.write(`${args.fullPlan ? renderPlanView(view) : renderPlanSummary(view)}\n\n`);
  }
  if (view.error || view.wiring.length) {
    if (args.json) process.stdout.write(`${JSON.stringify({ plan: view }, null, 2)}\n`);
    process.stderr.write("RESULT: FAILED — the plan has problems (above); nothing was started\n");
    return 1;
  }
  const sizes = args.sizes ?? [1024, 300 * 1024, 64 * 1024 * 1024];
  progress.write(
    `Local run of stack "${args.stack}" on loopback emulators (fauxqs, s3rver), payloads: ${sizes.map(formatSize).join(", ")}\n`,
  );
  const report = await runDemo({
    stack: args.stack,
    plan,
    sizes,
    malformed: args.malformed,
    out: progress,
    ...(args.replicaLag ? { replicaLag: args.replicaLag } : {}),
  });
  process.stdout.write(
    args.json ? `${JSON.stringify({ plan: view, report }, null, 2)}\n` : `\n${renderReport(report)}\n`,
  );
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`local mode failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
