// Handler test support: loading the real bundles with an environment, a recording stand-in for the
// downstream services (no emulator exists for Step Functions or ECS), and the Lambda event shapes
// built from what the emulators delivered.
import * as assert from "node:assert/strict";
import * as http from "node:http";
import * as path from "node:path";
import type { AddressInfo } from "node:net";
import { ReceiveMessageCommand, type Message, type SQSClient } from "@aws-sdk/client-sqs";
import type { Context, SNSEvent, SNSEventRecord, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { snsEventRecord, sqsEventRecord, type SnsEnvelope } from "../../local/lambda-events";
import { DOWNSTREAMS, SubscriberEnv, type Downstream, type HandlerName } from "../../messaging/contract";
import { handlerBundle } from "../../messaging/handlers/build";
import type { PayloadSummary } from "../../messaging/handlers/downstream";

/**
 * Receives from `queueUrl` until `expected` messages came or `tries` long polls of 1 s ended, with
 * every message and system attribute (the marker attributes among them). The caller checks the count.
 */
export async function receiveMessages(
  sqs: SQSClient,
  queueUrl: string,
  expected: number,
  tries = 5,
): Promise<Message[]> {
  const out: Message[] = [];
  for (let i = 0; i < tries && out.length < expected; i++) {
    const got = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
      }),
    );
    out.push(...(got.Messages ?? []));
  }
  return out;
}

/**
 * Loads the bundle Lambda would run (not the TypeScript source) with `env` applied first, since the
 * handlers read their config and create their clients at load. A fresh copy per call. A subscriber
 * loads the bundle of its DOWNSTREAM, as the program deploys it (unset is "none", as the handler
 * reads it; a value that names no downstream loads the "none" bundle, whose config check refuses it).
 */
export function loadHandler<T>(name: HandlerName, env: Record<string, string>): T {
  Object.assign(process.env, env);
  const kind = (process.env.DOWNSTREAM ?? "none").trim() as Downstream;
  const downstream = name === "publish" ? undefined : DOWNSTREAMS.includes(kind) ? kind : "none";
  const file = path.join(handlerBundle(name, downstream), "index.js");
  delete require.cache[require.resolve(file)];
  return (require(file) as { handler: T }).handler;
}

/** Every variable a subscriber reads, blank (which reads as unset), for a suite to override. */
export const UNSET_SUBSCRIBER_VARIABLES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(SubscriberEnv).map((name) => [name, ""]),
);

/** The subscriber handlers' entry points, as Lambda calls them. */
export type ConsumeQueue = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;
export type ConsumeTopic = (event: SNSEvent, context?: Context) => Promise<{ delivered: PayloadSummary[] }>;

/**
 * Loads a subscriber handler's TypeScript source (not its bundle) afresh with the environment as it
 * is now: it reads it at load, and what it does at load then runs inside the test (for Stryker, a
 * mutant switched on per test rather than a static one).
 */
export function loadSource<T extends ConsumeQueue | ConsumeTopic>(
  name: "consume-queue" | "consume-topic",
): T {
  const file = require.resolve(`../../messaging/handlers/${name}`);
  delete require.cache[file];
  return (require(file) as { handler: T }).handler;
}

/** The summaries the recorded StartExecution calls carried, by message id. */
export function startedSummaries(calls: readonly DownstreamCall[]): Record<string, PayloadSummary> {
  return Object.fromEntries(
    calls.map((c) => {
      const s = JSON.parse(String(c.input.input)) as PayloadSummary;
      return [s.messageId, s];
    }),
  );
}

/** Sets env for a suite and restores it after. */
export function withEnv(): { set(env: Record<string, string>): void; restore(): void } {
  const saved = new Map<string, string | undefined>();
  return {
    set(env) {
      for (const [k, v] of Object.entries(env)) {
        if (!saved.has(k)) saved.set(k, process.env[k]);
        process.env[k] = v;
      }
    },
    restore() {
      for (const [k, v] of saved) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}

export interface DownstreamCall {
  service: "stepfunctions" | "ecs";
  input: Record<string, unknown>;
}

/** A reply the recorder sends instead of its own: the HTTP status and the JSON body, or none at all. */
export type DownstreamReply = { status: number; body: unknown } | "stall";

/**
 * Answers Step Functions StartExecution (JSON 1.0) and ECS RunTask (JSON 1.1) on 127.0.0.1 and
 * records each call. Like Step Functions, a second StartExecution with a used name fails with
 * ExecutionAlreadyExists. `recorder.reply`, when set, answers a recorded call in its place (a
 * RunTask that placed no task, an error) or leaves it unanswered ("stall").
 */
export async function startDownstreamRecorder() {
  const calls: DownstreamCall[] = [];
  const names = new Set<string>();
  const recorder = {
    reply: undefined as ((call: DownstreamCall) => DownstreamReply | undefined) | undefined,
  };
  const server = http.createServer((req, res) => {
    let text = "";
    req.setEncoding("utf8");
    req.on("data", (c: string) => (text += c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const input = JSON.parse(text || "{}") as Record<string, unknown>;
      const reply = (status: number, body: unknown, json = "1.0") => {
        res.writeHead(status, { "content-type": `application/x-amz-json-${json}` });
        res.end(JSON.stringify(body));
      };
      const answer = (call: DownstreamCall) => {
        calls.push(call);
        const given = recorder.reply?.(call);
        if (given !== undefined && given !== "stall")
          reply(given.status, given.body, call.service === "ecs" ? "1.1" : "1.0");
        return given !== undefined;
      };
      if (target === "AWSStepFunctions.StartExecution") {
        if (answer({ service: "stepfunctions", input })) return;
        const name = String(input.name);
        if (names.has(name))
          return reply(400, {
            __type: "ExecutionAlreadyExists",
            message: `Execution Already Exists: '${name}'`,
          });
        names.add(name);
        return reply(200, {
          executionArn: `${String(input.stateMachineArn).replace(":stateMachine:", ":execution:")}:${name}`,
          startDate: Date.now() / 1000,
        });
      }
      if (target === "AmazonEC2ContainerServiceV20141113.RunTask") {
        if (answer({ service: "ecs", input })) return;
        return reply(
          200,
          { tasks: [{ taskArn: `arn:aws:ecs:us-east-1:000000000000:task/c/${calls.length}` }], failures: [] },
          "1.1",
        );
      }
      reply(400, { __type: "UnknownOperationException", message: target }, "1.1");
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return Object.assign(recorder, {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  });
}

/** The record an SQS event source mapping hands Lambda for a received message. */
export function sqsRecord(m: Message, queueArn: string): SQSRecord {
  return sqsEventRecord(m, { queueArn, region: "us-east-1" });
}

/** The record SNS hands a subscribed Lambda, built from the JSON envelope SNS delivered to SQS. */
export function snsRecord(envelopeText: string, subscriptionArn: string): SNSEventRecord {
  return snsEventRecord(JSON.parse(envelopeText) as SnsEnvelope, {
    subscriptionArn,
    missing: { Subject: "", Signature: "", SigningCertUrl: "", UnsubscribeUrl: "" },
  });
}

export interface Emf {
  _aws: {
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
  [key: string]: unknown;
}

/** A Powertools log line, parsed. */
export type LogLine = Record<string, unknown> & { level: string; message: string };

/**
 * Runs `fn` and returns the EMF documents written to stdout meanwhile, and the Powertools log lines
 * written to stdout or stderr (JSON with a `level`; there are none while logging is silenced).
 */
export async function emitted<T>(fn: () => Promise<T>): Promise<{ result: T; emf: Emf[]; logs: LogLine[] }> {
  const lines: string[] = [];
  const logs: LogLine[] = [];
  const restore: (() => void)[] = [];
  for (const stream of [process.stdout, process.stderr]) {
    const write = stream.write.bind(stream);
    stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      const text = typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
      if (text.includes('"_aws"')) lines.push(...text.split("\n").filter((l) => l.includes('"_aws"')));
      else if (text.startsWith("{") && text.includes('"level"')) logs.push(JSON.parse(text) as LogLine);
      else return write(chunk, ...(rest as []));
      return true;
    }) as typeof stream.write;
    restore.push(() => (stream.write = write));
  }
  try {
    const result = await fn();
    return { result, emf: lines.map((l) => JSON.parse(l) as Emf), logs };
  } finally {
    for (const undo of restore) undo();
  }
}

/** The EMF documents (one per dimension set) as `{dimensions: values}` → metric values, for exact assertions. */
export function table(namespace: string, emf: Emf[]): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const doc of emf) {
    const cw = doc._aws.CloudWatchMetrics[0];
    assert.equal(cw.Namespace, namespace);
    const dims = cw.Dimensions[0].map((d) => `${d}=${String(doc[d])}`).join(",");
    out[dims] = Object.fromEntries(cw.Metrics.map((m) => [`${m.Name} (${m.Unit})`, doc[m.Name]]));
  }
  return out;
}

/** The timeouts an SDK client's HTTP handler applies, as it resolved them from its `requestHandler` option. */
export async function clientTimeouts(client: {
  config: { requestHandler: unknown };
}): Promise<Record<string, unknown>> {
  const handler = client.config.requestHandler as { configProvider: Promise<Record<string, unknown>> };
  const config = await handler.configProvider;
  return {
    connectionTimeout: config.connectionTimeout,
    requestTimeout: config.requestTimeout,
    socketTimeout: config.socketTimeout,
    throwOnRequestTimeout: config.throwOnRequestTimeout,
  };
}
