// The Step Functions downstream: one execution per message. Its own module so that only the
// subscriber bundles built for it carry the Step Functions client (downstream.ts).
import { createHash } from "node:crypto";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { DownstreamConfig } from "./config";
import { PROMPT_CALL_TIMEOUTS } from "./deadline";
import type { Downstream, Traced } from "./downstream";

/**
 * Deterministic execution name for a message, so an SQS redelivery cannot start a second execution:
 * Step Functions allows [0-9A-Za-z_-], at most 80 characters.
 */
export function executionName(messageId: string): string {
  if (/^[0-9A-Za-z_-]{1,76}$/.test(messageId)) return `msg-${messageId}`;
  return `msh-${createHash("sha256").update(messageId).digest("hex")}`;
}

export function stepFunctionsDownstream(
  config: Extract<DownstreamConfig, { kind: "stepfunctions" }>,
  traced: Traced,
): Downstream {
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
