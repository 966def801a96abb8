// The research part's configuration: one structured key, `fieldnotes:research`, validated in full
// before any resource is registered. Every error names the key path and the value (ConfigError).
import { collectProblems, ConfigProblem, readStructured, throwIfProblems } from "../common/config-error";
import { isKnownRegion } from "../common/regions";
import { accept, accountId, check, Report, rule, strict, text, unique, v } from "../common/schema";

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
  /** An existing network; `undefined` means the default VPC, or the isolated network when that is set. */
  existingNetwork?: { vpcId: string; subnetIds: string[] };
  /** The isolated network this program builds (key `network`); the domain then runs VpcOnly in it. */
  isolatedNetwork?: IsolatedNetworkSettings;
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

/** `fieldnotes:research.network`: a VPC with private subnets and endpoints only (research/network.ts). */
export interface IsolatedNetworkSettings {
  mode: "vpcOnly";
  /** The VPC's range: an aligned RFC 1918 block, /16 to /24; each subnet gets a quarter of it. */
  cidrBlock: string;
  /** How many zones (the first ones the Region offers), or the zone names to use. */
  availabilityZones: number | string[];
  /** 0: no internet at all; 1: one NAT gateway for every zone; the zone count: one per zone. */
  natGateways: number;
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
const AZ_NAME = /^[a-z]{2}(-[a-z]+)+-\d[a-z]$/;
const PROCESSING_INSTANCE = /^ml\.[a-z0-9]+\.[a-z0-9]+$/;
const MAX_DOMAIN_SUBNETS = 16;

const DIGEST_URI_HINT =
  "must be an ECR image URI pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>";

// Each subnet takes a quarter of the VPC range, so at most 4 zones; Studio wants subnets in at least 2
// for its apps and the home EFS to survive a zone outage.
const MIN_ZONES = 2;
const MAX_ZONES = 4;
const DEFAULT_CIDR = "10.42.0.0/16";

/** Pure: why `cidr` is not a usable VPC range for the isolated network, or undefined when it is. */
export function cidrProblem(cidr: unknown): string | undefined {
  const usage =
    "must be an IPv4 range in CIDR notation from /16 to /24 in a private (RFC 1918) block, e.g. 10.42.0.0/16";
  if (typeof cidr !== "string") return usage;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return usage;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255)) return usage;
  // A VPC takes /16 to /28; /24 is the smallest whose four subnets still hold a few users each
  // (AWS reserves 5 addresses per subnet, and Studio wants 2-4 per user).
  if (prefix < 16 || prefix > 24) return `has prefix /${prefix}; ${usage}`;
  const address = octets.reduce((n, o) => n * 256 + o, 0);
  if (address % 2 ** (32 - prefix) !== 0) {
    const aligned = Math.floor(address / 2 ** (32 - prefix)) * 2 ** (32 - prefix);
    const dotted = [24, 16, 8, 0].map((s) => Math.floor(aligned / 2 ** s) % 256).join(".");
    return `has host bits set; the /${prefix} block holding it is ${dotted}/${prefix}`;
  }
  const [a, b] = octets;
  const rfc1918 = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  if (!rfc1918) return `is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); ${usage}`;
  return undefined;
}

const zones = accept<number | string | string[]>(
  (x) =>
    (Array.isArray(x) &&
      x.length >= MIN_ZONES &&
      x.length <= MAX_ZONES &&
      x.every((z) => typeof z === "string" && AZ_NAME.test(z)) &&
      new Set(x).size === x.length) ||
    ((typeof x === "number" || (typeof x === "string" && /^\d+$/.test(x))) &&
      Number.isInteger(Number(x)) &&
      Number(x) >= MIN_ZONES &&
      Number(x) <= MAX_ZONES),
  `must be a number of Availability Zones from ${MIN_ZONES} to ${MAX_ZONES}, or a list of ${MIN_ZONES} to ${MAX_ZONES} distinct zone names such as ["us-east-1a", "us-east-1b"]`,
);

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
// Identity Store names and group display names: at most 1024 characters.
const name = accept<string>(
  (x) => typeof x === "string" && x.trim() !== "" && x.length <= 1024,
  "must be a non-empty name",
);
const threshold = v.nullable(
  accept<number>(
    (x) => Number.isInteger(x) && (x as number) >= 0,
    "must be a non-negative integer, or null to switch this filter off",
  ),
);

const userSchema = strict(
  {
    userName: text(USER_NAME, "must be 1-128 characters without spaces (letters, digits and + = , . @ _ -)"),
    givenName: name,
    familyName: name,
    email: text(EMAIL, "is not an email address (name@domain.tld)"),
    group: v.string("must be one of the groups"),
  },
  "must be an object {userName, givenName, familyName, email, group}",
);

const qcKeys = strict(
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
type Qc = v.InferOutput<typeof qcKeys>;

/** Each filter with its partner: a lower bound below the upper one, a mito cut with a prefix. */
const qcSchema = v.pipe(
  qcKeys,
  rule<Qc>(
    (qc, report) =>
      qc.percentMito !== null &&
      qc.mitoPrefix === null &&
      report(["percentMito"], qc.percentMito, "needs qc.mitoPrefix: Pegasus ignores it without a prefix"),
    ["percentMito", "mitoPrefix"],
  ),
  rule<Qc>(
    (qc, report) =>
      qc.minGenes !== null &&
      qc.maxGenes !== null &&
      qc.minGenes >= qc.maxGenes &&
      report(["minGenes"], qc.minGenes, `must be below qc.maxGenes (${qc.maxGenes})`),
    ["minGenes", "maxGenes"],
  ),
  rule<Qc>(
    (qc, report) =>
      qc.minUmis !== null &&
      qc.maxUmis !== null &&
      qc.minUmis >= qc.maxUmis &&
      report(["minUmis"], qc.minUmis, `must be below qc.maxUmis (${qc.maxUmis})`),
    ["minUmis", "maxUmis"],
  ),
);

const networkSchema = strict(
  {
    mode: accept<"vpcOnly">(
      (x) => x === "vpcOnly",
      'must be "vpcOnly" (the only mode: Studio and the QC jobs in private subnets with VPC endpoints, no internet)',
    ),
    cidrBlock: v.optional(
      accept<string>(
        (x) => cidrProblem(x) === undefined,
        (x) => cidrProblem(x)!,
      ),
      DEFAULT_CIDR,
    ),
    availabilityZones: v.optional(
      v.pipe(
        zones,
        v.transform((x): number | string[] => (Array.isArray(x) ? x : Number(x))),
      ),
      MIN_ZONES,
    ),
    natGateways: v.optional(whole(0, MAX_ZONES), 0),
  },
  'must be an object {mode: "vpcOnly", cidrBlock?, availabilityZones?, natGateways?} (docs/configuration.md, "network")',
);

const researchKeys = strict(
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
      v.array(name, 'must be a non-empty list of group names, e.g. ["researchers"]'),
      v.minLength(1, 'must be a non-empty list of group names, e.g. ["researchers"]'),
      unique((group: string) => group),
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
      rule(distinctUsers),
    ),
    vpcId: v.optional(text(VPC_ID, "must be a VPC ID (vpc-...)")),
    subnetIds: v.optional(v.array(text(SUBNET_ID, "must be a subnet ID (subnet-...)"), "must be a list")),
    network: v.optional(networkSchema),
    // No default here: the rules tell an explicit value from an absent one; the output gets it.
    appNetworkAccessType: v.optional(
      accept<"PublicInternetOnly" | "VpcOnly">(
        (x) => x === "PublicInternetOnly" || x === "VpcOnly",
        "must be one of PublicInternetOnly, VpcOnly",
      ),
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
type ResearchKeys = v.InferOutput<typeof researchKeys>;

/**
 * The schema of `fieldnotes:research`: every key, its type and default, then the rules across keys,
 * each reported on the key to change; a rule runs once the keys it reads are valid, so its problems
 * come with every other one.
 */
export const researchSchema = v.pipe(
  researchKeys,
  rule<ResearchKeys>(
    (s, report) =>
      s.users.forEach(
        (user, i) =>
          s.groups.includes(user.group) ||
          report(
            ["users", i, "group"],
            user.group,
            `is not one of ${RESEARCH_KEY}.groups (${[...new Set(s.groups)].join(", ")})`,
          ),
      ),
    ["users", "groups"],
  ),
  rule<ResearchKeys>(existingNetworkRules, ["network", "vpcId", "subnetIds"]),
  rule<ResearchKeys>(
    (s, report) =>
      s.network !== undefined &&
      s.appNetworkAccessType !== undefined &&
      s.appNetworkAccessType !== "VpcOnly" &&
      report(
        ["appNetworkAccessType"],
        s.appNetworkAccessType,
        "contradicts network.mode vpcOnly: the domain in the isolated network is VpcOnly; remove the key",
      ),
    ["network", "appNetworkAccessType"],
  ),
  rule<ResearchKeys>(natGatewayRules, ["network"]),
  rule<ResearchKeys>(
    (s, report) =>
      s.appNetworkAccessType === "VpcOnly" &&
      s.vpcId === undefined &&
      s.network === undefined &&
      report(
        ["appNetworkAccessType"],
        "VpcOnly",
        'needs an explicit vpcId and subnetIds with VPC endpoints (or a NAT), or network: {mode: "vpcOnly"} to build them; the default VPC has neither',
      ),
    ["appNetworkAccessType", "vpcId", "network"],
  ),
  rule<ResearchKeys>(
    (s, report) =>
      s.processingImageUri !== undefined &&
      s.imageUri === undefined &&
      report(
        ["processingImageUri"],
        s.processingImageUri,
        "needs imageUri: without it both images are built here",
      ),
    ["processingImageUri", "imageUri"],
  ),
  rule<ResearchKeys>(
    (s, report) =>
      s.imageUri !== undefined &&
      s.jupyterLabBaseImage !== undefined &&
      report(
        ["jupyterLabBaseImage"],
        s.jupyterLabBaseImage,
        "has no effect with imageUri set: nothing is built",
      ),
    ["imageUri", "jupyterLabBaseImage"],
  ),
  v.transform(({ vpcId, subnetIds, network, appNetworkAccessType, ...rest }): ResearchSettings => {
    if (network) return { ...rest, appNetworkAccessType: "VpcOnly", isolatedNetwork: network };
    return {
      ...rest,
      appNetworkAccessType: appNetworkAccessType ?? "PublicInternetOnly",
      existingNetwork: vpcId === undefined ? undefined : { vpcId, subnetIds: subnetIds! },
    };
  }),
);

/** Users: a user name once (Identity Center compares them case-insensitively), a Studio profile name once. */
function distinctUsers(users: ResearchUser[], report: Report): void {
  const seenNames = new Map<string, number>();
  const seenProfiles = new Map<string, number>();
  const at = (i: number) => `${RESEARCH_KEY}.users[${i}]`;
  users.forEach((user, i) => {
    // Stryker disable next-line MethodExpression: user names are ASCII, where either case folds alike.
    const lower = user.userName.toLowerCase();
    if (seenNames.has(lower)) {
      report([i, "userName"], user.userName, `is already used by ${at(seenNames.get(lower)!)}`);
    } else {
      const profile = userProfileNameFor(user.userName);
      if (seenProfiles.has(profile)) {
        report(
          [i, "userName"],
          user.userName,
          `gives the same Studio profile name "${profile}" as ${at(seenProfiles.get(profile)!)}`,
        );
      }
      seenProfiles.set(profile, i);
    }
    seenNames.set(lower, i);
  });
}

/** Your own network (vpcId and subnetIds together) or the isolated one, not both. */
function existingNetworkRules(s: ResearchKeys, report: Report): void {
  if (s.network !== undefined && (s.vpcId !== undefined || s.subnetIds !== undefined)) {
    report(
      ["network"],
      s.network,
      "cannot be combined with vpcId/subnetIds: either the program builds the isolated network, or the domain uses yours; remove one",
    );
  } else if (s.vpcId === undefined) {
    if (s.subnetIds !== undefined)
      report(["subnetIds"], s.subnetIds, "needs vpcId too (subnets alone do not say which VPC)");
  } else if (s.subnetIds === undefined || s.subnetIds.length === 0) {
    report(
      ["subnetIds"],
      s.subnetIds,
      `must list the subnets of ${s.vpcId} the domain uses; a domain needs at least one subnet`,
    );
  } else if (new Set(s.subnetIds).size !== s.subnetIds.length) {
    report(["subnetIds"], s.subnetIds, "lists a subnet twice");
  } else if (s.subnetIds.length > MAX_DOMAIN_SUBNETS) {
    // CreateDomain takes 1 to 16 subnets; more is refused at deploy, so say so before anything is created.
    report(
      ["subnetIds"],
      s.subnetIds,
      `lists ${s.subnetIds.length} subnets; a Studio domain takes at most ${MAX_DOMAIN_SUBNETS}`,
    );
  }
}

/** NAT gateways: none, one shared, or one per zone, with the public subnets in the range's last quarter. */
function natGatewayRules({ network }: ResearchKeys, report: Report): void {
  if (network === undefined || network.natGateways === 0) return;
  const zoneCount = Array.isArray(network.availabilityZones)
    ? network.availabilityZones.length
    : network.availabilityZones;
  const nat = network.natGateways;
  if (nat !== 1 && nat !== zoneCount) {
    report(
      ["network", "natGateways"],
      nat,
      `must be 0 (no internet), 1 (one NAT gateway for every zone) or ${zoneCount} (one per zone)`,
    );
  } else if (zoneCount === MAX_ZONES) {
    // The public subnets take the range's last quarter, which a fourth zone's private subnet uses.
    report(
      ["network", "natGateways"],
      nat,
      `needs at most ${MAX_ZONES - 1} zones: the public subnets for the NAT gateways take the fourth quarter of cidrBlock`,
    );
  }
}

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
  throwIfProblems([...problems, ...checked.problems]);
  return checked.output!;
}

/**
 * Pure: the Studio user profile name for an Identity Center user name. Profile names allow only
 * letters, digits and single hyphens (at most 63), while user names may hold "." and "@".
 */
export function userProfileNameFor(userName: string): string {
  const cleaned = userName
    .replace(/[^A-Za-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")
    .toLowerCase();
  const base = cleaned === "" ? "user" : cleaned;
  return base.length <= 63 ? base : `${base.slice(0, 54).replace(/-$/, "")}-${fnv8(userName)}`;
}

function fnv8(text: string): string {
  let h = 0x811c9dc5;
  for (const c of text) h = Math.imul(h ^ c.codePointAt(0)!, 0x01000193) >>> 0;
  return h.toString(16).padStart(8, "0");
}
