// Runs the consume-queue handler as its real Lambda bundle, in a child process so its module-scope
// config (read from the environment at cold start, as in Lambda) sees exactly the contract's
// variables, with an SQS → Lambda event built from what the emulator delivered.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import type { Message } from "@aws-sdk/client-sqs";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { sqsEventRecord } from "../../../local/lambda-events";
import { SubscriberEnv } from "../../../messaging/contract";
import { handlerBundle } from "../../../messaging/handlers/build";
import { emulatorRegion } from "../../../local/emulators";

/** The event source mapping's event for a batch of received messages. */
export function sqsLambdaEvent(messages: Message[], queueArn: string): SQSEvent {
  return { Records: messages.map((m) => sqsEventRecord(m, { queueArn, region: emulatorRegion })) };
}

/** One structured log line the handler's Powertools logger wrote. */
export type HandlerLog = Record<string, unknown> & { message?: string; level?: string };

export interface HandlerRun {
  response: SQSBatchResponse;
  logs: HandlerLog[];
  stderr: string;
}

// Loads the bundle the way the Lambda runtime does (require index.js, call `handler`).
const RUNNER = `
const fs = require("node:fs");
const { handler } = require(process.argv[1]);
const event = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
Promise.resolve(handler(event, undefined)).then(
  (r) => process.stdout.write("\\n@@RESPONSE " + JSON.stringify(r) + "\\n"),
  (e) => { process.stderr.write("handler threw: " + (e && e.stack || e) + "\\n"); process.exitCode = 1; },
);`;

/**
 * Invokes the bundled consume-queue handler with `event`. Its environment is the contract's
 * (SubscriberEnv, downstream "none") plus the emulator endpoints in `awsEnv`.
 */
export async function invokeConsumeQueue(
  event: SQSEvent,
  opts: { awsEnv: Record<string, string>; allowedBuckets: string[]; subscriberName?: string },
): Promise<HandlerRun> {
  const bundle = path.join(handlerBundle("consume-queue", "none"), "index.js");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "interop-event-"));
  const eventFile = path.join(dir, "event.json");
  fs.writeFileSync(eventFile, JSON.stringify(event));
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    ...opts.awsEnv,
    [SubscriberEnv.subscriberName]: opts.subscriberName ?? "interop",
    [SubscriberEnv.bucketAllowList]: opts.allowedBuckets.join(","),
    [SubscriberEnv.bucketRegion]: emulatorRegion,
    [SubscriberEnv.downstream]: "none",
    // The interop queues are subscribed with raw delivery, as the program subscribes its queues.
    [SubscriberEnv.sqsRawDelivery]: "true",
  };
  try {
    const { code, stdout, stderr } = await new Promise<{
      code: number | null;
      stdout: string;
      stderr: string;
    }>((resolve, reject) => {
      const child = spawn(process.execPath, ["-e", RUNNER, bundle, eventFile], {
        env,
        cwd: path.dirname(bundle),
        stdio: ["ignore", "pipe", "pipe"],
      });
      let out = "";
      let err = "";
      child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
      child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
      const timer = setTimeout(() => child.kill("SIGKILL"), 120_000);
      child.on("error", reject);
      child.on("close", (exit) => {
        clearTimeout(timer);
        resolve({ code: exit, stdout: out, stderr: err });
      });
    });
    const lines = stdout.split("\n");
    const responseLine = lines.find((l) => l.startsWith("@@RESPONSE "));
    if (code !== 0 || !responseLine) {
      throw new Error(
        `consume-queue bundle failed (exit ${code}):\n${stderr.slice(-4000)}\n${stdout.slice(-4000)}`,
      );
    }
    const logs = lines
      .filter((l) => l.startsWith("{"))
      .map((l) => {
        try {
          return JSON.parse(l) as HandlerLog;
        } catch {
          return { message: l };
        }
      });
    return {
      response: JSON.parse(responseLine.slice("@@RESPONSE ".length)) as SQSBatchResponse,
      logs,
      stderr,
    };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
