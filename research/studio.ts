// The SageMaker Studio domain in IAM Identity Center (SSO) mode, one user profile per researcher,
// and the assignment of each group to the domain's Identity Center application (without it, users
// are refused at login: "check if user is assigned to Studio Domain").
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AttachedImage } from "./image";

export interface StudioDomainArgs {
  domainName: string;
  executionRoleArn: pulumi.Input<string>;
  vpcId: pulumi.Input<string>;
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  appNetworkAccessType: "PublicInternetOnly" | "VpcOnly";
  /**
   * The apps' security groups (VpcOnly); SageMaker adds its own NFS group to each app.
   * @default none (the domain names no security group)
   */
  securityGroupIds?: pulumi.Input<string>[];
  /**
   * Network resources the domain must be created after and deleted before.
   * @default none
   */
  networkDependsOn?: pulumi.Resource[];
  /** "Delete" lets `pulumi destroy` remove the home EFS; "Retain" keeps researchers' files. */
  homeEfsRetention: "Retain" | "Delete";
  /** The JupyterLab image attached to every user's spaces. */
  jupyterLabImage: AttachedImage;
  /**
   * Studio profile name → Identity Center user name and group. The user, its membership of `group`
   * and that group's assignment to the domain's application must exist before the profile.
   */
  profiles: { profileName: string; userName: string; group: string; dependsOn: pulumi.Resource[] }[];
  /** Group display name → Identity Store group ID, each assigned to the domain's application. */
  groupIds: Record<string, pulumi.Input<string>>;
}

/**
 * The SageMaker Studio domain in Identity Center mode, its user profiles, and its group assignments.
 *
 * @example
 * const studio = new StudioDomain(
 *   "research-studio",
 *   {
 *     domainName: names.domain,
 *     executionRoleArn: executionRole.arn,
 *     vpcId: defaultVpc.id,
 *     subnetIds: defaultSubnetIds,
 *     appNetworkAccessType: "PublicInternetOnly",
 *     homeEfsRetention: "Retain",
 *     jupyterLabImage: images.jupyterLab,
 *     profiles: settings.users.map((u) => ({
 *       profileName: userProfileNameFor(u.userName),
 *       userName: u.userName,
 *       group: u.group,
 *       dependsOn: [identity.users[u.userName], identity.memberships[u.userName]],
 *     })),
 *     groupIds: identity.groupIds,
 *   },
 *   { parent: this },
 * );
 * studio.url; // where researchers sign in
 */
export class StudioDomain extends pulumi.ComponentResource {
  public readonly domainId: pulumi.Output<string>;
  public readonly url: pulumi.Output<string>;
  public readonly singleSignOnApplicationArn: pulumi.Output<string>;
  public readonly profileNames: string[];

  constructor(name: string, args: StudioDomainArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:research:StudioDomain", name, {}, opts);

    const domain = new aws.sagemaker.Domain(
      `${name}-domain`,
      {
        domainName: args.domainName,
        // Users are Identity Center users; the domain must live in the Identity Center Region.
        authMode: "SSO",
        vpcId: args.vpcId,
        subnetIds: args.subnetIds,
        appNetworkAccessType: args.appNetworkAccessType,
        retentionPolicy: { homeEfsFileSystem: args.homeEfsRetention },
        defaultUserSettings: defaultUserSettings(args),
        ...(args.securityGroupIds
          ? {
              // Domain-level apps talk to user apps through these groups (DomainSettings), and
              // UserSettings.SecurityGroups reach private spaces only: shared spaces take theirs
              // from DefaultSpaceSettings.
              domainSettings: { securityGroupIds: args.securityGroupIds },
              defaultSpaceSettings: {
                executionRole: args.executionRoleArn,
                securityGroups: args.securityGroupIds,
              },
            }
          : {}),
      },
      { parent: this, dependsOn: args.networkDependsOn },
    );

    // AWS: a user (or a group holding it) must be assigned to the domain's Identity Center
    // application before its user profile is created ("Add users", Studio SSO onboarding), so the
    // assignments come first and every profile waits for its group's.
    const assignments: Record<string, aws.ssoadmin.ApplicationAssignment> = {};
    for (const [group, groupId] of Object.entries(args.groupIds)) {
      assignments[group] = new aws.ssoadmin.ApplicationAssignment(
        `${name}-access-${group}`,
        { applicationArn: domain.singleSignOnApplicationArn, principalId: groupId, principalType: "GROUP" },
        { parent: this },
      );
    }

    this.profileNames = args.profiles.map((p) => p.profileName);
    for (const profile of args.profiles) {
      const assignment = assignments[profile.group];
      if (!assignment)
        throw new Error(`profile ${profile.profileName}: group ${profile.group} is not assigned`);
      new aws.sagemaker.UserProfile(
        `${name}-profile-${profile.profileName}`,
        {
          domainId: domain.id,
          userProfileName: profile.profileName,
          // SSO domains match the profile to the Identity Center user by user name.
          singleSignOnUserIdentifier: "UserName",
          singleSignOnUserValue: profile.userName,
        },
        { parent: this, dependsOn: [...profile.dependsOn, assignment] },
      );
    }

    this.domainId = domain.id;
    this.url = domain.url;
    this.singleSignOnApplicationArn = domain.singleSignOnApplicationArn;
    this.registerOutputs({ domainId: this.domainId, url: this.url });
  }
}

/**
 * Pure: the domain's default user settings. The images are attached by name with no version
 * number, so a new ImageVersion reaches spaces at their next restart without updating the domain;
 * a domain update fails while apps run (stop them first, see docs/research.md).
 */
export function defaultUserSettings(
  args: Pick<StudioDomainArgs, "executionRoleArn" | "jupyterLabImage" | "securityGroupIds">,
): aws.types.input.sagemaker.DomainDefaultUserSettings {
  const attach = (image: AttachedImage) => ({
    imageName: image.imageName,
    appImageConfigName: image.appImageConfigName,
  });
  return {
    executionRole: args.executionRoleArn,
    // The current Studio web portal with JupyterLab spaces. No KernelGatewayAppSettings: a new domain
    // cannot create Studio Classic (KernelGateway) apps, so an image attached there is never usable.
    studioWebPortal: "ENABLED",
    defaultLandingUri: "studio::",
    jupyterLabAppSettings: { customImages: [attach(args.jupyterLabImage)] },
    // CreateDomain requires them in VpcOnly mode, here or in each profile.
    ...(args.securityGroupIds ? { securityGroups: args.securityGroupIds } : {}),
  };
}
