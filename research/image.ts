// The Pegasus image: an ECR repository, the image built for linux/amd64 and pushed, and the
// SageMaker Image, ImageVersion and AppImageConfig that make it selectable in Studio JupyterLab
// spaces. There is no Studio Classic (KernelGateway) flavour: the domain is created here, and new
// domains cannot create KernelGateway apps.
import * as aws from "@pulumi/aws";
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as path from "path";
import { parseEcrUri, repositoryArn } from "./names";
import { repositoryLifecyclePolicy } from "./policies";

/** The build context: research/image (Dockerfile, requirements.txt). */
export const IMAGE_CONTEXT = path.join(__dirname, "image");

export interface ImageFlavourArgs {
  /** SageMaker Image name. */
  imageName: string;
  /** AppImageConfig name. */
  appImageConfigName: string;
  /**
   * Digest-pinned ECR URI of an image pushed elsewhere; when set, nothing is built.
   * @default none (built here from research/image/Dockerfile)
   */
  imageUri?: string;
  /**
   * Docker build args (e.g. the digest-pinned base).
   * @default none (the Dockerfile's own ARG defaults)
   */
  buildArgs?: Record<string, string>;
}

export interface ResearchImagesArgs {
  account: string;
  region: string;
  /** ECR repository for the images built here. */
  repositoryName: string;
  /** Delete the repository even when it holds images, so destroy works. */
  forceDeleteRepository: boolean;
  /** Superseded images kept. */
  keepImages: number;
  /** Role SageMaker uses for the Image (CreateImage needs one; the deployer needs iam:PassRole on it). */
  roleArn: pulumi.Input<string>;
  /** The JupyterLab image, always attached. */
  jupyterLab: ImageFlavourArgs;
  /**
   * With jupyterLab.imageUri: the root-user processing image pushed elsewhere.
   * @default none (jupyterLab.imageUri, or built here when that is unset too)
   */
  processingImageUri?: string;
  /**
   * Resources that must exist before an ImageVersion is created (the role's ECR pull grant).
   * @default none
   */
  versionDependsOn?: pulumi.Resource[];
}

/** One attached image, as the domain and the outputs need it. */
export interface AttachedImage {
  imageName: pulumi.Output<string>;
  appImageConfigName: pulumi.Output<string>;
  /** The pushed image by digest: what the ImageVersion and the processing step run. */
  imageUri: pulumi.Output<string>;
  version: pulumi.Output<number>;
}

/**
 * The JupyterLab image (built and pushed, or given by digest) attached to Studio, and the processing image.
 *
 * @example
 * const names = researchNames(settings.name, settings.account, settings.region);
 * const images = new ResearchImages(
 *   "research-images",
 *   {
 *     account: settings.account,
 *     region: settings.region,
 *     repositoryName: names.repository,
 *     forceDeleteRepository: false,
 *     keepImages: 5,
 *     roleArn: executionRole.arn,
 *     jupyterLab: { imageName: names.jupyterLabImage, appImageConfigName: names.jupyterLabAppImageConfig },
 *   },
 *   { parent: this },
 * );
 * images.jupyterLab.imageUri; // the pushed image, by digest
 */
export class ResearchImages extends pulumi.ComponentResource {
  public readonly jupyterLab: AttachedImage;
  /** The image processing jobs run, by digest: the JupyterLab image's "processing" stage (root). */
  public readonly processingImageUri: pulumi.Output<string>;
  /** The repository built images are pushed to; undefined when every image comes from imageUri. */
  public readonly repositoryUrl?: pulumi.Output<string>;
  /** ARNs of every repository an attached image is pulled from (for the execution role). */
  public readonly repositoryArns: string[];

  constructor(name: string, args: ResearchImagesArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:research:Images", name, {}, opts);

    const mustBuild = !args.jupyterLab.imageUri;
    this.repositoryArns = imageRepositoryArns(args);

    let push:
      | ((
          tag: string,
          dockerfile: string,
          target?: string,
          buildArgs?: Record<string, string>,
        ) => pulumi.Output<string>)
      | undefined;
    if (mustBuild) {
      const repository = new aws.ecr.Repository(
        `${name}-repository`,
        {
          name: args.repositoryName,
          imageScanningConfiguration: { scanOnPush: true },
          // Tags move on every build; SageMaker pins the digest, so a moved tag changes nothing there.
          imageTagMutability: "MUTABLE",
          encryptionConfigurations: [{ encryptionType: "AES256" }],
          forceDelete: args.forceDeleteRepository,
        },
        { parent: this },
      );
      new aws.ecr.LifecyclePolicy(
        `${name}-lifecycle`,
        { repository: repository.name, policy: JSON.stringify(repositoryLifecyclePolicy(args.keepImages)) },
        { parent: this },
      );
      const token = aws.ecr.getAuthorizationTokenOutput(
        { registryId: repository.registryId },
        { parent: this },
      );
      this.repositoryUrl = repository.repositoryUrl;
      push = (tag, dockerfile, target, buildArgs) =>
        new docker.Image(
          `${name}-${tag}`,
          {
            imageName: pulumi.interpolate`${repository.repositoryUrl}:${tag}`,
            build: {
              context: IMAGE_CONTEXT,
              dockerfile: path.join(IMAGE_CONTEXT, dockerfile),
              // Studio and processing run amd64 only; an arm64 build fails there with "exec format error".
              platform: "linux/amd64",
              target,
              args: buildArgs,
            },
            registry: {
              server: repository.repositoryUrl,
              username: token.userName,
              password: pulumi.secret(token.password),
            },
          },
          { parent: this },
        ).repoDigest;
    }

    const attach = (
      flavour: ImageFlavourArgs,
      tag: string,
      dockerfile: string,
      target: string | undefined,
      config: AppImageConfigBody,
    ) => {
      const imageUri = flavour.imageUri
        ? pulumi.output(flavour.imageUri)
        : push!(tag, dockerfile, target, flavour.buildArgs);
      const image = new aws.sagemaker.Image(
        `${name}-${tag}`,
        {
          imageName: flavour.imageName,
          roleArn: args.roleArn,
          displayName: "Pegasus 1.10.2",
          description: "Pegasus single-cell analysis (Field Notes research)",
        },
        { parent: this },
      );
      // A new digest makes a new ImageVersion; spaces pick it up at their next restart, and the
      // domain (which names no version) is not updated, so running apps do not block the change.
      const version = new aws.sagemaker.ImageVersion(
        `${name}-${tag}`,
        { imageName: image.imageName, baseImage: imageUri },
        { parent: this, dependsOn: args.versionDependsOn },
      );
      const appImageConfig = new aws.sagemaker.AppImageConfig(
        `${name}-${tag}`,
        { appImageConfigName: flavour.appImageConfigName, ...config },
        { parent: this },
      );
      return {
        imageName: version.imageName,
        appImageConfigName: appImageConfig.appImageConfigName,
        imageUri: version.baseImage,
        version: version.version,
      };
    };

    this.jupyterLab = attach(args.jupyterLab, "jupyterlab", "Dockerfile", "jupyterlab", {
      jupyterLabImageConfig: jupyterLabImageConfig(),
    });
    this.processingImageUri = args.jupyterLab.imageUri
      ? pulumi.output(args.processingImageUri ?? args.jupyterLab.imageUri)
      : push!("processing", "Dockerfile", "processing", args.jupyterLab.buildArgs);

    this.registerOutputs({
      jupyterLabImageUri: this.jupyterLab.imageUri,
      processingImageUri: this.processingImageUri,
    });
  }
}

type AppImageConfigBody = Pick<aws.sagemaker.AppImageConfigArgs, "jupyterLabImageConfig">;

/** The JupyterLab contract: port 8888 under /jupyterlab/default, no token or password, any origin. */
export const JUPYTERLAB_SERVER_ARGS = [
  "--ServerApp.ip=0.0.0.0",
  "--ServerApp.port=8888",
  "--ServerApp.base_url=/jupyterlab/default",
  "--ServerApp.token=",
  "--ServerApp.password=",
  "--ServerApp.allow_origin=*",
  "--no-browser",
];

/**
 * Pure: the AppImageConfig body of the JupyterLab image. No FileSystemConfig: CreateAppImageConfig
 * answers one inside JupyterLabAppImageConfig with a 400 ("The FileSystemConfig object is not
 * supported", API_JupyterLabAppImageConfig; terraform-provider-aws #35826). JupyterLab spaces run
 * the image as 1000:100 with home /home/sagemaker-user regardless; the Dockerfile matches that.
 */
export function jupyterLabImageConfig() {
  return {
    containerConfig: { containerEntrypoints: ["jupyter-lab"], containerArguments: JUPYTERLAB_SERVER_ARGS },
  };
}

/** Pure: the repositories the attached images are pulled from: the one built here, and any imageUri's. */
export function imageRepositoryArns(
  args: Pick<
    ResearchImagesArgs,
    "account" | "region" | "repositoryName" | "jupyterLab" | "processingImageUri"
  >,
): string[] {
  const built = !args.jupyterLab.imageUri;
  const external = [args.jupyterLab.imageUri, args.processingImageUri]
    .filter((uri): uri is string => uri !== undefined)
    .map((uri) => {
      const at = parseEcrUri(uri);
      return repositoryArn(at.account, at.region, at.repository);
    });
  const own = built ? [repositoryArn(args.account, args.region, args.repositoryName)] : [];
  return [...new Set([...own, ...external])];
}
