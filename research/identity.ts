// Researchers and their groups in the account's existing IAM Identity Center instance. The instance
// is looked up, never created: @pulumi/aws has no resource for it, and an organization has one.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ResearchUser, userProfileNameFor } from "./config";

export interface ResearchIdentityArgs {
  /** Account and Region, only to make the "no instance" error actionable. */
  account: string;
  region: string;
  /** Group display names. */
  groups: string[];
  /** Researchers; each `group` is one of `groups`. */
  users: ResearchUser[];
}

/**
 * Groups, users and memberships in the account's existing Identity Center instance.
 *
 * @example
 * const identity = new ResearchIdentity(
 *   "research-identity",
 *   { account: settings.account, region: settings.region, groups: ["researchers"], users: settings.users },
 *   { parent: this },
 * );
 * identity.groupIds.researchers; // the Identity Store group ID the domain is assigned
 */
export class ResearchIdentity extends pulumi.ComponentResource {
  /** The Identity Store the users and groups live in. */
  public readonly identityStoreId: pulumi.Output<string>;
  /** Group display name → Identity Store group ID. */
  public readonly groupIds: Record<string, pulumi.Output<string>>;
  /** User name → Identity Store user (profiles depend on the user existing). */
  public readonly users: Record<string, aws.identitystore.User>;
  /** User name → the user's membership of its group (the group is what the domain is assigned). */
  public readonly memberships: Record<string, aws.identitystore.GroupMembership>;

  constructor(name: string, args: ResearchIdentityArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:research:Identity", name, {}, opts);

    const instances = aws.ssoadmin.getInstancesOutput({}, { parent: this });
    this.identityStoreId = instances.apply((found) => identityStoreOf(found, args.account, args.region));

    this.groupIds = {};
    const groups: Record<string, aws.identitystore.Group> = {};
    for (const group of args.groups) {
      groups[group] = new aws.identitystore.Group(
        `${name}-group-${group}`,
        {
          identityStoreId: this.identityStoreId,
          displayName: group,
          description: "Field Notes researchers: assigned to the SageMaker Studio domain",
        },
        { parent: this },
      );
      this.groupIds[group] = groups[group].groupId;
    }

    this.users = {};
    this.memberships = {};
    for (const user of args.users) {
      // User names may hold "@" and "."; the profile name is the same user, spelled URN-safe.
      const id = userProfileNameFor(user.userName);
      const created = new aws.identitystore.User(
        `${name}-user-${id}`,
        {
          identityStoreId: this.identityStoreId,
          userName: user.userName,
          displayName: `${user.givenName} ${user.familyName}`,
          name: { givenName: user.givenName, familyName: user.familyName },
          emails: { value: user.email, primary: true, type: "work" },
        },
        { parent: this },
      );
      this.memberships[user.userName] = new aws.identitystore.GroupMembership(
        `${name}-member-${id}`,
        {
          identityStoreId: this.identityStoreId,
          groupId: groups[user.group].groupId,
          memberId: created.userId,
        },
        { parent: this },
      );
      this.users[user.userName] = created;
    }

    this.registerOutputs({ identityStoreId: this.identityStoreId });
  }
}

/** Pure: the Identity Store of the one Identity Center instance, or an error saying what to do. */
export function identityStoreOf(
  found: { arns: string[]; identityStoreIds: string[] },
  account: string,
  region: string,
): string {
  if (found.identityStoreIds.length === 0) {
    throw new Error(
      `No IAM Identity Center instance is enabled in account ${account}, Region ${region}. ` +
        `Enable Identity Center there first (console: IAM Identity Center > Enable), or set ` +
        `fieldnotes:research.region to the Region where your Identity Center instance runs: ` +
        `users, groups and the SSO-mode Studio domain can only be created in that Region.`,
    );
  }
  return found.identityStoreIds[0];
}
