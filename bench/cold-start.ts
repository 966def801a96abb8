// Handler cold start as a Lambda init pays it: a fresh Node process loading the handler bundle with
// the configuration of a real function, timed around the require (which runs the module's top-level
// code: config checks, SDK clients, logger). Each handler/downstream pair is one row; the rows run
// round-robin, in an order rotated each round, so that load from the neighbours falls on all of them.
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import type { Downstream, HandlerName } from "../messaging/contract";
import { buildSync } from "esbuild";
import { handlerBuildOptions, handlerBundle } from "../messaging/handlers/build";
import { rotation, spread, type Spread } from "./stats";

export interface ColdStartFigure {
  /** e.g. "consume-queue (DOWNSTREAM=ecs)" */
  name: string;
  handler: HandlerName;
  /** A subscriber's downstream: its bundle carries that downstream's client only. */
  downstream?: Downstream;
  /** False for the comparison row: the same handler loading the SDK from node_modules. */
  shipped: boolean;
  bytes: number;
  /** Milliseconds from require() to its return: what the target is about. */
  initMs: Spread;
  /**
   * CPU milliseconds (user + system) the require used: less sensitive than initMs to neighbours
   * taking the cores, so it shows what the init would cost on an idle one.
   */
  cpuMs: Spread;
  /** Modules the bundle loaded from node_modules (the Lambda runtime would load these from its own). */
  fromNodeModules: number;
}

const REGION = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "bench", AWS_SECRET_ACCESS_KEY: "bench" };
// As the program sets them: the queue consumer refuses to load without SQS_RAW_DELIVERY.
const SUBSCRIBER = {
  SUBSCRIBER_NAME: "bench",
  PAYLOAD_BUCKET_ALLOWLIST: "bench-payloads",
  PAYLOAD_KEY_PREFIX_ALLOWLIST: "payloads/",
  SQS_RAW_DELIVERY: "true",
};
const DOWNSTREAMS: Record<Downstream, Record<string, string>> = {
  stepfunctions: {
    DOWNSTREAM: "stepfunctions",
    STATE_MACHINE_ARN: "arn:aws:states:us-east-1:000000000000:stateMachine:bench",
  },
  ecs: {
    DOWNSTREAM: "ecs",
    ECS_CLUSTER_ARN: "arn:aws:ecs:us-east-1:000000000000:cluster/bench",
    ECS_TASK_DEFINITION_ARN: "arn:aws:ecs:us-east-1:000000000000:task-definition/bench:1",
    ECS_CONTAINER_NAME: "app",
    ECS_SUBNET_IDS: "subnet-0123456789abcdef0",
  },
  none: { DOWNSTREAM: "none" },
};

export interface ColdStartCase {
  name: string;
  handler: HandlerName;
  downstream?: Downstream;
  env: Record<string, string>;
}

/**
 * The functions a stack deploys: the publisher, and each subscriber kind with each downstream, each
 * subscriber from the bundle built for its downstream.
 */
export function coldStartCases(): ColdStartCase[] {
  const subscribers = (["consume-queue", "consume-topic"] as const).flatMap((handler) =>
    (Object.entries(DOWNSTREAMS) as Array<[Downstream, Record<string, string>]>).map(([kind, env]) => ({
      name: `${handler} (DOWNSTREAM=${kind})`,
      handler,
      downstream: kind,
      env: { ...SUBSCRIBER, ...env },
    })),
  );
  return [
    {
      name: "publish",
      handler: "publish",
      env: { TOPIC_ARN: "arn:aws:sns:us-east-1:000000000000:bench", PAYLOAD_BUCKET: "bench-payloads" },
    },
    ...subscribers,
  ];
}

const PROBE = `const file = process.argv[1];
const cpu = process.cpuUsage();
const t = process.hrtime.bigint();
require(file);
const ms = Number(process.hrtime.bigint() - t) / 1e6;
const used = process.cpuUsage(cpu);
const cpuMs = (used.user + used.system) / 1e3;
const fromNodeModules = Object.keys(require.cache).filter((k) => k.includes("node_modules")).length;
process.stdout.write(JSON.stringify({ ms, cpuMs, fromNodeModules }));`;

/**
 * The same handler with the SDK left out, loaded from node_modules as it would be from the Lambda
 * runtime's: the other way the target allows, measured beside the shipped bundle.
 */
function runtimeSdkBundle(c: ColdStartCase): string {
  const outfile = path.resolve(
    __dirname,
    "..",
    ".build",
    "bench",
    "runtime-sdk",
    ...(c.downstream ? [c.downstream] : []),
    c.handler,
    "index.js",
  );
  buildSync({ ...handlerBuildOptions(c.handler, outfile, c.downstream), external: ["@aws-sdk/*"] });
  return outfile;
}

export function measureColdStarts(repeat: number): ColdStartFigure[] {
  const cases = coldStartCases().flatMap((c) => [
    { ...c, shipped: true, file: path.join(handlerBundle(c.handler, c.downstream), "index.js") },
    { ...c, shipped: false, name: `${c.name}, SDK from node_modules`, file: runtimeSdkBundle(c) },
  ]);
  const samples = new Map<string, Array<{ ms: number; cpuMs: number; fromNodeModules: number }>>();
  for (let round = 0; round < repeat; round++) {
    for (const c of rotation(cases, round)) {
      const out = execFileSync(process.execPath, ["-e", PROBE, c.file], {
        // Only what a Lambda function would have: no inherited AWS_* or NODE_OPTIONS from this shell.
        env: {
          PATH: process.env.PATH ?? "",
          ...REGION,
          AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
          ...c.env,
        },
        cwd: path.dirname(c.file),
      });
      const list = samples.get(c.name) ?? [];
      list.push(JSON.parse(out.toString()) as { ms: number; cpuMs: number; fromNodeModules: number });
      samples.set(c.name, list);
    }
  }
  return cases.map((c) => {
    const runs = samples.get(c.name)!;
    return {
      name: c.name,
      handler: c.handler,
      ...(c.downstream ? { downstream: c.downstream } : {}),
      shipped: c.shipped,
      bytes: fs.statSync(c.file).size,
      initMs: spread(
        runs.map((r) => r.ms),
        1,
      ),
      cpuMs: spread(
        runs.map((r) => r.cpuMs),
        1,
      ),
      fromNodeModules: Math.max(...runs.map((r) => r.fromNodeModules)),
    };
  });
}
