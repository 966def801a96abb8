// A loopback stand-in for the Step Functions and ECS APIs: the handlers' downstream calls
// (StartExecution, RunTask) are recorded and answered, never executed. The handlers reach it through
// AWS_ENDPOINT_URL_SFN / AWS_ENDPOINT_URL_ECS, so their code runs unchanged.
import { randomUUID } from "crypto";
import * as http from "http";
import type { AddressInfo } from "net";

export interface DownstreamCall {
  /** "states:StartExecution" or "ecs:RunTask". */
  action: string;
  at: number;
  request: Record<string, unknown>;
  /** The payload summary the handler passed on (execution input / container override), parsed. */
  summary?: Record<string, unknown>;
}

export interface DownstreamRecorder {
  endpoint: string;
  calls: DownstreamCall[];
  onCall(listener: (call: DownstreamCall) => void): void;
  /** Calls answered as a repeat of an earlier one (same execution name and input, same RunTask clientToken). */
  repeats(): number;
  stop(): Promise<void>;
}

const targets: Record<string, string> = {
  "AWSStepFunctions.StartExecution": "states:StartExecution",
  "AmazonEC2ContainerServiceV20141113.RunTask": "ecs:RunTask",
};

export async function startDownstreamRecorder(): Promise<DownstreamRecorder> {
  const calls: DownstreamCall[] = [];
  const listeners: Array<(call: DownstreamCall) => void> = [];
  const executions = new Map<string, string>();
  // RunTask's clientToken makes the call idempotent within a cluster: a repeat with the same
  // parameters gets the first call's answer, with other parameters a ConflictException
  // (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/ECS_Idempotency.html).
  const tasks = new Map<string, { taskArn: string; request: string }>();
  let repeats = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const target = String(req.headers["x-amz-target"] ?? "");
      const action = targets[target];
      const reply = (status: number, body: unknown, type = "application/x-amz-json-1.0") => {
        res.writeHead(status, { "content-type": type });
        res.end(JSON.stringify(body));
      };
      if (!action) {
        reply(400, {
          __type: "UnknownOperationException",
          message: `local mode records only StartExecution and RunTask, not ${target}`,
        });
        return;
      }
      let request: Record<string, unknown>;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        reply(400, { __type: "SerializationException", message: "request body is not JSON" });
        return;
      }
      const call: DownstreamCall = { action, at: Date.now(), request, summary: summaryOf(action, request) };
      if (action === "states:StartExecution") {
        const arn = String(request.stateMachineArn ?? "");
        const name = String(request.name ?? randomUUID());
        const key = `${arn}|${name}`;
        const prior = executions.get(key);
        const input = String(request.input ?? "{}");
        // Step Functions: the same name with a different input is refused; the same input is idempotent.
        if (prior !== undefined && prior !== input) {
          reply(400, { __type: "ExecutionAlreadyExists", message: `Execution Already Exists: '${name}'` });
          return;
        }
        const repeated = prior !== undefined;
        executions.set(key, input);
        if (repeated) repeats++;
        else record(call);
        const executionArn = arn.replace(":stateMachine:", ":execution:") + `:${name}`;
        reply(200, { executionArn, startDate: Date.now() / 1000 });
        return;
      }
      const cluster = String(request.cluster ?? "default");
      const token = typeof request.clientToken === "string" ? `${cluster}|${request.clientToken}` : undefined;
      const prior = token ? tasks.get(token) : undefined;
      const { clientToken: _token, ...params } = request;
      if (prior && prior.request !== JSON.stringify(params)) {
        reply(
          400,
          {
            __type: "ConflictException",
            message: `clientToken ${String(request.clientToken)} was used with other parameters`,
          },
          "application/x-amz-json-1.1",
        );
        return;
      }
      let taskArn = prior?.taskArn;
      if (taskArn) repeats++;
      else {
        record(call);
        taskArn = `${cluster.replace(":cluster/", ":task/")}/${randomUUID().replace(/-/g, "")}`;
        if (token) tasks.set(token, { taskArn, request: JSON.stringify(params) });
      }
      reply(
        200,
        {
          tasks: [{ taskArn, lastStatus: "PROVISIONING", taskDefinitionArn: request.taskDefinition }],
          failures: [],
        },
        "application/x-amz-json-1.1",
      );
    });
  });
  function record(call: DownstreamCall) {
    calls.push(call);
    for (const l of listeners) l(call);
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    onCall: (l) => listeners.push(l),
    repeats: () => repeats,
    stop: () => (stopped ??= new Promise<void>((resolve) => server.close(() => resolve()))),
  };
}

function summaryOf(action: string, request: Record<string, unknown>): Record<string, unknown> | undefined {
  const parse = (text: unknown) => {
    try {
      return typeof text === "string" ? (JSON.parse(text) as Record<string, unknown>) : undefined;
    } catch {
      return undefined;
    }
  };
  if (action === "states:StartExecution") return parse(request.input);
  const overrides = (
    request.overrides as {
      containerOverrides?: Array<{ environment?: Array<{ name: string; value: string }> }>;
    }
  )?.containerOverrides;
  for (const o of overrides ?? []) {
    const v = o.environment?.find((e) => e.name === "PAYLOAD_SUMMARY")?.value;
    if (v) return parse(v);
  }
  return undefined;
}
