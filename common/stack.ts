import { ConfigError, readStructured } from "./config-error";

// Which parts this stack deploys, and how it reaches the accounts it deploys into. Both are
// stack-level config (Pulumi.<stack>.yaml); the topology itself is project-level (Pulumi.yaml).

export const PARTS_KEY = "fieldnotes:parts";
export const DEPLOY_ROLES_KEY = "fieldnotes:deployRoles";
export const SANDBOX_ACCOUNT_KEY = "fieldnotes:sandboxAccount";

/** The parts a stack may list: `publisher`, `subscriber/<name>` (a topology subscriber), `research`. */
export interface StackParts {
  publisher: boolean;
  /** Names of the topology subscribers this stack deploys, in the order listed. */
  subscribers: string[];
  research: boolean;
}

export interface StackSettings {
  parts: StackParts;
  /** Account ID → role ARN the provider assumes to deploy into that account. */
  deployRoles: Record<string, string>;
  /** When set, every topology account is replaced by this one (a one-account sandbox). */
  sandboxAccount?: string;
}

interface ConfigSource {
  name: string;
  get(key: string): string | undefined;
}

const ACCOUNT = /^\d{12}$/;
const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const SUBSCRIBER_PART = /^subscriber\/(.+)$/;

export function isAccountId(value: unknown): value is string {
  return typeof value === "string" && ACCOUNT.test(value);
}

/** Reads and validates the stack-level settings; throws a ConfigError naming key and value. */
export function loadStackSettings(config: ConfigSource): StackSettings {
  return {
    parts: parseParts(readStructured(config, "parts")),
    deployRoles: parseDeployRoles(readStructured(config, "deployRoles")),
    sandboxAccount: parseSandboxAccount(config.get("sandboxAccount")),
  };
}

export function parseParts(raw: unknown): StackParts {
  const list = typeof raw === "string" ? [raw] : raw;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError(
      PARTS_KEY,
      raw,
      'must be a non-empty list of parts: "publisher", "subscriber/<name>" or "research"',
    );
  }
  const parts: StackParts = { publisher: false, subscribers: [], research: false };
  const seen = new Set<string>();
  list.forEach((part, index) => {
    const key = `${PARTS_KEY}[${index}]`;
    if (typeof part !== "string") {
      throw new ConfigError(key, part, 'must be a string: "publisher", "subscriber/<name>" or "research"');
    }
    if (seen.has(part)) throw new ConfigError(key, part, "is listed twice");
    seen.add(part);
    const subscriber = SUBSCRIBER_PART.exec(part);
    if (part === "publisher") parts.publisher = true;
    else if (part === "research") parts.research = true;
    else if (subscriber) parts.subscribers.push(subscriber[1]);
    else
      throw new ConfigError(key, part, 'is not a part: use "publisher", "subscriber/<name>" or "research"');
  });
  return parts;
}

export function parseDeployRoles(raw: unknown): Record<string, string> {
  if (raw === undefined) return {};
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      DEPLOY_ROLES_KEY,
      raw,
      'must be a map of account ID to role ARN, e.g. {"222222222222": "arn:aws:iam::222222222222:role/deployer"}',
    );
  }
  const roles: Record<string, string> = {};
  for (const [account, arn] of Object.entries(raw)) {
    const key = `${DEPLOY_ROLES_KEY}.${account}`;
    if (!ACCOUNT.test(account))
      throw new ConfigError(DEPLOY_ROLES_KEY, account, "has a key that is not a 12-digit AWS account ID");
    const match = typeof arn === "string" ? ROLE_ARN.exec(arn) : null;
    if (!match)
      throw new ConfigError(key, arn, "is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)");
    if (match[1] !== account)
      throw new ConfigError(key, arn, `is a role in account ${match[1]}, not in ${account}`);
    roles[account] = arn as string;
  }
  return roles;
}

function parseSandboxAccount(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!ACCOUNT.test(raw)) throw new ConfigError(SANDBOX_ACCOUNT_KEY, raw, "is not a 12-digit AWS account ID");
  return raw;
}
