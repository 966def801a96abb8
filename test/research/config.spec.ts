import { strict as assert } from "assert";
import { parseResearchSettings, userProfileNameFor } from "../../research/config";

// Config errors stop the program before any resource and name the key path and the bad value.

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
    assert.equal(s.network, undefined, "no VPC given: the default VPC is looked up");
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
          "Invalid config fieldnotes:research.keepImage: 3 is not a known key; did you mean keepImages? (known: account, region, name, groups, users, vpcId, subnetIds, appNetworkAccessType, homeEfsRetention, imageUri, processingImageUri, jupyterLabBaseImage, forceDeleteRepository, keepImages, forceDestroyBucket, processingInstanceType, processingVolumeSizeGb, processingMaxRuntimeSeconds, qc)",
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
    assert.deepEqual(s.network, { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"] });
    assert.equal(s.imageUri, uri);
  });
  it("derives valid Studio profile names from Identity Center user names", () => {
    assert.equal(userProfileNameFor("ada.lovelace@example.org"), "ada-lovelace-example-org");
    const long = userProfileNameFor("x".repeat(128));
    assert.ok(long.length <= 63 && /^[a-z0-9](-*[a-z0-9])*$/.test(long), long);
  });
});
