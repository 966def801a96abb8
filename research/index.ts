// The research environment: Identity Center users and groups, a SageMaker Studio domain in SSO
// mode, the Pegasus image, and the QC processing pipeline. index.ts creates it with an explicit
// provider for settings.account/settings.region; every child inherits that provider.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ResearchSettings, userProfileNameFor } from "./config";
import { ResearchIdentity } from "./identity";
import { imageRepositoryArns, ResearchImages, ResearchImagesArgs } from "./image";
import { researchNames } from "./names";
import { executionAccessPolicy, executionRoleTrustPolicy, executionStudioPolicy } from "./policies";
import { ResearchNetwork } from "./network";
import { QcProcessing } from "./processing";
import { StudioDomain } from "./studio";

export { checkResearchSettings, loadResearchSettings, parseResearchSettings, RESEARCH_KEY } from "./config";
export type { ResearchSettings, ResearchUser, QcThresholds } from "./config";

/** The stack outputs of the research part: everything `npm run qc` and the notebook read. */
export interface ResearchOutputs {
  account: pulumi.Output<string>;
  region: pulumi.Output<string>;
  domainId: pulumi.Output<string>;
  domainUrl: pulumi.Output<string>;
  userProfiles: pulumi.Output<string[]>;
  executionRoleArn: pulumi.Output<string>;
  bucket: pulumi.Output<string>;
  inputPrefix: pulumi.Output<string>;
  outputPrefix: pulumi.Output<string>;
  scriptUri: pulumi.Output<string>;
  pipelineName: pulumi.Output<string>;
  pipelineArn: pulumi.Output<string>;
  /** The JupyterLab image by digest (what Studio spaces run). */
  imageUri: pulumi.Output<string>;
  /** The processing image by digest (the same image as root). */
  processingImageUri: pulumi.Output<string>;
  sagemakerImageName: pulumi.Output<string>;
  appImageConfigName: pulumi.Output<string>;
  repositoryUrl?: pulumi.Output<string>;
}

/**
 * The research environment of one account and Region (the provider in `opts`).
 *
 * @example
 * const settings = loadResearchSettings(new pulumi.Config("fieldnotes"));
 * const research = new ResearchEnvironment("research", settings, {
 *   provider: providerFor(settings.account, settings.region),
 * });
 * export const domainUrl = research.outputs.domainUrl;
 */
export class ResearchEnvironment extends pulumi.ComponentResource {
  public readonly outputs: ResearchOutputs;

  constructor(name: string, settings: ResearchSettings, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:research:ResearchEnvironment", name, {}, opts);
    const names = researchNames(settings.name, settings.account, settings.region);

    const identity = new ResearchIdentity(
      `${name}-identity`,
      { account: settings.account, region: settings.region, groups: settings.groups, users: settings.users },
      { parent: this },
    );

    const role = new aws.iam.Role(
      `${name}-execution`,
      {
        name: names.executionRole,
        description: "SageMaker Studio and QC processing for the Field Notes research environment",
        assumeRolePolicy: JSON.stringify(executionRoleTrustPolicy()),
        maxSessionDuration: 43200,
      },
      { parent: this },
    );

    const imagesArgs: ResearchImagesArgs = {
      account: settings.account,
      region: settings.region,
      repositoryName: names.repository,
      forceDeleteRepository: settings.forceDeleteRepository,
      keepImages: settings.keepImages,
      roleArn: role.arn,
      jupyterLab: {
        imageName: names.jupyterLabImage,
        appImageConfigName: names.jupyterLabAppImageConfig,
        imageUri: settings.imageUri,
        buildArgs: settings.jupyterLabBaseImage ? { BASE_IMAGE: settings.jupyterLabBaseImage } : undefined,
      },
      processingImageUri: settings.processingImageUri,
    };

    const access = new aws.iam.RolePolicy(
      `${name}-execution-access`,
      {
        role: role.id,
        name: "research-data-image-pipeline",
        policy: role.arn.apply((roleArn) =>
          JSON.stringify(
            executionAccessPolicy({
              account: settings.account,
              region: settings.region,
              bucket: names.bucket,
              repositoryArns: imageRepositoryArns(imagesArgs),
              roleArn,
              pipeline: names.pipeline,
              jobsInVpc: settings.isolatedNetwork !== undefined,
            }),
          ),
        ),
      },
      { parent: this },
    );

    // SageMaker checks that the role can pull the image when an ImageVersion is created.
    const images = new ResearchImages(
      `${name}-images`,
      { ...imagesArgs, versionDependsOn: [access] },
      { parent: this },
    );

    const isolated = settings.isolatedNetwork
      ? new ResearchNetwork(
          `${name}-network`,
          { ...settings.isolatedNetwork, name: settings.name, region: settings.region },
          { parent: this },
        )
      : undefined;
    const network = isolated
      ? { vpcId: isolated.vpcId, subnetIds: pulumi.all(isolated.subnetIds) }
      : settings.existingNetwork
        ? {
            vpcId: pulumi.output(settings.existingNetwork.vpcId),
            subnetIds: pulumi.output(settings.existingNetwork.subnetIds),
          }
        : defaultNetwork(this, settings);

    const studio = new StudioDomain(
      `${name}-studio`,
      {
        domainName: names.domain,
        executionRoleArn: role.arn,
        vpcId: network.vpcId,
        subnetIds: network.subnetIds,
        appNetworkAccessType: settings.appNetworkAccessType,
        securityGroupIds: isolated ? [isolated.studioSecurityGroupId] : undefined,
        // On destroy the domain (its apps' network interfaces, its EFS mount targets) goes first.
        networkDependsOn: isolated?.endpoints,
        homeEfsRetention: settings.homeEfsRetention,
        jupyterLabImage: images.jupyterLab,
        profiles: settings.users.map((u) => ({
          profileName: userProfileNameFor(u.userName),
          userName: u.userName,
          group: u.group,
          dependsOn: [identity.users[u.userName], identity.memberships[u.userName]],
        })),
        groupIds: identity.groupIds,
      },
      { parent: this },
    );

    new aws.iam.RolePolicy(
      `${name}-execution-studio`,
      {
        role: role.id,
        name: "research-studio-domain",
        policy: studio.domainId.apply((domainId) =>
          JSON.stringify(
            executionStudioPolicy({ account: settings.account, region: settings.region, domainId }),
          ),
        ),
      },
      { parent: this },
    );

    const processing = new QcProcessing(
      `${name}-qc`,
      {
        bucketName: names.bucket,
        forceDestroyBucket: settings.forceDestroyBucket,
        pipelineName: names.pipeline,
        codePrefix: names.codePrefix,
        inputPrefix: names.inputPrefix,
        outputPrefix: names.outputPrefix,
        imageUri: images.processingImageUri,
        roleArn: role.arn,
        instanceType: settings.processingInstanceType,
        volumeSizeGb: settings.processingVolumeSizeGb,
        maxRuntimeSeconds: settings.processingMaxRuntimeSeconds,
        qc: settings.qc,
        // In the isolated network the job runs in its private subnets, with the Studio group.
        network: isolated
          ? { subnetIds: isolated.subnetIds, securityGroupIds: [isolated.studioSecurityGroupId] }
          : undefined,
      },
      { parent: this, dependsOn: [access] },
    );

    this.outputs = {
      account: pulumi.output(settings.account),
      region: pulumi.output(settings.region),
      domainId: studio.domainId,
      domainUrl: studio.url,
      userProfiles: pulumi.output(studio.profileNames),
      executionRoleArn: role.arn,
      bucket: processing.bucketName,
      inputPrefix: pulumi.interpolate`s3://${processing.bucketName}/${names.inputPrefix}`,
      outputPrefix: pulumi.interpolate`s3://${processing.bucketName}/${names.outputPrefix}`,
      scriptUri: processing.scriptUri,
      pipelineName: processing.pipelineName,
      pipelineArn: processing.pipelineArn,
      imageUri: images.jupyterLab.imageUri,
      processingImageUri: images.processingImageUri,
      sagemakerImageName: images.jupyterLab.imageName,
      appImageConfigName: images.jupyterLab.appImageConfigName,
      ...(images.repositoryUrl ? { repositoryUrl: images.repositoryUrl } : {}),
    };
    this.registerOutputs(this.outputs);
  }
}

/** The account's default VPC and its default subnets, failing clearly when there are none. */
function defaultNetwork(parent: pulumi.Resource, settings: ResearchSettings) {
  const vpc = aws.ec2.getVpcOutput({ default: true }, { parent });
  const subnets = aws.ec2.getSubnetsOutput(
    {
      filters: [
        { name: "vpc-id", values: [vpc.id] },
        { name: "default-for-az", values: ["true"] },
      ],
    },
    { parent },
  );
  return {
    vpcId: vpc.id,
    subnetIds: subnets.ids.apply((ids) => {
      if (ids.length === 0) {
        throw new Error(
          `The default VPC of account ${settings.account} in ${settings.region} has no default subnets; ` +
            `set fieldnotes:research.vpcId and subnetIds to the network the Studio domain should use.`,
        );
      }
      return ids;
    }),
  };
}
