import { createHash } from "crypto";

// AWS name limits (docs/messaging.md, "AWS pitfalls"). A name derived from the topology that would exceed its limit is
// shortened deterministically — same input, same output — so every stack computes the same name
// for a resource another stack owns.
export const NameLimits = {
  lambdaFunction: 64,
  iamRole: 64,
  eventRule: 64,
  eventBus: 256,
  s3Bucket: 63,
  sqsQueue: 80,
  snsTopic: 256,
  stateMachine: 80,
  ecsCluster: 255,
  ecsTaskFamily: 255,
  kmsAlias: 256,
  logGroup: 512,
} as const;

/**
 * Returns `name` if it fits in `max` characters; otherwise a prefix of it joined to the first
 * 8 hex digits of the SHA-256 of the full name, so distinct long names stay distinct.
 *
 * @example
 * boundedName("fieldnotes-subscriber-b-consume-queue-us-west-2-a-very-long-name-indeed", 64);
 * // "fieldnotes-subscriber-b-consume-queue-us-west-2-a-very-f62f7413"
 */
export function boundedName(name: string, max: number): string {
  if (name.length <= max) return name;
  const digest = createHash("sha256").update(name).digest("hex").slice(0, 8);
  const prefix = name.slice(0, max - digest.length - 1).replace(/[-.]+$/, "");
  return `${prefix}-${digest}`;
}
