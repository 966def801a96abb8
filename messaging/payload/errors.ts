/** Why a payload operation was refused or failed. Stable, so callers and tests can branch on it. */
export type PayloadErrorCode =
  | "InvalidPointer"
  | "MalformedPointer"
  | "MalformedEnvelope"
  | "UnexpectedEnvelope"
  | "InvalidAttribute"
  | "InvalidMarker"
  | "InvalidOption"
  | "InvalidBody"
  | "BucketNotAllowed"
  | "KeyNotAllowed"
  | "UnsafeKey"
  | "PayloadMissing"
  | "OriginUnavailable"
  | "Timeout"
  | "SourceNotAllowed"
  | "ChecksumMismatch"
  | "SizeMismatch"
  | "TooLarge";

/**
 * Every error the library raises itself. S3/SNS/SQS errors are passed through unchanged, except a
 * payload object that does not exist (PayloadMissing, with S3's error as `cause`).
 */
export class PayloadError extends Error {
  constructor(
    readonly code: PayloadErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "PayloadError";
  }
}
