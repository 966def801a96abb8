// The pointer body that replaces an offloaded payload, as AWS's Java and Python extended clients
// write and read it (docs/payload.md, "Wire format").
import { PayloadError } from "./errors";

/** Where an offloaded payload lives. Field order matters for byte-exact output. */
export interface PayloadPointer {
  s3BucketName: string;
  s3Key: string;
}

/** The class name every current client writes. */
export const POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer";
/** The class name the original SQS Java client wrote; still accepted on read. */
export const LEGACY_POINTER_CLASS = "com.amazon.sqs.javamessaging.MessageS3Pointer";

/**
 * Gives exactly the Java writer's bytes: compact JSON, `s3BucketName` before `s3Key`.
 * @throws PayloadError (InvalidPointer) when a field is not a non-empty string.
 *
 * @example
 * formatPointer({ s3BucketName: "payloads", s3Key: "payloads/3f2a" });
 * // '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"payloads","s3Key":"payloads/3f2a"}]'
 */
export function formatPointer({ s3BucketName, s3Key }: PayloadPointer): string {
  for (const [field, value] of [
    ["s3BucketName", s3BucketName],
    ["s3Key", s3Key],
  ] as const) {
    if (typeof value !== "string" || value.length === 0) {
      throw new PayloadError(
        "InvalidPointer",
        `pointer ${field} must be a non-empty string, got ${JSON.stringify(value)}`,
      );
    }
  }
  return JSON.stringify([POINTER_CLASS, { s3BucketName, s3Key }]);
}

/**
 * Parses a pointer body written by any of the extended clients. It parses JSON rather than
 * comparing strings, because the Python clients add spaces and other writers may reorder keys or add
 * fields.
 * @throws PayloadError (MalformedPointer) saying which rule the text broke.
 *
 * @example const { s3BucketName, s3Key } = parsePointer(message.Body!); // {s3BucketName: "payloads", s3Key: "payloads/3f2a"}
 */
export function parsePointer(text: string): PayloadPointer {
  const shown = preview(text);
  if (typeof text !== "string") {
    throw new PayloadError("MalformedPointer", `pointer must be a string, got ${typeof text}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PayloadError("MalformedPointer", `pointer is not JSON: ${shown}`);
  }
  if (!Array.isArray(parsed)) {
    throw new PayloadError(
      "MalformedPointer",
      `pointer must be a JSON array [className, {s3BucketName, s3Key}] (no wrapper found): ${shown}`,
    );
  }
  if (parsed.length !== 2) {
    throw new PayloadError(
      "MalformedPointer",
      `pointer array must have 2 elements, has ${parsed.length}: ${shown}`,
    );
  }
  const [className, fields] = parsed as [unknown, unknown];
  if (className !== POINTER_CLASS && className !== LEGACY_POINTER_CLASS) {
    throw new PayloadError(
      "MalformedPointer",
      `pointer class name ${JSON.stringify(className)} is not ${POINTER_CLASS} or ${LEGACY_POINTER_CLASS}`,
    );
  }
  if (typeof fields !== "object" || fields === null || Array.isArray(fields)) {
    throw new PayloadError("MalformedPointer", `pointer second element must be an object: ${shown}`);
  }
  const { s3BucketName, s3Key } = fields as Record<string, unknown>;
  for (const [field, value] of [
    ["s3BucketName", s3BucketName],
    ["s3Key", s3Key],
  ] as const) {
    if (value === undefined)
      throw new PayloadError("MalformedPointer", `pointer is missing ${field}: ${shown}`);
    if (typeof value !== "string" || value.length === 0) {
      throw new PayloadError(
        "MalformedPointer",
        `pointer ${field} must be a non-empty string, got ${JSON.stringify(value)}`,
      );
    }
  }
  return { s3BucketName: s3BucketName as string, s3Key: s3Key as string };
}

function preview(text: unknown): string {
  const s = String(text);
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}
