import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * Every public-access switch on, for a bucket that only named principals read: neither an ACL nor a
 * bucket policy written later can open it to the public, whatever the account-level setting is.
 *
 * @example blockPublicAccess("payloads-pab", bucket.id, { parent: this, provider });
 */
export function blockPublicAccess(
  name: string,
  bucket: pulumi.Input<string>,
  opts: pulumi.CustomResourceOptions,
): aws.s3.BucketPublicAccessBlock {
  return new aws.s3.BucketPublicAccessBlock(
    name,
    {
      bucket,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
}
