import {
  collectProblems,
  ConfigProblem,
  readStructured,
  throwIfProblems,
  unknownKeyReason,
} from "./config-error";
import { accountId, accountReason, check, isAccountId, parse, text, unique, v } from "./schema";

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

/**
 * Every `fieldnotes:` key the program reads, project or stack level. Any other `fieldnotes:` key in
 * a stack file is a typo (`fieldnotes:sandboxAcount` would deploy into production accounts), so it
 * is refused. Add a key here when the program starts reading it, and describe it in
 * docs/configuration.md.
 */
export const CONFIG_KEYS = [
  "topology",
  "parts",
  "sandboxAccount",
  "deployRoles",
  "ecsNetwork",
  "logRetentionDays",
  "research",
  "alarms",
  "dashboard",
  "tracing",
] as const;

const ROLE_ARN = /^arn:aws:iam::(\d{12}):role\/[\w+=,.@/-]{1,512}$/;
const SUBSCRIBER_PART = /^subscriber\/(.+)$/;
const PARTS_REASON = 'must be a non-empty list of parts: "publisher", "subscriber/<name>" or "research"';

/**
 * Reads and validates the stack-level settings; throws a ConfigError naming every key and value.
 *
 * @example
 * const settings = loadStackSettings(new pulumi.Config("fieldnotes"), Object.keys(pulumi.runtime.allConfig()));
 * settings.parts.subscribers; // ["b", "c"]
 */
export function loadStackSettings(config: ConfigSource, allKeys: readonly string[] = []): StackSettings {
  const { value, problems } = checkStackSettings(config, allKeys);
  throwIfProblems(problems);
  return value!;
}

/**
 * Like loadStackSettings, but returns the problems (and the settings, when they could be read
 * despite them, e.g. next to an unknown key). `allKeys` are the config's full key names
 * (`fieldnotes:parts`, `aws:region`, …); the `fieldnotes:` ones must be in CONFIG_KEYS.
 *
 * @example
 * const { value, problems } = checkStackSettings(config, ["fieldnotes:sandboxAcount"]);
 * // problems[0].reason: "is not a known key; did you mean fieldnotes:sandboxAccount? …"
 */
export function checkStackSettings(
  config: ConfigSource,
  allKeys: readonly string[] = [],
): { value?: StackSettings; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const namespace = `${config.name}:`;
  for (const full of allKeys) {
    if (!full.startsWith(namespace)) continue;
    const key = full.slice(namespace.length);
    if (!(CONFIG_KEYS as readonly string[]).includes(key)) {
      problems.push({
        key: full,
        value: /^\s*[[{]/.test(config.get(key) ?? "") ? readStructured(config, key) : config.get(key),
        reason: unknownKeyReason(
          full,
          CONFIG_KEYS.map((k) => namespace + k),
        ),
      });
    }
  }
  const parts = collectProblems(problems, () => parseParts(readStructured(config, "parts")));
  const deployRoles = collectProblems(problems, () =>
    parseDeployRoles(readStructured(config, "deployRoles")),
  );
  const sandbox = check(v.optional(accountId), config.get("sandboxAccount"), SANDBOX_ACCOUNT_KEY);
  problems.push(...sandbox.problems);
  // The settings are returned whenever they could be read, so the caller can go on checking the
  // parts they select and report those problems together with these.
  if (!parts || !deployRoles || sandbox.problems.length > 0) return { problems };
  return { value: { parts, deployRoles, sandboxAccount: sandbox.output }, problems };
}

const partsSchema = v.pipe(
  v.union(
    [
      v.pipe(
        v.string(),
        v.transform((p) => [p]),
      ),
      v.array(v.unknown()),
    ],
    PARTS_REASON,
  ),
  v.minLength(1, PARTS_REASON),
  v.array(
    v.pipe(
      v.string('must be a string: "publisher", "subscriber/<name>" or "research"'),
      v.check(
        (p) => p === "publisher" || p === "research" || SUBSCRIBER_PART.test(p),
        'is not a part: use "publisher", "subscriber/<name>" or "research"',
      ),
    ),
  ),
  unique((p: string) => p),
  v.transform((list): StackParts => ({
    publisher: list.includes("publisher"),
    subscribers: list.flatMap((p) => SUBSCRIBER_PART.exec(p)?.[1] ?? []),
    research: list.includes("research"),
  })),
);

/**
 * @example
 * parseParts("publisher"); // {publisher: true, subscribers: [], research: false}
 * parseParts(["subscriber/b", "research"]); // {publisher: false, subscribers: ["b"], research: true}
 */
export function parseParts(raw: unknown): StackParts {
  return parse(partsSchema, raw, PARTS_KEY);
}

const deployRolesSchema = v.optional(
  v.pipe(
    v.record(
      v.string(),
      text(ROLE_ARN, "is not an IAM role ARN (arn:aws:iam::<account>:role/<name>)"),
      'must be a map of account ID to role ARN, e.g. {"222222222222": "arn:aws:iam::222222222222:role/deployer"}',
    ),
    // Each key is an account and its role must be in it: the provider for that account assumes it.
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return;
      const roles = dataset.value as Record<string, string>;
      for (const [account, arn] of Object.entries(roles)) {
        const accountOfRole = ROLE_ARN.exec(arn)![1];
        if (!isAccountId(account)) {
          addIssue({ message: `has a key that ${accountReason(account)}`, input: account });
        } else if (accountOfRole !== account) {
          addIssue({
            message: `is a role in account ${accountOfRole}, not in ${account}`,
            input: arn,
            path: [{ type: "object", origin: "value", input: roles, key: account, value: arn }],
          });
        }
      }
    }),
  ),
  {},
);

/**
 * @example
 * parseDeployRoles({ "222222222222": "arn:aws:iam::333333333333:role/deployer" });
 * // throws: Invalid config fieldnotes:deployRoles.222222222222: "arn:aws:iam::333333333333:role/deployer" is a role in account 333333333333, not in 222222222222
 */
export function parseDeployRoles(raw: unknown): Record<string, string> {
  return parse(deployRolesSchema, raw, DEPLOY_ROLES_KEY);
}
