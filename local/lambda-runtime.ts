// The local Lambda runtime: runs each function's deployed bundle in a worker thread with the
// environment the program gives it, and drives it the way the Lambda service would:
// - an event source mapping is a poller (batch size, batching window, partial batch responses);
// - an SNS→Lambda subscription is an asynchronous invoke per delivery (retries, then the on-failure
//   destination);
// - an EventBridge rule is reached through `putEvents`, and invokes its target asynchronously.
// Retry delays are compressed (AWS waits for the visibility timeout or minutes between async
// retries); counts and outcomes are the same.
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  DeleteMessageCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { randomUUID } from "crypto";
import { EventEmitter } from "events";
import { Worker } from "worker_threads";
import { emulatorClientConfig, emulatorCredentials } from "./emulators";
import {
  busNameOf,
  functionOf,
  label,
  LocalDeployError,
  T,
  type Endpoints,
  type LocalDeployment,
  type LocalFunction,
  type LocalQueue,
} from "./deploy";
import { snsEventRecord, sqsEventRecord, type SnsEnvelope } from "./lambda-events";
import type { Plan } from "./plan";

export interface InvocationRecord {
  fn: string;
  handlerName: string;
  trigger: "eventbridge" | "sqs" | "sns";
  attempt: number;
  start: number;
  end: number;
  ok: boolean;
  result?: unknown;
  error?: { errorType: string; errorMessage: string };
  /** The records handed over: SQS message ids or the SNS message id, with the body. */
  records: Array<{ messageId: string; body: string; receiveCount?: number; sentAt?: number }>;
  /** SQS: message ids the handler reported as failed (batchItemFailures). */
  failedIds: string[];
}

export interface DeadLetter {
  /** The queue the record landed in, and why. */
  queue: string;
  fn: string;
  reason: string;
  at: number;
  body: string;
}

/** Environment every local function gets on top of its own: emulator endpoints and dummy keys. */
function runtimeEnv(fn: LocalFunction, endpoints: Endpoints): Record<string, string> {
  return {
    ...fn.env,
    AWS_REGION: fn.region,
    AWS_DEFAULT_REGION: fn.region,
    AWS_ACCESS_KEY_ID: emulatorCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulatorCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_S3: endpoints.s3,
    AWS_ENDPOINT_URL_SNS: endpoints.sns,
    AWS_ENDPOINT_URL_SQS: endpoints.sqs,
    AWS_ENDPOINT_URL_SFN: endpoints.sfn,
    AWS_ENDPOINT_URL_ECS: endpoints.ecs,
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
    AWS_LAMBDA_FUNCTION_NAME: fn.name,
    AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memoryMb),
    AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
    _HANDLER: `index.${fn.exportName}`,
    TZ: "UTC",
  };
}

// Runs in the worker: loads the bundle once (cold start), then serves one invocation at a time.
const workerSource = `
const { parentPort, workerData } = require("worker_threads");
let handler;
parentPort.on("message", async ({ id, event, deadline, init }) => {
  try {
    if (!handler) {
      const mod = require(workerData.file);
      handler = mod[workerData.exportName];
      if (typeof handler !== "function") throw new Error(workerData.file + " exports no function " + workerData.exportName);
    }
    if (init) return parentPort.postMessage({ id, ok: true, result: null });
    const context = {
      functionName: workerData.name, functionVersion: "$LATEST", invokedFunctionArn: workerData.arn,
      memoryLimitInMB: String(workerData.memoryMb), awsRequestId: id, logGroupName: "/aws/lambda/" + workerData.name,
      logStreamName: "local", callbackWaitsForEmptyEventLoop: true, getRemainingTimeInMillis: () => deadline - Date.now(),
    };
    const result = await handler(event, context);
    parentPort.postMessage({ id, ok: true, result: result === undefined ? null : result });
  } catch (err) {
    parentPort.postMessage({ id, ok: false, error: { errorType: (err && err.name) || "Error", errorMessage: (err && err.message) || String(err) } });
  }
});
`;

type Outcome =
  { ok: true; result: unknown } | { ok: false; error: { errorType: string; errorMessage: string } };

/** One function instance (concurrency 1): invocations queue up, as with reserved concurrency 1. */
export class FunctionInstance {
  private worker?: Worker;
  private queue: Promise<unknown> = Promise.resolve();
  readonly logs: string[] = [];
  private waiting = new Map<string, (o: Outcome) => void>();

  constructor(
    readonly fn: LocalFunction,
    private readonly endpoints: Endpoints,
    /** Fault injection: ms into an invocation after which its worker dies, or undefined. */
    private readonly crashAfterMs?: () => number | undefined,
  ) {}

  private start(): Worker {
    const w = new Worker(workerSource, {
      eval: true,
      env: runtimeEnv(this.fn, this.endpoints),
      stdout: true,
      stderr: true,
      workerData: {
        file: this.fn.file,
        exportName: this.fn.exportName,
        name: this.fn.name,
        arn: this.fn.plannedArn,
        memoryMb: this.fn.memoryMb,
      },
    });
    const keep = (chunk: Buffer) => {
      for (const line of chunk.toString("utf8").split("\n")) if (line.trim()) this.logs.push(line);
      if (this.logs.length > 2000) this.logs.splice(0, this.logs.length - 2000);
    };
    w.stdout.on("data", keep);
    w.stderr.on("data", keep);
    w.on("message", (m: { id: string } & Outcome) => {
      const done = this.waiting.get(m.id);
      this.waiting.delete(m.id);
      done?.(m);
    });
    w.on("error", (err) => this.failAll(`${err.name}: ${err.message}`));
    w.on("exit", (code) => {
      if (this.worker === w) this.worker = undefined;
      this.failAll(`Runtime exited with code ${code}`);
    });
    return w;
  }

  private failAll(message: string) {
    for (const [id, done] of this.waiting) {
      this.waiting.delete(id);
      done({ ok: false, error: { errorType: "Runtime.ExitError", errorMessage: message } });
    }
  }

  /** Loads the bundle (the module-scope code a cold start runs); returns the error, if any. */
  async coldStart(): Promise<string | undefined> {
    const outcome = await this.invoke(undefined, true);
    return outcome.ok ? undefined : outcome.error.errorMessage;
  }

  invoke(event: unknown, init = false): Promise<Outcome> {
    const run = async (): Promise<Outcome> => {
      this.worker ??= this.start();
      const id = randomUUID();
      const timeoutMs = this.fn.timeoutSeconds * 1000;
      const outcome = new Promise<Outcome>((resolve) => this.waiting.set(id, resolve));
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<Outcome>((resolve) => {
        timer = setTimeout(() => {
          // Lambda ends a timed-out invocation's sandbox; so does this.
          this.waiting.delete(id);
          const w = this.worker;
          this.worker = undefined;
          void w?.terminate();
          resolve({
            ok: false,
            error: {
              errorType: "Sandbox.Timedout",
              errorMessage: `Task timed out after ${this.fn.timeoutSeconds}.00 seconds`,
            },
          });
        }, timeoutMs);
      });
      this.worker.postMessage({ id, event, init, deadline: Date.now() + timeoutMs });
      // An injected crash ends the sandbox mid-invocation, as an out-of-memory kill or a timeout
      // would: whatever the handler had not finished is not acknowledged.
      const crashIn = init ? undefined : this.crashAfterMs?.();
      const crash =
        crashIn === undefined
          ? undefined
          : setTimeout(() => {
              const w = this.worker;
              this.worker = undefined;
              void w?.terminate();
            }, crashIn);
      try {
        return await Promise.race([outcome, timedOut]);
      } finally {
        clearTimeout(timer);
        clearTimeout(crash);
      }
    };
    const next = this.queue.then(run, run);
    this.queue = next.catch(() => undefined);
    return next;
  }

  async stop() {
    const w = this.worker;
    this.worker = undefined;
    await w?.terminate();
  }
}

export interface RuntimeOptions {
  /** Pause before a failed record or async invoke is retried (AWS: visibility timeout / minutes). */
  retryDelayMs?: number;
  /**
   * Fault injection (the soak): for each invocation of `fn`, the ms after which its worker is
   * killed mid-invocation, or undefined to let it run.
   */
  crashAfterMs?: (fn: LocalFunction) => number | undefined;
}

export class LambdaRuntime extends EventEmitter {
  readonly invocations: InvocationRecord[] = [];
  readonly deadLetters: DeadLetter[] = [];
  /**
   * Why a queue record last failed, by function and message body. The queue's redrive moves a
   * record once it has been received maxReceiveCount times, and a receive whose answer was lost
   * counts too: the record can then reach the DLQ without a failure the runtime saw as its last.
   */
  readonly lastFailure = new Map<string, string>();
  private readonly instances = new Map<string, FunctionInstance>();
  private readonly sqs: SQSClient;
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly retryDelayMs: number;
  private readonly crashAfterMs?: RuntimeOptions["crashAfterMs"];

  constructor(
    readonly deployment: LocalDeployment,
    opts: RuntimeOptions = {},
  ) {
    super();
    this.retryDelayMs = opts.retryDelayMs ?? 100;
    this.crashAfterMs = opts.crashAfterMs;
    this.sqs = new SQSClient(emulatorClientConfig(deployment.endpoints.sqs));
  }

  /** Starts the pollers: event source mappings and SNS→Lambda deliveries. */
  start(): void {
    for (const source of this.deployment.eventSources) this.loops.push(this.pollEventSource(source));
    for (const sub of this.deployment.subscriptions.filter((s) => s.fn))
      this.loops.push(this.pollSnsBridge(sub.queue, sub.fn!, sub.arn));
  }

  instance(fn: LocalFunction): FunctionInstance {
    let i = this.instances.get(fn.name);
    if (!i) {
      const crash = this.crashAfterMs;
      i = new FunctionInstance(fn, this.deployment.endpoints, crash && (() => crash(fn)));
      this.instances.set(fn.name, i);
    }
    return i;
  }

  /** A function's captured log lines (stdout/stderr of its worker). */
  logsOf(fnName: string): string[] {
    return this.instances.get(fnName)?.logs ?? [];
  }

  private async invoke(
    fn: LocalFunction,
    trigger: InvocationRecord["trigger"],
    event: unknown,
    records: InvocationRecord["records"],
    attempt: number,
  ): Promise<InvocationRecord> {
    const start = Date.now();
    const outcome = await this.instance(fn).invoke(event);
    const rec: InvocationRecord = {
      fn: fn.name,
      handlerName: fn.handlerName,
      trigger,
      attempt,
      start,
      end: Date.now(),
      ok: outcome.ok,
      records,
      failedIds: [],
    };
    if (outcome.ok) rec.result = outcome.result;
    else rec.error = outcome.error;
    this.invocations.push(rec);
    this.emit("invocation", rec);
    return rec;
  }

  /**
   * EventBridge PutEvents on a bus of the plan: validates each entry as EventBridge does, routes it
   * to the rules whose pattern matches, and invokes their targets asynchronously.
   */
  putEvents(
    entries: Array<{
      Source?: string;
      DetailType?: string;
      Detail?: string;
      EventBusName?: string;
      Resources?: string[];
    }>,
  ): Array<{ EventId: string; delivered: Promise<InvocationRecord[]> }> {
    return entries.map((entry, i) => {
      for (const field of ["Source", "DetailType", "Detail"] as const) {
        if (!entry[field]) throw new Error(`PutEvents entry ${i}: ${field} is required`);
      }
      const size =
        14 +
        Buffer.byteLength(entry.Source!) +
        Buffer.byteLength(entry.DetailType!) +
        Buffer.byteLength(entry.Detail!) +
        (entry.Resources ?? []).reduce((n, r) => n + Buffer.byteLength(r), 0);
      if (size > 256 * 1024) {
        throw new Error(
          `PutEvents entry ${i}: the entry is ${size} bytes; EventBridge accepts at most 262144 (256 KiB)`,
        );
      }
      let detail: unknown;
      try {
        detail = JSON.parse(entry.Detail!);
      } catch {
        throw new Error(`PutEvents entry ${i}: Detail is not valid JSON`);
      }
      if (typeof detail !== "object" || detail === null || Array.isArray(detail)) {
        throw new Error(`PutEvents entry ${i}: Detail must be a JSON object`);
      }
      const busName = busNameOf(entry.EventBusName);
      const routes = this.deployment.routes.filter((r) => r.busName === busName);
      if (
        !this.deployment.plan.resources.some(
          (r) => r.type === "aws:cloudwatch/eventBus:EventBus" && r.outputs.name === busName,
        ) &&
        busName !== "default"
      ) {
        throw new Error(`PutEvents entry ${i}: EventBusName "${entry.EventBusName}" is no bus of this stack`);
      }
      const id = randomUUID();
      const first = routes[0]?.fn;
      const event = {
        version: "0",
        id,
        "detail-type": entry.DetailType,
        source: entry.Source,
        account: first?.plannedArn.split(":")[4] ?? "000000000000",
        time: new Date().toISOString().replace(/\.\d{3}Z$/, "Z"),
        region: first?.region ?? "us-east-1",
        resources: entry.Resources ?? [],
        detail,
      };
      const matching = routes.filter((r) => matchesPattern(r.pattern, event));
      // EventBridge invokes a Lambda target asynchronously: function errors follow the function's
      // async retries and destination. The target's own retry policy and DLQ cover only failures to
      // invoke (throttling, a missing permission), which do not happen locally.
      const delivered = Promise.all(
        matching.map((route) =>
          this.invokeAsync(route.fn, "eventbridge", event, [{ messageId: id, body: entry.Detail! }]),
        ),
      );
      return { EventId: id, delivered };
    });
  }

  private async deadLetter(queue: LocalQueue, fn: LocalFunction, body: string, reason: string) {
    await this.sqs.send(new SendMessageCommand({ QueueUrl: queue.url, MessageBody: body }));
    this.recordDeadLetter({ queue: queue.name, fn: fn.name, reason, at: Date.now(), body });
  }

  recordDeadLetter(d: DeadLetter) {
    this.deadLetters.push(d);
    this.emit("deadLetter", d);
  }

  private async receive(queue: LocalQueue, max: number, waitSeconds: number): Promise<Message[]> {
    const out = await this.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queue.url,
        MaxNumberOfMessages: Math.max(1, Math.min(10, max)),
        WaitTimeSeconds: waitSeconds,
        MessageAttributeNames: ["All"],
        MessageSystemAttributeNames: ["All"],
        AttributeNames: ["All"],
      }),
    );
    return out.Messages ?? [];
  }

  private async pollEventSource(source: LocalDeployment["eventSources"][number]): Promise<void> {
    const dlq = source.queue.redrive;
    while (this.running) {
      try {
        const batch: Message[] = [];
        const windowEnd = Date.now() + source.windowSeconds * 1000;
        do {
          batch.push(...(await this.receive(source.queue, source.batchSize - batch.length, 1)));
        } while (
          this.running &&
          batch.length < source.batchSize &&
          (batch.length === 0 || Date.now() < windowEnd)
        );
        if (!this.running || batch.length === 0) continue;
        const event = {
          Records: batch.map((m) =>
            sqsEventRecord(m, {
              queueArn: source.queue.plannedArn,
              region: source.queue.region,
              senderId: "AIDALOCALMODE",
            }),
          ),
        };
        const records = batch.map((m) => ({
          messageId: m.MessageId!,
          body: m.Body ?? "",
          receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? 1),
          sentAt: sentAt(m),
        }));
        const rec = await this.invoke(
          source.fn,
          "sqs",
          event,
          records,
          Math.max(...records.map((r) => r.receiveCount ?? 1)),
        );
        let failed: Set<string>;
        if (!rec.ok) failed = new Set(records.map((r) => r.messageId));
        else if (source.reportBatchItemFailures)
          failed = new Set(
            batchItemFailures(
              rec.result,
              records.map((r) => r.messageId),
            ),
          );
        else failed = new Set();
        rec.failedIds = [...failed];
        const succeeded = batch.filter((m) => !failed.has(m.MessageId!));
        const retry = batch.filter((m) => failed.has(m.MessageId!));
        for (let i = 0; i < succeeded.length; i += 10) {
          await this.sqs.send(
            new DeleteMessageBatchCommand({
              QueueUrl: source.queue.url,
              Entries: succeeded
                .slice(i, i + 10)
                .map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle! })),
            }),
          );
        }
        for (const m of retry)
          this.lastFailure.set(
            `${source.fn.name}|${m.Body ?? ""}`,
            rec.error?.errorMessage ?? failureReason(this.logsOf(source.fn.name), m.MessageId!),
          );
        if (retry.length) {
          // Failed records return to the queue; the emulator's redrive moves them to the DLQ once
          // maxReceiveCount is reached. AWS waits out the visibility timeout; locally it is short.
          await this.sqs.send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: source.queue.url,
              Entries: retry.map((m, j) => ({
                Id: String(j),
                ReceiptHandle: m.ReceiptHandle!,
                VisibilityTimeout: 0,
              })),
            }),
          );
          const maxReceive = dlq?.maxReceiveCount;
          for (const m of retry) {
            const count = Number(m.Attributes?.ApproximateReceiveCount ?? 1);
            if (dlq && maxReceive !== undefined && count >= maxReceive) {
              this.recordDeadLetter({
                queue: dlq.dlq.name,
                fn: source.fn.name,
                reason: this.lastFailure.get(`${source.fn.name}|${m.Body ?? ""}`)!,
                at: Date.now(),
                body: m.Body ?? "",
              });
            }
          }
          await sleep(this.retryDelayMs);
        }
      } catch (err) {
        if (this.running) this.emit("error", err);
        await sleep(200);
      }
    }
  }

  private async pollSnsBridge(queue: LocalQueue, fn: LocalFunction, subscriptionArn: string): Promise<void> {
    while (this.running) {
      try {
        const messages = await this.receive(queue, 10, 1);
        for (const m of messages) {
          const envelope = JSON.parse(m.Body ?? "{}") as SnsEnvelope;
          // Lambda is told the planned topic ARN the emulator's topic stands in for.
          const topic = this.deployment.topics.find((t) => t.arn === envelope.TopicArn);
          const event = {
            Records: [
              snsEventRecord(envelope, {
                subscriptionArn,
                topicArn: topic?.plannedArn,
                missing: { Signature: "EXAMPLE" },
              }),
            ],
          };
          const records = [
            {
              messageId: String(envelope.MessageId),
              body: String(envelope.Message ?? ""),
              sentAt: sentAt(m),
            },
          ];
          await this.invokeAsync(fn, "sns", event, records);
          await this.sqs.send(
            new DeleteMessageCommand({ QueueUrl: queue.url, ReceiptHandle: m.ReceiptHandle! }),
          );
        }
      } catch (err) {
        if (this.running) this.emit("error", err);
        await sleep(200);
      }
    }
  }

  /**
   * Lambda's asynchronous invocation (how SNS and EventBridge invoke a function): the first try and
   * the invoke config's maximumRetryAttempts retries, then the on-failure destination or the
   * function's DLQ. A function error never reaches the caller.
   */
  private async invokeAsync(
    fn: LocalFunction,
    trigger: InvocationRecord["trigger"],
    event: unknown,
    records: InvocationRecord["records"],
  ): Promise<InvocationRecord> {
    let last: InvocationRecord | undefined;
    for (let attempt = 1; attempt <= fn.asyncRetries + 1; attempt++) {
      last = await this.invoke(fn, trigger, event, records, attempt);
      if (last.ok || !this.running) return last;
      await sleep(this.retryDelayMs);
    }
    await this.asyncFailure(fn, event, last!);
    return last!;
  }

  private async asyncFailure(fn: LocalFunction, event: unknown, last: InvocationRecord) {
    if (fn.onFailureQueue) {
      // The record Lambda sends to an on-failure destination.
      const record = {
        version: "1.0",
        timestamp: new Date().toISOString(),
        requestContext: {
          requestId: randomUUID(),
          functionArn: `${fn.plannedArn}:$LATEST`,
          condition: "RetriesExhausted",
          approximateInvokeCount: last.attempt,
        },
        requestPayload: event,
        responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
        responsePayload: last.error,
      };
      await this.deadLetter(fn.onFailureQueue, fn, JSON.stringify(record), last.error!.errorMessage);
    } else if (fn.deadLetterQueue) {
      await this.deadLetter(fn.deadLetterQueue, fn, JSON.stringify(event), last.error!.errorMessage);
    } else {
      this.recordDeadLetter({
        queue: "(none: the event is lost)",
        fn: fn.name,
        reason: last.error!.errorMessage,
        at: Date.now(),
        body: "",
      });
    }
  }

  async stop(): Promise<void> {
    this.running = false;
    await Promise.allSettled(this.loops);
    await Promise.all([...this.instances.values()].map((i) => i.stop()));
    this.sqs.destroy();
  }
}

/** When SNS (or a sender) put the message in the queue. */
function sentAt(m: Message): number | undefined {
  const t = Number(m.Attributes?.SentTimestamp);
  return Number.isFinite(t) && t > 0 ? t : undefined;
}

function batchItemFailures(result: unknown, ids: string[]): string[] {
  const failures = (result as { batchItemFailures?: Array<{ itemIdentifier?: string }> } | null)
    ?.batchItemFailures;
  if (!Array.isArray(failures)) return [];
  // Lambda treats an unknown or empty identifier as a failure of the whole batch.
  if (failures.some((f) => !f.itemIdentifier || !ids.includes(f.itemIdentifier))) return ids;
  return failures.map((f) => f.itemIdentifier!);
}

/** The handler's logged error for a message id, from its JSON log lines. */
function failureReason(logs: string[], messageId: string): string {
  for (let i = logs.length - 1; i >= 0; i--) {
    const line = logs[i];
    if (!line.includes(messageId)) continue;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const err = entry.error as { message?: string } | string | undefined;
      const message = typeof err === "string" ? err : err?.message;
      if (message) return message;
      if (typeof entry.message === "string") return entry.message;
    } catch {
      return line.slice(0, 300);
    }
  }
  return "the handler reported the record as failed (batchItemFailures)";
}

/**
 * EventBridge pattern matching for the operators a routing rule uses: value lists, nested fields,
 * `prefix`, `suffix`, `exists`, `anything-but`, `equals-ignore-case`, and numeric comparisons.
 */
export function matchesPattern(pattern: Record<string, unknown>, event: Record<string, unknown>): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    const value = event[key];
    if (Array.isArray(rule)) {
      const values = Array.isArray(value) ? value : [value];
      if (!rule.some((r) => values.some((v) => matchValue(r, v, value !== undefined)))) return false;
    } else if (typeof rule === "object" && rule !== null) {
      if (typeof value !== "object" || value === null) return false;
      if (!matchesPattern(rule as Record<string, unknown>, value as Record<string, unknown>)) return false;
    } else {
      throw new Error(
        `event pattern field "${key}" must be a list or an object, got ${JSON.stringify(rule)}`,
      );
    }
  }
  return true;
}

function matchValue(rule: unknown, value: unknown, present: boolean): boolean {
  if (rule === null || typeof rule !== "object") return present && rule === value;
  const [op, arg] = Object.entries(rule as Record<string, unknown>)[0] ?? [];
  switch (op) {
    case "prefix":
      return typeof value === "string" && value.startsWith(String(arg));
    case "suffix":
      return typeof value === "string" && value.endsWith(String(arg));
    case "exists":
      return arg === present;
    case "equals-ignore-case":
      return typeof value === "string" && value.toLowerCase() === String(arg).toLowerCase();
    case "anything-but": {
      const excluded = Array.isArray(arg) ? arg : [arg];
      return present && !excluded.includes(value);
    }
    case "numeric": {
      if (typeof value !== "number") return false;
      const ops = arg as Array<string | number>;
      for (let i = 0; i < ops.length; i += 2) {
        const [cmp, n] = [ops[i], Number(ops[i + 1])];
        const ok =
          cmp === "<"
            ? value < n
            : cmp === "<="
              ? value <= n
              : cmp === ">"
                ? value > n
                : cmp === ">="
                  ? value >= n
                  : value === n;
        if (!ok) return false;
      }
      return true;
    }
    default:
      throw new Error(`event pattern operator ${JSON.stringify(op)} is not emulated locally`);
  }
}

function sleep(ms: number) {
  return new Promise((r) => setTimeout(r, ms));
}

/**
 * Loads every function's bundle with the environment the program sets, as a cold start would, and
 * reports each that fails: a handler needing a variable its component does not set fails here
 * with the handler's own message. Needs no emulator: clients are created but not called.
 */
export async function coldStartProblems(plan: Plan): Promise<Array<{ resource: string; message: string }>> {
  const unreachable = "http://127.0.0.1:9";
  const endpoints: Endpoints = {
    sqs: unreachable,
    sns: unreachable,
    s3: unreachable,
    sfn: unreachable,
    ecs: unreachable,
  };
  const results = await Promise.all(
    plan.resources
      .filter((r) => r.type === T.fn)
      .map(async (r) => {
        let fn: LocalFunction;
        try {
          fn = functionOf(r);
        } catch (err) {
          if (err instanceof LocalDeployError)
            return { resource: label(r), message: err.message.replace(`${label(r)}: `, "") };
          throw err;
        }
        const instance = new FunctionInstance(fn, endpoints);
        try {
          const error = await instance.coldStart();
          return error
            ? { resource: label(r), message: `fails at cold start (${fn.handlerName}): ${error}` }
            : undefined;
        } finally {
          await instance.stop();
        }
      }),
  );
  return results.filter((p): p is { resource: string; message: string } => p !== undefined);
}
