import { strict as assert } from "assert";
import { Plan, PlannedResource } from "../../local/plan";
import { SubscriberEnv } from "../../messaging/contract";
import { publisherNames, replicaNames } from "../../messaging/naming";
import { parseTopology } from "../../messaging/topology";
import {
  ACCOUNT_A,
  ACCOUNT_B,
  ACCOUNT_C,
  assertNoError,
  limited,
  ofType,
  planOf,
  policyInput,
  resource,
  topologyOverride,
} from "./plans";
import { Policy, simulate } from "./simulation";

// Region-local payload replicas (docs/replicas.md), on the plans of the real program: the project
// topology gives subscriber b (us-west-2) a replica, so A's stack deploys it in us-west-2 and
// configures the origin's replication to it; B's stack only derives its name.

const BUCKET = "aws:s3/bucket:Bucket";
const VERSIONING = "aws:s3/bucketVersioning:BucketVersioning";
const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
const REPLICATION = "aws:s3/bucketReplicationConfig:BucketReplicationConfig";
const REPLICA = "fieldnotes:messaging:PayloadReplica";
const KEY = "aws:kms/key:Key";
const ROLE = "aws:iam/role:Role";
const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
const BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy";

const ORIGIN = `fieldnotes-payloads-${ACCOUNT_A}-us-east-1`;
const REPLICA_BUCKET = `fieldnotes-payloads-${ACCOUNT_A}-us-west-2`;
const ORIGIN_ARN = `arn:aws:s3:::${ORIGIN}`;
const REPLICA_ARN = `arn:aws:s3:::${REPLICA_BUCKET}`;
const REPLICATION_ROLE = `arn:aws:iam::${ACCOUNT_A}:role/fieldnotes-payload-replication`;

interface Rule {
  id: string;
  priority: number;
  status: string;
  filter: { prefix?: string };
  deleteMarkerReplication: { status: string };
  destination: {
    bucket: string;
    metrics?: { status: string; eventThreshold?: { minutes: number } };
    replicationTime?: { status: string; time: { minutes: number } };
    encryptionConfiguration?: { replicaKmsKeyId: string };
  };
  sourceSelectionCriteria?: { sseKmsEncryptedObjects: { status: string } };
}

const rules = (r: PlannedResource) => r.inputs.rules as Rule[];
const byUrn = (plan: Plan, urn: string) => plan.resources.find((r) => r.urn === urn);
/** The resources `r` waits for, as "type name". */
const waitsFor = (plan: Plan, r: PlannedResource) =>
  (r.dependencies ?? []).map((urn) => byUrn(plan, urn)).map((d) => `${d?.type} ${d?.name}`);

/** Every custom resource under the component named `name`, through nested components. */
function under(plan: Plan, name: string): PlannedResource[] {
  const root = plan.resources.find((r) => r.name === name && !r.custom);
  assert.ok(root, `${plan.stack}: no component ${name}`);
  const urns = new Set([root.urn]);
  const found: PlannedResource[] = [];
  for (const r of plan.resources) {
    if (r.parent && urns.has(r.parent)) {
      urns.add(r.urn);
      if (r.custom) found.push(r);
    }
  }
  return found;
}

describe("payload replicas: what A's stack deploys and B's stack derives", function () {
  this.timeout(300_000);
  let a: Plan, aKms: Plan, aRtc: Plan, aNone: Plan, b: Plan, bKms: Plan;

  before(async () => {
    const kms = await topologyOverride((t) => (t.offload.kms = true));
    const rtc = await topologyOverride((t) => (t.offload.replicationTimeControl = true));
    const none = await topologyOverride((t) => (t.subscribers[0].replica = false));
    [a, aKms, aRtc, aNone, b, bKms] = (
      await limited(2, [
        () => planOf("a-use1"),
        () => planOf("a-use1", kms),
        () => planOf("a-use1", rtc),
        () => planOf("a-use1", none),
        () => planOf("b-usw2"),
        () => planOf("b-usw2", kms),
      ])
    ).map(assertNoError);
  });

  describe("topology and names", () => {
    it("A's stack deploys one replica, in account A and us-west-2, named from the topology alone", () => {
      assert.deepEqual(
        ofType(a, REPLICA).map((r) => r.name),
        ["replica-us-west-2"],
      );
      const placed = new Set(
        under(a, "replica-us-west-2").map((r) => `${r.provider?.account}/${r.provider?.region}`),
      );
      assert.deepEqual([...placed], [`${ACCOUNT_A}/us-west-2`]);
      const bucket = resource(a, BUCKET, "replica-us-west-2-payloads");
      assert.equal(bucket.outputs.bucket, REPLICA_BUCKET);
      const topology = parseTopology(JSON.parse(a.config["fieldnotes:topology"]));
      assert.equal(replicaNames(topology, "us-west-2").bucket, REPLICA_BUCKET);
    });

    it("B's stack deploys nothing of it, and names the same buckets in PAYLOAD_REPLICAS as A's stack creates", () => {
      assert.deepEqual(ofType(b, REPLICA), []);
      assert.deepEqual(ofType(b, BUCKET), []);
      const fn = resource(b, "aws:lambda/function:Function", "subscriber-b-consumer");
      const vars = (fn.inputs.environment as { variables: Record<string, string> }).variables;
      const origin = resource(a, BUCKET, "publisher-payloads").outputs.bucket;
      const replica = resource(a, BUCKET, "replica-us-west-2-payloads").outputs.bucket;
      assert.equal(vars[SubscriberEnv.payloadReplicas], `${origin}=${replica}`);
      assert.equal(vars[SubscriberEnv.bucketAllowList], `${origin},${replica}`);
      assert.equal(vars[SubscriberEnv.keyPrefixAllowList], "payloads/");
    });

    it("a stack without replicas is unchanged: no versioning, no replication, the two expiry rules", () => {
      for (const type of [REPLICA, VERSIONING, REPLICATION])
        assert.deepEqual(
          ofType(aNone, type).map((r) => r.name),
          [],
          type,
        );
      assert.equal(
        ofType(aNone, ROLE).find((r) => r.name === "publisher-replication-role"),
        undefined,
      );
      assert.deepEqual(rules(resource(aNone, LIFECYCLE, "publisher-payloads-lifecycle")), [
        {
          id: "expire-payloads",
          status: "Enabled",
          filter: { prefix: "payloads/" },
          expiration: { days: 7 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
        {
          id: "expire-incoming",
          status: "Enabled",
          filter: { prefix: "incoming/" },
          expiration: { days: 7 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        },
      ]);
      // Everything else A's stack registers is the same with or without the replica.
      const names = (plan: Plan) =>
        plan.resources
          // The replica's Region gets its provider (account A, us-west-2), nothing more.
          .filter((r) => r.custom && !/replica|replication|versioning|us-west-2$/.test(r.name))
          .map((r) => `${r.type} ${r.name}`)
          .sort();
      assert.deepEqual(names(aNone), names(a));
    });

    it("refuses replicationTimeControl without a replica, naming the key", async () => {
      const plan = await planOf(
        "a-use1",
        await topologyOverride((t) => {
          t.subscribers[0].replica = false;
          t.offload.replicationTimeControl = true;
        }),
      );
      assert.match(
        plan.error?.message ?? "",
        /fieldnotes:topology\.offload\.replicationTimeControl: true applies to replication, which needs at least one subscriber with replica: true/,
      );
      assert.deepEqual(
        plan.resources.filter((r) => r.custom),
        [],
      );
    });
  });

  describe("replication configuration", () => {
    it("one configuration on the origin, in A's Region: payloads/ only to the replica, no delete markers, metrics on", () => {
      const [config] = ofType(a, REPLICATION);
      assert.equal(ofType(a, REPLICATION).length, 1);
      assert.equal(config.name, "publisher-replication");
      assert.deepEqual([config.provider?.account, config.provider?.region], [ACCOUNT_A, "us-east-1"]);
      assert.equal(config.inputs.bucket, ORIGIN);
      assert.equal(config.inputs.role, resource(a, ROLE, "publisher-replication-role").outputs.arn);
      assert.equal(config.inputs.role, REPLICATION_ROLE);
      assert.deepEqual(rules(config), [
        {
          id: "payloads-to-us-west-2",
          priority: 0,
          status: "Enabled",
          filter: { prefix: "payloads/" },
          deleteMarkerReplication: { status: "Disabled" },
          destination: {
            bucket: REPLICA_ARN,
            metrics: { status: "Enabled", eventThreshold: { minutes: 15 } },
          },
        },
      ]);
    });

    it("is written after the origin and the replica are versioned (else: 'Destination bucket must have versioning enabled')", () => {
      const config = resource(a, REPLICATION, "publisher-replication");
      const deps = waitsFor(a, config);
      for (const versioning of ["publisher-payloads-versioning", "replica-us-west-2-payloads-versioning"])
        assert.ok(deps.includes(`${VERSIONING} ${versioning}`), `${versioning} in ${deps.join(", ")}`);
      assert.ok(deps.includes(`${ROLE_POLICY} publisher-replication-policy`), deps.join(", "));
      for (const name of ["publisher-payloads-versioning", "replica-us-west-2-payloads-versioning"]) {
        const v = resource(a, VERSIONING, name);
        assert.deepEqual(v.inputs.versioningConfiguration, { status: "Enabled" }, name);
      }
      assert.equal(resource(a, VERSIONING, "publisher-payloads-versioning").inputs.bucket, ORIGIN);
      assert.equal(
        resource(a, VERSIONING, "replica-us-west-2-payloads-versioning").inputs.bucket,
        REPLICA_BUCKET,
      );
    });

    it("one rule per replica Region, each with its own priority, in one document", async () => {
      const plan = assertNoError(
        await planOf(
          "a-use1",
          await topologyOverride((t) => {
            t.subscribers.push({
              ...t.subscribers[0],
              name: "d",
              region: "eu-west-1",
              replica: true,
            });
            t.subscribers.push({ ...t.subscribers[0], name: "e", replica: true });
          }),
        ),
      );
      assert.deepEqual(
        ofType(plan, REPLICA).map((r) => r.name),
        ["replica-eu-west-1", "replica-us-west-2"],
      );
      const config = resource(plan, REPLICATION, "publisher-replication");
      assert.deepEqual(
        rules(config).map((r) => [r.id, r.priority, r.destination.bucket]),
        [
          ["payloads-to-eu-west-1", 0, `arn:aws:s3:::fieldnotes-payloads-${ACCOUNT_A}-eu-west-1`],
          ["payloads-to-us-west-2", 1, REPLICA_ARN],
        ],
      );
      // Both subscribers of us-west-2 read the one replica there.
      const policy = policyInput(resource(plan, BUCKET_POLICY, "replica-us-west-2-payloads-policy"));
      const read = policy.Statement.find((s) => s.Sid === "SubscriberRolesReadPayloads") as {
        Condition: { ArnEquals: Record<string, string[]> };
      };
      assert.deepEqual(read.Condition.ArnEquals["aws:PrincipalArn"], [
        `arn:aws:iam::${ACCOUNT_B}:role/fieldnotes-b-consumer`,
        `arn:aws:iam::${ACCOUNT_B}:role/fieldnotes-e-consumer`,
      ]);
    });

    it("offload.replicationTimeControl adds S3 RTC (15 minutes) to each rule; off by default", () => {
      const [rule] = rules(resource(aRtc, REPLICATION, "publisher-replication"));
      assert.deepEqual(rule.destination.replicationTime, { status: "Enabled", time: { minutes: 15 } });
      assert.deepEqual(rule.destination.metrics, { status: "Enabled", eventThreshold: { minutes: 15 } });
      assert.equal(
        rules(resource(a, REPLICATION, "publisher-replication"))[0].destination.replicationTime,
        undefined,
      );
    });
  });

  describe("both buckets", () => {
    it("the replica's public access block, ownership, encryption and TLS-only policy equal the origin's", () => {
      const pairs: [string, string][] = [
        ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "public-access"],
        ["aws:s3/bucketOwnershipControls:BucketOwnershipControls", "ownership"],
        [
          "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
          "encryption",
        ],
      ];
      for (const [type, suffix] of pairs) {
        const { bucket: _o, ...origin } = resource(a, type, `publisher-payloads-${suffix}`).inputs;
        const { bucket: _r, ...replica } = resource(a, type, `replica-us-west-2-payloads-${suffix}`).inputs;
        assert.deepEqual(replica, origin, type);
      }
      const tls = (plan: Plan, name: string) =>
        policyInput(resource(plan, BUCKET_POLICY, name)).Statement.find(
          (s) => s.Sid === "DenyInsecureTransport",
        );
      assert.deepEqual(tls(a, "replica-us-west-2-payloads-policy"), {
        ...(tls(a, "publisher-payloads-policy") as object),
        Resource: [REPLICA_ARN, `${REPLICA_ARN}/*`],
      });
      // Settings that S3 refuses to change concurrently are written one after the other, as at the origin.
      const policy = resource(a, BUCKET_POLICY, "replica-us-west-2-payloads-policy");
      assert.deepEqual(
        waitsFor(a, policy)
          .filter((d) => !d.startsWith(BUCKET))
          .sort(),
        [
          "aws:s3/bucketOwnershipControls:BucketOwnershipControls replica-us-west-2-payloads-ownership",
          "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock replica-us-west-2-payloads-public-access",
        ],
      );
    });

    it("lifecycle: the origin's expiry on each side, plus noncurrent versions and expired delete markers, after versioning", () => {
      const versioned = (prefix: string) => [
        {
          id: `expire-${prefix}`,
          status: "Enabled",
          filter: { prefix: `${prefix}/` },
          expiration: { days: 7 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
          noncurrentVersionExpiration: { noncurrentDays: 1 },
        },
        {
          id: `remove-delete-markers-${prefix}`,
          status: "Enabled",
          filter: { prefix: `${prefix}/` },
          expiration: { expiredObjectDeleteMarker: true },
        },
      ];
      const origin = resource(a, LIFECYCLE, "publisher-payloads-lifecycle");
      const replica = resource(a, LIFECYCLE, "replica-us-west-2-payloads-lifecycle");
      assert.deepEqual(rules(origin), [...versioned("payloads"), ...versioned("incoming")]);
      // Only payloads/ replicates, so the replica has nothing else to expire.
      assert.deepEqual(rules(replica), versioned("payloads"));
      assert.ok(waitsFor(a, origin).includes(`${VERSIONING} publisher-payloads-versioning`));
      assert.ok(waitsFor(a, replica).includes(`${VERSIONING} replica-us-west-2-payloads-versioning`));
      // The retention follows offload.retentionDays on both sides.
      assert.equal(
        (
          rules(resource(aRtc, LIFECYCLE, "replica-us-west-2-payloads-lifecycle"))[0] as unknown as {
            expiration: { days: number };
          }
        ).expiration.days,
        JSON.parse(aRtc.config["fieldnotes:topology"]).offload.retentionDays,
      );
    });
  });

  describe("SSE-KMS (offload.kms)", () => {
    it("the replica gets its own key in us-west-2; the rule names that key's ARN and opts SSE-KMS objects in", () => {
      const replicaKey = resource(aKms, KEY, "replica-us-west-2-key");
      const originKey = resource(aKms, KEY, "publisher-payload-key");
      assert.deepEqual([replicaKey.provider?.account, replicaKey.provider?.region], [ACCOUNT_A, "us-west-2"]);
      const [rule] = rules(resource(aKms, REPLICATION, "publisher-replication"));
      // S3 accepts any key ID here and fails every copy later: it must be the replica key, in the replica's Region.
      const keyArn = rule.destination.encryptionConfiguration?.replicaKmsKeyId ?? "";
      assert.equal(keyArn, replicaKey.outputs.arn);
      assert.notEqual(keyArn, originKey.outputs.arn);
      assert.match(keyArn, new RegExp(`^arn:aws:kms:us-west-2:${ACCOUNT_A}:key/`));
      assert.deepEqual(rule.sourceSelectionCriteria, { sseKmsEncryptedObjects: { status: "Enabled" } });
      const encryption = resource(
        aKms,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "replica-us-west-2-payloads-encryption",
      );
      assert.deepEqual(encryption.inputs.rules, [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: "aws:kms",
            kmsMasterKeyId: replicaKey.outputs.arn,
          },
          bucketKeyEnabled: true,
        },
      ]);
      assert.equal(
        resource(aKms, "aws:kms/alias:Alias", "replica-us-west-2-key-alias").provider?.region,
        "us-west-2",
      );
    });
  });

  describe("policy simulation", () => {
    const ADMIN_A = `arn:aws:iam::${ACCOUNT_A}:role/admin`;
    const ALL: Policy = { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
    let roleKms: Policy,
      role: Policy,
      originPolicy: Policy,
      replicaPolicy: Policy,
      bRole: string,
      bPolicy: Policy;

    before(() => {
      role = policyInput(resource(a, ROLE_POLICY, "publisher-replication-policy"));
      roleKms = policyInput(resource(aKms, ROLE_POLICY, "publisher-replication-policy"));
      originPolicy = policyInput(resource(a, BUCKET_POLICY, "publisher-payloads-policy"));
      replicaPolicy = policyInput(resource(a, BUCKET_POLICY, "replica-us-west-2-payloads-policy"));
      bRole = resource(b, ROLE, "subscriber-b-consumer-role").outputs.arn as string;
      bPolicy = policyInput(resource(b, ROLE_POLICY, "subscriber-b-consumer-policy"));
    });

    const s3 = (
      principal: string,
      identity: Policy[],
      action: string,
      arn: string,
      context?: Record<string, string>,
    ) =>
      simulate({
        principal,
        identity,
        action,
        resource: arn,
        resourceAccount: ACCOUNT_A,
        resourcePolicy: arn.startsWith(REPLICA_ARN)
          ? replicaPolicy
          : arn.startsWith(ORIGIN_ARN)
            ? originPolicy
            : undefined,
        context,
      });

    it("S3 alone assumes the replication role, for account A's buckets only (aws:SourceAccount)", async () => {
      const trust = policyInput(resource(a, ROLE, "publisher-replication-role"), "assumeRolePolicy");
      const assume = (service: string, account: string) =>
        simulate({
          principal: service,
          identity: [],
          action: "sts:AssumeRole",
          resource: REPLICATION_ROLE,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: trust,
          context: { "aws:SourceAccount": account },
        });
      assert.equal(await assume("s3.amazonaws.com", ACCOUNT_A), "Allowed");
      assert.notEqual(await assume("s3.amazonaws.com", ACCOUNT_C), "Allowed");
      assert.notEqual(await assume("lambda.amazonaws.com", ACCOUNT_A), "Allowed");
    });

    it("the replication role reads the origin's payloads/ versions and replicates them to the replica's payloads/, and nothing else", async () => {
      for (const policy of [role, roleKms]) {
        const r = (action: string, arn: string) => s3(REPLICATION_ROLE, [policy], action, arn);
        assert.equal(await r("s3:GetReplicationConfiguration", ORIGIN_ARN), "Allowed");
        assert.equal(await r("s3:ListBucket", ORIGIN_ARN), "Allowed");
        for (const action of [
          "s3:GetObjectVersionForReplication",
          "s3:GetObjectVersionAcl",
          "s3:GetObjectVersionTagging",
        ]) {
          assert.equal(await r(action, `${ORIGIN_ARN}/payloads/3f1c`), "Allowed", action);
          assert.notEqual(
            await r(action, `${ORIGIN_ARN}/incoming/upload-1`),
            "Allowed",
            `${action} incoming/`,
          );
        }
        for (const action of ["s3:ReplicateObject", "s3:ReplicateTags"]) {
          assert.equal(await r(action, `${REPLICA_ARN}/payloads/3f1c`), "Allowed", action);
          assert.notEqual(
            await r(action, `${REPLICA_ARN}/incoming/upload-1`),
            "Allowed",
            `${action} incoming/`,
          );
          assert.notEqual(
            await r(action, `${ORIGIN_ARN}/payloads/3f1c`),
            "Allowed",
            `${action} onto the origin`,
          );
          assert.notEqual(
            await r(action, `arn:aws:s3:::another-bucket-${ACCOUNT_A}/payloads/3f1c`),
            "Allowed",
            `${action} another bucket`,
          );
        }
        // Delete markers do not replicate, and the role never writes or reads as a client.
        for (const [action, arn] of [
          ["s3:ReplicateDelete", `${REPLICA_ARN}/payloads/3f1c`],
          ["s3:PutObject", `${REPLICA_ARN}/payloads/3f1c`],
          ["s3:GetObject", `${ORIGIN_ARN}/payloads/3f1c`],
          ["s3:DeleteObject", `${ORIGIN_ARN}/payloads/3f1c`],
          ["s3:GetReplicationConfiguration", REPLICA_ARN],
          ["s3:PutReplicationConfiguration", ORIGIN_ARN],
        ]) {
          assert.notEqual(await r(action, arn), "Allowed", `${action} ${arn}`);
        }
      }
    });

    it("only the replication role writes the replica: A's administrators are explicitly denied", async () => {
      for (const action of [
        "s3:PutObject",
        "s3:PutObjectTagging",
        "s3:ReplicateObject",
        "s3:ReplicateDelete",
      ]) {
        assert.equal(
          await s3(ADMIN_A, [ALL], action, `${REPLICA_ARN}/payloads/3f1c`),
          "ExplicitlyDenied",
          action,
        );
      }
      assert.equal(
        await s3(REPLICATION_ROLE, [role], "s3:ReplicateObject", `${REPLICA_ARN}/payloads/3f1c`, {
          "aws:SecureTransport": "false",
        }),
        "ExplicitlyDenied",
        "without TLS",
      );
    });

    it("subscriber b reads (and lists) the replica's payloads/ as it reads the origin's, and nothing else", async () => {
      const r = (action: string, arn: string, context?: Record<string, string>) =>
        s3(bRole, [bPolicy], action, arn, context);
      for (const bucket of [REPLICA_ARN, ORIGIN_ARN]) {
        assert.equal(await r("s3:GetObject", `${bucket}/payloads/3f1c`), "Allowed", bucket);
        assert.equal(await r("s3:GetObjectTagging", `${bucket}/payloads/3f1c`), "Allowed", bucket);
        assert.equal(await r("s3:ListBucket", bucket, { "s3:prefix": "payloads/3f1c" }), "Allowed", bucket);
        assert.notEqual(await r("s3:ListBucket", bucket, { "s3:prefix": "" }), "Allowed", bucket);
        assert.notEqual(await r("s3:GetObject", `${bucket}/incoming/upload-1`), "Allowed", bucket);
        assert.notEqual(await r("s3:PutObject", `${bucket}/payloads/3f1c`), "Allowed", bucket);
        assert.notEqual(await r("s3:DeleteObject", `${bucket}/payloads/3f1c`), "Allowed", bucket);
      }
      assert.notEqual(await r("s3:GetObject", `arn:aws:s3:::another-bucket/payloads/3f1c`), "Allowed");
      assert.equal(
        await r("s3:GetObject", `${REPLICA_ARN}/payloads/3f1c`, { "aws:SecureTransport": "false" }),
        "ExplicitlyDenied",
      );
      // Subscriber c (us-east-1, no replica) and other roles of B's account are not readers of it.
      const cRole = `arn:aws:iam::${ACCOUNT_C}:role/fieldnotes-c-consumer`;
      assert.notEqual(await s3(cRole, [ALL], "s3:GetObject", `${REPLICA_ARN}/payloads/3f1c`), "Allowed");
      const other = `arn:aws:iam::${ACCOUNT_B}:role/someone-else`;
      assert.notEqual(await s3(other, [ALL], "s3:GetObject", `${REPLICA_ARN}/payloads/3f1c`), "Allowed");
    });

    it("KMS: the replication role decrypts with the origin key and encrypts with the replica key, each through S3 in its Region", async () => {
      const originKey = resource(aKms, KEY, "publisher-payload-key");
      const replicaKey = resource(aKms, KEY, "replica-us-west-2-key");
      const kms = (
        principal: string,
        identity: Policy[],
        action: string,
        key: PlannedResource,
        region: string,
      ) =>
        simulate({
          principal,
          identity,
          action,
          resource: key.outputs.arn as string,
          resourceAccount: ACCOUNT_A,
          resourcePolicy: policyInput(key),
          context: { "kms:ViaService": `s3.${region}.amazonaws.com` },
        });
      assert.equal(await kms(REPLICATION_ROLE, [roleKms], "kms:Decrypt", originKey, "us-east-1"), "Allowed");
      assert.notEqual(
        await kms(REPLICATION_ROLE, [roleKms], "kms:Decrypt", originKey, "us-west-2"),
        "Allowed",
      );
      for (const action of ["kms:Encrypt", "kms:GenerateDataKey"]) {
        assert.equal(
          await kms(REPLICATION_ROLE, [roleKms], action, replicaKey, "us-west-2"),
          "Allowed",
          action,
        );
        assert.notEqual(
          await kms(REPLICATION_ROLE, [roleKms], action, replicaKey, "us-east-1"),
          "Allowed",
          action,
        );
        assert.notEqual(
          await kms(REPLICATION_ROLE, [roleKms], action, originKey, "us-east-1"),
          "Allowed",
          action,
        );
      }
      assert.notEqual(
        await kms(REPLICATION_ROLE, [roleKms], "kms:Decrypt", replicaKey, "us-west-2"),
        "Allowed",
      );
      // B decrypts replicas through S3 in us-west-2 only; another role of A with kms:* may not use the key
      // for S3 unless the key policy names it (the account administers it, which IAM then grants).
      const bKmsPolicy = policyInput(resource(bKms, ROLE_POLICY, "subscriber-b-consumer-policy"));
      assert.equal(await kms(bRole, [bKmsPolicy], "kms:Decrypt", replicaKey, "us-west-2"), "Allowed");
      assert.notEqual(await kms(bRole, [bKmsPolicy], "kms:Decrypt", replicaKey, "us-east-1"), "Allowed");
      assert.notEqual(await kms(bRole, [bKmsPolicy], "kms:Encrypt", replicaKey, "us-west-2"), "Allowed");
      const cRole = `arn:aws:iam::${ACCOUNT_C}:role/fieldnotes-c-consumer`;
      assert.notEqual(await kms(cRole, [ALL], "kms:Decrypt", replicaKey, "us-west-2"), "Allowed");
      assert.notEqual(
        await kms(
          `arn:aws:iam::${ACCOUNT_B}:role/someone-else`,
          [ALL],
          "kms:Decrypt",
          replicaKey,
          "us-west-2",
        ),
        "Allowed",
      );
    });
  });

  it("names: the replication role is the publisher's, derived like every other name", () => {
    const topology = parseTopology(JSON.parse(a.config["fieldnotes:topology"]));
    assert.equal(publisherNames(topology).replicationRoleArn, REPLICATION_ROLE);
  });
});
