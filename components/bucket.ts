/**
 * A private, versioned, encrypted bucket with a lifecycle: what every trailwatch store of logs and findings needs.
 * All four public-access blocks, bucket-owner-enforced ownership (ACLs off), versioning, default encryption
 * (a customer managed key with S3 Bucket Keys, or SSE-S3 where the writing service cannot use KMS), expiry.
 * The caller writes the bucket policy (it differs per writer) and should include `denyInsecureTransport`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { transformed, type Transform } from "./transform";

export interface SecureBucketArgs {
  /** A customer managed key ARN, or "AES256" (SSE-S3) for writers that cannot use KMS (S3 server access logs). */
  readonly encryption: pulumi.Input<string>;
  /** Days objects are kept. */
  readonly expirationDays: number;
  /** Days a replaced or deleted object's older versions are kept. */
  readonly noncurrentVersionExpirationDays: number;
  /** Server access logs go to this bucket (name), under `<bucket name>/`. */
  readonly accessLogBucket?: pulumi.Input<string>;
  /** Customize the bucket's args (components/transform.ts). */
  readonly transform?: Transform<aws.s3.BucketArgs>;
}

export interface SecureBucket {
  readonly bucket: aws.s3.Bucket;
  /** Resources the bucket's first writer must wait for (public access block, encryption, ownership). */
  readonly ready: pulumi.Resource[];
}

export function secureBucket(name: string, args: SecureBucketArgs, opts: pulumi.CustomResourceOptions): SecureBucket {
  const bucket = new aws.s3.Bucket(...transformed(args.transform, name, { forceDestroy: false }, opts));
  const pab = new aws.s3.BucketPublicAccessBlock(
    `${name}-public-access`,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    opts,
  );
  const ownership = new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } }, opts);
  const versioning = new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, opts);
  const kms = pulumi.output(args.encryption).apply((e) => e !== "AES256");
  const sse = new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucket.id,
      rules: [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: kms.apply((k) => (k ? "aws:kms" : "AES256")),
            kmsMasterKeyId: pulumi.all([kms, args.encryption]).apply(([k, e]) => (k ? e : undefined)) as pulumi.Output<string>,
          },
          bucketKeyEnabled: kms,
        },
      ],
    },
    opts,
  );
  new aws.s3.BucketLifecycleConfiguration(
    `${name}-lifecycle`,
    {
      bucket: bucket.id,
      rules: [
        {
          id: "expire",
          status: "Enabled",
          filter: {},
          expiration: { days: args.expirationDays },
          noncurrentVersionExpiration: { noncurrentDays: args.noncurrentVersionExpirationDays },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    },
    { ...opts, dependsOn: [versioning] },
  );
  if (args.accessLogBucket)
    new aws.s3.BucketLogging(
      `${name}-access-logging`,
      { bucket: bucket.id, targetBucket: args.accessLogBucket, targetPrefix: pulumi.interpolate`${bucket.id}/` },
      opts,
    );
  return { bucket, ready: [pab, ownership, versioning, sse] };
}
