// The work a subscriber starts once a payload is resolved: a Step Functions execution or an ECS
// task, chosen by DOWNSTREAM, so either subscriber kind can use either downstream.
import { createHash } from "node:crypto";
import type * as Ecs from "@aws-sdk/client-ecs";
import type * as Sfn from "@aws-sdk/client-sfn";
import type { DownstreamConfig } from "./config";
import { PROMPT_CALL_TIMEOUTS } from "./deadline";

/** What the downstream receives: small, whatever the payload's size. */
export interface PayloadSummary {
  subscriber: string;
  messageId: string;
  pointer: { s3BucketName: string; s3Key: string } | null;
  size: number;
  sha256: string;
  attributes: Record<string, { DataType: string; StringValue?: string; BinaryValue?: string }>;
  /** The first SUMMARY_PREVIEW_BYTES bytes, when the payload is UTF-8 text. */
  preview?: string;
  /**
   * Offloaded payloads: where the bytes were read ("replica" or "origin") and why (e.g.
   * "replica-hit", "replica-missing", "no-replica"). `pointer` names the origin either way.
   */
  readFrom?: { from: "replica" | "origin"; reason: string };
}

export interface Downstream {
  readonly kind: DownstreamConfig["kind"];
  /** Starts the downstream for one payload. Idempotent per message id. `signal` aborts the call. */
  start(summary: PayloadSummary, signal?: AbortSignal): Promise<{ id?: string; duplicate?: boolean }>;
}

/** The container override env variable that carries the summary to the ECS task. */
export const SUMMARY_ENV = "PAYLOAD_SUMMARY";
/** ECS refuses RunTask overrides over 8 KiB in total. */
const ECS_OVERRIDE_LIMIT = 8192;

/**
 * Deterministic execution name for a message, so an SQS redelivery cannot start a second execution:
 * Step Functions allows [0-9A-Za-z_-], at most 80 characters.
 */
export function executionName(messageId: string): string {
  if (/^[0-9A-Za-z_-]{1,76}$/.test(messageId)) return `msg-${messageId}`;
  return `msh-${createHash("sha256").update(messageId).digest("hex")}`;
}

/** RunTask clientToken (≤ 64 characters) for a message: an SNS retry then cannot run a second task. */
export function taskToken(messageId: string): string {
  return createHash("sha256").update(messageId).digest("hex").slice(0, 64);
}

/**
 * @param traced wraps each SDK client, e.g. to trace its calls: X-Ray passes the trace on to the
 * execution or task it starts.
 */
export function createDownstream(
  config: DownstreamConfig,
  traced: <T>(client: T) => T = (c) => c,
): Downstream {
  switch (config.kind) {
    case "none":
      return { kind: "none", start: async () => ({}) };
    case "stepfunctions": {
      // Initialised only for the downstream in use: each SDK client adds to the cold start.
      const { SFNClient, StartExecutionCommand } = require("@aws-sdk/client-sfn") as typeof Sfn;
      const sfn = traced(new SFNClient({ requestHandler: PROMPT_CALL_TIMEOUTS }));
      return {
        kind: "stepfunctions",
        async start(summary, signal) {
          try {
            const out = await sfn.send(
              new StartExecutionCommand({
                stateMachineArn: config.stateMachineArn,
                name: executionName(summary.messageId),
                input: JSON.stringify(summary),
              }),
              signal ? { abortSignal: signal } : undefined,
            );
            return { id: out.executionArn };
          } catch (error) {
            // The name is derived from the message id and the summary from the message, so an
            // existing execution of that name was started for this very message by an earlier delivery.
            if ((error as { name?: string }).name === "ExecutionAlreadyExists") return { duplicate: true };
            throw error;
          }
        },
      };
    }
    case "ecs": {
      const { ECSClient, RunTaskCommand } = require("@aws-sdk/client-ecs") as typeof Ecs;
      const ecs = traced(new ECSClient({ requestHandler: PROMPT_CALL_TIMEOUTS }));
      return {
        kind: "ecs",
        async start(summary, signal) {
          let value = JSON.stringify(summary);
          if (Buffer.byteLength(value) > ECS_OVERRIDE_LIMIT - 512) {
            const { preview: _dropped, ...withoutPreview } = summary;
            value = JSON.stringify(withoutPreview);
          }
          if (Buffer.byteLength(value) > ECS_OVERRIDE_LIMIT - 512) {
            throw new Error(
              `payload summary is ${Buffer.byteLength(value)} bytes, too large for an ECS container override (8 KiB); shorten the message attributes`,
            );
          }
          const out = await ecs.send(
            new RunTaskCommand({
              cluster: config.clusterArn,
              taskDefinition: config.taskDefinitionArn,
              launchType: "FARGATE",
              clientToken: taskToken(summary.messageId),
              networkConfiguration: {
                awsvpcConfiguration: {
                  subnets: config.subnetIds,
                  securityGroups: config.securityGroupIds.length ? config.securityGroupIds : undefined,
                  assignPublicIp: "DISABLED",
                },
              },
              overrides: {
                containerOverrides: [
                  { name: config.containerName, environment: [{ name: SUMMARY_ENV, value }] },
                ],
              },
            }),
            signal ? { abortSignal: signal } : undefined,
          );
          const failure = out.failures?.[0];
          if (failure || !out.tasks?.length) {
            throw new Error(
              `ECS RunTask started no task: ${failure ? `${failure.reason} (${failure.arn ?? ""} ${failure.detail ?? ""})` : "no task and no failure returned"}`,
            );
          }
          return { id: out.tasks[0].taskArn };
        },
      };
    }
  }
}
