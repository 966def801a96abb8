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
  | "SourceNotAllowed"
  | "ChecksumMismatch"
  | "SizeMismatch"
  | "TooLarge";

/** Every error the library raises itself; S3/SNS/SQS errors are passed through unchanged. */
export class PayloadError extends Error {
  constructor(
    readonly code: PayloadErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "PayloadError";
  }
}
