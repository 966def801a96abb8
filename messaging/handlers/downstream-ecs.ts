// The ECS downstream: one Fargate task per message, the summary in its container's environment. Its
// own module so that only the subscriber bundles built for it carry the ECS client (downstream.ts).
import { createHash } from "node:crypto";
import { ECSClient, RunTaskCommand } from "@aws-sdk/client-ecs";
import type { DownstreamConfig } from "./config";
import { PROMPT_CALL_TIMEOUTS } from "./deadline";
import type { Downstream, Traced } from "./downstream";

/** The container override env variable that carries the summary to the ECS task. */
export const SUMMARY_ENV = "PAYLOAD_SUMMARY";
/** ECS refuses RunTask overrides over 8 KiB in total. */
const ECS_OVERRIDE_LIMIT = 8192;

/**
 * RunTask clientToken for a message: an SNS retry then cannot run a second task. A SHA-256 in hex
 * is 64 characters, ECS's limit for the token.
 */
export function taskToken(messageId: string): string {
  return createHash("sha256").update(messageId).digest("hex");
}

export function ecsDownstream(
  config: Extract<DownstreamConfig, { kind: "ecs" }>,
  traced: Traced,
): Downstream {
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
            containerOverrides: [{ name: config.containerName, environment: [{ name: SUMMARY_ENV, value }] }],
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
