import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

// One explicit provider per (account, Region). `allowedAccountIds` makes a real deployment fail
// fast when the credentials reach the wrong account, and the plan view reads the account and
// Region of every resource from these two inputs.

export class ProviderRegistry {
  private readonly providers = new Map<string, aws.Provider>();

  /** @param deployRoles account ID → role ARN to assume when deploying into that account. */
  constructor(private readonly deployRoles: Record<string, string> = {}) {}

  /** The provider for `account` in `region`, created once and shared by every part that needs it. */
  providerFor(account: string, region: string): aws.Provider {
    const key = `${account}/${region}`;
    let provider = this.providers.get(key);
    if (!provider) {
      provider = new aws.Provider(
        `aws-${account}-${region}`,
        providerArgs(account, region, this.deployRoles[account]),
      );
      this.providers.set(key, provider);
    }
    return provider;
  }
}

/**
 * Pure: the provider inputs for one (account, Region), with the role to assume if configured.
 *
 * @example new aws.Provider("aws-222222222222-us-west-2", providerArgs("222222222222", "us-west-2", roleArn));
 */
export function providerArgs(account: string, region: string, roleArn?: string): aws.ProviderArgs {
  return {
    region: region as aws.Region,
    allowedAccountIds: [account],
    assumeRoles: roleArn
      ? [{ roleArn, sessionName: `fieldnotes-${pulumi.getStack()}`.slice(0, 64) }]
      : undefined,
    defaultTags: { tags: { project: "fieldnotes", stack: pulumi.getStack() } },
  };
}
