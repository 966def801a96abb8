import { strict as assert } from "assert";
import { parseResearchSettings, userProfileNameFor } from "../../research/config";

// Config errors stop the program before any resource and name the key path and the bad value.

const ECR = `444444444444.dkr.ecr.us-east-1.amazonaws.com/research@sha256:${"a".repeat(64)}`;

const valid = () => ({
  account: "444444444444",
  region: "us-east-1",
  groups: ["researchers"],
  users: [
    {
      userName: "ada",
      givenName: "Ada",
      familyName: "Lovelace",
      email: "ada@example.org",
      group: "researchers",
    },
  ],
  qc: { mitoPrefix: "mt-" } as Record<string, unknown>,
});

function rejects(mutate: (c: Record<string, unknown>) => void, key: string, fragment: string) {
  const config: Record<string, unknown> = valid();
  mutate(config);
  assert.throws(
    () => parseResearchSettings(config),
    (err: Error) => {
      assert.match(err.message, new RegExp(`Invalid config ${key.replace(/[.[\]]/g, "\\$&")}: `));
      assert.ok(err.message.includes(fragment), `"${err.message}" should mention "${fragment}"`);
      return true;
    },
  );
}

describe("research config", () => {
  it("applies secure, destroyable defaults to a minimal config", () => {
    const s = parseResearchSettings(valid());
    assert.equal(s.name, "fieldnotes-research");
    assert.equal(s.existingNetwork, undefined, "no VPC given: the default VPC is looked up");
    assert.equal(s.homeEfsRetention, "Delete");
    assert.equal(s.forceDeleteRepository, true);
    assert.deepEqual(s.qc, {
      minGenes: 500,
      maxGenes: 6000,
      minUmis: null,
      maxUmis: null,
      mitoPrefix: "mt-",
      percentMito: 10,
    });
  });

  it("refuses a config without users", () =>
    rejects((c) => (c.users = []), "fieldnotes:research.users", "[]"));
  it("refuses a user in a group that is not declared", () =>
    rejects(
      (c) => ((c.users as Record<string, unknown>[])[0].group = "admins"),
      "fieldnotes:research.users[0].group",
      '"admins" is not one of fieldnotes:research.groups (researchers)',
    ));
  it("refuses a bad email", () =>
    rejects(
      (c) => ((c.users as Record<string, unknown>[])[0].email = "ada-at-example.org"),
      "fieldnotes:research.users[0].email",
      '"ada-at-example.org" is not an email address',
    ));
  it("refuses a VPC without subnets", () =>
    rejects(
      (c) => (c.vpcId = "vpc-0123456789abcdef0"),
      "fieldnotes:research.subnetIds",
      "must list the subnets of vpc-0123456789abcdef0",
    ));
  it("refuses subnets without a VPC", () =>
    rejects(
      (c) => (c.subnetIds = ["subnet-0123456789abcdef0"]),
      "fieldnotes:research.subnetIds",
      "needs vpcId too",
    ));
  it("refuses a VPC with an empty subnet list", () =>
    rejects(
      (c) => Object.assign(c, { vpcId: "vpc-0123456789abcdef0", subnetIds: [] }),
      "fieldnotes:research.subnetIds",
      "a domain needs at least one subnet",
    ));
  it("refuses more subnets than a Studio domain takes", () =>
    rejects(
      (c) =>
        Object.assign(c, {
          vpcId: "vpc-0123456789abcdef0",
          subnetIds: Array.from(
            { length: 17 },
            (_, i) => `subnet-0123456789abcd${String(i).padStart(3, "0")}`,
          ),
        }),
      "fieldnotes:research.subnetIds",
      "lists 17 subnets; a Studio domain takes at most 16",
    ));
  it("refuses an account that is not 12 digits, and an unknown Region", () => {
    rejects((c) => (c.account = "4444"), "fieldnotes:research.account", '"4444" is not a 12-digit');
    rejects(
      (c) => (c.region = "us-east-9"),
      "fieldnotes:research.region",
      '"us-east-9" must be an AWS Region',
    );
  });
  it("refuses an imageUri pinned by tag instead of digest", () =>
    rejects(
      (c) => (c.imageUri = "444444444444.dkr.ecr.us-east-1.amazonaws.com/pegasus:latest"),
      "fieldnotes:research.imageUri",
      "pinned by digest",
    ));
  it("refuses the removed Studio Classic keys with the reason, not as unknown", () => {
    for (const k of ["studioClassic", "classicBaseDigest", "classicImageUri"])
      rejects((c) => (c[k] = k === "studioClassic" ? true : "x"), `fieldnotes:research.${k}`, "was removed");
  });
  it("requires the mito prefix: it depends on the organism, and no default fits both", () => {
    rejects((c) => delete c.qc, "fieldnotes:research.qc", "(not set) is required");
    rejects((c) => (c.qc = { percentMito: 5 }), "fieldnotes:research.qc.mitoPrefix", "(not set) is required");
    rejects(
      (c) => (c.qc = { mitoPrefix: "" }),
      "fieldnotes:research.qc.mitoPrefix",
      '"" must be the mitochondrial',
    );
  });
  it("refuses a misspelt key instead of ignoring it", () =>
    rejects((c) => (c.imageURI = "x"), "fieldnotes:research.imageURI", "is not a known key"));
  it("suggests the closest known key at every level of the research config", () => {
    rejects((c) => (c.imageURI = "x"), "fieldnotes:research.imageURI", "did you mean imageUri?");
    rejects(
      (c) => ((c.users as Record<string, unknown>[])[0].mail = "ada@example.org"),
      "fieldnotes:research.users[0].mail",
      "did you mean email?",
    );
    rejects((c) => (c.qc = { minGene: 10 }), "fieldnotes:research.qc.minGene", "did you mean minGenes?");
  });
  it("reports every problem of the research config at once", () => {
    const config: Record<string, unknown> = {
      ...valid(),
      account: "4444",
      region: "us-east-9",
      keepImage: 3,
    };
    assert.throws(
      () => parseResearchSettings(config),
      (err: Error) => {
        assert.deepEqual(err.message.split("\n"), [
          'Invalid config fieldnotes:research.account: "4444" is not a 12-digit AWS account ID',
          'Invalid config fieldnotes:research.region: "us-east-9" must be an AWS Region, the one where Identity Center runs',
          "Invalid config fieldnotes:research.keepImage: 3 is not a known key; did you mean keepImages? (known: account, region, name, groups, users, vpcId, subnetIds, network, appNetworkAccessType, homeEfsRetention, imageUri, processingImageUri, jupyterLabBaseImage, forceDeleteRepository, keepImages, forceDestroyBucket, processingInstanceType, processingVolumeSizeGb, processingMaxRuntimeSeconds, qc)",
        ]);
        return true;
      },
    );
  });
  it("reports the rules across keys with every other problem, each on the key to change", () => {
    const ada = valid().users[0];
    const config: Record<string, unknown> = {
      ...valid(),
      keepImages: 0, // a key's own problem: the rules below still run, they do not read it
      groups: ["researchers", "researchers"],
      users: [
        ada,
        { ...ada, userName: "ADA", email: "ada2@example.org" },
        { ...ada, userName: "bob", group: "admins" },
      ],
      processingImageUri: ECR,
      jupyterLabBaseImage: undefined,
      vpcId: "vpc-0123456789abcdef0",
      qc: { mitoPrefix: null, minGenes: 10, maxGenes: 10, minUmis: 7, maxUmis: 3 },
    };
    assert.throws(
      () => parseResearchSettings(config),
      (err: Error) => {
        assert.deepEqual(err.message.split("\n"), [
          'Invalid config fieldnotes:research.groups[1]: "researchers" is listed twice',
          'Invalid config fieldnotes:research.users[1].userName: "ADA" is already used by fieldnotes:research.users[0]',
          "Invalid config fieldnotes:research.keepImages: 0 must be an integer from 1 to 1000",
          "Invalid config fieldnotes:research.qc.percentMito: 10 needs qc.mitoPrefix: Pegasus ignores it without a prefix",
          "Invalid config fieldnotes:research.qc.minGenes: 10 must be below qc.maxGenes (10)",
          "Invalid config fieldnotes:research.qc.minUmis: 7 must be below qc.maxUmis (3)",
          'Invalid config fieldnotes:research.users[2].group: "admins" is not one of fieldnotes:research.groups (researchers)',
          "Invalid config fieldnotes:research.subnetIds: (not set) must list the subnets of vpc-0123456789abcdef0 the domain uses; a domain needs at least one subnet",
          `Invalid config fieldnotes:research.processingImageUri: ${JSON.stringify(ECR).slice(0, 117)}... needs imageUri: without it both images are built here`,
        ]);
        return true;
      },
    );
  });
  it("skips a rule whose keys are wrong themselves, and reports those", () => {
    const config: Record<string, unknown> = { ...valid(), groups: ["researchers", 7], imageUri: "nope" };
    assert.throws(
      () => parseResearchSettings(config),
      (err: Error) => {
        assert.deepEqual(err.message.split("\n"), [
          "Invalid config fieldnotes:research.groups[1]: 7 must be a non-empty name",
          `Invalid config fieldnotes:research.imageUri: "nope" must be an ECR image URI pinned by digest: <account>.dkr.ecr.<region>.amazonaws.com/<repository>@sha256:<64 hex>`,
        ]);
        return true;
      },
    );
  });
  it("refuses two user names that collide as Studio profile names", () =>
    rejects(
      (c) =>
        (c.users as Record<string, unknown>[]).push({
          ...(c.users as Record<string, unknown>[])[0],
          userName: "Ada",
        }),
      "fieldnotes:research.users[1].userName",
      "already used by fieldnotes:research.users[0]",
    ));
  it("refuses a mito percentage without a prefix, and inverted thresholds", () => {
    rejects(
      (c) => (c.qc = { mitoPrefix: null }),
      "fieldnotes:research.qc.percentMito",
      "needs qc.mitoPrefix",
    );
    rejects(
      (c) => (c.qc = { mitoPrefix: "mt-", minGenes: 7000 }),
      "fieldnotes:research.qc.minGenes",
      "must be below qc.maxGenes (6000)",
    );
  });
  it("accepts an explicit network and a digest-pinned imageUri", () => {
    const uri = `444444444444.dkr.ecr.us-east-1.amazonaws.com/team/pegasus@sha256:${"a".repeat(64)}`;
    const s = parseResearchSettings({
      ...valid(),
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0123456789abcdef0"],
      imageUri: uri,
    });
    assert.deepEqual(s.existingNetwork, {
      vpcId: "vpc-0123456789abcdef0",
      subnetIds: ["subnet-0123456789abcdef0"],
    });
    assert.equal(s.imageUri, uri);
  });
  it("derives valid Studio profile names from Identity Center user names", () => {
    assert.equal(userProfileNameFor("ada.lovelace@example.org"), "ada-lovelace-example-org");
    const long = userProfileNameFor("x".repeat(128));
    assert.ok(long.length <= 63 && /^[a-z0-9](-*[a-z0-9])*$/.test(long), long);
  });

  describe("network (the isolated VpcOnly network)", () => {
    const withNetwork =
      (network: unknown, extra: Record<string, unknown> = {}) =>
      (c: Record<string, unknown>) =>
        Object.assign(c, { network, ...extra });

    it("defaults to a /16 in 10.42.0.0 over two zones, and makes the domain VpcOnly", () => {
      const s = parseResearchSettings({ ...valid(), network: { mode: "vpcOnly" } });
      assert.deepEqual(s.isolatedNetwork, {
        mode: "vpcOnly",
        cidrBlock: "10.42.0.0/16",
        availabilityZones: 2,
        natGateways: 0,
      });
      assert.equal(s.appNetworkAccessType, "VpcOnly");
      assert.equal(s.existingNetwork, undefined);
      assert.equal(parseResearchSettings(valid()).isolatedNetwork, undefined, "off unless asked");
    });
    it("takes a zone count (also as the string pulumi config set writes) or zone names", () => {
      const count = parseResearchSettings({
        ...valid(),
        network: { mode: "vpcOnly", availabilityZones: "3" },
      });
      assert.equal(count.isolatedNetwork?.availabilityZones, 3);
      const named = parseResearchSettings({
        ...valid(),
        network: {
          mode: "vpcOnly",
          availabilityZones: ["us-east-1a", "us-east-1c"],
          cidrBlock: "192.168.4.0/24",
        },
      });
      assert.deepEqual(named.isolatedNetwork?.availabilityZones, ["us-east-1a", "us-east-1c"]);
      assert.equal(named.isolatedNetwork?.cidrBlock, "192.168.4.0/24");
    });
    it("refuses a mode other than vpcOnly, and a missing mode", () => {
      rejects(withNetwork({ mode: "public" }), "fieldnotes:research.network.mode", 'must be "vpcOnly"');
      rejects(withNetwork({}), "fieldnotes:research.network.mode", "(not set) is required");
      rejects(
        withNetwork(true),
        "fieldnotes:research.network",
        '{mode: "vpcOnly", cidrBlock?, availabilityZones?, natGateways?}',
      );
    });
    it("refuses a range that is not an aligned private block from /16 to /24", () => {
      const cidr = "fieldnotes:research.network.cidrBlock";
      rejects(
        withNetwork({ mode: "vpcOnly", cidrBlock: "10.42.0.0" }),
        cidr,
        '"10.42.0.0" must be an IPv4 range',
      );
      rejects(withNetwork({ mode: "vpcOnly", cidrBlock: "10.300.0.0/16" }), cidr, "must be an IPv4 range");
      rejects(withNetwork({ mode: "vpcOnly", cidrBlock: "10.0.0.0/8" }), cidr, "has prefix /8");
      rejects(withNetwork({ mode: "vpcOnly", cidrBlock: "10.0.0.0/26" }), cidr, "has prefix /26");
      rejects(
        withNetwork({ mode: "vpcOnly", cidrBlock: "10.42.7.0/16" }),
        cidr,
        "has host bits set; the /16 block holding it is 10.42.0.0/16",
      );
      rejects(withNetwork({ mode: "vpcOnly", cidrBlock: "8.8.0.0/16" }), cidr, "is not in a private range");
      rejects(
        withNetwork({ mode: "vpcOnly", cidrBlock: "172.32.0.0/16" }),
        cidr,
        "is not in a private range",
      );
    });
    it("refuses fewer than 2 or more than 4 zones, repeated zones and names that are not zones", () => {
      const azs = "fieldnotes:research.network.availabilityZones";
      for (const bad of [
        1,
        5,
        2.5,
        "two",
        ["us-east-1a"],
        ["us-east-1a", "us-east-1a"],
        ["us-east-1a", "use1-az1"],
      ])
        rejects(
          withNetwork({ mode: "vpcOnly", availabilityZones: bad }),
          azs,
          "must be a number of Availability Zones from 2 to 4",
        );
    });
    it("takes natGateways 0, 1 or one per zone, and refuses other counts and a fourth zone with NAT", () => {
      const nat = "fieldnotes:research.network.natGateways";
      const perZone = parseResearchSettings({ ...valid(), network: { mode: "vpcOnly", natGateways: 2 } });
      assert.equal(perZone.isolatedNetwork?.natGateways, 2);
      rejects(
        withNetwork({ mode: "vpcOnly", availabilityZones: 3, natGateways: 2 }),
        nat,
        "2 must be 0 (no internet), 1 (one NAT gateway for every zone) or 3 (one per zone)",
      );
      rejects(
        withNetwork({ mode: "vpcOnly", availabilityZones: 4, natGateways: 1 }),
        nat,
        "needs at most 3 zones: the public subnets for the NAT gateways take the fourth quarter of cidrBlock",
      );
      rejects(withNetwork({ mode: "vpcOnly", natGateways: -1 }), nat, "must be an integer from 0 to 4");
    });
    it("suggests the key a typo meant inside network", () => {
      rejects(
        withNetwork({ mode: "vpcOnly", cidrBlok: "10.1.0.0/16" }),
        "fieldnotes:research.network.cidrBlok",
        "did you mean cidrBlock?",
      );
      rejects(
        withNetwork({ mode: "vpcOnly", availabilityZone: 2 }),
        "fieldnotes:research.network.availabilityZone",
        "did you mean availabilityZones?",
      );
      rejects(
        withNetwork({ mode: "vpcOnly" }, { netwrok: {} }),
        "fieldnotes:research.netwrok",
        "did you mean network?",
      );
    });
    it("refuses network together with vpcId/subnetIds, and with PublicInternetOnly", () => {
      rejects(
        withNetwork(
          { mode: "vpcOnly" },
          { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"] },
        ),
        "fieldnotes:research.network",
        "cannot be combined with vpcId/subnetIds",
      );
      rejects(
        withNetwork({ mode: "vpcOnly" }, { appNetworkAccessType: "PublicInternetOnly" }),
        "fieldnotes:research.appNetworkAccessType",
        '"PublicInternetOnly" contradicts network.mode vpcOnly',
      );
      const explicit = parseResearchSettings({
        ...valid(),
        network: { mode: "vpcOnly" },
        appNetworkAccessType: "VpcOnly",
      });
      assert.equal(explicit.appNetworkAccessType, "VpcOnly");
    });
    it("still refuses VpcOnly on the default VPC, naming network as the way out", () =>
      rejects(
        (c) => (c.appNetworkAccessType = "VpcOnly"),
        "fieldnotes:research.appNetworkAccessType",
        'or network: {mode: "vpcOnly"} to build them',
      ));
  });
});
