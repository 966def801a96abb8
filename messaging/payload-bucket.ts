import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { blockPublicAccess } from "../common/buckets";
import { PayloadLayout } from "./contract";
import { PolicyDocument } from "./policies";

// A payload bucket, origin or replica: the same access settings, encryption and lifecycle either
// way, so a replica can never be weaker than the bucket it copies.

export interface PayloadBucketArgs {
  /** The physical bucket name (naming.ts). */
  bucket: string;
  /**
   * SSE-KMS under this key.
   * @default none (SSE-S3)
   */
  key?: aws.kms.Key;
  /** The prefixes that expire after retentionDays. */
  prefixes: string[];
  retentionDays: number;
  /** Versioning on (replication needs it on both buckets), with version and delete-marker cleanup. */
  versioned: boolean;
  policy: PolicyDocument;
}

export interface PayloadBucket {
  bucket: aws.s3.Bucket;
  /** Present when versioned: what a replication configuration must wait for. */
  versioning?: aws.s3.BucketVersioning;
}

/** The bucket and its settings, as children of `parent` (which gives them their provider). */
export function createPayloadBucket(
  parent: pulumi.Resource,
  name: string,
  args: PayloadBucketArgs,
): PayloadBucket {
  const child = { parent };
  const bucket = new aws.s3.Bucket(name, { bucket: args.bucket }, child);
  const publicAccess = blockPublicAccess(`${name}-public-access`, bucket.id, child);
  // ACLs off: objects belong to the bucket owner whoever writes them (producers in other accounts).
  // S3 refuses concurrent changes to a bucket's access settings ("OperationAborted: A conflicting
  // conditional operation is currently in progress"), so the public access block, the ownership
  // controls and the policy are written one after the other.
  const ownership = new aws.s3.BucketOwnershipControls(
    `${name}-ownership`,
    { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
    { parent, dependsOn: [publicAccess] },
  );
  const { key } = args;
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucket.id,
      rules: [
        key
          ? {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: key.arn },
              bucketKeyEnabled: true,
            }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ],
    },
    child,
  );
  // S3 never returns a versioned bucket to unversioned: removing this resource suspends versioning.
  const versioning = args.versioned
    ? new aws.s3.BucketVersioning(
        `${name}-versioning`,
        { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
        child,
      )
    : undefined;
  // Fan-out: several subscribers read one object, so none deletes it; lifecycle does. With
  // versioning, the noncurrent-version rules only act once versioning is on.
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-lifecycle`,
    {
      bucket: bucket.id,
      rules: lifecycleRules(args.retentionDays, { prefixes: args.prefixes, versioned: args.versioned }),
    },
    { parent, dependsOn: versioning ? [versioning] : [] },
  );
  new aws.s3.BucketPolicy(
    `${name}-policy`,
    { bucket: bucket.id, policy: JSON.stringify(args.policy) },
    { parent, dependsOn: [publicAccess, ownership] },
  );
  return { bucket, versioning };
}

/**
 * Pure: the lifecycle rules of a payload bucket. Each prefix expires after retentionDays. In a
 * versioned bucket that expiry only adds a delete marker over the object, so its data stays as a
 * noncurrent version (billed, unreadable without a version ID) until NoncurrentVersionExpiration
 * removes it a day later; the delete marker left with no version under it is then an "expired
 * object delete marker", removed by a rule of its own (S3 refuses ExpiredObjectDeleteMarker in the
 * same Expiration as Days: "LifecycleExpiration", Amazon S3 API Reference).
 */
export function lifecycleRules(
  retentionDays: number,
  opts: { prefixes?: string[]; versioned?: boolean } = {},
) {
  const prefixes = opts.prefixes ?? [PayloadLayout.payloadPrefix, PayloadLayout.incomingPrefix];
  return prefixes.flatMap((prefix) => {
    const id = prefix.replace(/\/$/, "");
    const expire = {
      id: `expire-${id}`,
      status: "Enabled",
      filter: { prefix },
      expiration: { days: retentionDays },
      abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      ...(opts.versioned ? { noncurrentVersionExpiration: { noncurrentDays: 1 } } : {}),
    };
    if (!opts.versioned) return [expire];
    return [
      expire,
      {
        id: `remove-delete-markers-${id}`,
        status: "Enabled",
        filter: { prefix },
        expiration: { expiredObjectDeleteMarker: true },
      },
    ];
  });
}
