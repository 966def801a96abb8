// npm run soak -- --messages N [--duration 60s] [--faults all] [--rate 40] [--seed S] [--json FILE]
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import * as fs from "fs";
import { failed, integerFlag, numberFlag, readFlags, UsageError } from "../common/args";
import {
  FAULT_CLASSES,
  PLANTED_DEFECTS,
  renderSoak,
  runSoak,
  type FaultClass,
  type PlantedDefect,
  type SoakOptions,
} from "./soak";
import { parseDuration } from "./size";

export const usage = `usage: npm run soak -- [--messages N] [--duration TIME] [--faults LIST] [--rate R] [--seed S] [--json FILE]
Runs the dev stack locally (as npm start does) under a steady load of mixed payloads and seeded faults,
then accounts for every message at every subscriber: delivered intact, dead-lettered with a reason, or lost.
  --messages N            messages to send (default 300; with --duration, whichever ends first)
  --duration TIME         stop sending after TIME, e.g. 90s, 5m, 1500ms
  --faults LIST           comma-separated from ${FAULT_CLASSES.join(", ")}; or all, or none (default all)
  --rate R                messages per second offered (default 40)
  --seed S                seed of the payloads, the mix and every fault draw (default 15)
  --fault-rate P          share of S3/SQS/SNS requests that meet a fault, 0–1 (default 0.03)
  --crash-rate P          share of invocations whose worker is killed part-way, 0–1 (default 0.03)
  --downstream-fail-rate P  share of downstream calls that fail, 0–1 (default 0.1)
  --stall TIME            how long a stalled answer pauses (default 1500ms)
  --large N               payloads of tens of MiB among the messages (default messages/100, 1–10)
  --drain-timeout TIME    give up on stragglers after TIME without progress (default 120s)
  --plant-defect NAME     run a deliberately broken subscriber (${PLANTED_DEFECTS.join(", ")}): the soak must report loss
  --stack NAME            stack to run (default dev)
  --json FILE             also write the report as JSON to FILE
  -h, --help              this text
Exit status: 0 when lost = 0 and the accounting holds, 1 when it does not, 2 for bad arguments.`;

export function parseFaults(text: string): FaultClass[] {
  const parts = text
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  if (parts.length === 1 && parts[0] === "all") return [...FAULT_CLASSES];
  if (parts.length === 1 && parts[0] === "none") return [];
  for (const p of parts)
    if (!FAULT_CLASSES.includes(p as FaultClass))
      throw new UsageError(`--faults: "${p}" is not one of ${FAULT_CLASSES.join(", ")}, all, none`);
  if (parts.length === 0)
    throw new UsageError(`--faults: empty; use all, none or a list of ${FAULT_CLASSES.join(", ")}`);
  return [...new Set(parts)] as FaultClass[];
}

export interface SoakCliArgs {
  help: boolean;
  json?: string;
  options: Omit<SoakOptions, "out" | "plan">;
}

export function parseSoakArgs(argv: string[]): SoakCliArgs {
  const { values } = readFlags(argv, {
    messages: { type: "string" },
    duration: { type: "string" },
    faults: { type: "string" },
    rate: { type: "string" },
    seed: { type: "string" },
    "fault-rate": { type: "string" },
    "crash-rate": { type: "string" },
    "downstream-fail-rate": { type: "string" },
    stall: { type: "string" },
    large: { type: "string" },
    "drain-timeout": { type: "string" },
    "plant-defect": { type: "string" },
    stack: { type: "string" },
    json: { type: "string" },
  });
  const v = (k: Exclude<keyof typeof values, "help">) => values[k];
  const defect = v("plant-defect");
  if (defect !== undefined && !PLANTED_DEFECTS.includes(defect as PlantedDefect))
    throw new UsageError(`--plant-defect: "${defect}" is not one of ${PLANTED_DEFECTS.join(", ")}`);
  const seed = v("seed") ?? "15";
  if (!/^[A-Za-z0-9_-]{1,32}$/.test(seed))
    throw new UsageError(
      `--seed: "${seed}" must be 1–32 letters, digits, '-' or '_' (it names the messages)`,
    );
  const durationMs = v("duration") !== undefined ? parseDuration("--duration", v("duration")!) : undefined;
  return {
    help: values.help === true,
    json: v("json"),
    options: {
      stack: v("stack") ?? "dev",
      messages:
        v("messages") !== undefined
          ? integerFlag("--messages", v("messages")!, 1, 1_000_000)
          : durationMs === undefined
            ? 300
            : undefined,
      durationMs,
      rate: v("rate") !== undefined ? numberFlag("--rate", v("rate")!, 0.1, 10_000) : 40,
      seed,
      faults: v("faults") !== undefined ? parseFaults(v("faults")!) : [...FAULT_CLASSES],
      faultRate: v("fault-rate") !== undefined ? numberFlag("--fault-rate", v("fault-rate")!, 0, 1) : 0.03,
      crashRate: v("crash-rate") !== undefined ? numberFlag("--crash-rate", v("crash-rate")!, 0, 1) : 0.03,
      downstreamFailRate:
        v("downstream-fail-rate") !== undefined
          ? numberFlag("--downstream-fail-rate", v("downstream-fail-rate")!, 0, 1)
          : 0.1,
      stallMs: v("stall") !== undefined ? parseDuration("--stall", v("stall")!) : 1500,
      large: v("large") !== undefined ? integerFlag("--large", v("large")!, 0, 1000) : undefined,
      drainTimeoutMs:
        v("drain-timeout") !== undefined ? parseDuration("--drain-timeout", v("drain-timeout")!) : 120_000,
      plantedDefect: defect as PlantedDefect | undefined,
    },
  };
}

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout): Promise<number> {
  let args: SoakCliArgs;
  try {
    args = parseSoakArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    return failed(err, usage);
  }
  if (args.help) {
    out.write(`${usage}\n`);
    return 0;
  }
  const report = await runSoak({ ...args.options, out });
  out.write(`\n${renderSoak(report)}\n`);
  if (args.json) fs.writeFileSync(args.json, `${JSON.stringify(report, null, 2)}\n`);
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: Error) => {
      process.stderr.write(`soak failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
