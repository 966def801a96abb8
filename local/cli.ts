// Command line of local mode:
//   npm start [-- --stack dev] [--size 1KiB --size 2GiB] [--malformed]   plan view, then the demo run
//   npm run plan -- --stack NAME [--json]                               plan view only
// The pinned AWS SDK warns at every start that its releases after January 2027 need Node 22; that
// says nothing about this run, and would open the report.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { formatSize, parseSize, renderReport, runDemo } from "./demo";
import { coldStartProblems } from "./lambda-runtime";
import { planStack } from "./plan";
import { planView, renderPlanView } from "./plan-view";
import { listStacks } from "./stack-config";

export interface CliArgs {
  command: "plan" | "start";
  stack: string;
  json: boolean;
  sizes?: number[];
  malformed: boolean;
}

const usage = `usage:
  npm start [-- --stack NAME] [--size SIZE ...] [--malformed]
  npm run plan -- --stack NAME [--json]
SIZE is e.g. 1KiB, 300KiB, 64MiB or 2GiB; --size may repeat or take a comma-separated list.`;

/** Parses argv (without node and script); throws with the offending argument named. */
export function parseArgs(argv: string[]): CliArgs {
  const [command, ...rest] = argv;
  if (command !== "plan" && command !== "start") {
    throw new Error(`unknown command ${JSON.stringify(command)}: use "plan" or "start"\n${usage}`);
  }
  const args: CliArgs = { command, stack: "dev", json: false, malformed: false };
  let stackGiven = false;
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    const [flag, inline] = a.includes("=")
      ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]
      : [a, undefined];
    const value = () => {
      const v = inline ?? rest[++i];
      if (v === undefined || v.startsWith("--")) throw new Error(`${flag} needs a value\n${usage}`);
      return v;
    };
    if (flag === "--stack") {
      args.stack = value();
      stackGiven = true;
    } else if (flag === "--json") args.json = true;
    else if (flag === "--size" && command === "start")
      (args.sizes ??= []).push(...value().split(",").map(parseSize));
    else if (flag === "--malformed" && command === "start") args.malformed = true;
    else throw new Error(`unknown argument ${JSON.stringify(a)} for "${command}"\n${usage}`);
  }
  if (command === "plan" && !stackGiven) {
    throw new Error(`plan needs --stack NAME; stacks: ${listStacks().join(", ")}\n${usage}`);
  }
  return args;
}

export async function main(argv: string[]): Promise<number> {
  let args: CliArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
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
  if (!args.json) process.stdout.write(`${renderPlanView(view)}\n\n`);
  const sizes = args.sizes ?? [1024, 300 * 1024, 64 * 1024 * 1024];
  progress.write(
    `Local run of stack "${args.stack}" on loopback emulators (fauxqs, s3rver), payloads: ${sizes.map(formatSize).join(", ")}\n`,
  );
  const report = await runDemo({ stack: args.stack, plan, sizes, malformed: args.malformed, out: progress });
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
