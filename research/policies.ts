// IAM and resource policies of the research part, as pure functions of names and ARNs, so tests
// can read and simulate them without the mock engine. The execution role gets the research bucket,
// pulls from the research image repositories, writes SageMaker logs, runs the QC pipeline and works
// in its own domain's spaces; nothing else. (AmazonSageMakerFullAccess would instead reach every
// bucket named *sagemaker* and every domain in the account.)

export interface PolicyDocument {
  Version: "2012-10-17";
  Statement: PolicyStatement[];
}

export interface PolicyStatement {
  Sid: string;
  Effect: "Allow" | "Deny";
  Principal?: unknown;
  Action: string | string[];
  /** Absent in a trust policy. */
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** Who may assume the execution role: SageMaker (Studio apps, processing jobs, pipelines). */
export function executionRoleTrustPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "SageMakerAssumesTheRole",
        Effect: "Allow",
        Principal: { Service: "sagemaker.amazonaws.com" },
        Action: "sts:AssumeRole",
      },
    ],
  };
}

export interface AccessPolicyArgs {
  account: string;
  region: string;
  bucket: string;
  /** Repositories the research images are pulled from (built here, or named by imageUri). */
  repositoryArns: string[];
  roleArn: string;
  pipeline: string;
  /**
   * Processing jobs run in the isolated network's subnets (NetworkConfig.VpcConfig).
   * @default false
   */
  jobsInVpc?: boolean;
}

/** Data, image, logs, pipeline: what processing jobs and notebooks need, independent of the domain. */
export function executionAccessPolicy(a: AccessPolicyArgs): PolicyDocument {
  const sm = (resource: string) => `arn:aws:sagemaker:${a.region}:${a.account}:${resource}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "ResearchBucketList",
        Effect: "Allow",
        Action: ["s3:ListBucket", "s3:GetBucketLocation"],
        Resource: `arn:aws:s3:::${a.bucket}`,
      },
      {
        Sid: "ResearchBucketObjects",
        Effect: "Allow",
        Action: [
          "s3:GetObject",
          "s3:PutObject",
          "s3:DeleteObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
        ],
        Resource: `arn:aws:s3:::${a.bucket}/*`,
      },
      // GetAuthorizationToken has no resource-level permissions; the pull itself is scoped below.
      { Sid: "EcrLogin", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
      {
        Sid: "ResearchImagePull",
        Effect: "Allow",
        Action: ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:BatchCheckLayerAvailability"],
        Resource: [...new Set(a.repositoryArns)],
      },
      {
        // Write: the jobs' and apps' own logs. Read: the notebook's ScriptProcessor.run() waits with
        // logs=True, which lists the job's streams and reads them with GetLogEvents; without it the
        // cell fails with AccessDenied although the job runs.
        Sid: "SageMakerLogs",
        Effect: "Allow",
        Action: [
          "logs:CreateLogGroup",
          "logs:CreateLogStream",
          "logs:PutLogEvents",
          "logs:DescribeLogStreams",
          "logs:GetLogEvents",
        ],
        Resource: `arn:aws:logs:${a.region}:${a.account}:log-group:/aws/sagemaker/*`,
      },
      {
        Sid: "QcPipeline",
        Effect: "Allow",
        Action: [
          "sagemaker:StartPipelineExecution",
          "sagemaker:StopPipelineExecution",
          "sagemaker:DescribePipeline",
          "sagemaker:DescribePipelineExecution",
          "sagemaker:ListPipelineExecutionSteps",
          "sagemaker:ListPipelineExecutions",
        ],
        // Pipeline ARNs are lower-case whatever the name's case.
        Resource: [
          sm(`pipeline/${a.pipeline.toLowerCase()}`),
          sm(`pipeline/${a.pipeline.toLowerCase()}/execution/*`),
        ],
      },
      {
        Sid: "ProcessingJobs",
        Effect: "Allow",
        Action: [
          "sagemaker:CreateProcessingJob",
          "sagemaker:DescribeProcessingJob",
          "sagemaker:StopProcessingJob",
          "sagemaker:AddTags",
        ],
        Resource: sm("processing-job/*"),
      },
      {
        // The pipeline (and a notebook's ScriptProcessor) hand this same role to the processing job.
        Sid: "PassOwnRoleToSageMaker",
        Effect: "Allow",
        Action: "iam:PassRole",
        Resource: a.roleArn,
        Condition: { StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" } },
      },
      ...(a.jobsInVpc ? [processingInVpcStatement()] : []),
    ],
  };
}

/**
 * A job with a VpcConfig gets a network interface in the subnets, made and removed with the job's
 * role ("CreateProcessingJob API: Execution Role Permissions", SageMaker developer guide). The
 * Describe calls take no resource; the interface does not exist yet when it is created.
 */
function processingInVpcStatement(): PolicyStatement {
  return {
    Sid: "ProcessingJobNetworkInterfaces",
    Effect: "Allow",
    Action: [
      "ec2:CreateNetworkInterface",
      "ec2:CreateNetworkInterfacePermission",
      "ec2:DeleteNetworkInterface",
      "ec2:DeleteNetworkInterfacePermission",
      "ec2:DescribeNetworkInterfaces",
      "ec2:DescribeVpcs",
      "ec2:DescribeDhcpOptions",
      "ec2:DescribeSubnets",
      "ec2:DescribeSecurityGroups",
    ],
    Resource: "*",
  };
}

/** What the Studio UI does as the user's execution role, scoped to this one domain. */
export function executionStudioPolicy(a: {
  account: string;
  region: string;
  domainId: string;
}): PolicyDocument {
  const sm = (resource: string) => `arn:aws:sagemaker:${a.region}:${a.account}:${resource}`;
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "OwnDomain",
        Effect: "Allow",
        Action: ["sagemaker:DescribeDomain", "sagemaker:DescribeUserProfile", "sagemaker:ListTags"],
        Resource: [sm(`domain/${a.domainId}`), sm(`user-profile/${a.domainId}/*`)],
      },
      {
        Sid: "SpacesAndApps",
        Effect: "Allow",
        Action: [
          "sagemaker:CreateSpace",
          "sagemaker:UpdateSpace",
          "sagemaker:DeleteSpace",
          "sagemaker:DescribeSpace",
          "sagemaker:CreateApp",
          "sagemaker:DeleteApp",
          "sagemaker:DescribeApp",
          "sagemaker:AddTags",
          "sagemaker:ListTags",
        ],
        Resource: [sm(`space/${a.domainId}/*`), sm(`app/${a.domainId}/*`)],
      },
      {
        // List calls take no resource ARN.
        Sid: "StudioListings",
        Effect: "Allow",
        Action: [
          "sagemaker:ListSpaces",
          "sagemaker:ListApps",
          "sagemaker:ListUserProfiles",
          "sagemaker:ListImages",
          "sagemaker:ListImageVersions",
          "sagemaker:ListAppImageConfigs",
          "sagemaker:ListProcessingJobs",
          "sagemaker:ListPipelines",
        ],
        Resource: "*",
      },
      {
        Sid: "ResearchImages",
        Effect: "Allow",
        Action: [
          "sagemaker:DescribeImage",
          "sagemaker:DescribeImageVersion",
          "sagemaker:DescribeAppImageConfig",
        ],
        Resource: [sm("image/*"), sm("image-version/*"), sm("app-image-config/*")],
      },
    ],
  };
}

/** The research bucket refuses every request made without TLS, whoever makes it. */
export function tlsOnlyBucketPolicy(bucket: string): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  };
}

/** ECR lifecycle: superseded (untagged) images beyond `keep` expire; the tagged current one stays. */
export function repositoryLifecyclePolicy(keep: number): Record<string, unknown> {
  return {
    rules: [
      {
        rulePriority: 1,
        description: `keep the ${keep} most recent superseded images`,
        selection: { tagStatus: "untagged", countType: "imageCountMoreThan", countNumber: keep },
        action: { type: "expire" },
      },
    ],
  };
}
