// Moving payload bytes in and out of S3: streaming multipart upload with bounded memory, server-side
// copy, and reads verified against the SHA-256 tag.
import { createHash, randomUUID } from "node:crypto";
import { Readable, Transform, type TransformCallback } from "node:stream";
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
  type ObjectCannedACL,
  type S3Client,
} from "@aws-sdk/client-s3";
import { PayloadLayout } from "../contract";
import { PayloadError } from "./errors";
import type { PayloadPointer } from "./pointer";

const MiB = 1024 * 1024;
/** S3's floor for every part but the last. */
const MIN_PART = 5 * MiB;
/** fauxqs refuses request bodies over 11 MiB, and S3 gains nothing from larger parts at this rate. */
const DEFAULT_PART = 8 * MiB;
const MAX_PARTS = 10_000;
/** CopyObject copies at most 5 GiB; beyond that the copy is multipart (UploadPartCopy). */
const MAX_SINGLE_COPY = 5 * 1024 * MiB;
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
   */
  keyPrefix?: string;
  /** Write with SSE-KMS ("aws:kms"); implied by `kmsKeyId`. */
  sseKms?: boolean;
  /** KMS key id or ARN for SSE-KMS; without it S3 uses the bucket's default key. */
  kmsKeyId?: string;
  /** Canned ACL, e.g. "bucket-owner-full-control" when writing into another account's bucket. */
  acl?: ObjectCannedACL;
  /** Multipart part size, 5–10 MiB (default 8 MiB). Memory is about (queueSize + 1) × partSize. */
  partSizeBytes?: number;
  /** Parts uploaded concurrently (default 4). */
  queueSize?: number;
}

/** An object the store wrote. */
export interface StoredPayload {
  pointer: PayloadPointer;
  size: number;
  /** Hex SHA-256 of the bytes; undefined for a copied source that carried no checksum tag. */
  sha256?: string;
}

/**
 * Validates a key prefix as the extended clients do.
 * @throws PayloadError (InvalidOption) naming the prefix and the rule it breaks.
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
  validateKeyPrefix(opts.keyPrefix ?? "");
  const part = opts.partSizeBytes ?? DEFAULT_PART;
  if (!Number.isInteger(part) || part < MIN_PART || part > 5 * 1024 * MiB) {
    throw new PayloadError(
      "InvalidOption",
      `partSizeBytes must be an integer from ${MIN_PART} to 5 GiB, got ${part}`,
    );
  }
  const queue = opts.queueSize ?? 4;
  if (!Number.isInteger(queue) || queue < 1 || queue > 64) {
    throw new PayloadError("InvalidOption", `queueSize must be an integer from 1 to 64, got ${queue}`);
  }
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
async function tagChecksum(s3: S3Client, bucket: string, key: string, sha256: string): Promise<void> {
  await s3.send(
    new PutObjectTaggingCommand({
      Bucket: bucket,
      Key: key,
      Tagging: { TagSet: [{ Key: PayloadLayout.sha256Tag, Value: sha256 }] },
    }),
  );
}

/**
 * Uploads a body under a fresh random key and tags it with its SHA-256. A Readable is consumed once,
 * in parts of `partSizeBytes` with at most `queueSize` in flight, so memory stays bounded whatever
 * its length. On failure a started multipart upload is aborted and the error is thrown.
 */
export async function uploadPayload(
  body: PayloadBody | AsyncIterable<Uint8Array | string>,
  opts: StoreOptions,
): Promise<StoredPayload> {
  validateStoreOptions(opts);
  const key = `${opts.keyPrefix ?? ""}${randomUUID()}`;
  const chunks: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array> =
    typeof body === "string" ? [Buffer.from(body, "utf8")] : body instanceof Uint8Array ? [body] : body;
  const { size, sha256 } = await uploadChunks(chunks, key, opts);
  await tagChecksum(opts.s3, opts.bucket, key, sha256);
  return { pointer: { s3BucketName: opts.bucket, s3Key: key }, size, sha256 };
}

async function uploadChunks(
  source: AsyncIterable<Uint8Array | string> | Iterable<Uint8Array>,
  key: string,
  opts: StoreOptions,
): Promise<{ size: number; sha256: string }> {
  const { s3, bucket } = opts;
  const partSize = opts.partSizeBytes ?? DEFAULT_PART;
  const queueSize = opts.queueSize ?? 4;
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
    );
    return { size, sha256 };
  } catch (error) {
    if (uploadId !== undefined) {
      await Promise.allSettled(inFlight);
      // Best effort: the bucket's lifecycle rule also aborts incomplete uploads.
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
 * Copies an S3 object into the store server-side (CopyObject up to 5 GiB, UploadPartCopy beyond),
 * so no payload byte passes through the process. The source's checksum tag, if it has one, is
 * carried over; otherwise the copy has none (computing it would mean reading every byte).
 */
export async function copyPayload(source: S3Source, opts: StoreOptions): Promise<StoredPayload> {
  validateStoreOptions(opts);
  const { s3, bucket } = opts;
  const key = `${opts.keyPrefix ?? ""}${randomUUID()}`;
  const [head, tags] = await Promise.all([
    s3.send(new HeadObjectCommand({ Bucket: source.bucket, Key: source.key })),
    s3.send(new GetObjectTaggingCommand({ Bucket: source.bucket, Key: source.key })),
  ]);
  const size = head.ContentLength ?? 0;
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
    );
  } else {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ...encryption(opts) }),
    );
    try {
      const parts: CompletedPart[] = [];
      for (let start = 0, n = 1; start < size; start += COPY_PART, n++) {
        const end = Math.min(start + COPY_PART, size) - 1;
        const r = await s3.send(
          new UploadPartCopyCommand({
            Bucket: bucket,
            Key: key,
            UploadId,
            PartNumber: n,
            CopySource: copySource,
            CopySourceRange: `bytes=${start}-${end}`,
          }),
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
      );
    } catch (error) {
      await s3
        .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
        .catch(() => undefined);
      throw error;
    }
  }
  if (sha256 !== undefined) await tagChecksum(s3, bucket, key, sha256);
  return { pointer: { s3BucketName: bucket, s3Key: key }, size, sha256 };
}

/**
 * A payload being read. It emits the payload's bytes and, at the end, checks them against the
 * checksum tag (when the object has one) and the marker's size: on a mismatch it errors instead of
 * ending, so a consumer never takes corrupt bytes for a complete payload.
 */
export class PayloadStream extends Transform {
  private readonly hash = createHash("sha256");
  private count = 0;
  private digest?: string;

  constructor(
    /** Hex SHA-256 the payload must have; undefined when none was stored (Java/Python writers). */
    readonly expectedSha256: string | undefined,
    /** Byte count the payload must have (from the marker attribute). */
    readonly expectedSize: number | undefined,
    private readonly what: string,
  ) {
    // The default 16 KiB buffers pause the socket many times per megabyte; 1 MiB keeps it flowing.
    super({ highWaterMark: 1024 * 1024 });
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

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    this.count += chunk.length;
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.digest = this.hash.digest("hex");
    if (this.expectedSize !== undefined && this.count !== this.expectedSize) {
      done(
        new PayloadError(
          "SizeMismatch",
          `${this.what}: read ${this.count} bytes, the marker says ${this.expectedSize}`,
        ),
      );
    } else if (this.expectedSha256 !== undefined && this.digest !== this.expectedSha256.toLowerCase()) {
      done(
        new PayloadError(
          "ChecksumMismatch",
          `${this.what}: SHA-256 ${this.digest} does not match the stored ${this.expectedSha256}`,
        ),
      );
    } else {
      done();
    }
  }
}

/** Stream over bytes already in memory (an inline payload), with the same digest/size API. */
export function inlinePayloadStream(bytes: Buffer): PayloadStream {
  const out = new PayloadStream(undefined, undefined, "inline payload");
  Readable.from([bytes]).pipe(out);
  return out;
}

/**
 * Refuses a bucket outside the allow-list. Called before any S3 request: the bucket name in a
 * pointer comes from the sender, and reading it with our credentials would let a sender read what
 * it could not.
 */
export function assertBucketAllowed(bucket: string, allowedBuckets: readonly string[]): void {
  if (!allowedBuckets.includes(bucket)) {
    throw new PayloadError(
      "BucketNotAllowed",
      `pointer names bucket "${bucket}", which is not in the allow-list [${allowedBuckets.join(", ")}]`,
    );
  }
}

/**
 * Opens an offloaded payload: GetObject and GetObjectTagging in parallel, the body piped through a
 * verifying PayloadStream. The allow-list is checked first.
 */
export async function openPayload(
  pointer: PayloadPointer,
  opts: { s3: S3Client; allowedBuckets: readonly string[]; expectedSize?: number },
): Promise<PayloadStream> {
  assertBucketAllowed(pointer.s3BucketName, opts.allowedBuckets);
  const where = { Bucket: pointer.s3BucketName, Key: pointer.s3Key };
  const [object, tagging] = await Promise.allSettled([
    opts.s3.send(new GetObjectCommand(where)),
    opts.s3.send(new GetObjectTaggingCommand(where)),
  ]);
  if (object.status === "rejected") throw object.reason;
  const body = object.value.Body as Readable;
  if (tagging.status === "rejected") {
    body.destroy();
    throw tagging.reason;
  }
  const expected = tagging.value.TagSet?.find((t) => t.Key === PayloadLayout.sha256Tag)?.Value;
  const out = new PayloadStream(expected, opts.expectedSize, `s3://${pointer.s3BucketName}/${pointer.s3Key}`);
  body.on("error", (e) => out.destroy(e));
  out.on("close", () => {
    if (!body.readableEnded) body.destroy();
  });
  body.pipe(out);
  return out;
}
