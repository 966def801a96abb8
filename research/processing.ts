// Batch QC: the research bucket (encrypted, TLS-only, private), the QC script stored in it, and a
// SageMaker Pipeline with one Processing step that runs the script on the research image. The
// input and output prefixes and the QC thresholds are pipeline parameters, so `npm run qc` and the
// notebook can point a run at any sample without a deployment.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { blockPublicAccess } from "../common/buckets";
import type { QcThresholds } from "./config";
import { QC_STEP_NAME, QcParameters } from "./pipeline-contract";
import { tlsOnlyBucketPolicy } from "./policies";

/** The QC script, uploaded as it is in the repository. */
export { QC_STEP_NAME, QcParameters };

export const QC_SCRIPT_PATH = path.join(__dirname, "processing", "qc_metrics.py");

export interface QcProcessingArgs {
  bucketName: string;
  forceDestroyBucket: boolean;
  pipelineName: string;
  codePrefix: string;
  inputPrefix: string;
  outputPrefix: string;
  /** The image the step runs, by digest. */
  imageUri: pulumi.Input<string>;
  /** Role of the pipeline and of its processing job. */
  roleArn: pulumi.Input<string>;
  instanceType: string;
  volumeSizeGb: number;
  maxRuntimeSeconds: number;
  qc: QcThresholds;
  /**
   * Private subnets and security groups the job runs in (the isolated network).
   * @default none (SageMaker's network)
   */
  network?: { subnetIds: pulumi.Input<string>[]; securityGroupIds: pulumi.Input<string>[] };
}

/**
 * The research bucket, the QC script in it, and the SageMaker Pipeline that runs it.
 *
 * @example
 * const names = researchNames(settings.name, settings.account, settings.region);
 * const qc = new QcProcessing(
 *   "research-qc",
 *   {
 *     bucketName: names.bucket,
 *     forceDestroyBucket: false,
 *     pipelineName: names.pipeline,
 *     codePrefix: names.codePrefix,
 *     inputPrefix: names.inputPrefix,
 *     outputPrefix: names.outputPrefix,
 *     imageUri: images.processingImageUri,
 *     roleArn: executionRole.arn,
 *     instanceType: "ml.m5.xlarge",
 *     volumeSizeGb: 30,
 *     maxRuntimeSeconds: 3600,
 *     qc: settings.qc,
 *   },
 *   { parent: this },
 * );
 * qc.pipelineName; // what `npm run qc` starts
 */
export class QcProcessing extends pulumi.ComponentResource {
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly scriptUri: pulumi.Output<string>;
  public readonly pipelineName: pulumi.Output<string>;
  public readonly pipelineArn: pulumi.Output<string>;
  /** The bucket's TLS-only policy as deployed, for tests and reviews. */
  public readonly bucketPolicy: pulumi.Output<string>;

  constructor(name: string, args: QcProcessingArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:research:QcProcessing", name, {}, opts);

    const bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      { bucket: args.bucketName, forceDestroy: args.forceDestroyBucket },
      { parent: this },
    );
    const publicAccess = blockPublicAccess(`${name}-public-access`, bucket.id, { parent: this });
    new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-encryption`,
      {
        bucket: bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      },
      { parent: this },
    );
    // S3 refuses concurrent changes to a bucket's access settings ("OperationAborted: A conflicting
    // conditional operation is currently in progress"): public access block, ownership, then policy.
    const ownership = new aws.s3.BucketOwnershipControls(
      `${name}-ownership`,
      { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this, dependsOn: [publicAccess] },
    );
    this.bucketPolicy = pulumi.output(JSON.stringify(tlsOnlyBucketPolicy(args.bucketName)));
    new aws.s3.BucketPolicy(
      `${name}-tls-only`,
      { bucket: bucket.id, policy: this.bucketPolicy },
      // A policy put while the public access block is being written can be refused as public.
      { parent: this, dependsOn: [publicAccess, ownership] },
    );

    const script = fs.readFileSync(QC_SCRIPT_PATH);
    // The content hash in the key: a changed script is a new object and a new pipeline definition,
    // while executions already running keep the script they started with.
    const scriptKey = `${args.codePrefix}${sha256(script).slice(0, 16)}/qc_metrics.py`;
    const scriptObject = new aws.s3.BucketObjectv2(
      `${name}-script`,
      {
        bucket: bucket.id,
        key: scriptKey,
        source: new pulumi.asset.FileAsset(QC_SCRIPT_PATH),
        contentType: "text/x-python",
      },
      { parent: this },
    );
    this.scriptUri = pulumi.interpolate`s3://${scriptObject.bucket}/${scriptObject.key}`;

    const definition = pulumi
      .all([
        args.imageUri,
        args.roleArn,
        this.scriptUri,
        pulumi.all(args.network?.subnetIds ?? []),
        pulumi.all(args.network?.securityGroupIds ?? []),
      ])
      .apply(([imageUri, roleArn, scriptUri, subnetIds, securityGroupIds]) =>
        JSON.stringify(
          qcPipelineDefinition({
            imageUri,
            roleArn,
            scriptUri,
            defaultInputUri: `s3://${args.bucketName}/${args.inputPrefix}`,
            defaultOutputUri: `s3://${args.bucketName}/${args.outputPrefix}`,
            instanceType: args.instanceType,
            volumeSizeGb: args.volumeSizeGb,
            maxRuntimeSeconds: args.maxRuntimeSeconds,
            qc: args.qc,
            network: args.network ? { subnetIds, securityGroupIds } : undefined,
          }),
        ),
      );
    const pipeline = new aws.sagemaker.Pipeline(
      `${name}-pipeline`,
      {
        pipelineName: args.pipelineName,
        pipelineDisplayName: args.pipelineName,
        pipelineDescription: "Pegasus QC (read_input, qc_metrics, get_filter_stats) on one sample",
        roleArn: args.roleArn,
        pipelineDefinition: definition,
      },
      { parent: this },
    );

    this.bucketName = bucket.bucket;
    this.bucketArn = bucket.arn;
    this.pipelineName = pipeline.pipelineName;
    this.pipelineArn = pipeline.arn;
    this.registerOutputs({ bucketName: this.bucketName, pipelineName: this.pipelineName });
  }
}

function sha256(data: Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export interface QcPipelineArgs {
  imageUri: string;
  roleArn: string;
  scriptUri: string;
  defaultInputUri: string;
  defaultOutputUri: string;
  instanceType: string;
  volumeSizeGb: number;
  maxRuntimeSeconds: number;
  qc: QcThresholds;
  /**
   * The job's VpcConfig (the isolated network).
   * @default none (SageMaker's network)
   */
  network?: { subnetIds: string[]; securityGroupIds: string[] };
}

const PROCESSING = "/opt/ml/processing";

/**
 * Pure: the pipeline definition (schema 2020-12-01) with one Processing step whose Arguments are
 * a CreateProcessingJob request. The thresholds are String parameters ("none" switches a filter
 * off), passed to the script as explicit flags.
 */
export function qcPipelineDefinition(a: QcPipelineArgs): Record<string, unknown> {
  const param = (name: string) => ({ Get: `Parameters.${name}` });
  const show = (v: number | string | null) => (v === null ? "none" : String(v));
  const thresholds: [string, string, number | string | null][] = [
    ["--min-genes", QcParameters.minGenes, a.qc.minGenes],
    ["--max-genes", QcParameters.maxGenes, a.qc.maxGenes],
    ["--min-umis", QcParameters.minUmis, a.qc.minUmis],
    ["--max-umis", QcParameters.maxUmis, a.qc.maxUmis],
    ["--mito-prefix", QcParameters.mitoPrefix, a.qc.mitoPrefix],
    ["--percent-mito", QcParameters.percentMito, a.qc.percentMito],
  ];
  return {
    Version: "2020-12-01",
    Metadata: {},
    Parameters: [
      { Name: QcParameters.input, Type: "String", DefaultValue: a.defaultInputUri },
      { Name: QcParameters.output, Type: "String", DefaultValue: a.defaultOutputUri },
      ...thresholds.map(([, name, value]) => ({ Name: name, Type: "String", DefaultValue: show(value) })),
    ],
    // No PipelineExperimentConfig: it would make every run create SageMaker Experiments entities,
    // which the least-privilege role is not granted.
    Steps: [
      {
        Name: QC_STEP_NAME,
        Type: "Processing",
        Arguments: {
          ProcessingResources: {
            ClusterConfig: { InstanceType: a.instanceType, InstanceCount: 1, VolumeSizeInGB: a.volumeSizeGb },
          },
          AppSpecification: {
            ImageUri: a.imageUri,
            // Replaces the image's jupyter-lab ENTRYPOINT; the Pegasus environment's Python runs the script.
            ContainerEntrypoint: [
              "/opt/conda/envs/pegasus/bin/python",
              `${PROCESSING}/input/code/qc_metrics.py`,
            ],
            ContainerArguments: [
              "--input",
              `${PROCESSING}/input/data`,
              "--output",
              `${PROCESSING}/output`,
              ...thresholds.flatMap(([flag, name]) => [flag, param(name)]),
            ],
          },
          RoleArn: a.roleArn,
          ProcessingInputs: [
            {
              InputName: "code",
              AppManaged: false,
              S3Input: {
                S3Uri: a.scriptUri,
                LocalPath: `${PROCESSING}/input/code`,
                S3DataType: "S3Prefix",
                S3InputMode: "File",
                S3DataDistributionType: "FullyReplicated",
              },
            },
            {
              InputName: "data",
              AppManaged: false,
              S3Input: {
                S3Uri: param(QcParameters.input),
                LocalPath: `${PROCESSING}/input/data`,
                S3DataType: "S3Prefix",
                S3InputMode: "File",
                S3DataDistributionType: "FullyReplicated",
              },
            },
          ],
          ProcessingOutputConfig: {
            Outputs: [
              {
                OutputName: "qc",
                AppManaged: false,
                S3Output: {
                  S3Uri: param(QcParameters.output),
                  LocalPath: `${PROCESSING}/output`,
                  S3UploadMode: "EndOfJob",
                },
              },
            ],
          },
          StoppingCondition: { MaxRuntimeInSeconds: a.maxRuntimeSeconds },
          ...(a.network
            ? {
                NetworkConfig: {
                  // qc_metrics.py reads and writes local files only; SageMaker moves the inputs and
                  // outputs. With isolation the container itself has no network at all.
                  EnableNetworkIsolation: true,
                  VpcConfig: { SecurityGroupIds: a.network.securityGroupIds, Subnets: a.network.subnetIds },
                },
              }
            : {}),
        },
      },
    ],
  };
}
