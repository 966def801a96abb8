/* eslint-disable @typescript-eslint/no-explicit-any -- plan inputs are untyped JSON, mapped field by field */
import { strict as assert } from "assert";
import { Plan, PlannedResource, planStack } from "../../local/plan";
import { BOTOCORE_VERSION, shapeViolations, violations } from "../support/api-model";

// Every name and bounded field the research resources send, checked against botocore's models: the
// planned inputs of each resource (the real program under the mock engine) turned into the request the
// provider sends for it, then validated member by member (lengths, patterns, enums, required).

const PUSHED = `444444444444.dkr.ecr.us-east-1.amazonaws.com/prebuilt/pegasus@sha256:${"b".repeat(64)}`;

/** The create request the provider sends for a planned resource (only the members it sets from inputs). */
const REQUESTS: Record<string, [service: string, operation: string, (r: PlannedResource) => unknown]> = {
  "aws:sagemaker/domain:Domain": [
    "sagemaker",
    "CreateDomain",
    ({ inputs: i }) => {
      const s = i.defaultUserSettings as any;
      const domainSettings = i.domainSettings as any;
      const space = i.defaultSpaceSettings as any;
      return {
        DomainName: i.domainName,
        AuthMode: i.authMode,
        VpcId: i.vpcId,
        SubnetIds: i.subnetIds,
        AppNetworkAccessType: i.appNetworkAccessType,
        ...(domainSettings ? { DomainSettings: { SecurityGroupIds: domainSettings.securityGroupIds } } : {}),
        ...(space
          ? {
              DefaultSpaceSettings: {
                ExecutionRole: space.executionRole,
                SecurityGroups: space.securityGroups,
              },
            }
          : {}),
        DefaultUserSettings: {
          ExecutionRole: s.executionRole,
          ...(s.securityGroups ? { SecurityGroups: s.securityGroups } : {}),
          StudioWebPortal: s.studioWebPortal,
          DefaultLandingUri: s.defaultLandingUri,
          JupyterLabAppSettings: {
            CustomImages: s.jupyterLabAppSettings.customImages.map((c: any) => ({
              ImageName: c.imageName,
              AppImageConfigName: c.appImageConfigName,
            })),
          },
        },
      };
    },
  ],
  "aws:sagemaker/userProfile:UserProfile": [
    "sagemaker",
    "CreateUserProfile",
    ({ inputs: i }) => ({
      DomainId: i.domainId,
      UserProfileName: i.userProfileName,
      SingleSignOnUserIdentifier: i.singleSignOnUserIdentifier,
      SingleSignOnUserValue: i.singleSignOnUserValue,
    }),
  ],
  "aws:sagemaker/image:Image": [
    "sagemaker",
    "CreateImage",
    ({ inputs: i }) => ({
      ImageName: i.imageName,
      RoleArn: i.roleArn,
      DisplayName: i.displayName,
      Description: i.description,
    }),
  ],
  "aws:sagemaker/imageVersion:ImageVersion": [
    "sagemaker",
    "CreateImageVersion",
    // ClientToken is the provider's own (a UUID).
    ({ inputs: i }) => ({ ImageName: i.imageName, BaseImage: i.baseImage, ClientToken: "0".repeat(36) }),
  ],
  "aws:sagemaker/appImageConfig:AppImageConfig": [
    "sagemaker",
    "CreateAppImageConfig",
    ({ inputs: i }) => {
      const lab = i.jupyterLabImageConfig as any;
      return {
        AppImageConfigName: i.appImageConfigName,
        JupyterLabAppImageConfig: {
          ContainerConfig: {
            ContainerEntrypoint: lab.containerConfig.containerEntrypoints,
            ContainerArguments: lab.containerConfig.containerArguments,
          },
          ...(lab.fileSystemConfig ? { FileSystemConfig: lab.fileSystemConfig } : {}),
        },
      };
    },
  ],
  "aws:sagemaker/pipeline:Pipeline": [
    "sagemaker",
    "CreatePipeline",
    ({ inputs: i }) => ({
      PipelineName: i.pipelineName,
      PipelineDisplayName: i.pipelineDisplayName,
      PipelineDescription: i.pipelineDescription,
      RoleArn: i.roleArn,
      PipelineDefinition: i.pipelineDefinition,
      ClientRequestToken: "0".repeat(36),
    }),
  ],
  "aws:iam/role:Role": [
    "iam",
    "CreateRole",
    ({ inputs: i }) => ({
      RoleName: i.name,
      Description: i.description,
      AssumeRolePolicyDocument: i.assumeRolePolicy,
      MaxSessionDuration: i.maxSessionDuration,
    }),
  ],
  "aws:iam/rolePolicy:RolePolicy": [
    "iam",
    "PutRolePolicy",
    ({ inputs: i }) => ({ RoleName: i.role, PolicyName: i.name, PolicyDocument: i.policy }),
  ],
  "aws:ecr/repository:Repository": [
    "ecr",
    "CreateRepository",
    ({ inputs: i }) => ({
      repositoryName: i.name,
      imageTagMutability: i.imageTagMutability,
      imageScanningConfiguration: { scanOnPush: (i.imageScanningConfiguration as any).scanOnPush },
      encryptionConfiguration: { encryptionType: (i.encryptionConfigurations as any)[0].encryptionType },
    }),
  ],
  "aws:ecr/lifecyclePolicy:LifecyclePolicy": [
    "ecr",
    "PutLifecyclePolicy",
    ({ inputs: i }) => ({ repositoryName: i.repository, lifecyclePolicyText: i.policy }),
  ],
  "aws:identitystore/user:User": [
    "identitystore",
    "CreateUser",
    ({ inputs: i }) => {
      const e = i.emails as any;
      const n = i.name as any;
      return {
        IdentityStoreId: i.identityStoreId,
        UserName: i.userName,
        DisplayName: i.displayName,
        Name: { GivenName: n.givenName, FamilyName: n.familyName },
        Emails: [{ Value: e.value, Type: e.type, Primary: e.primary }],
      };
    },
  ],
  "aws:identitystore/group:Group": [
    "identitystore",
    "CreateGroup",
    ({ inputs: i }) => ({
      IdentityStoreId: i.identityStoreId,
      DisplayName: i.displayName,
      Description: i.description,
    }),
  ],
  "aws:identitystore/groupMembership:GroupMembership": [
    "identitystore",
    "CreateGroupMembership",
    ({ inputs: i }) => ({
      IdentityStoreId: i.identityStoreId,
      GroupId: i.groupId,
      MemberId: { UserId: i.memberId },
    }),
  ],
  "aws:ssoadmin/applicationAssignment:ApplicationAssignment": [
    "sso-admin",
    "CreateApplicationAssignment",
    ({ inputs: i }) => ({
      ApplicationArn: i.applicationArn,
      PrincipalId: i.principalId,
      PrincipalType: i.principalType,
    }),
  ],
};

// Resource types whose requests the models do not bound by name (S3 bucket names are checked in
// research/names.ts against S3's own rules; docker pushes are not an AWS API request of their own).
const NOT_MODELLED = new Set([
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls",
  "aws:s3/bucketPolicy:BucketPolicy",
  "aws:s3/bucketObjectv2:BucketObjectv2",
  "docker:index/image:Image",
  // The isolated network: EC2's models bound nothing these requests send (no lengths or patterns on
  // names, IDs or descriptions) beyond VpcEndpointType's enum, which network.spec.ts pins.
  "aws:ec2/vpc:Vpc",
  "aws:ec2/defaultSecurityGroup:DefaultSecurityGroup",
  "aws:ec2/subnet:Subnet",
  "aws:ec2/routeTable:RouteTable",
  "aws:ec2/routeTableAssociation:RouteTableAssociation",
  "aws:ec2/securityGroup:SecurityGroup",
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
  "aws:ec2/vpcEndpoint:VpcEndpoint",
]);

/** The step's CreateProcessingJob Arguments with each {Get: Parameters.X} replaced by X's default. */
function resolveParameters(value: unknown, defaults: Record<string, string>): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveParameters(v, defaults));
  if (typeof value === "object" && value !== null) {
    const get = (value as { Get?: string }).Get;
    if (typeof get === "string") return defaults[get.replace(/^Parameters\./, "")];
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveParameters(v, defaults)]));
  }
  return value;
}

describe(`research plan vs the AWS API models (botocore ${BOTOCORE_VERSION})`, function () {
  this.timeout(120_000);
  let plans: Plan[];
  before(async () => {
    const base = JSON.parse(
      (await import("../../local/stack-config")).loadStackConfig("research").config["fieldnotes:research"],
    );
    plans = await Promise.all([
      planStack("research"),
      planStack("research", {
        config: { "fieldnotes:research": JSON.stringify({ ...base, imageUri: PUSHED }) },
      }),
      // The isolated network: the VpcOnly domain's security groups and the step's NetworkConfig.
      planStack("research", {
        config: { "fieldnotes:research": JSON.stringify({ ...base, network: { mode: "vpcOnly" } }) },
      }),
    ]);
    for (const p of plans) if (p.error) throw new Error(p.error.message);
  });

  it("maps every planned resource type to its create request, or says why it has none", () => {
    const types = new Set(
      plans
        .flatMap((p) => p.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:")))
        .map((r) => r.type),
    );
    assert.deepEqual(
      [...types].filter((t) => !(t in REQUESTS) && !NOT_MODELLED.has(t)),
      [],
    );
  });

  it("sends only requests the models accept: names, lengths, patterns, enums, required members", () => {
    const problems: string[] = [];
    for (const plan of plans) {
      for (const r of plan.resources) {
        const request = REQUESTS[r.type];
        if (!request) continue;
        const [service, operation, build] = request;
        for (const v of violations(service, operation, build(r)))
          problems.push(`${r.name} (${service} ${operation}) ${v}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it("defines pipeline steps whose Arguments are a valid CreateProcessingJob request", () => {
    for (const plan of plans) {
      const pipeline = plan.resources.find((r) => r.type === "aws:sagemaker/pipeline:Pipeline")!;
      const definition = JSON.parse(pipeline.inputs.pipelineDefinition as string);
      const defaults = Object.fromEntries(definition.Parameters.map((p: any) => [p.Name, p.DefaultValue]));
      for (const step of definition.Steps) {
        // Step names: 1-64 of [A-Za-z0-9-_] (SageMaker Pipelines definition schema; botocore has no shape
        // for the definition document). The execution names the step's job itself, so no ProcessingJobName.
        assert.match(step.Name, /^[A-Za-z0-9\-_]{1,64}$/);
        const args = resolveParameters(step.Arguments, defaults);
        const problems = shapeViolations("sagemaker", "CreateProcessingJobRequest", args, step.Name).filter(
          (p) => p !== `${step.Name}.ProcessingJobName: is required`,
        );
        assert.deepEqual(problems, []);
      }
    }
  });

  it("would refuse what AWS refuses (the check can fail)", () => {
    const bad = violations("sagemaker", "CreateAppImageConfig", {
      AppImageConfigName: "pegasus_jupyterlab",
      JupyterLabAppImageConfig: { ContainerConfig: { ContainerEntrypoint: ["x".repeat(300)] } },
    });
    assert.equal(bad.length, 2, bad.join("\n"));
    assert.match(bad[0], /AppImageConfigName: must match/);
    assert.match(bad[1], /ContainerEntrypoint\[0\]: must have at most 256 characters/);
    assert.match(
      violations("sagemaker", "CreateUserProfile", { DomainId: "d-1" }).join(),
      /UserProfileName: is required/,
    );
    assert.match(
      violations("sagemaker", "CreateDomain", { DomainName: "x", AuthMode: "Okta" }).join("\n"),
      /AuthMode: must be one of SSO, IAM/,
    );
    // DomainSettings takes at most 3 security groups; a job's VpcConfig needs at least one subnet.
    assert.match(
      violations("sagemaker", "CreateDomain", {
        DomainName: "x",
        AuthMode: "SSO",
        DomainSettings: { SecurityGroupIds: ["sg-1", "sg-2", "sg-3", "sg-4"] },
      }).join("\n"),
      /DomainSettings\.SecurityGroupIds: must have at most 3 items/,
    );
    assert.match(
      shapeViolations(
        "sagemaker",
        "NetworkConfig",
        { VpcConfig: { SecurityGroupIds: ["sg-1"], Subnets: [] } },
        "n",
      ).join("\n"),
      /n\.VpcConfig\.Subnets: must have at least 1 /,
    );
  });
});
