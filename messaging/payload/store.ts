// Moving payload bytes in and out of S3: streaming multipart upload with bounded memory, server-side
// copy, and reads verified against the SHA-256 tag.
import { createHash, randomUUID, type Hash } from "node:crypto";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type GetObjectCommandOutput,
  type ObjectCannedACL,
  type S3Client,
} from "@aws-sdk/client-s3";
import { PayloadLayout } from "../contract";
import { PayloadError } from "./errors";
import type { PayloadPointer } from "./pointer";

const MiB = 1024 * 1024;
/** S3's floor for every part but the last. */
const MIN_PART = 5 * MiB;
/**
 * The defaults of {@link StoreOptions}, as the code applies them (the TSDoc `@default` of each
 * option is checked against these by test/payload/option-defaults.spec.ts). 8 MiB parts: fauxqs
 * refuses request bodies over 11 MiB, and S3 gains nothing from larger parts at this rate.
 */
export const STORE_DEFAULTS = {
  keyPrefix: "",
  sseKms: false,
  partSizeBytes: 8 * MiB,
  queueSize: 4,
} as const;
const DEFAULT_PART = STORE_DEFAULTS.partSizeBytes;
// S3's multipart limits: https://docs.aws.amazon.com/AmazonS3/latest/userguide/qfacts.html
const MAX_PARTS = 10_000;
/** The largest part, and the largest object one CopyObject (or PutObject) writes. */
const MAX_PART = 5 * 1024 * MiB;
/** The largest object S3 holds: 5 TiB. */
const MAX_OBJECT = 5 * 1024 * 1024 * MiB;
/** CopyObject copies at most 5 GiB; beyond that the copy is multipart (UploadPartCopy). */
const MAX_SINGLE_COPY = MAX_PART;
/** Copy part size when 10,000 of them cover the source: few requests, each well under 5 GiB. */
const COPY_PART = 512 * MiB;

/** A payload body: text, bytes, or a stream of unknown length. */
export type PayloadBody = string | Uint8Array | Readable;

/** A payload already in S3, copied server-side instead of passing through the process. */
export interface S3Source {
  bucket: string;
  key: string;
}

/** Where and how offloaded payloads are written. */
export interface StoreOptions {
  s3: S3Client;
  /** Bucket payloads are written to. */
  bucket: string;
  /**
   * Prefix of every key, concatenated with no separator (write "payloads/"). Only [a-zA-Z0-9./_-],
   * not starting with "." or "/", no "..", at most 988 characters.
   * @default ""
   */
  keyPrefix?: string;
  /**
   * Write with SSE-KMS ("aws:kms"); implied by `kmsKeyId`.
   * @default false
   */
  sseKms?: boolean;
  /**
   * KMS key id or ARN for SSE-KMS; without it S3 uses the bucket's default key.
   * @default none (the bucket's default key when SSE-KMS is on)
   */
  kmsKeyId?: string;
  /**
   * Canned ACL, e.g. "bucket-owner-full-control" when writing into another account's bucket.
   * @default none (the bucket's object ownership applies)
   */
  acl?: ObjectCannedACL;
  /**
   * Multipart part size, 5–10 MiB. Memory is about (queueSize + 1) × partSize.
   * @default 8 * 1024 * 1024
   */
  partSizeBytes?: number;
  /**
   * Parts uploaded concurrently, 1–64.
   * @default 4
   */
  queueSize?: number;
  /**
   * Aborts the S3 requests (a started multipart upload is still aborted after it), e.g. when the
   * caller's deadline passes.
   * @default none (no deadline)
   */
  signal?: AbortSignal;
}

/** An object the store wrote. */
export interface StoredPayload {
  pointer: PayloadPointer;
  size: number;
  /** Hex SHA-256 of the bytes; undefined for a copied source that carried no checksum tag. */
  sha256?: string;
  /** A copied source's ETag: identifies its content when the SHA-256 is unknown. */
  sourceETag?: string;
}

/**
 * Validates a key prefix as the extended clients do.
 * @throws PayloadError (InvalidOption) naming the prefix and the rule it breaks.
 *
 * @example
 * validateKeyPrefix("payloads/"); // fine
 * validateKeyPrefix("/payloads"); // throws PayloadError: keyPrefix "/payloads" must not start with "." or "/"
 */
export function validateKeyPrefix(prefix: string): void {
  const shown = JSON.stringify(prefix);
  if (typeof prefix !== "string")
    throw new PayloadError("InvalidOption", `keyPrefix must be a string, got ${typeof prefix}`);
  if (prefix.length > 988)
    throw new PayloadError("InvalidOption", `keyPrefix is ${prefix.length} characters, at most 988 allowed`);
  if (!/^[a-zA-Z0-9./_-]*$/.test(prefix)) {
    throw new PayloadError("InvalidOption", `keyPrefix ${shown} may only contain [a-zA-Z0-9./_-]`);
  }
  if (prefix.startsWith(".") || prefix.startsWith("/")) {
    throw new PayloadError("InvalidOption", `keyPrefix ${shown} must not start with "." or "/"`);
  }
  if (prefix.includes(".."))
    throw new PayloadError("InvalidOption", `keyPrefix ${shown} must not contain ".."`);
}

/** Checks store options up front, so a misconfiguration fails before any byte is read. */
export function validateStoreOptions(opts: StoreOptions): void {
  if (typeof opts.bucket !== "string" || opts.bucket.length === 0) {
    throw new PayloadError(
      "InvalidOption",
      `bucket must be a non-empty string, got ${JSON.stringify(opts.bucket)}`,
    );
  }
  validateKeyPrefix(opts.keyPrefix ?? STORE_DEFAULTS.keyPrefix);
  const part = opts.partSizeBytes ?? DEFAULT_PART;
  if (!Number.isInteger(part) || part < MIN_PART || part > MAX_PART) {
    throw new PayloadError(
      "InvalidOption",
      `partSizeBytes must be an integer from ${MIN_PART} to 5 GiB, got ${part}`,
    );
  }
  const queue = opts.queueSize ?? STORE_DEFAULTS.queueSize;
  if (!Number.isInteger(queue) || queue < 1 || queue > 64) {
    throw new PayloadError("InvalidOption", `queueSize must be an integer from 1 to 64, got ${queue}`);
  }
}

/** Per-request options that carry the caller's abort signal, if any. */
function requestOptions(signal: AbortSignal | undefined): { abortSignal: AbortSignal } | undefined {
  return signal ? { abortSignal: signal } : undefined;
}

function encryption(opts: StoreOptions) {
  return {
    ...(opts.sseKms || opts.kmsKeyId ? { ServerSideEncryption: "aws:kms" as const } : {}),
    ...(opts.kmsKeyId ? { SSEKMSKeyId: opts.kmsKeyId } : {}),
    ...(opts.acl ? { ACL: opts.acl } : {}),
  };
}

// The digest of a stream exists only after its last byte, after object metadata is fixed, so it
// travels as a tag. It is written with PutObjectTagging after every upload, before the pointer is
// published: a reader never sees the pointer before the tag. (One code path for every body: s3rver
// ignores the x-amz-tagging header of PutObject, so an in-request tag would go unverified there.)
async function tagChecksum(opts: StoreOptions, key: string, sha256: string): Promise<void> {
  await opts.s3.send(
    new PutObjectTaggingCommand({
      Bucket: opts.bucket,
      Key: key,
      Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: sha256 }] },
    }),
    requestOptions(opts.signal),
  );
}

/**
 * Uploads a body under a fresh random key and tags it with its SHA-256. A Readable is consumed once,
 * in parts of `partSizeBytes` with at most `queueSize` in flight, so memory stays bounded whatever
 * its length. On failure a started multipart upload is aborted and the error is thrown.
 *
 * @example
 * const stored = await uploadPayload(createReadStream("sample.h5"), { s3, bucket: "payloads", keyPrefix: "payloads/" });
 * stored.pointer; // {s3BucketName: "payloads", s3Key: "payloads/<uuid>"}, with stored.size and stored.sha256
 */
export async function uploadPayload(
  body: PayloadBody | AsyncIterable<Uint8Array | string>,
  opts: StoreOptions,
): Promise<StoredPayload> {
  validateStoreOptions(opts);
  const key = `${opts.keyPrefix ?? STORE_DEFAULTS.keyPrefix}${randomUUID()}`;
  const chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array> =
    typeof body === "string" ? [Buffer.from(body, "utf8")] : body instanceof Uint8Array ? [body] : body;
  const { size, sha256 } = await uploadChunks(chunks, key, opts);
  await tagChecksum(opts, key, sha256);
  return { pointer: { s3BucketName: opts.bucket, s3Key: key }, size, sha256 };
}

async function uploadChunks(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>,
  key: string,
  opts: StoreOptions,
): Promise<{ size: number; sha256: string }> {
  const { s3, bucket } = opts;
  const http = requestOptions(opts.signal);
  const partSize = opts.partSizeBytes ?? DEFAULT_PART;
  const queueSize = opts.queueSize ?? STORE_DEFAULTS.queueSize;
  // Hashed in this thread as the chunks arrive (see PayloadStream for why not on a worker).
  const hash = createHash("sha256");
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const partBuffers: Buffer[] = [];
  let size = 0;
  let uploadId: string | undefined;
  const completed: CompletedPart[] = [];
  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;

  const flushPart = async () => {
    if (uploadId === undefined) {
      const created = await s3.send(
        new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...encryption(opts) }),
        http,
      );
      uploadId = created.UploadId;
    }
    const partNumber = completed.length + 1;
    if (partNumber > MAX_PARTS) {
      throw new PayloadError(
        "TooLarge",
        `payload exceeds ${MAX_PARTS} parts of ${partSize} bytes; raise partSizeBytes`,
      );
    }
    completed.push({ PartNumber: partNumber });
    // Parts are assembled in at most queueSize + 1 reused buffers rather than a fresh 8 MiB
    // allocation each: garbage the GC frees late is what makes RSS grow with the payload's size.
    let pooled: Buffer | undefined;
    let partBody: Buffer;
    if (pending.length === 1) {
      partBody = pending[0];
    } else {
      pooled = partBuffers.pop() ?? Buffer.allocUnsafe(partSize);
      let at = 0;
      for (const piece of pending) at += piece.copy(pooled, at);
      partBody = pooled.subarray(0, pendingBytes);
    }
    pending = [];
    pendingBytes = 0;
    const upload = s3
      .send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: partNumber,
          Body: partBody,
          ContentLength: partBody.length,
        }),
        http,
      )
      .then(
        (r) => {
          completed[partNumber - 1].ETag = r.ETag;
        },
        (error: unknown) => {
          failure ??= { error };
        },
      )
      .finally(() => {
        inFlight.delete(upload);
        if (pooled) partBuffers.push(pooled);
      });
    inFlight.add(upload);
    // Backpressure: stop reading the source while queueSize parts are on the wire.
    while (inFlight.size >= queueSize && !failure) await Promise.race(inFlight);
    if (failure) throw failure.error;
  };

  try {
    for await (const raw of source) {
      const chunk =
        typeof raw === "string"
          ? Buffer.from(raw, "utf8")
          : Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength);
      hash.update(chunk);
      size += chunk.length;
      for (let offset = 0; offset < chunk.length;) {
        const take = Math.min(partSize - pendingBytes, chunk.length - offset);
        pending.push(chunk.subarray(offset, offset + take));
        pendingBytes += take;
        offset += take;
        if (pendingBytes === partSize) await flushPart();
      }
    }
    const sha256 = hash.digest("hex");
    if (uploadId === undefined) {
      // Fits in one part: a single PutObject is one request instead of three.
      const whole = Buffer.concat(pending, pendingBytes);
      await s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: whole,
          ContentLength: whole.length,
          ...encryption(opts),
        }),
        http,
      );
      return { size, sha256 };
    }
    if (pendingBytes > 0) await flushPart();
    await Promise.all(inFlight);
    if (failure) throw failure.error;
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: completed },
      }),
      http,
    );
    return { size, sha256 };
  } catch (error) {
    if (uploadId !== undefined) {
      await Promise.allSettled(inFlight);
      // Best effort, and not under the caller's signal (the abort must go out after a deadline):
      // the bucket's lifecycle rule also aborts incomplete uploads.
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId }))
        .catch(() => undefined);
    }
    throw error;
  }
}

function copySourceHeader(source: S3Source): string {
  return `${source.bucket}/${source.key.split("/").map(encodeURIComponent).join("/")}`;
}

/**
 * The part size of a multipart server-side copy of `size` bytes: 512 MiB (few requests), grown in
 * whole MiB when the source is so large that 512 MiB parts would need more than S3's 10,000, so
 * every object S3 can hold (5 TiB) copies. Parts stay within S3's 5 MiB–5 GiB.
 * @throws PayloadError (TooLarge) for a size over S3's 5 TiB object limit.
 *
 * @example copyPartSize(6 * 1024 ** 3); // 536870912: 512 MiB parts for a 6 GiB source
 */
export function copyPartSize(size: number): number {
  if (!Number.isSafeInteger(size) || size < 0 || size > MAX_OBJECT) {
    throw new PayloadError(
      "TooLarge",
      `source is ${size} bytes; S3 objects hold at most ${MAX_OBJECT} (5 TiB)`,
    );
  }
  const fewestBytes = Math.ceil(size / MAX_PARTS);
  return Math.min(MAX_PART, Math.max(COPY_PART, Math.ceil(fewestBytes / MiB) * MiB));
}

/**
 * Copies an S3 object into the store server-side (CopyObject up to 5 GiB, UploadPartCopy beyond),
 * so no payload byte passes through the process. The source's checksum tag, if it has one, is
 * carried over; no other tag is (they describe the staging object), and without a checksum tag the
 * copy has none (computing it would mean reading every byte).
 *
 * @example const stored = await copyPayload({ bucket: "incoming", key: "runs/42.h5" }, { s3, bucket: "payloads" });
 */
export async function copyPayload(source: S3Source, opts: StoreOptions): Promise<StoredPayload> {
  validateStoreOptions(opts);
  const { s3, bucket } = opts;
  const http = requestOptions(opts.signal);
  const key = `${opts.keyPrefix ?? STORE_DEFAULTS.keyPrefix}${randomUUID()}`;
  const [head, tags] = await Promise.all([
    s3.send(new HeadObjectCommand({ Bucket: source.bucket, Key: source.key }), http),
    s3.send(new GetObjectTaggingCommand({ Bucket: source.bucket, Key: source.key }), http),
  ]);
  const size = head.ContentLength;
  if (size === undefined) {
    throw new PayloadError(
      "InvalidBody",
      `HeadObject of s3://${source.bucket}/${source.key} returned no Content-Length`,
    );
  }
  const partSize = copyPartSize(size);
  const sha256 = tags.TagSet?.find((t) => t.Key === PayloadLayout.sha256Tag)?.Value;
  const copySource = copySourceHeader(source);
  if (size <= MAX_SINGLE_COPY) {
    await s3.send(
      new CopyObjectCommand({
        Bucket: bucket,
        Key: key,
        CopySource: copySource,
        // Producer tags describe the staging object, not the payload.
        TaggingDirective: "REPLACE",
        ...encryption(opts),
      }),
      http,
    );
  } else {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...encryption(opts) }),
      http,
    );
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, n = 1; start < size; start += partSize, n++) {
        const end = Math.min(start + partSize, size) - 1;
        const r = await s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: n,
            CopySource: copySource,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
          http,
        );
        parts.push({ PartNumber: n, ETag: r.CopyPartResult?.ETag });
      }
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          MultipartUpload: { Parts: parts },
        }),
        http,
      );
    } catch (error) {
      // Not under the caller's signal: the abort must still go out after a deadline passed.
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }
  if (sha256 !== undefined) await tagChecksum(opts, key, sha256);
  return {
    pointer: { s3BucketName: bucket, s3Key: key },
    size,
    sha256,
    ...(head.ETag ? { sourceETag: head.ETag } : {}),
  };
}

/**
 * Why a payload was read where it was. With a replica configured for the pointer's bucket:
 * - "replica-hit": the replica holds the object and its checksum tag equals the origin's;
 * - "origin-unavailable": the origin did not answer (no response, a 5xx, or no tag answer within
 *   `originTagWaitMs`), and the replica's bytes are verified against the replica's own tag;
 * - "replica-missing": the replica has no such object yet (404): replication lags;
 * - "replica-unavailable": the replica could not be read (403, 5xx, timeout);
 * - "replica-untagged": the replica holds the object, but not yet a valid checksum tag while the
 *   origin has one (the tag is written after the object and replicates separately);
 * - "replica-tag-mismatch": the replica's tag differs from the origin's: its bytes are never delivered;
 * - "replica-verify-failed": the replica's bytes or size failed verification, so the origin was read.
 * "no-replica": no replica is configured for the bucket.
 */
export type PayloadReadReason =
  | "no-replica"
  | "replica-hit"
  | "origin-unavailable"
  | "replica-missing"
  | "replica-unavailable"
  | "replica-untagged"
  | "replica-tag-mismatch"
  | "replica-verify-failed";

/** Where a payload's bytes came from, and why there. */
export interface PayloadReadFrom {
  from: "replica" | "origin";
  /** The bucket read (the pointer's bucket when `from` is "origin"). */
  bucket: string;
  reason: PayloadReadReason;
  /** What went wrong with the replica, or with the origin, when that decided the location. */
  detail?: string;
}

/**
 * A payload being read. It emits the payload's bytes and checks them against the marker's size (as
 * soon as more arrive than it says, and at the end) and the checksum tag (at the end, when the
 * object has one): on a mismatch it errors instead of ending, so a consumer never takes corrupt
 * bytes for a complete payload.
 *
 * Each chunk is checked and hashed in the `data` handler of the source and pushed on as it is: no
 * Transform stage. Piping through a Transform cost a write, a transform call and a second buffer
 * per chunk: 4-18 % of a resolve's CPU at 256 MiB (process.cpuUsage, docs/benchmarks.md).
 *
 * The SHA-256 runs in this thread. It used to run on a worker thread for payloads of 16 MiB or more,
 * so that the hash would overlap the receive; but handing the bytes over (a copy into 1 MiB batches,
 * a message per batch, pausing the source whenever the worker fell behind) cost more CPU than the
 * hash it moved: 2.08 against 1.55 CPU-seconds to resolve 512 MiB, 0.36 against 0.32 at 64 MiB,
 * 0.62 against 0.47 to offload 128 MiB, interleaved runs on 2 cores (docs/benchmarks.md). With the
 * CPU's SHA extensions the hash is about 1.3 GB/s on one core, a fraction of what the HTTP receive
 * costs per byte.
 */
export class PayloadStream extends Readable {
  private readonly hash: Hash = createHash("sha256");
  private count = 0;
  private digest?: string;
  /** Where the bytes come from (offloaded payloads); undefined for an inline payload. */
  readFrom?: PayloadReadFrom;
  /** The source ended: its close is then expected, and the digest is made. */
  private sourceEnded = false;

  constructor(
    private readonly source: Readable,
    /** Hex SHA-256 the payload must have; undefined when none was stored (Java/Python writers). */
    readonly expectedSha256: string | undefined,
    /** Byte count the payload must have (from the marker attribute). */
    readonly expectedSize: number | undefined,
    private readonly what: string,
    /** Fail with TooLarge as soon as more bytes than this have arrived. */
    readonly maxBytes?: number,
  ) {
    // The default 16 KiB buffer pauses the socket many times per megabyte; 1 MiB keeps it flowing.
    super({ highWaterMark: 1024 * 1024 });
    source.on("data", (chunk: Buffer) => {
      if (this.destroyed) return;
      this.count += chunk.length;
      // Checked per chunk, not at the end: a marker that claims 16 bytes of a 64 MiB object must not
      // cost 64 MiB of transfer before it is found out.
      if (this.expectedSize !== undefined && this.count > this.expectedSize) {
        this.destroy(
          new PayloadError(
            "SizeMismatch",
            `${this.what}: more than the ${this.expectedSize} bytes the marker says arrived (${this.count} so far)`,
          ),
        );
        return;
      }
      if (this.maxBytes !== undefined && this.count > this.maxBytes) {
        this.destroy(
          new PayloadError("TooLarge", `${this.what}: more than the ${this.maxBytes}-byte limit arrived`),
        );
        return;
      }
      this.hash.update(chunk);
      // Backpressure: the source waits while the consumer's buffer is full (until _read).
      if (!this.push(chunk)) source.pause();
    });
    // Nothing flows until the consumer reads.
    source.pause();
    source.once("end", () => {
      this.sourceEnded = true;
      this.finish();
    });
    source.once("error", (error) => this.destroy(error));
    // A source that closes without ending (a connection cut without an error) must not leave the
    // consumer waiting for an end that never comes.
    source.once("close", () => {
      if (!this.sourceEnded && !this.destroyed) {
        this.destroy(
          new PayloadError("SizeMismatch", `${this.what}: the read stopped after ${this.count} bytes`),
        );
      }
    });
  }

  /** True when a stored checksum will be (or was) checked. */
  get verified(): boolean {
    return this.expectedSha256 !== undefined;
  }
  /** Bytes emitted so far. */
  get bytes(): number {
    return this.count;
  }
  /** Hex SHA-256 of the bytes, available once the stream has ended. */
  get sha256(): string {
    if (this.digest === undefined)
      throw new Error("PayloadStream.sha256 is only known after the stream ends");
    return this.digest;
  }

  override _read(): void {
    if (!this.destroyed && !this.sourceEnded) this.source.resume();
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // An ended response is left alone: destroying it would close a keep-alive socket.
    if (!this.source.readableEnded && !this.source.destroyed) this.source.destroy();
    done(error);
  }

  private finish(): void {
    if (this.destroyed) return;
    const digest = this.hash.digest("hex");
    this.digest = digest;
    if (this.expectedSize !== undefined && this.count !== this.expectedSize) {
      this.destroy(
        new PayloadError(
          "SizeMismatch",
          `${this.what}: read ${this.count} bytes, the marker says ${this.expectedSize}`,
        ),
      );
    } else if (this.expectedSha256 !== undefined && digest !== this.expectedSha256.toLowerCase()) {
      this.destroy(
        new PayloadError(
          "ChecksumMismatch",
          `${this.what}: SHA-256 ${digest} does not match the stored ${this.expectedSha256}`,
        ),
      );
    } else {
      this.push(null);
    }
  }
}

/** Stream over bytes already in memory (an inline payload), with the same digest/size API. */
export function inlinePayloadStream(bytes: Buffer): PayloadStream {
  return new PayloadStream(Readable.from([bytes]), undefined, undefined, "inline payload");
}

/** Where a reader may fetch payloads from: the whole location, bucket and key. */
export interface PayloadLocationRules {
  /** Buckets a pointer may name, matched exactly. */
  allowedBuckets: readonly string[];
  /**
   * Key prefixes a pointer's key must start with (e.g. the publisher's "payloads/"); absent or empty
   * means any key in an allowed bucket. Each follows the key prefix rules ({@link validateKeyPrefix}).
   * @default none (any key in an allowed bucket)
   */
  allowedKeyPrefixes?: readonly string[];
}

/** S3's limit on a key: 1,024 bytes of UTF-8 (https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-keys.html). */
const MAX_KEY_BYTES = 1024;
/** The characters of every key the interoperating writers produce. */
const KEY_CHARACTERS = /^[A-Za-z0-9._/-]+$/;

/**
 * Refuses a key whose path could name another object once something between the SDK and S3 decodes
 * or normalises it: an empty segment (a leading, trailing or double "/"), a "." or ".." segment, a
 * backslash, a percent escape, a control character, or more than S3's 1,024 bytes. Wherever
 * requests are path-style (forcePathStyle, dotted bucket names, S3-compatible stores, proxies),
 * "../other-bucket/secret" would otherwise read another bucket with the caller's credentials.
 * @throws PayloadError (UnsafeKey) naming the key and the rule it breaks.
 *
 * @example
 * validateKeyPath("payloads/../secret");
 * // throws PayloadError (UnsafeKey): key "payloads/../secret" is refused: it has a ".." path segment
 */
export function validateKeyPath(key: string, what = "key"): void {
  const shown = JSON.stringify(key.length > 200 ? `${key.slice(0, 200)}…` : key);
  const refuse = (rule: string): never => {
    throw new PayloadError("UnsafeKey", `${what} ${shown} is refused: ${rule}`);
  };
  if (Buffer.byteLength(key, "utf8") > MAX_KEY_BYTES) refuse(`it is longer than S3's ${MAX_KEY_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(key)) refuse("it contains a control character");
  if (key.includes("\\")) refuse("it contains a backslash");
  if (/%[0-9a-f]{2}/i.test(key)) refuse("it contains a percent escape");
  for (const segment of key.split("/")) {
    if (segment === "") refuse('it has an empty path segment (a leading, trailing or double "/")');
    if (segment === "." || segment === "..") refuse(`it has a "${segment}" path segment`);
  }
}

/**
 * Refuses a pointer key that could climb out of where the writers put payloads: anything
 * {@link validateKeyPath} refuses, and any character outside [A-Za-z0-9._/-]. Every writer this
 * library interoperates with writes `prefix + UUID` within those characters (PAYLOAD-FORMAT.md), so
 * a reader needs no other; refusing the rest also closes look-alike dots and other Unicode tricks.
 * @throws PayloadError (UnsafeKey) naming the key and the rule it breaks.
 *
 * @example
 * validatePayloadKey("payloads/a b");
 * // throws PayloadError (UnsafeKey): pointer s3Key "payloads/a b" is refused: it may only contain [A-Za-z0-9._/-]
 */
export function validatePayloadKey(key: string): void {
  validateKeyPath(key, "pointer s3Key");
  if (!KEY_CHARACTERS.test(key)) {
    throw new PayloadError(
      "UnsafeKey",
      `pointer s3Key ${JSON.stringify(key.slice(0, 200))} is refused: it may only contain [A-Za-z0-9._/-]`,
    );
  }
}

/**
 * Refuses a pointer outside the allowed locations: a bucket not in the allow-list (exact names), an
 * unsafe key ({@link validatePayloadKey}), or a key under none of the allowed prefixes. Called before
 * any S3 request: the pointer comes from the sender, and reading it with our credentials would let
 * a sender read what it could not.
 * @throws PayloadError (BucketNotAllowed, UnsafeKey, KeyNotAllowed) naming the bucket or key.
 *
 * @example
 * assertLocationAllowed({ s3BucketName: "other", s3Key: "payloads/x" }, { allowedBuckets: ["payloads"] });
 * // throws PayloadError (BucketNotAllowed): pointer names bucket "other", which is not in the allow-list [payloads]
 */
export function assertLocationAllowed(pointer: PayloadPointer, rules: PayloadLocationRules): void {
  const { s3BucketName: bucket, s3Key: key } = pointer;
  if (!rules.allowedBuckets.includes(bucket)) {
    throw new PayloadError(
      "BucketNotAllowed",
      `pointer names bucket "${bucket}", which is not in the allow-list [${rules.allowedBuckets.join(", ")}]`,
    );
  }
  validatePayloadKey(key);
  const prefixes = rules.allowedKeyPrefixes ?? [];
  if (prefixes.length > 0 && !prefixes.some((prefix) => key.startsWith(prefix))) {
    throw new PayloadError(
      "KeyNotAllowed",
      `pointer s3Key ${JSON.stringify(key)} in bucket "${bucket}" is under none of the allowed key prefixes [${prefixes.join(", ")}]`,
    );
  }
}

/**
 * Checks a reader's location rules: bucket names are strings, each key prefix non-empty and valid.
 * @throws PayloadError (InvalidOption) naming the entry.
 */
export function validateLocationRules(rules: PayloadLocationRules): void {
  if (!Array.isArray(rules.allowedBuckets)) {
    throw new PayloadError("InvalidOption", "allowedBuckets must be an array of bucket names");
  }
  for (const bucket of rules.allowedBuckets) {
    if (typeof bucket !== "string" || bucket.length === 0) {
      throw new PayloadError(
        "InvalidOption",
        `allowedBuckets entries must be non-empty strings, got ${JSON.stringify(bucket)}`,
      );
    }
  }
  for (const prefix of rules.allowedKeyPrefixes ?? []) {
    if (prefix === "") {
      throw new PayloadError(
        "InvalidOption",
        "allowedKeyPrefixes entries must be non-empty (leave the list out to allow every key)",
      );
    }
    try {
      validateKeyPrefix(prefix);
    } catch (error) {
      throw new PayloadError("InvalidOption", `allowedKeyPrefixes: ${(error as Error).message}`);
    }
  }
}

/** S3's answer for a key that does not exist (404; a 403 when the reader may not s3:ListBucket). */
export function isMissingObject(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  return e?.name === "NoSuchKey" || e?.name === "NotFound" || e?.$metadata?.httpStatusCode === 404;
}

export function missingPayload(pointer: PayloadPointer, cause: unknown): PayloadError {
  return new PayloadError(
    "PayloadMissing",
    `payload s3://${pointer.s3BucketName}/${pointer.s3Key} does not exist: it expired under the bucket's ` +
      "lifecycle rule (a message kept or redriven longer than the payload retention) or was never written",
    { cause },
  );
}

/** What {@link openPayload} checks while it reads. */
export interface OpenOptions extends PayloadLocationRules {
  s3: S3Client;
  /**
   * The marker's byte count: the object must have exactly this many bytes.
   * @default none (any size)
   */
  expectedSize?: number;
  /**
   * Fail with TooLarge as soon as more than this many bytes arrive.
   * @default none (no limit)
   */
  maxBytes?: number;
  /**
   * Aborts the S3 requests and the stream (with the signal's reason as the error).
   * @default none (no deadline)
   */
  signal?: AbortSignal;
}

/** An S3 call's outcome, settled: a replica read decides from both outcomes which location to use. */
export type Settled<T> = { ok: true; value: T } | { ok: false; error: unknown };

function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );
}

/** The object's `payload-sha256` tag (undefined when it has none), or the error reading its tags. */
export function readChecksumTag(
  s3: S3Client,
  pointer: PayloadPointer,
  signal?: AbortSignal,
): Promise<Settled<string | undefined>> {
  return settle(
    s3
      .send(
        new GetObjectTaggingCommand({ Bucket: pointer.s3BucketName, Key: pointer.s3Key }),
        requestOptions(signal),
      )
      .then((out) => out.TagSet?.find((t) => t.Key === PayloadLayout.sha256Tag)?.Value),
  );
}

/** GetObject, settled: its body is not read yet. */
export function getObject(
  s3: S3Client,
  pointer: PayloadPointer,
  signal?: AbortSignal,
): Promise<Settled<GetObjectCommandOutput>> {
  return settle(
    s3.send(
      new GetObjectCommand({ Bucket: pointer.s3BucketName, Key: pointer.s3Key }),
      requestOptions(signal),
    ),
  );
}

/** Closes a GetObject response whose body will not be read. */
export function discardObject(object: Settled<GetObjectCommandOutput>): void {
  if (object.ok) (object.value.Body as Readable | undefined)?.destroy();
}

/**
 * The verifying stream over a GetObject response: its Content-Length is compared with the marker and
 * `maxBytes` before any body byte is read, so a lying marker costs no transfer; the bytes are then
 * checked against `expectedSha256` (when there is one) and the marker's size as they arrive.
 */
export function verifyingStream(
  pointer: PayloadPointer,
  object: GetObjectCommandOutput,
  expectedSha256: string | undefined,
  opts: Pick<OpenOptions, "expectedSize" | "maxBytes" | "signal">,
): PayloadStream {
  const body = object.Body as Readable;
  const what = `s3://${pointer.s3BucketName}/${pointer.s3Key}`;
  const length = object.ContentLength;
  if (opts.expectedSize !== undefined && length !== undefined && length !== opts.expectedSize) {
    body.destroy();
    throw new PayloadError(
      "SizeMismatch",
      `${what}: the object is ${length} bytes, the marker says ${opts.expectedSize}`,
    );
  }
  if (opts.maxBytes !== undefined && length !== undefined && length > opts.maxBytes) {
    body.destroy();
    throw new PayloadError(
      "TooLarge",
      `${what}: the object is ${length} bytes, over the ${opts.maxBytes}-byte limit`,
    );
  }
  const out = new PayloadStream(body, expectedSha256, opts.expectedSize, what, opts.maxBytes);
  const onAbort = () => out.destroy(opts.signal?.reason ?? new Error(`${what}: read aborted`));
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  out.on("close", () => opts.signal?.removeEventListener("abort", onAbort));
  return out;
}

/**
 * Opens an offloaded payload: GetObject and GetObjectTagging in parallel, the body read through a
 * verifying PayloadStream. The location is checked first; GetObject's Content-Length is compared
 * with the marker before any body byte is read, so a lying marker costs no transfer. `checksumTag`
 * is a tag read already under way (a replica read asks the origin for its tag before it knows
 * whether it will read the origin), so the origin is not asked twice.
 *
 * @example
 * const stream = await openPayload(pointer, { s3, allowedBuckets: ["payloads"], expectedSize: 1048576 });
 * await pipeline(stream, createWriteStream("payload.bin")); // errors instead of ending on other bytes
 */
export async function openPayload(
  pointer: PayloadPointer,
  opts: OpenOptions,
  checksumTag?: Promise<Settled<string | undefined>>,
): Promise<PayloadStream> {
  assertLocationAllowed(pointer, opts);
  const [object, tag] = await Promise.all([
    getObject(opts.s3, pointer, opts.signal),
    checksumTag ?? readChecksumTag(opts.s3, pointer, opts.signal),
  ]);
  if (!object.ok) {
    throw isMissingObject(object.error) ? missingPayload(pointer, object.error) : object.error;
  }
  if (!tag.ok) {
    discardObject(object);
    throw isMissingObject(tag.error) ? missingPayload(pointer, tag.error) : tag.error;
  }
  const out = verifyingStream(pointer, object.value, tag.value, opts);
  out.readFrom = { from: "origin", bucket: pointer.s3BucketName, reason: "no-replica" };
  return out;
}
