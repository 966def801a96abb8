// The research part's configuration: one structured key, `fieldnotes:research`, validated in full
// before any resource is registered. Every error names the key path and the value (ConfigError).
import {
  collectProblems,
  ConfigError,
  ConfigProblem,
  readStructured,
  throwIfProblems,
} from "../common/config-error";
import { isKnownRegion } from "../common/regions";
import { accept, accountId, check, strict, text, v } from "../common/schema";

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

// The original walkthrough's intent on pegasuspy 1.0: its defaults, with the mito cut at 10 %. No
// default mito prefix: it depends on the organism (MT- human, mt- mouse), and the wrong one makes
// every QC run fail (qc_metrics.py refuses a prefix that matches no gene), so the config says which.
const DEFAULT_QC: Omit<QcThresholds, "mitoPrefix"> = {
  minGenes: 500,
  maxGenes: 6000,
  minUmis: null,
  maxUmis: null,
  percentMito: 10,
};
const MITO_PREFIX_HINT =
  'must be the mitochondrial gene prefix of your samples\' organism: "MT-" (human) or "mt-" (mouse), or null for no mito filter';

const RESEARCH_NAME = /^[a-z][a-z0-9-]{0,30}[a-z0-9]$/;
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
const MAX_DOMAIN_SUBNETS = 16;

const DIGEST_URI_HINT =
  "must be an ECR image URI pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>";

interface ConfigSource {
  name: string;
  get(key: string): string | undefined;
}

// `pulumi config set --path` stores scalars as strings, so "true" and "3" are accepted too.
const flag = v.pipe(
  accept<boolean | "true" | "false">(
    (x) => typeof x === "boolean" || x === "true" || x === "false",
    "must be true or false",
  ),
  v.transform((x) => x === true || x === "true"),
);
const whole = (min: number, max: number) =>
  v.pipe(
    accept<number | string>(
      (x) =>
        (typeof x === "number" || (typeof x === "string" && /^\d+$/.test(x))) &&
        Number.isInteger(Number(x)) &&
        Number(x) >= min &&
        Number(x) <= max,
      `must be an integer from ${min} to ${max}`,
    ),
    v.transform(Number),
  );
const name = (max: number) =>
  accept<string>(
    (x) => typeof x === "string" && x.trim() !== "" && x.length <= max,
    max === 1024 ? "must be a non-empty name" : `must be a non-empty name (at most ${max} characters)`,
  );
const threshold = v.nullable(
  accept<number>(
    (x) => typeof x === "number" && Number.isInteger(x) && x >= 0,
    "must be a non-negative integer, or null to switch this filter off",
  ),
);

const userSchema = strict(
  {
    userName: text(USER_NAME, "must be 1-128 characters without spaces (letters, digits and + = , . @ _ -)"),
    givenName: name(1024),
    familyName: name(1024),
    email: text(EMAIL, "is not an email address (name@domain.tld)"),
    group: v.string("must be one of the groups"),
  },
  "must be an object {userName, givenName, familyName, email, group}",
);

const qcSchema = strict(
  {
    minGenes: v.optional(threshold, DEFAULT_QC.minGenes),
    maxGenes: v.optional(threshold, DEFAULT_QC.maxGenes),
    minUmis: v.optional(threshold, DEFAULT_QC.minUmis),
    maxUmis: v.optional(threshold, DEFAULT_QC.maxUmis),
    mitoPrefix: v.nullable(text(/^\S+$/, MITO_PREFIX_HINT)),
    percentMito: v.optional(
      v.nullable(
        accept<number>(
          (x) => typeof x === "number" && x > 0 && x <= 100,
          "must be a percentage in (0, 100], or null",
        ),
      ),
      DEFAULT_QC.percentMito,
    ),
  },
  `must be an object with mitoPrefix and any of ${Object.keys(DEFAULT_QC).join(", ")}`,
);

/** The schema of `fieldnotes:research`: every key, its type and default. */
export const researchSchema = strict(
  {
    account: accountId,
    region: accept<string>(isKnownRegion, "must be an AWS Region, the one where Identity Center runs"),
    name: v.optional(
      text(
        RESEARCH_NAME,
        "must be 2-32 characters: lowercase letters, digits and '-', starting with a letter",
      ),
      "fieldnotes-research",
    ),
    groups: v.pipe(
      v.array(name(1024), 'must be a non-empty list of group names, e.g. ["researchers"]'),
      v.minLength(1, 'must be a non-empty list of group names, e.g. ["researchers"]'),
    ),
    users: v.pipe(
      v.array(
        userSchema,
        "must list at least one researcher ({userName, givenName, familyName, email, group}); without users nobody can log in",
      ),
      v.minLength(
        1,
        "must list at least one researcher ({userName, givenName, familyName, email, group}); without users nobody can log in",
      ),
    ),
    vpcId: v.optional(text(VPC_ID, "must be a VPC ID (vpc-...)")),
    subnetIds: v.optional(v.array(text(SUBNET_ID, "must be a subnet ID (subnet-...)"), "must be a list")),
    appNetworkAccessType: v.optional(
      accept<"PublicInternetOnly" | "VpcOnly">(
        (x) => x === "PublicInternetOnly" || x === "VpcOnly",
        "must be one of PublicInternetOnly, VpcOnly",
      ),
      "PublicInternetOnly",
    ),
    homeEfsRetention: v.optional(
      accept<"Delete" | "Retain">((x) => x === "Delete" || x === "Retain", "must be one of Delete, Retain"),
      "Delete",
    ),
    imageUri: v.optional(text(ECR_DIGEST_URI, DIGEST_URI_HINT)),
    processingImageUri: v.optional(text(ECR_DIGEST_URI, DIGEST_URI_HINT)),
    jupyterLabBaseImage: v.optional(
      text(
        ANY_DIGEST_IMAGE,
        "must be an image reference pinned by digest, e.g. public.ecr.aws/sagemaker/sagemaker-distribution:3.9.14-cpu@sha256:<64 hex>",
      ),
    ),
    forceDeleteRepository: v.optional(flag, true),
    keepImages: v.optional(whole(1, 1000), 5),
    forceDestroyBucket: v.optional(flag, true),
    processingInstanceType: v.optional(
      text(PROCESSING_INSTANCE, "must be a SageMaker instance type such as ml.m5.xlarge"),
      "ml.m5.xlarge",
    ),
    // Processing volumes: 1-16384 GB; runtime: at most 5 days.
    processingVolumeSizeGb: v.optional(whole(1, 16384), 30),
    processingMaxRuntimeSeconds: v.optional(whole(1, 432000), 3600),
    qc: qcSchema,
  },
  "must be an object with at least account, region, groups and users (see docs/configuration.md, section Research)",
);

/** Reads and validates `fieldnotes:research`; throws a ConfigError naming every wrong key path and value. */
export function loadResearchSettings(config: ConfigSource): ResearchSettings {
  return parseResearchSettings(readStructured(config, "research"));
}

/** Like loadResearchSettings, but returns the problems instead of throwing. */
export function checkResearchSettings(config: ConfigSource): {
  value?: ResearchSettings;
  problems: ConfigProblem[];
} {
  const problems: ConfigProblem[] = [];
  return { value: collectProblems(problems, () => loadResearchSettings(config)), problems };
}

// Keys that existed once: a stack config still holding one gets the reason instead of "unknown key".
const REMOVED_KEYS: Record<string, string> = {
  studioClassic:
    "was removed: it attached a Studio Classic (KernelGateway) image to the domain this program creates, and " +
    'new domains cannot create KernelGateway apps, so nobody could open it; delete the key (docs/research.md, "Studio Classic option")',
};
REMOVED_KEYS.classicBaseDigest = REMOVED_KEYS.studioClassic;
REMOVED_KEYS.classicImageUri = REMOVED_KEYS.studioClassic;

/** Pure: the validated settings from the raw (JSON-decoded) config object. */
export function parseResearchSettings(raw: unknown): ResearchSettings {
  const problems: ConfigProblem[] = [];
  let current = raw;
  if (typeof raw === "object" && raw !== null && !Array.isArray(raw)) {
    const { ...rest } = raw as Record<string, unknown>;
    for (const [removed, why] of Object.entries(REMOVED_KEYS)) {
      if (!(removed in rest)) continue;
      problems.push({ key: `${RESEARCH_KEY}.${removed}`, value: rest[removed], reason: why });
      delete rest[removed];
    }
    current = rest;
  }
  const checked = check(researchSchema, current, RESEARCH_KEY);
  problems.push(...checked.problems);
  if (!checked.output) throw new ConfigError(problems);
  const s = checked.output;
  const key = (k: string) => `${RESEARCH_KEY}.${k}`;
  const problem = (k: string, value: unknown, reason: string) => problems.push({ key: k, value, reason });

  const seenGroups = new Set<string>();
  s.groups.forEach((group, i) => {
    if (seenGroups.has(group)) problem(`${key("groups")}[${i}]`, group, "is listed twice");
    seenGroups.add(group);
  });
  const seenNames = new Map<string, number>();
  const seenProfiles = new Map<string, number>();
  s.users.forEach((user, i) => {
    const at = `${key("users")}[${i}]`;
    if (!s.groups.includes(user.group)) {
      problem(`${at}.group`, user.group, `is not one of ${RESEARCH_KEY}.groups (${s.groups.join(", ")})`);
    }
    // Identity Center user names are case-insensitive.
    const lower = user.userName.toLowerCase();
    if (seenNames.has(lower)) {
      problem(`${at}.userName`, user.userName, `is already used by ${key("users")}[${seenNames.get(lower)}]`);
    } else {
      const profile = userProfileNameFor(user.userName);
      if (seenProfiles.has(profile)) {
        problem(
          `${at}.userName`,
          user.userName,
          `gives the same Studio profile name "${profile}" as ${key("users")}[${seenProfiles.get(profile)}]`,
        );
      }
      seenProfiles.set(profile, i);
    }
    seenNames.set(lower, i);
  });

  let network: ResearchSettings["network"];
  if (s.vpcId === undefined) {
    if (s.subnetIds !== undefined)
      problem(key("subnetIds"), s.subnetIds, "needs vpcId too (subnets alone do not say which VPC)");
  } else if (s.subnetIds === undefined || s.subnetIds.length === 0) {
    problem(
      key("subnetIds"),
      s.subnetIds,
      `must list the subnets of ${s.vpcId} the domain uses; a domain needs at least one subnet`,
    );
  } else if (new Set(s.subnetIds).size !== s.subnetIds.length) {
    problem(key("subnetIds"), s.subnetIds, "lists a subnet twice");
  } else if (s.subnetIds.length > MAX_DOMAIN_SUBNETS) {
    // CreateDomain takes 1 to 16 subnets; more is refused at deploy, so say so before anything is created.
    problem(
      key("subnetIds"),
      s.subnetIds,
      `lists ${s.subnetIds.length} subnets; a Studio domain takes at most ${MAX_DOMAIN_SUBNETS}`,
    );
  } else {
    network = { vpcId: s.vpcId, subnetIds: s.subnetIds };
  }
  if (s.appNetworkAccessType === "VpcOnly" && s.vpcId === undefined) {
    problem(
      key("appNetworkAccessType"),
      "VpcOnly",
      "needs an explicit vpcId and subnetIds with VPC endpoints (or a NAT); the default VPC has neither",
    );
  }
  if (s.processingImageUri && !s.imageUri) {
    problem(
      key("processingImageUri"),
      s.processingImageUri,
      "needs imageUri: without it both images are built here",
    );
  }
  if (s.imageUri && s.jupyterLabBaseImage) {
    problem(
      key("jupyterLabBaseImage"),
      s.jupyterLabBaseImage,
      "has no effect with imageUri set: nothing is built",
    );
  }
  const qc = s.qc;
  if (qc.percentMito !== null && qc.mitoPrefix === null) {
    problem(
      `${key("qc")}.percentMito`,
      qc.percentMito,
      "needs qc.mitoPrefix: Pegasus ignores it without a prefix",
    );
  }
  if (qc.minGenes !== null && qc.maxGenes !== null && qc.minGenes >= qc.maxGenes) {
    problem(`${key("qc")}.minGenes`, qc.minGenes, `must be below qc.maxGenes (${qc.maxGenes})`);
  }
  if (qc.minUmis !== null && qc.maxUmis !== null && qc.minUmis >= qc.maxUmis) {
    problem(`${key("qc")}.minUmis`, qc.minUmis, `must be below qc.maxUmis (${qc.maxUmis})`);
  }
  throwIfProblems(problems);

  const { vpcId: _vpc, subnetIds: _subnets, ...rest } = s;
  return { ...rest, network };
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
