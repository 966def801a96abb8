// The research part's configuration: one structured key, `fieldnotes:research`, validated in full
// before any resource is registered. Every error names the key path and the value (ConfigError).
import { ConfigError, readStructured } from "../common/config-error";
import { isKnownRegion } from "../common/regions";

export const RESEARCH_KEY = "fieldnotes:research";

/** QC thresholds of the processing pipeline; `null` switches a filter off (see qc_metrics.py). */
export interface QcThresholds {
  minGenes: number | null;
  maxGenes: number | null;
  minUmis: number | null;
  maxUmis: number | null;
  mitoPrefix: string | null;
  percentMito: number | null;
}

export interface ResearchUser {
  /** Identity Center user name: what the researcher types at login, and the profile's SSO value. */
  userName: string;
  givenName: string;
  familyName: string;
  email: string;
  /** One of `groups`; the group is what gets assigned to the Studio domain. */
  group: string;
}

export interface ResearchSettings {
  /** Account the research part deploys into. */
  account: string;
  /** The Identity Center instance's Region: users and groups can only be written there. */
  region: string;
  /** Base of every resource name (domain, role, repository, bucket, pipeline). */
  name: string;
  groups: string[];
  users: ResearchUser[];
  /** Explicit network; `undefined` means the account's default VPC and its default subnets. */
  network?: { vpcId: string; subnetIds: string[] };
  appNetworkAccessType: "PublicInternetOnly" | "VpcOnly";
  /** Keep the domain's home EFS on destroy ("Retain") or delete it so destroy leaves nothing ("Delete"). */
  homeEfsRetention: "Retain" | "Delete";
  /** A digest-pinned ECR URI of an already-pushed JupyterLab image: nothing is built. */
  imageUri?: string;
  /** With imageUri: a digest-pinned ECR URI of the root-user processing image (defaults to imageUri). */
  processingImageUri?: string;
  /** Digest-pinned base for the JupyterLab build (defaults to the Dockerfile's sagemaker-distribution tag). */
  jupyterLabBaseImage?: string;
  /** Delete the ECR repository even when it still holds images, so destroy works. */
  forceDeleteRepository: boolean;
  /** Untagged (superseded) images kept in the repository. */
  keepImages: number;
  /** Empty the research bucket on destroy. */
  forceDestroyBucket: boolean;
  processingInstanceType: string;
  processingVolumeSizeGb: number;
  processingMaxRuntimeSeconds: number;
  qc: QcThresholds;
}

const DEFAULT_QC: QcThresholds = {
  // The original walkthrough's intent on pegasuspy 1.0: its defaults, with the mito cut at 10 %.
  minGenes: 500,
  maxGenes: 6000,
  minUmis: null,
  maxUmis: null,
  mitoPrefix: "MT-",
  percentMito: 10,
};

const KNOWN_KEYS = [
  "account",
  "region",
  "name",
  "groups",
  "users",
  "vpcId",
  "subnetIds",
  "appNetworkAccessType",
  "homeEfsRetention",
  "imageUri",
  "processingImageUri",
  "jupyterLabBaseImage",
  "forceDeleteRepository",
  "keepImages",
  "forceDestroyBucket",
  "processingInstanceType",
  "processingVolumeSizeGb",
  "processingMaxRuntimeSeconds",
  "qc",
] as const;
// Keys that existed once: a stack config still holding one gets the reason instead of "unknown key".
const REMOVED_KEYS: Record<string, string> = {
  studioClassic:
    "was removed: it attached a Studio Classic (KernelGateway) image to the domain this program creates, and " +
    'new domains cannot create KernelGateway apps, so nobody could open it; delete the key (docs/research.md, "Studio Classic option")',
};
REMOVED_KEYS.classicBaseDigest = REMOVED_KEYS.studioClassic;
REMOVED_KEYS.classicImageUri = REMOVED_KEYS.studioClassic;

const USER_KEYS = ["userName", "givenName", "familyName", "email", "group"] as const;
const QC_KEYS = Object.keys(DEFAULT_QC);

const ACCOUNT = /^\d{12}$/;
const NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
// Identity Store user names: no spaces or control characters, at most 128.
const USER_NAME = /^[\w+=,.@-]{1,128}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@.]+$/;
// SageMaker images must come from ECR, and a digest (not a tag) is what makes a version immutable.
export const ECR_DIGEST_URI =
  /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.amazonaws\.com\/((?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*)@sha256:[0-9a-f]{64}$/;
const ANY_DIGEST_IMAGE = /^[\w.-]+(?::\d+)?\/[\w./-]+(?::[\w.-]+)?@sha256:[0-9a-f]{64}$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const PROCESSING_INSTANCE = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;

interface ConfigSource {
  name: string;
  get(key: string): string | undefined;
}

/** Reads and validates `fieldnotes:research`; throws a ConfigError naming the key path and value. */
export function loadResearchSettings(config: ConfigSource): ResearchSettings {
  return parseResearchSettings(readStructured(config, "research"));
}

/** Pure: the validated settings from the raw (JSON-decoded) config object. */
export function parseResearchSettings(raw: unknown): ResearchSettings {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(
      RESEARCH_KEY,
      raw,
      "must be an object with at least account, region, groups and users (see docs/configuration.md, section Research)",
    );
  }
  const obj = raw as Record<string, unknown>;
  for (const [removed, why] of Object.entries(REMOVED_KEYS)) {
    if (removed in obj) throw new ConfigError(`${RESEARCH_KEY}.${removed}`, obj[removed], why);
  }
  rejectUnknownKeys(RESEARCH_KEY, obj, KNOWN_KEYS);
  const key = (k: string) => `${RESEARCH_KEY}.${k}`;

  const account = obj.account;
  if (typeof account !== "string" || !ACCOUNT.test(account)) {
    throw new ConfigError(key("account"), account, "must be a 12-digit AWS account ID (as a quoted string)");
  }
  const region = obj.region;
  if (!isKnownRegion(region)) {
    throw new ConfigError(key("region"), region, "must be an AWS Region, the one where Identity Center runs");
  }
  const name = optional(obj.name, "fieldnotes-research");
  if (typeof name !== "string" || !NAME.test(name)) {
    throw new ConfigError(
      key("name"),
      name,
      "must be 2-32 characters: lowercase letters, digits and '-', starting with a letter",
    );
  }

  const groups = parseGroups(obj.groups);
  const users = parseUsers(obj.users, groups);
  const network = parseNetwork(obj.vpcId, obj.subnetIds);

  const appNetworkAccessType = oneOf(key("appNetworkAccessType"), obj.appNetworkAccessType, [
    "PublicInternetOnly",
    "VpcOnly",
  ] as const);
  if (appNetworkAccessType === "VpcOnly" && !network) {
    throw new ConfigError(
      key("appNetworkAccessType"),
      "VpcOnly",
      "needs an explicit vpcId and subnetIds with VPC endpoints (or a NAT); the default VPC has neither",
    );
  }
  const homeEfsRetention = oneOf(key("homeEfsRetention"), obj.homeEfsRetention, [
    "Delete",
    "Retain",
  ] as const);

  const imageUri = optionalPattern(key("imageUri"), obj.imageUri, ECR_DIGEST_URI, DIGEST_URI_HINT);
  const processingImageUri = optionalPattern(
    key("processingImageUri"),
    obj.processingImageUri,
    ECR_DIGEST_URI,
    DIGEST_URI_HINT,
  );
  if (processingImageUri && !imageUri) {
    throw new ConfigError(
      key("processingImageUri"),
      processingImageUri,
      "needs imageUri: without it both images are built here",
    );
  }
  const jupyterLabBaseImage = optionalPattern(
    key("jupyterLabBaseImage"),
    obj.jupyterLabBaseImage,
    ANY_DIGEST_IMAGE,
    "must be an image reference pinned by digest, e.g. public.ecr.aws/sagemaker/sagemaker-distribution:3.9.14-cpu@sha256:<64 hex>",
  );
  if (imageUri && jupyterLabBaseImage) {
    throw new ConfigError(
      key("jupyterLabBaseImage"),
      jupyterLabBaseImage,
      "has no effect with imageUri set: nothing is built",
    );
  }

  const keepImages = integer(key("keepImages"), obj.keepImages, 5, 1, 1000);
  const processingInstanceType = optional(obj.processingInstanceType, "ml.m5.xlarge");
  if (typeof processingInstanceType !== "string" || !PROCESSING_INSTANCE.test(processingInstanceType)) {
    throw new ConfigError(
      key("processingInstanceType"),
      processingInstanceType,
      "must be a SageMaker instance type such as ml.m5.xlarge",
    );
  }

  return {
    account,
    region,
    name,
    groups,
    users,
    network,
    appNetworkAccessType,
    homeEfsRetention,
    imageUri,
    processingImageUri,
    jupyterLabBaseImage,
    forceDeleteRepository: bool(key("forceDeleteRepository"), obj.forceDeleteRepository, true),
    keepImages,
    forceDestroyBucket: bool(key("forceDestroyBucket"), obj.forceDestroyBucket, true),
    processingInstanceType,
    // Processing volumes: 1-16384 GB; runtime: at most 5 days.
    processingVolumeSizeGb: integer(key("processingVolumeSizeGb"), obj.processingVolumeSizeGb, 30, 1, 16384),
    processingMaxRuntimeSeconds: integer(
      key("processingMaxRuntimeSeconds"),
      obj.processingMaxRuntimeSeconds,
      3600,
      1,
      432000,
    ),
    qc: parseQc(obj.qc),
  };
}

const DIGEST_URI_HINT =
  "must be an ECR image URI pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>";

function parseGroups(raw: unknown): string[] {
  const key = `${RESEARCH_KEY}.groups`;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(key, raw, 'must be a non-empty list of group names, e.g. ["researchers"]');
  }
  const seen = new Set<string>();
  raw.forEach((group, i) => {
    if (typeof group !== "string" || group.trim() === "" || group.length > 1024) {
      throw new ConfigError(
        `${key}[${i}]`,
        group,
        "must be a non-empty group name (at most 1024 characters)",
      );
    }
    if (seen.has(group)) throw new ConfigError(`${key}[${i}]`, group, "is listed twice");
    seen.add(group);
  });
  return raw as string[];
}

function parseUsers(raw: unknown, groups: string[]): ResearchUser[] {
  const key = `${RESEARCH_KEY}.users`;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new ConfigError(
      key,
      raw,
      "must list at least one researcher ({userName, givenName, familyName, email, group}); without users nobody can log in",
    );
  }
  const seenNames = new Map<string, number>();
  const seenProfiles = new Map<string, number>();
  return raw.map((entry, i) => {
    const at = `${key}[${i}]`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      throw new ConfigError(at, entry, "must be an object {userName, givenName, familyName, email, group}");
    }
    const user = entry as Record<string, unknown>;
    rejectUnknownKeys(at, user, USER_KEYS);
    const { userName, givenName, familyName, email, group } = user;
    if (typeof userName !== "string" || !USER_NAME.test(userName)) {
      throw new ConfigError(
        `${at}.userName`,
        userName,
        "must be 1-128 characters without spaces (letters, digits and + = , . @ _ -)",
      );
    }
    for (const [field, value] of [
      ["givenName", givenName],
      ["familyName", familyName],
    ] as const) {
      if (typeof value !== "string" || value.trim() === "" || value.length > 1024) {
        throw new ConfigError(`${at}.${field}`, value, "must be a non-empty name");
      }
    }
    if (typeof email !== "string" || !EMAIL.test(email)) {
      throw new ConfigError(`${at}.email`, email, "is not an email address (name@domain.tld)");
    }
    if (typeof group !== "string" || !groups.includes(group)) {
      throw new ConfigError(
        `${at}.group`,
        group,
        `is not one of ${RESEARCH_KEY}.groups (${groups.join(", ")})`,
      );
    }
    const lower = userName.toLowerCase();
    // Identity Center user names are case-insensitive.
    if (seenNames.has(lower)) {
      throw new ConfigError(`${at}.userName`, userName, `is already used by ${key}[${seenNames.get(lower)}]`);
    }
    seenNames.set(lower, i);
    const profile = userProfileNameFor(userName);
    if (seenProfiles.has(profile)) {
      throw new ConfigError(
        `${at}.userName`,
        userName,
        `gives the same Studio profile name "${profile}" as ${key}[${seenProfiles.get(profile)}]`,
      );
    }
    seenProfiles.set(profile, i);
    return { userName, givenName: givenName as string, familyName: familyName as string, email, group };
  });
}

const MAX_DOMAIN_SUBNETS = 16;

function parseNetwork(vpcId: unknown, subnetIds: unknown): ResearchSettings["network"] {
  const key = (k: string) => `${RESEARCH_KEY}.${k}`;
  if (vpcId === undefined) {
    if (subnetIds !== undefined) {
      throw new ConfigError(
        key("subnetIds"),
        subnetIds,
        "needs vpcId too (subnets alone do not say which VPC)",
      );
    }
    return undefined;
  }
  if (typeof vpcId !== "string" || !VPC_ID.test(vpcId)) {
    throw new ConfigError(key("vpcId"), vpcId, "must be a VPC ID (vpc-...)");
  }
  if (!Array.isArray(subnetIds) || subnetIds.length === 0) {
    throw new ConfigError(
      key("subnetIds"),
      subnetIds,
      `must list the subnets of ${vpcId} the domain uses; a domain needs at least one subnet`,
    );
  }
  subnetIds.forEach((id, i) => {
    if (typeof id !== "string" || !SUBNET_ID.test(id)) {
      throw new ConfigError(`${key("subnetIds")}[${i}]`, id, "must be a subnet ID (subnet-...)");
    }
  });
  if (new Set(subnetIds).size !== subnetIds.length) {
    throw new ConfigError(key("subnetIds"), subnetIds, "lists a subnet twice");
  }
  // CreateDomain takes 1 to 16 subnets; more is refused at deploy, so say so before anything is created.
  if (subnetIds.length > MAX_DOMAIN_SUBNETS) {
    throw new ConfigError(
      key("subnetIds"),
      subnetIds,
      `lists ${subnetIds.length} subnets; a Studio domain takes at most ${MAX_DOMAIN_SUBNETS}`,
    );
  }
  return { vpcId, subnetIds: subnetIds as string[] };
}

function parseQc(raw: unknown): QcThresholds {
  const key = `${RESEARCH_KEY}.qc`;
  if (raw === undefined) return { ...DEFAULT_QC };
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new ConfigError(key, raw, `must be an object with any of ${QC_KEYS.join(", ")}`);
  }
  const obj = raw as Record<string, unknown>;
  rejectUnknownKeys(key, obj, QC_KEYS);
  const count = (k: keyof QcThresholds): number | null => {
    const v = k in obj ? obj[k] : DEFAULT_QC[k];
    if (v === null) return null;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0) {
      throw new ConfigError(
        `${key}.${k}`,
        v,
        "must be a non-negative integer, or null to switch this filter off",
      );
    }
    return v;
  };
  const qc: QcThresholds = {
    minGenes: count("minGenes"),
    maxGenes: count("maxGenes"),
    minUmis: count("minUmis"),
    maxUmis: count("maxUmis"),
    mitoPrefix: DEFAULT_QC.mitoPrefix,
    percentMito: DEFAULT_QC.percentMito,
  };
  if ("mitoPrefix" in obj) {
    const p = obj.mitoPrefix;
    if (p !== null && (typeof p !== "string" || p === "" || /\s/.test(p))) {
      throw new ConfigError(
        `${key}.mitoPrefix`,
        p,
        'must be a gene-name prefix such as "MT-" (human) or "mt-" (mouse), or null',
      );
    }
    qc.mitoPrefix = p as string | null;
  }
  if ("percentMito" in obj) {
    const p = obj.percentMito;
    if (p !== null && (typeof p !== "number" || !(p > 0 && p <= 100))) {
      throw new ConfigError(`${key}.percentMito`, p, "must be a percentage in (0, 100], or null");
    }
    qc.percentMito = p as number | null;
  }
  if (qc.percentMito !== null && qc.mitoPrefix === null) {
    throw new ConfigError(
      `${key}.percentMito`,
      qc.percentMito,
      "needs qc.mitoPrefix: Pegasus ignores it without a prefix",
    );
  }
  if (qc.minGenes !== null && qc.maxGenes !== null && qc.minGenes >= qc.maxGenes) {
    throw new ConfigError(`${key}.minGenes`, qc.minGenes, `must be below qc.maxGenes (${qc.maxGenes})`);
  }
  if (qc.minUmis !== null && qc.maxUmis !== null && qc.minUmis >= qc.maxUmis) {
    throw new ConfigError(`${key}.minUmis`, qc.minUmis, `must be below qc.maxUmis (${qc.maxUmis})`);
  }
  return qc;
}

/**
 * Pure: the Studio user profile name for an Identity Center user name. Profile names allow only
 * letters, digits and single hyphens (at most 63), while user names may hold "." and "@".
 */
export function userProfileNameFor(userName: string): string {
  const cleaned = userName
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .toLowerCase();
  const base = cleaned === "" ? "user" : cleaned;
  return base.length <= 63 ? base : `${base.slice(0, 54).replace(/-+$/, "")}-${fnv8(userName)}`;
}

function fnv8(text: string): string {
  let h = 0x811c9dc5;
  for (const c of text) h = Math.imul(h ^ c.codePointAt(0)!, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}

function rejectUnknownKeys(at: string, obj: Record<string, unknown>, known: readonly string[]): void {
  for (const k of Object.keys(obj)) {
    if (!known.includes(k)) {
      throw new ConfigError(`${at}.${k}`, obj[k], `is not a known key (known: ${known.join(", ")})`);
    }
  }
}

function optional<T>(value: unknown, fallback: T): unknown {
  return value === undefined ? fallback : value;
}

function oneOf<T extends string>(key: string, value: unknown, allowed: readonly T[]): T {
  if (value === undefined) return allowed[0];
  if (typeof value !== "string" || !allowed.includes(value as T)) {
    throw new ConfigError(key, value, `must be one of ${allowed.join(", ")}`);
  }
  return value as T;
}

// `pulumi config set --path` stores scalars as strings, so "true" and "3" are accepted too.
function bool(key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (value === "true" || value === "false") return value === "true";
  if (typeof value !== "boolean") throw new ConfigError(key, value, "must be true or false");
  return value;
}

function integer(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value === "string" && /^\d+$/.test(value)) value = Number(value);
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(key, value, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function optionalPattern(key: string, value: unknown, pattern: RegExp, hint: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string" || !pattern.test(value)) throw new ConfigError(key, value, hint);
  return value;
}
