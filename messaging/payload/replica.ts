// Read-through from a Region-local replica of the payload bucket (S3 Replication). The pointer on the
// wire names the origin; a reader configured with a replica for that origin reads the replica when
// it is ready, and the origin when it is not, with the same verification either way.
//
// Replication is asynchronous, and the checksum tag is written after the object (PutObjectTagging
// once the last byte's digest is known), so it replicates as a separate, later operation: a replica
// can be missing, present without its tag, or complete. The origin's tag is the authority: it is
// what the publisher wrote before publishing the pointer.
//
// The common case (replica complete) costs one origin request: GetObjectTagging, a few hundred bytes,
// sent at the same time as the replica's GetObject and GetObjectTagging, so its round trip overlaps
// theirs; no payload byte crosses Regions. Skipping it would save that request, but a replica whose
// tag differs from the origin's (the replica bucket written by anything but replication) can only be
// detected by asking the origin, and the tag comparison happens before the first byte is handed
// out, so a mismatch falls back to the origin cleanly instead of failing a half-read stream.
import type { GetObjectCommandOutput, S3Client } from "@aws-sdk/client-s3";
import { PayloadLayout } from "../contract";
import { PayloadError } from "./errors";
import type { PayloadPointer } from "./pointer";
import {
  assertLocationAllowed,
  discardObject,
  getObject,
  isMissingObject,
  missingPayload,
  openPayload,
  readChecksumTag,
  verifyingStream,
  type OpenOptions,
  type PayloadReadReason,
  type PayloadStream,
  type Settled,
} from "./store";

/** A replica of one origin bucket, in the reader's own Region. */
export interface ReplicaLocation {
  /** The replica bucket: S3 Replication keeps the key, so the pointer's key is read there. */
  bucket: string;
  /** Client for the replica's Region (the reader's own); default: the reader's `s3`. */
  s3?: S3Client;
}

/** Replicas by origin bucket name. */
export type ReplicaMap = Readonly<Record<string, ReplicaLocation>>;

/** How long a read waits for the origin's tag once the replica is known complete (default). */
export const DEFAULT_ORIGIN_TAG_WAIT_MS = 3_000;

export interface ReplicaReadOptions extends OpenOptions {
  replicas?: ReplicaMap;
  /**
   * Once the replica has answered with its object and checksum tag, how long to wait for the
   * origin's tag before serving the replica verified against its own tag, as in an outage. Bounds
   * what a stalled origin (no answer until the SDK's timeouts and retries give up) costs each read.
   */
  originTagWaitMs?: number;
  /** Read the origin whatever the replicas say (after the replica failed verification). */
  originOnly?: PayloadReadReason;
}

/**
 * A checksum tag's value: 64 hex digits. A function rather than a module-level pattern: Stryker did
 * not switch the module-level one per test (docs/mutation.md).
 */
function isSha256Hex(value: string): boolean {
  return /^[0-9a-f]{64}$/i.test(value);
}

/**
 * Checks a reader's replicas: every origin and every replica bucket is in the allow-list (a replica
 * is a location like any other: the reader's credentials must not read outside it), a replica is not
 * its own origin, and `originTagWaitMs` is a whole number of milliseconds.
 * @throws PayloadError (InvalidOption) naming the entry.
 */
export function validateReplicaOptions(
  opts: Pick<ReplicaReadOptions, "replicas" | "originTagWaitMs" | "allowedBuckets">,
): void {
  const wait = opts.originTagWaitMs;
  if (wait !== undefined && (!Number.isInteger(wait) || wait < 0 || wait > 900_000)) {
    throw new PayloadError(
      "InvalidOption",
      `originTagWaitMs must be an integer from 0 to 900000, got ${JSON.stringify(wait)}`,
    );
  }
  const replicas = opts.replicas;
  if (replicas === undefined) return;
  if (typeof replicas !== "object" || replicas === null || Array.isArray(replicas)) {
    throw new PayloadError("InvalidOption", "replicas must be an object of originBucket: { bucket }");
  }
  for (const [origin, replica] of Object.entries(replicas)) {
    const bucket = (replica as Partial<ReplicaLocation> | null)?.bucket;
    if (typeof bucket !== "string" || bucket.length === 0) {
      throw new PayloadError(
        "InvalidOption",
        `replicas["${origin}"].bucket must be a non-empty string, got ${JSON.stringify(bucket)}`,
      );
    }
    if (bucket === origin) {
      throw new PayloadError("InvalidOption", `replicas["${origin}"] names the origin itself as its replica`);
    }
    for (const [what, name] of [
      ["origin", origin],
      ["replica", bucket],
    ]) {
      if (!opts.allowedBuckets.includes(name)) {
        throw new PayloadError(
          "InvalidOption",
          `replicas["${origin}"]: the ${what} bucket "${name}" is not in the allow-list [${opts.allowedBuckets.join(", ")}]`,
        );
      }
    }
  }
}

/**
 * True when an error means the origin could not answer: no HTTP response (connection refused or
 * reset, a timeout) or a 5xx. A 403 or 404 is an answer: the origin is up and says no.
 */
export function isUnavailable(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return status === undefined || status >= 500;
}

/** An S3 call's error in a line: what the SDK rejects with is always an Error, its status in `$metadata`. */
function describe(error: unknown): string {
  const e = error as Error & { $metadata?: { httpStatusCode?: number } };
  const status = e.$metadata?.httpStatusCode;
  return `${e.name}${status ? ` (HTTP ${status})` : ""}: ${e.message}`;
}

/** The origin's tag, or a timeout outcome when it has not answered within `ms`. */
async function originTagWithin(
  tag: Promise<Settled<string | undefined>>,
  ms: number,
): Promise<Settled<string | undefined> | { ok: false; waited: true }> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<{ ok: false; waited: true }>((resolve) => {
    // Stryker disable next-line BooleanLiteral: the caller tests for the key ("waited" in), not its value.
    timer = setTimeout(() => resolve({ ok: false, waited: true }), ms);
  });
  try {
    return await Promise.race([tag, waited]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Opens an offloaded payload from the replica configured for its bucket when the replica is ready,
 * from the origin otherwise; the stream's `readFrom` says which and why. Without a replica for the
 * bucket it is {@link openPayload}.
 *
 * Rules, decided before the first byte is handed out:
 * - replica object and tag equal to the origin's tag: the replica, verified against that tag;
 * - replica missing (404) or unreadable, untagged while the origin has a tag, or tagged differently
 *   from the origin: the origin (its tag read is reused);
 * - origin unavailable (no answer, 5xx): a replica with a valid checksum tag is served, verified
 *   against it (tags replicate: it is the tag the publisher wrote); a replica without one is not,
 *   and the read fails with OriginUnavailable, so the message is retried, never delivered unverified;
 * - origin answers 404 or 403: its error, as without a replica (an expired payload is expired).
 *
 * @example
 * const replicas = { "payloads-use1": { bucket: "payloads-usw2" } };
 * const stream = await openPayloadFrom(pointer, { s3, allowedBuckets: ["payloads-use1", "payloads-usw2"], replicas });
 */
export async function openPayloadFrom(
  pointer: PayloadPointer,
  opts: ReplicaReadOptions,
): Promise<PayloadStream> {
  assertLocationAllowed(pointer, opts);
  const replica = opts.replicas?.[pointer.s3BucketName];
  if (replica === undefined) return openPayload(pointer, opts);
  if (opts.originOnly !== undefined) {
    const stream = await openPayload(pointer, opts);
    stream.readFrom = { from: "origin", bucket: pointer.s3BucketName, reason: opts.originOnly };
    return stream;
  }
  const at: PayloadPointer = { s3BucketName: replica.bucket, s3Key: pointer.s3Key };
  // The replica key is the pointer's key, but its bucket is another location: checked like one.
  assertLocationAllowed(at, opts);
  const replicaS3 = replica.s3 ?? opts.s3;
  const originTag = readChecksumTag(opts.s3, pointer, opts.signal);
  const [object, tag] = await Promise.all([
    getObject(replicaS3, at, opts.signal),
    readChecksumTag(replicaS3, at, opts.signal),
  ]);
  const fromOrigin = async (reason: PayloadReadReason, detail?: string): Promise<PayloadStream> => {
    discardObject(object);
    const stream = await openPayload(pointer, opts, originTag);
    stream.readFrom = {
      from: "origin",
      bucket: pointer.s3BucketName,
      reason,
      ...(detail !== undefined ? { detail } : {}),
    };
    return stream;
  };
  const fromReplica = async (
    value: GetObjectCommandOutput,
    expected: string | undefined,
    reason: PayloadReadReason,
    detail?: string,
  ): Promise<PayloadStream> => {
    let stream: PayloadStream;
    try {
      stream = verifyingStream(at, value, expected, opts);
    } catch (error) {
      // A replica whose size differs from the marker's is not read; the origin decides, if it answers.
      if (error instanceof PayloadError && error.code === "SizeMismatch" && reason !== "origin-unavailable") {
        return fromOrigin("replica-verify-failed", error.message);
      }
      throw error;
    }
    stream.readFrom = {
      from: "replica",
      bucket: at.s3BucketName,
      reason,
      ...(detail !== undefined ? { detail } : {}),
    };
    return stream;
  };
  if (opts.signal?.aborted) {
    discardObject(object);
    throw opts.signal.reason;
  }
  if (!object.ok || !tag.ok) {
    const error = object.ok ? (tag as { error: unknown }).error : object.error;
    return fromOrigin(isMissingObject(error) ? "replica-missing" : "replica-unavailable", describe(error));
  }
  const replicaSha =
    // Stryker disable next-line ConditionalExpression: isSha256Hex(undefined) tests "undefined", which is no SHA-256 either; the check is for the compiler.
    tag.value !== undefined && isSha256Hex(tag.value) ? tag.value.toLowerCase() : undefined;
  const origin = replicaSha
    ? await originTagWithin(originTag, opts.originTagWaitMs ?? DEFAULT_ORIGIN_TAG_WAIT_MS)
    : await originTag;
  if (opts.signal?.aborted) {
    discardObject(object);
    throw opts.signal.reason;
  }
  if (!origin.ok) {
    const waited = "waited" in origin;
    const error = waited ? undefined : (origin as { error: unknown }).error;
    if (waited || isUnavailable(error)) {
      const why = waited
        ? `the origin's tag did not arrive within ${opts.originTagWaitMs ?? DEFAULT_ORIGIN_TAG_WAIT_MS} ms`
        : `the origin did not answer: ${describe(error)}`;
      if (replicaSha) return fromReplica(object.value, replicaSha, "origin-unavailable", why);
      discardObject(object);
      throw new PayloadError(
        "OriginUnavailable",
        `payload s3://${pointer.s3BucketName}/${pointer.s3Key}: ${why}, and the replica ` +
          `s3://${at.s3BucketName}/${at.s3Key} has no valid ${PayloadLayout.sha256Tag} tag to verify it against; ` +
          "not delivered unverified (retry)",
        { cause: error },
      );
    }
    discardObject(object);
    throw isMissingObject(error) ? missingPayload(pointer, error) : error;
  }
  const originSha = origin.value?.toLowerCase();
  if (replicaSha === undefined) {
    if (originSha !== undefined) {
      const detail =
        tag.value === undefined
          ? undefined
          : `its tag ${JSON.stringify(tag.value.slice(0, 80))} is not a SHA-256`;
      return fromOrigin("replica-untagged", detail);
    }
    // Neither location has a checksum (AWS's Java and Python clients write none): the replica's
    // bytes are checked against the marker's size, as the origin's would be.
    if (tag.value === undefined) return fromReplica(object.value, undefined, "replica-hit");
    return fromOrigin("replica-tag-mismatch", `the replica's tag is not a SHA-256 and the origin has none`);
  }
  if (originSha !== replicaSha) {
    return fromOrigin(
      "replica-tag-mismatch",
      `replica tag ${replicaSha}, origin tag ${originSha ?? "(none)"}`,
    );
  }
  return fromReplica(object.value, replicaSha, "replica-hit");
}
