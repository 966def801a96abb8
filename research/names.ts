// Names and ARNs of the research part, derived from its config alone, so the policies can name
// resources before they exist and a re-deploy computes the same names. Each is checked against its
// AWS limit (SageMaker names ≤ 63, IAM roles ≤ 64, buckets 3-63 lowercase).
import { boundedName, NameLimits } from "../common/names";
import { regionCode } from "../common/regions";

export interface ResearchNames {
  domain: string;
  executionRole: string;
  repository: string;
  jupyterLabImage: string;
  jupyterLabAppImageConfig: string;
  bucket: string;
  pipeline: string;
  /** Key prefixes inside the research bucket. */
  codePrefix: string;
  inputPrefix: string;
  outputPrefix: string;
}

const SAGEMAKER_MAX = 63;

/** Pure: every research resource name for `base` in `account`/`region`. */
export function researchNames(base: string, account: string, region: string): ResearchNames {
  const sm = (suffix: string) => boundedName(`${base}-${suffix}`, SAGEMAKER_MAX);
  return {
    domain: boundedName(base, SAGEMAKER_MAX),
    executionRole: boundedName(`${base}-studio-execution`, NameLimits.iamRole),
    repository: base,
    jupyterLabImage: sm("pegasus"),
    jupyterLabAppImageConfig: sm("pegasus-jupyterlab"),
    // Account and Region make the globally unique bucket name predictable without a random suffix.
    bucket: boundedName(`${base}-${account}-${regionCode(region)}`, NameLimits.s3Bucket),
    pipeline: sm("pegasus-qc"),
    codePrefix: "code/",
    inputPrefix: "pegasus/input/",
    outputPrefix: "pegasus/output/",
  };
}

/** Pure: ARN of an ECR repository. */
export function repositoryArn(account: string, region: string, repository: string): string {
  return `arn:aws:ecr:${region}:${account}:repository/${repository}`;
}

/** Pure: account, Region and repository of a digest-pinned ECR URI, for the pull permission. */
export function parseEcrUri(uri: string): { account: string; region: string; repository: string } {
  const match = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/([^@:]+)/.exec(uri);
  if (!match) throw new Error(`not an ECR image URI: ${uri}`);
  return { account: match[1], region: match[2], repository: match[3] };
}
