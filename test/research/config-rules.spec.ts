// Each rule of `fieldnotes:research` at its edges: the last value accepted, the first refused (with
// the line the operator sees: key path, value, reason), and the defaults a minimal config gets.
import { strict as assert } from "assert";
import {
  checkResearchSettings,
  cidrProblem,
  loadResearchSettings,
  parseResearchSettings,
  userProfileNameFor,
} from "../../research/config";

const user = (over: Record<string, unknown> = {}) => ({
  userName: "ada",
  givenName: "Ada",
  familyName: "Lovelace",
  email: "ada@example.org",
  group: "researchers",
  ...over,
});
const valid = (over: Record<string, unknown> = {}): Record<string, unknown> => ({
  account: "444444444444",
  region: "us-east-1",
  groups: ["researchers"],
  users: [user()],
  qc: { mitoPrefix: "mt-" },
  ...over,
});
const DIGEST = `sha256:${"a".repeat(64)}`;
const ECR = `444444444444.dkr.ecr.us-east-1.amazonaws.com/team/pegasus@${DIGEST}`;

/** The config's error lines (one per problem). */
function problems(config: unknown): string[] {
  try {
    parseResearchSettings(config);
  } catch (e) {
    return (e as Error).message.split("\n");
  }
  return [];
}
function refused(config: unknown, line: string) {
  assert.deepEqual(problems(config), [line]);
}
const K = "Invalid config fieldnotes:research";
/** For values the message shortens: the key path and the reason. */
function refusedAt(config: unknown, key: string, reason: string) {
  const lines = problems(config);
  assert.equal(lines.length, 1, lines.join("\n"));
  assert.ok(lines[0].startsWith(`${K}.${key}: `) && lines[0].endsWith(` ${reason}`), lines[0]);
}

describe("research config: each rule at its edges", () => {
  it("a minimal config gets the documented defaults", () => {
    const s = parseResearchSettings(valid());
    assert.deepEqual(
      {
        appNetworkAccessType: s.appNetworkAccessType,
        forceDestroyBucket: s.forceDestroyBucket,
        keepImages: s.keepImages,
        processingInstanceType: s.processingInstanceType,
        processingVolumeSizeGb: s.processingVolumeSizeGb,
        processingMaxRuntimeSeconds: s.processingMaxRuntimeSeconds,
        imageUri: s.imageUri,
      },
      {
        appNetworkAccessType: "PublicInternetOnly",
        forceDestroyBucket: true,
        keepImages: 5,
        processingInstanceType: "ml.m5.xlarge",
        processingVolumeSizeGb: 30,
        processingMaxRuntimeSeconds: 3600,
        imageUri: undefined,
      },
    );
    assert.ok(!("vpcId" in s) && !("subnetIds" in s), "the network is given as network, not as the raw keys");
  });

  it("a config that is not an object names what it must be", () => {
    for (const raw of ["x", 7, null]) {
      assert.equal(
        problems(raw)[0],
        `${K}: ${JSON.stringify(raw)} must be an object with at least account, region, groups and users (see docs/configuration.md, section Research)`,
      );
    }
  });

  it("flags: booleans, and the strings `pulumi config set --path` stores", () => {
    assert.equal(parseResearchSettings(valid({ forceDestroyBucket: "false" })).forceDestroyBucket, false);
    assert.equal(parseResearchSettings(valid({ forceDestroyBucket: false })).forceDestroyBucket, false);
    assert.equal(parseResearchSettings(valid({ forceDeleteRepository: "true" })).forceDeleteRepository, true);
    assert.equal(parseResearchSettings(valid({ forceDeleteRepository: true })).forceDeleteRepository, true);
    refused(valid({ forceDestroyBucket: "yes" }), `${K}.forceDestroyBucket: "yes" must be true or false`);
  });

  it("whole numbers: the bounds are inclusive, and digit strings count", () => {
    const cases: [string, number, number][] = [
      ["keepImages", 1, 1000],
      ["processingVolumeSizeGb", 1, 16384],
      ["processingMaxRuntimeSeconds", 1, 432000],
    ];
    for (const [key, min, max] of cases) {
      assert.equal(parseResearchSettings(valid({ [key]: min }))[key as "keepImages"], min);
      assert.equal(parseResearchSettings(valid({ [key]: String(max) }))[key as "keepImages"], max);
      for (const bad of [min - 1, max + 1, 2.5, "2.5", "-1", "", "1e2", [String(min)]]) {
        refused(
          valid({ [key]: bad }),
          `${K}.${key}: ${JSON.stringify(bad)} must be an integer from ${min} to ${max}`,
        );
      }
    }
  });

  it("names: the research name, user names, people's names, groups", () => {
    for (const name of ["ab", "a1", "a-b", `a${"b".repeat(31)}`])
      assert.equal(parseResearchSettings(valid({ name })).name, name);
    for (const name of ["a", "Ab", "1a", "a-", "a_b", `a${"b".repeat(32)}`]) {
      refused(
        valid({ name }),
        `${K}.name: ${JSON.stringify(name)} must be 2-32 characters: lowercase letters, digits and '-', starting with a letter`,
      );
    }
    parseResearchSettings(valid({ users: [user({ userName: "a".repeat(128) })] }));
    parseResearchSettings(valid({ users: [user({ userName: "ada+x=y,z.w@q_-" })] }));
    for (const userName of ["", "a".repeat(129), "ada lovelace"]) {
      refusedAt(
        valid({ users: [user({ userName })] }),
        "users[0].userName",
        "must be 1-128 characters without spaces (letters, digits and + = , . @ _ -)",
      );
    }
    parseResearchSettings(valid({ users: [user({ givenName: "A".repeat(1024) })] }));
    for (const givenName of ["", "  ", "A".repeat(1025), 5]) {
      refusedAt(valid({ users: [user({ givenName })] }), "users[0].givenName", "must be a non-empty name");
    }
    refused(
      valid({ groups: ["researchers", "admins"], users: [user({ group: "ops" })] }),
      `${K}.users[0].group: "ops" is not one of fieldnotes:research.groups (researchers, admins)`,
    );
    refused(valid({ groups: ["researchers", " "] }), `${K}.groups[1]: " " must be a non-empty name`);
    refused(
      valid({ groups: ["researchers", "researchers"] }),
      `${K}.groups[1]: "researchers" is listed twice`,
    );
  });

  it("email addresses need a name, a domain and a top-level domain", () => {
    parseResearchSettings(valid({ users: [user({ email: "a@b.co" })] }));
    for (const email of ["a@b", "a@b.", "a@b.c.", "a b@c.de", "@b.co", "a@@b.co"]) {
      refused(
        valid({ users: [user({ email })] }),
        `${K}.users[0].email: ${JSON.stringify(email)} is not an email address (name@domain.tld)`,
      );
    }
  });

  it("two user names that differ but give the same Studio profile name are refused", () => {
    refused(
      valid({ users: [user({ userName: "ada.x" }), user({ userName: "ada-x" })] }),
      `${K}.users[1].userName: "ada-x" gives the same Studio profile name "ada-x" as fieldnotes:research.users[0]`,
    );
    // Distinct names with distinct profiles are fine, and a repeat is reported once, as a repeat.
    assert.equal(
      parseResearchSettings(valid({ users: [user(), user({ userName: "bob" })] })).users.length,
      2,
    );
    assert.deepEqual(
      problems(valid({ users: [user(), user({ userName: "ADA" }), user({ userName: "Ada" })] })),
      [
        `${K}.users[1].userName: "ADA" is already used by fieldnotes:research.users[0]`,
        `${K}.users[2].userName: "Ada" is already used by fieldnotes:research.users[1]`,
      ],
    );
  });

  it("network: a VPC with its subnets, each once; VpcOnly needs them", () => {
    const vpcId = "vpc-0123456789abcdef0";
    const a = "subnet-0123456789abcdef0";
    refused(valid({ vpcId, subnetIds: [a, a] }), `${K}.subnetIds: ["${a}","${a}"] lists a subnet twice`);
    const sixteen = Array.from(
      { length: 16 },
      (_, i) => `subnet-0123456789abcd${String(i).padStart(3, "0")}`,
    );
    assert.equal(
      parseResearchSettings(valid({ vpcId, subnetIds: sixteen })).existingNetwork?.subnetIds.length,
      16,
    );
    refused(
      valid({ appNetworkAccessType: "VpcOnly" }),
      `${K}.appNetworkAccessType: "VpcOnly" needs an explicit vpcId and subnetIds with VPC endpoints (or a NAT), or network: {mode: "vpcOnly"} to build them; the default VPC has neither`,
    );
    const vpcOnly = parseResearchSettings(valid({ appNetworkAccessType: "VpcOnly", vpcId, subnetIds: [a] }));
    assert.equal(vpcOnly.appNetworkAccessType, "VpcOnly");
    refused(
      valid({ appNetworkAccessType: "Vpc" }),
      `${K}.appNetworkAccessType: "Vpc" must be one of PublicInternetOnly, VpcOnly`,
    );
    refused(valid({ vpcId: "vpc-123" }), `${K}.vpcId: "vpc-123" must be a VPC ID (vpc-...)`);
  });

  it("home EFS retention: Retain or Delete", () => {
    assert.equal(parseResearchSettings(valid({ homeEfsRetention: "Retain" })).homeEfsRetention, "Retain");
    refused(
      valid({ homeEfsRetention: "Keep" }),
      `${K}.homeEfsRetention: "Keep" must be one of Delete, Retain`,
    );
  });

  it("images: digest-pinned, and only the combinations that mean something", () => {
    const s = parseResearchSettings(valid({ imageUri: ECR, processingImageUri: ECR }));
    assert.equal(s.processingImageUri, ECR);
    refusedAt(
      valid({ processingImageUri: ECR }),
      "processingImageUri",
      "needs imageUri: without it both images are built here",
    );
    const base = `public.ecr.aws/sagemaker/sagemaker-distribution:3.9.14-cpu@${DIGEST}`;
    assert.equal(parseResearchSettings(valid({ jupyterLabBaseImage: base })).jupyterLabBaseImage, base);
    refusedAt(
      valid({ imageUri: ECR, jupyterLabBaseImage: base }),
      "jupyterLabBaseImage",
      "has no effect with imageUri set: nothing is built",
    );
    for (const bad of [
      "public.ecr.aws/sagemaker/sagemaker-distribution:3.9.14-cpu",
      `sagemaker-distribution@${DIGEST}`,
    ]) {
      assert.match(
        problems(valid({ jupyterLabBaseImage: bad }))[0],
        /jupyterLabBaseImage: .* must be an image reference pinned by digest/,
      );
    }
    for (const bad of [
      `44444444444.dkr.ecr.us-east-1.amazonaws.com/p@${DIGEST}`,
      `${ECR}0`,
      `docker.io/p@${DIGEST}`,
    ]) {
      assert.match(
        problems(valid({ imageUri: bad }))[0],
        /imageUri: .* must be an ECR image URI pinned by digest/,
      );
    }
  });

  it("processing instance types look like ml.<family>.<size>", () => {
    assert.equal(
      parseResearchSettings(valid({ processingInstanceType: "ml.g4dn.xlarge" })).processingInstanceType,
      "ml.g4dn.xlarge",
    );
    for (const t of ["m5.xlarge", "ml.m5", "ml.m5.xlarge.x", "ML.m5.xlarge"]) {
      refused(
        valid({ processingInstanceType: t }),
        `${K}.processingInstanceType: ${JSON.stringify(t)} must be a SageMaker instance type such as ml.m5.xlarge`,
      );
    }
  });

  it("QC thresholds: non-negative integers or null; a minimum must be below its maximum", () => {
    const qc = (over: Record<string, unknown>) => valid({ qc: { mitoPrefix: "mt-", ...over } });
    assert.deepEqual(parseResearchSettings(qc({ minGenes: 0, maxGenes: 1, minUmis: 4, maxUmis: 5 })).qc, {
      minGenes: 0,
      maxGenes: 1,
      minUmis: 4,
      maxUmis: 5,
      mitoPrefix: "mt-",
      percentMito: 10,
    });
    refused(qc({ minGenes: 6000 }), `${K}.qc.minGenes: 6000 must be below qc.maxGenes (6000)`);
    refused(qc({ minUmis: 5, maxUmis: 5 }), `${K}.qc.minUmis: 5 must be below qc.maxUmis (5)`);
    // A filter switched off bounds nothing.
    assert.equal(parseResearchSettings(qc({ minGenes: 9000, maxGenes: null })).qc.maxGenes, null);
    assert.equal(parseResearchSettings(qc({ minGenes: null, maxGenes: 0 })).qc.minGenes, null);
    assert.equal(parseResearchSettings(qc({ minUmis: 9, maxUmis: null })).qc.minUmis, 9);
    assert.equal(parseResearchSettings(qc({ minUmis: null, maxUmis: 0 })).qc.maxUmis, 0);
    for (const bad of [-1, 2.5, "5"]) {
      refused(
        qc({ maxUmis: bad }),
        `${K}.qc.maxUmis: ${JSON.stringify(bad)} must be a non-negative integer, or null to switch this filter off`,
      );
    }
    assert.equal(parseResearchSettings(qc({ percentMito: 100 })).qc.percentMito, 100);
    assert.equal(parseResearchSettings(qc({ percentMito: 0.5 })).qc.percentMito, 0.5);
    for (const bad of [0, 100.5, "5"]) {
      refused(
        qc({ percentMito: bad }),
        `${K}.qc.percentMito: ${JSON.stringify(bad)} must be a percentage in (0, 100], or null`,
      );
    }
    assert.equal(
      parseResearchSettings(valid({ qc: { mitoPrefix: null, percentMito: null } })).qc.percentMito,
      null,
    );
    refused(
      valid({ qc: { mitoPrefix: "MT -" } }),
      `${K}.qc.mitoPrefix: "MT -" must be the mitochondrial gene prefix of your samples' organism: "MT-" (human) or "mt-" (mouse), or null for no mito filter`,
    );
    assert.match(
      problems(valid({ qc: "mt-" }))[0],
      /qc: "mt-" must be an object with mitoPrefix and any of minGenes, maxGenes, minUmis, maxUmis, percentMito/,
    );
  });

  it("reads the key from the stack config, as JSON, and reports instead of throwing when asked", () => {
    const config = (value?: unknown) => ({
      name: "fieldnotes",
      get: (key: string) => (key === "research" && value !== undefined ? JSON.stringify(value) : undefined),
    });
    assert.equal(loadResearchSettings(config(valid())).account, "444444444444");
    const ok = checkResearchSettings(config(valid()));
    assert.deepEqual([ok.value?.region, ok.problems], ["us-east-1", []]);
    const bad = checkResearchSettings(config(valid({ account: "1" })));
    assert.equal(bad.value, undefined);
    assert.deepEqual(
      bad.problems.map((p) => p.key),
      ["fieldnotes:research.account"],
    );
  });
});

describe("Studio profile names from Identity Center user names", () => {
  it("keep letters and digits, lower-cased, with single hyphens between runs", () => {
    assert.equal(userProfileNameFor("Ada.Lovelace@Example.org"), "ada-lovelace-example-org");
    assert.equal(userProfileNameFor("--ada__x--"), "ada-x");
    assert.equal(userProfileNameFor("@@@"), "user");
  });

  it("keep 63 characters whole; longer names get 54 characters and a hash of the whole name", () => {
    const n63 = "a".repeat(63);
    assert.equal(userProfileNameFor(n63), n63);
    const long = userProfileNameFor("a".repeat(64));
    assert.match(long, /^a{54}-[0-9a-f]{8}$/);
    assert.notEqual(userProfileNameFor("a".repeat(64)), userProfileNameFor("a".repeat(65)));
    assert.equal(userProfileNameFor("a".repeat(64)), long, "the same user name gives the same profile");
    // The cut never leaves a hyphen before the hash's.
    assert.match(userProfileNameFor(`${"a".repeat(53)}.${"b".repeat(20)}`), /^a{53}-[0-9a-f]{8}$/);
    assert.match(
      userProfileNameFor(`a.${"b".repeat(51)}.${"c".repeat(20)}`),
      /^a-b{51}-[0-9a-f]{8}$/,
      "only the hyphen the cut leaves at the end goes",
    );
    // A changed hash renames (replaces) the user's Studio profile: it is pinned, all 8 hex
    // digits of it, leading zeros included.
    assert.equal(userProfileNameFor(`user-${"x".repeat(70)}125`), `user-${"x".repeat(49)}-00dbf6cd`);
    // FNV-1a over code points: names that differ in one character differ in the hash.
    assert.notEqual(userProfileNameFor(`${"a".repeat(70)}x`), userProfileNameFor(`${"a".repeat(70)}y`));
  });
});

describe("the isolated network's range and zones, at their edges", () => {
  const usage =
    "must be an IPv4 range in CIDR notation from /16 to /24 in a private (RFC 1918) block, e.g. 10.42.0.0/16";
  const notPrivate = `is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16); ${usage}`;

  it("takes every aligned /16 to /24 of the three private blocks, octets up to 255", () => {
    for (const cidr of [
      "10.0.0.0/16",
      "10.255.255.0/24",
      "10.0.10.0/24",
      "172.16.0.0/16",
      "172.31.0.0/16",
      "192.168.0.0/24",
    ]) {
      assert.equal(cidrProblem(cidr), undefined, cidr);
    }
  });

  it("refuses what is not a private range, or not a range", () => {
    for (const cidr of [
      "172.15.0.0/16",
      "172.32.0.0/16",
      "192.169.0.0/16",
      "193.168.0.0/16",
      "11.0.0.0/16",
      "11.16.0.0/16",
    ]) {
      assert.equal(cidrProblem(cidr), notPrivate, cidr);
    }
    for (const cidr of ["x10.0.0.0/16", "10.0.0.0/16x", "10.0.0.256/24", 7, ["10.0.0.0/16"]])
      assert.equal(cidrProblem(cidr), usage, String(cidr));
    assert.equal(cidrProblem("10.0.0.10/24"), "has host bits set; the /24 block holding it is 10.0.0.0/24");
  });

  it("zones: 2 to 4, as a count or as distinct names", () => {
    const net = (availabilityZones: unknown) => valid({ network: { mode: "vpcOnly", availabilityZones } });
    const four = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d"];
    assert.deepEqual(parseResearchSettings(net(four)).isolatedNetwork?.availabilityZones, four);
    assert.equal(parseResearchSettings(net(4)).isolatedNetwork?.availabilityZones, 4);
    assert.equal(parseResearchSettings(net("03")).isolatedNetwork?.availabilityZones, 3);
    for (const bad of [
      1,
      5,
      "3x",
      "x3",
      "3 ",
      " 3",
      ["3"],
      [["us-east-1a"], ["us-east-1b"]],
      [...four, "us-east-1e"],
    ]) {
      assert.match(
        problems(net(bad))[0] ?? "",
        /network\.availabilityZones: .* must be a number of Availability Zones from 2 to 4/,
        JSON.stringify(bad),
      );
    }
  });

  it("the isolated network or your own subnets, not both; an explicit access type must agree", () => {
    const both =
      "cannot be combined with vpcId/subnetIds: either the program builds the isolated network, or the domain uses yours; remove one";
    for (const own of [{ vpcId: "vpc-0123456789abcdef0" }, { subnetIds: ["subnet-0123456789abcdef0"] }]) {
      refusedAt(valid({ network: { mode: "vpcOnly" }, ...own }), "network", both);
    }
    const explicit = parseResearchSettings(valid({ appNetworkAccessType: "PublicInternetOnly" }));
    assert.equal(explicit.appNetworkAccessType, "PublicInternetOnly");
  });
});
