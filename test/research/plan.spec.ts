/* eslint-disable @typescript-eslint/no-explicit-any -- plan inputs are untyped JSON, read field by field as a reviewer would */
import { strict as assert } from "assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import { Plan, PlannedResource, planStack } from "../../local/plan";
import { identityStoreOf } from "../../research/identity";

// The research stack's plan: the real program (index.ts, Pulumi.research.yaml) under the mock
// engine, read back the way a reviewer reads a plan.

const ACCOUNT = "444444444444";
const REGION = "us-east-1";
const DIGEST = /@sha256:[0-9a-f]{64}$/;
const PUSHED = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/prebuilt/pegasus@sha256:${"b".repeat(64)}`;

type Policy = { Version?: string; Statement: Record<string, unknown>[] };

function researchConfig(plan: Plan): Record<string, unknown> {
  return JSON.parse(plan.config["fieldnotes:research"]);
}

async function planResearch(extra: Record<string, unknown> = {}): Promise<Plan> {
  const base = (await baseConfig)["fieldnotes:research"];
  const research = JSON.stringify({ ...JSON.parse(base), ...extra });
  return planStack("research", { config: { "fieldnotes:research": research } });
}
const baseConfig = import("../../local/stack-config").then((m) => m.loadStackConfig("research").config);

function ofType(plan: Plan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}
function one(plan: Plan, type: string): PlannedResource {
  const found = ofType(plan, type);
  assert.equal(
    found.length,
    1,
    `expected one ${type}, found ${found.map((r) => r.name).join(", ") || "none"}`,
  );
  return found[0];
}
function ok(plan: Plan): Plan {
  if (plan.error) throw new Error(`research stack failed under mocks: ${plan.error.message}`);
  return plan;
}

async function simulate(
  action: string,
  resource: string,
  identityPolicies: Policy[],
  resourcePolicy?: Policy,
  tls = true,
) {
  const principal = `arn:aws:iam::${ACCOUNT}:role/fieldnotes-research-studio-execution`;
  const result = await runSimulation(
    {
      request: {
        principal,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: {
          "aws:SecureTransport": tls ? "true" : "false",
          "aws:PrincipalArn": principal,
          "aws:PrincipalAccount": ACCOUNT,
        },
      },
      identityPolicies: identityPolicies.map((policy, i) => ({ name: `execution-${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
    },
    {},
  );
  if (result.resultType !== "single")
    throw new Error(`unexpected simulation result: ${JSON.stringify(result)}`);
  return result.overallResult;
}

describe("research stack plan (mock engine)", function () {
  this.timeout(120_000);
  let plan: Plan, explicitVpc: Plan, prebuilt: Plan, publisher: Plan, badConfig: Plan, noSso: Plan;

  before(async () => {
    [plan, explicitVpc, prebuilt, publisher, badConfig, noSso] = await Promise.all([
      planResearch().then(ok),
      planResearch({
        vpcId: "vpc-0123456789abcdef0",
        subnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
      }).then(ok),
      planResearch({ imageUri: PUSHED }).then(ok),
      // The messaging publisher's stack, for its payload bucket (planned once per process, shared).
      planStack("a-use1").then(ok),
      planResearch({
        users: [{ userName: "ada", givenName: "Ada", familyName: "L", email: "ada@", group: "researchers" }],
      }),
      // An account without an Identity Center instance (shared with test/local/plan.spec.ts).
      planStack("research", { mocks: { ssoInstances: 0 } }),
    ]);
  });

  it("puts every research resource in the research account and Region", () => {
    const aws = plan.resources.filter((r) => r.custom && r.type.startsWith("aws:"));
    assert.ok(aws.length > 20);
    for (const r of aws)
      assert.deepEqual([r.name, r.provider?.account, r.provider?.region], [r.name, ACCOUNT, REGION]);
  });

  it("creates an SSO-mode domain with the web portal on and a destroyable home EFS", () => {
    const domain = one(plan, "aws:sagemaker/domain:Domain").inputs as Record<string, any>;
    assert.equal(domain.authMode, "SSO");
    assert.equal(domain.defaultUserSettings.studioWebPortal, "ENABLED");
    assert.deepEqual(domain.retentionPolicy, { homeEfsFileSystem: "Delete" });
    assert.match(domain.vpcId, /^vpc-/, "default VPC looked up");
    assert.equal(domain.subnetIds.length, 2);
    const explicit = one(explicitVpc, "aws:sagemaker/domain:Domain").inputs as Record<string, any>;
    assert.equal(explicit.vpcId, "vpc-0123456789abcdef0");
    assert.deepEqual(explicit.subnetIds, ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]);
  });

  it("creates the users and groups from config, each user in its group", () => {
    const config = researchConfig(plan) as {
      users: { userName: string; email: string; group: string }[];
      groups: string[];
    };
    const users = ofType(plan, "aws:identitystore/user:User");
    assert.deepEqual(users.map((u) => u.inputs.userName).sort(), config.users.map((u) => u.userName).sort());
    const groups = ofType(plan, "aws:identitystore/group:Group");
    assert.deepEqual(groups.map((g) => g.inputs.displayName).sort(), [...config.groups].sort());
    for (const user of config.users) {
      const created = users.find((u) => u.inputs.userName === user.userName)!;
      assert.deepEqual(created.inputs.emails, { value: user.email, primary: true, type: "work" });
      const membership = ofType(plan, "aws:identitystore/groupMembership:GroupMembership").find(
        (m) => m.inputs.memberId === created.outputs.userId,
      );
      const group = groups.find((g) => g.inputs.displayName === user.group)!;
      assert.equal(
        membership?.inputs.groupId,
        group.outputs.groupId,
        `${user.userName} belongs to ${user.group}`,
      );
    }
  });

  it("assigns every group to the domain's Identity Center application", () => {
    const domain = one(plan, "aws:sagemaker/domain:Domain");
    const assignments = ofType(plan, "aws:ssoadmin/applicationAssignment:ApplicationAssignment");
    const groups = ofType(plan, "aws:identitystore/group:Group");
    assert.equal(assignments.length, groups.length);
    for (const group of groups) {
      const a = assignments.find((x) => x.inputs.principalId === group.outputs.groupId);
      assert.ok(a, `group ${group.inputs.displayName} is assigned`);
      assert.equal(a.inputs.principalType, "GROUP");
      assert.equal(a.inputs.applicationArn, domain.outputs.singleSignOnApplicationArn);
    }
  });

  it("creates one user profile per researcher, matched by Identity Center user name", () => {
    const domain = one(plan, "aws:sagemaker/domain:Domain");
    const profiles = ofType(plan, "aws:sagemaker/userProfile:UserProfile");
    const users = (researchConfig(plan).users as { userName: string }[]).map((u) => u.userName);
    assert.deepEqual(profiles.map((p) => p.inputs.singleSignOnUserValue).sort(), [...users].sort());
    for (const p of profiles) {
      assert.equal(p.inputs.singleSignOnUserIdentifier, "UserName");
      assert.equal(p.inputs.domainId, domain.outputs.id);
      assert.match(p.inputs.userProfileName as string, /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/);
    }
  });

  it("creates each user profile only after its user, its group membership and its group's assignment", () => {
    // AWS: the user, or a group holding it, must be assigned to the domain's application first.
    const config = researchConfig(plan) as { users: { userName: string; group: string }[] };
    const users = ofType(plan, "aws:identitystore/user:User");
    const groups = ofType(plan, "aws:identitystore/group:Group");
    const memberships = ofType(plan, "aws:identitystore/groupMembership:GroupMembership");
    const assignments = ofType(plan, "aws:ssoadmin/applicationAssignment:ApplicationAssignment");
    for (const user of config.users) {
      const profile = ofType(plan, "aws:sagemaker/userProfile:UserProfile").find(
        (p) => p.inputs.singleSignOnUserValue === user.userName,
      )!;
      const created = users.find((u) => u.inputs.userName === user.userName)!;
      const group = groups.find((g) => g.inputs.displayName === user.group)!;
      const membership = memberships.find((m) => m.inputs.memberId === created.outputs.userId)!;
      const assignment = assignments.find((a) => a.inputs.principalId === group.outputs.groupId)!;
      for (const [what, urn] of [
        ["user", created.urn],
        ["membership", membership.urn],
        ["group assignment", assignment.urn],
      ]) {
        assert.ok(profile.dependencies?.includes(urn), `${user.userName}'s profile waits for its ${what}`);
      }
    }
  });

  it("attaches the JupyterLab image to the domain with the JupyterLab contract", () => {
    const settings = one(plan, "aws:sagemaker/domain:Domain").inputs.defaultUserSettings as Record<
      string,
      any
    >;
    const config = one(plan, "aws:sagemaker/appImageConfig:AppImageConfig").inputs as Record<string, any>;
    const image = one(plan, "aws:sagemaker/image:Image").inputs;
    assert.deepEqual(settings.jupyterLabAppSettings.customImages, [
      { imageName: image.imageName, appImageConfigName: config.appImageConfigName },
    ]);
    // A new domain cannot create Studio Classic (KernelGateway) apps: nothing is attached there.
    assert.equal(settings.kernelGatewayAppSettings, undefined);
    assert.equal(config.kernelGatewayImageConfig, undefined);
    const lab = config.jupyterLabImageConfig;
    // CreateAppImageConfig refuses FileSystemConfig inside JupyterLabAppImageConfig (400).
    assert.deepEqual(Object.keys(lab), ["containerConfig"]);
    for (const flag of [
      "--ServerApp.port=8888",
      "--ServerApp.base_url=/jupyterlab/default",
      "--ServerApp.token=",
      "--ServerApp.ip=0.0.0.0",
      "--ServerApp.allow_origin=*",
    ]) {
      assert.ok(lab.containerConfig.containerArguments.includes(flag), flag);
    }
    assert.equal(image.roleArn, one(plan, "aws:iam/role:Role").outputs.arn);
  });

  it("builds for linux/amd64, pushes to a scanned repository and pins the ImageVersion by digest", () => {
    const repo = one(plan, "aws:ecr/repository:Repository").inputs as Record<string, any>;
    assert.deepEqual(repo.imageScanningConfiguration, { scanOnPush: true });
    assert.equal(repo.forceDelete, true);
    const lifecycle = JSON.parse(
      one(plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs.policy as string,
    );
    assert.equal(lifecycle.rules[0].selection.tagStatus, "untagged");
    const builds = ofType(plan, "docker:index/image:Image");
    assert.deepEqual(builds.map((b) => (b.inputs.build as any).target).sort(), ["jupyterlab", "processing"]);
    for (const b of builds) assert.equal((b.inputs.build as any).platform, "linux/amd64");
    const jupyterlab = builds.find((b) => (b.inputs.build as any).target === "jupyterlab")!;
    const version = one(plan, "aws:sagemaker/imageVersion:ImageVersion");
    assert.match(version.inputs.baseImage as string, DIGEST);
    assert.equal(version.inputs.baseImage, jupyterlab.outputs.repoDigest, "the pushed digest, not a tag");
  });

  it("builds nothing with imageUri and uses that digest", () => {
    assert.equal(ofType(prebuilt, "docker:index/image:Image").length, 0);
    assert.equal(ofType(prebuilt, "aws:ecr/repository:Repository").length, 0);
    assert.equal(one(prebuilt, "aws:sagemaker/imageVersion:ImageVersion").inputs.baseImage, PUSHED);
    const step = JSON.parse(
      one(prebuilt, "aws:sagemaker/pipeline:Pipeline").inputs.pipelineDefinition as string,
    ).Steps[0];
    assert.equal(step.Arguments.AppSpecification.ImageUri, PUSHED);
  });

  it("defines a pipeline whose one Processing step runs the uploaded script on the image with the role", () => {
    const pipeline = one(plan, "aws:sagemaker/pipeline:Pipeline").inputs as Record<string, any>;
    const definition = JSON.parse(pipeline.pipelineDefinition);
    assert.equal(definition.Version, "2020-12-01");
    assert.deepEqual(
      definition.Parameters.slice(0, 2).map((p: any) => p.Name),
      ["InputS3Uri", "OutputS3Uri"],
    );
    assert.equal(definition.Steps.length, 1);
    const [step] = definition.Steps;
    assert.equal(step.Type, "Processing");
    const args = step.Arguments;
    const role = one(plan, "aws:iam/role:Role").outputs.arn;
    const processing = ofType(plan, "docker:index/image:Image").find(
      (b) => (b.inputs.build as any).target === "processing",
    )!;
    assert.equal(args.RoleArn, role);
    assert.equal(pipeline.roleArn, role);
    assert.equal(args.AppSpecification.ImageUri, processing.outputs.repoDigest);
    assert.deepEqual(args.AppSpecification.ContainerEntrypoint.slice(-1), [
      "/opt/ml/processing/input/code/qc_metrics.py",
    ]);
    const script = one(plan, "aws:s3/bucketObjectv2:BucketObjectv2").inputs;
    const code = args.ProcessingInputs.find((i: any) => i.InputName === "code").S3Input;
    assert.equal(code.S3Uri, `s3://${script.bucket}/${script.key}`);
    assert.equal(code.LocalPath, "/opt/ml/processing/input/code");
    const data = args.ProcessingInputs.find((i: any) => i.InputName === "data").S3Input;
    assert.deepEqual(data.S3Uri, { Get: "Parameters.InputS3Uri" });
    assert.deepEqual(args.ProcessingOutputConfig.Outputs[0].S3Output.S3Uri, {
      Get: "Parameters.OutputS3Uri",
    });
    // Every QC threshold reaches the script as an explicit flag.
    const argv = args.AppSpecification.ContainerArguments;
    for (const flag of [
      "--min-genes",
      "--max-genes",
      "--min-umis",
      "--max-umis",
      "--mito-prefix",
      "--percent-mito",
    ]) {
      assert.ok(argv.includes(flag), flag);
    }
    const defaults = Object.fromEntries(definition.Parameters.map((p: any) => [p.Name, p.DefaultValue]));
    assert.deepEqual([defaults.MitoPrefix, defaults.PercentMito, defaults.MaxUmis], ["MT-", "10", "none"]);
  });

  it("keeps the research bucket private, encrypted and TLS-only", () => {
    const pab = one(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs;
    assert.deepEqual(
      [pab.blockPublicAcls, pab.blockPublicPolicy, pab.ignorePublicAcls, pab.restrictPublicBuckets],
      [true, true, true, true],
    );
    const sse = one(
      plan,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    ).inputs as any;
    assert.equal(sse.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm, "AES256");
    // An S3 Bucket Key only applies to SSE-KMS.
    assert.equal(sse.rules[0].bucketKeyEnabled, undefined);
  });

  it("writes the research bucket's public access block, ownership controls and policy one after the other", () => {
    // S3 answers concurrent access-setting changes on one bucket with OperationAborted (409).
    const pab = one(plan, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").urn;
    const ownership = one(plan, "aws:s3/bucketOwnershipControls:BucketOwnershipControls");
    const policy = one(plan, "aws:s3/bucketPolicy:BucketPolicy");
    assert.ok(ownership.dependencies?.includes(pab), "ownership controls wait for the public access block");
    assert.ok(policy.dependencies?.includes(pab), "the policy waits for the public access block");
    assert.ok(policy.dependencies?.includes(ownership.urn), "the policy waits for the ownership controls");
  });

  it("exports everything the qc command and the notebook read", () => {
    const out = plan.outputs.research as Record<string, string>;
    for (const key of [
      "domainId",
      "domainUrl",
      "imageUri",
      "processingImageUri",
      "pipelineName",
      "bucket",
      "executionRoleArn",
      "region",
      "outputPrefix",
    ]) {
      assert.ok(typeof out[key] === "string" && out[key] !== "", `output research.${key}`);
    }
    assert.match(out.imageUri, DIGEST);
    assert.equal(out.domainUrl, one(plan, "aws:sagemaker/domain:Domain").outputs.url);
  });

  it("stops on a config error before registering anything, naming the key and the value", () => {
    assert.ok(badConfig.error, "the plan must fail");
    assert.equal(
      badConfig.error.message,
      'Invalid config fieldnotes:research.users[0].email: "ada@" is not an email address (name@domain.tld)',
    );
    assert.equal(badConfig.error.resourcesBefore, 0);
  });

  it("writes users and groups into the Identity Store of the looked-up Identity Center instance", () => {
    const stores = new Set(
      [...ofType(plan, "aws:identitystore/user:User"), ...ofType(plan, "aws:identitystore/group:Group")].map(
        (r) => r.inputs.identityStoreId,
      ),
    );
    assert.equal(stores.size, 1);
    assert.match(
      [...stores][0] as string,
      /^d-[0-9a-f]{10}$/,
      "the store id answered by ssoadmin.getInstances",
    );
  });

  it("fails with a clear message when the account has no Identity Center instance", () => {
    // The program, planned against an account with none: the lookup's apply throws, and the plan
    // carries its message, with no user or group registered.
    assert.ok(noSso.error, "the plan must fail");
    assert.match(
      noSso.error.message,
      /^No IAM Identity Center instance is enabled in account 444444444444, Region us-east-1\. Enable Identity Center/,
    );
    assert.equal(ofType(noSso, "aws:identitystore/user:User").length, 0);
    assert.equal(ofType(noSso, "aws:identitystore/group:Group").length, 0);
    // The function the program calls with the lookup's result, both ways.
    assert.throws(
      () => identityStoreOf({ arns: [], identityStoreIds: [] }, ACCOUNT, REGION),
      /No IAM Identity Center instance is enabled in account 444444444444, Region us-east-1\. Enable Identity Center/,
    );
    assert.equal(
      identityStoreOf(
        { arns: ["arn:aws:sso:::instance/ssoins-1"], identityStoreIds: ["d-1"] },
        ACCOUNT,
        REGION,
      ),
      "d-1",
    );
  });

  describe("execution role, simulated with the policies the program emits", () => {
    let identity: Policy[];
    let bucketPolicy: Policy;
    let bucket: string;
    before(() => {
      identity = ofType(plan, "aws:iam/rolePolicy:RolePolicy").map((p) =>
        JSON.parse(p.inputs.policy as string),
      );
      assert.equal(identity.length, 2);
      bucketPolicy = JSON.parse(one(plan, "aws:s3/bucketPolicy:BucketPolicy").inputs.policy as string);
      bucket = one(plan, "aws:s3/bucket:Bucket").outputs.bucket as string;
    });

    it("may read and write the research bucket", async () => {
      for (const action of ["s3:GetObject", "s3:PutObject"]) {
        assert.equal(
          await simulate(action, `arn:aws:s3:::${bucket}/pegasus/input/heart.h5`, identity, bucketPolicy),
          "Allowed",
          action,
        );
      }
      assert.equal(
        await simulate("s3:ListBucket", `arn:aws:s3:::${bucket}`, identity, bucketPolicy),
        "Allowed",
      );
    });

    it("may not reach the research bucket without TLS", async () => {
      assert.equal(
        await simulate(
          "s3:GetObject",
          `arn:aws:s3:::${bucket}/pegasus/input/heart.h5`,
          identity,
          bucketPolicy,
          false,
        ),
        "ExplicitlyDenied",
      );
    });

    it("may not read or write the messaging payload bucket, even in the same account", async () => {
      const payloads = ofType(publisher, "aws:s3/bucket:Bucket").find((b) => /payloads/.test(b.name));
      assert.ok(payloads, "the publisher stack has a payload bucket");
      const object = `${payloads.outputs.arn}/payloads/0b7e0c1e-example`;
      // Same account, no resource policy: the identity policy alone decides.
      for (const action of ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"]) {
        assert.notEqual(await simulate(action, object, identity), "Allowed", action);
      }
      // As deployed: the payload bucket's own policy, in the publisher's account.
      const policy = ofType(publisher, "aws:s3/bucketPolicy:BucketPolicy").find((p) =>
        /payloads/.test(p.name),
      );
      assert.ok(policy);
      const result = await runSimulation(
        {
          request: {
            principal: one(plan, "aws:iam/role:Role").outputs.arn as string,
            action: "s3:GetObject",
            resource: { resource: object, accountId: payloads.provider!.account! },
            contextVariables: {
              "aws:SecureTransport": "true",
              "aws:PrincipalArn": one(plan, "aws:iam/role:Role").outputs.arn as string,
              "aws:PrincipalAccount": ACCOUNT,
            },
          },
          identityPolicies: identity.map((p, i) => ({ name: `execution-${i}`, policy: p })),
          serviceControlPolicies: [],
          resourceControlPolicies: [],
          resourcePolicy: JSON.parse(policy.inputs.policy as string),
        },
        {},
      );
      assert.equal(result.resultType, "single");
      if (result.resultType === "single") assert.notEqual(result.overallResult, "Allowed");
    });

    it("may not read other buckets, including SageMaker's default bucket", async () => {
      for (const resource of [`arn:aws:s3:::sagemaker-${REGION}-${ACCOUNT}/x`, "arn:aws:s3:::other/x"]) {
        assert.notEqual(await simulate("s3:GetObject", resource, identity), "Allowed", resource);
        assert.notEqual(await simulate("s3:PutObject", resource, identity), "Allowed", resource);
      }
    });

    it("may follow a processing job's logs, as the notebook's ScriptProcessor.run() does", async () => {
      const group = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/sagemaker/ProcessingJobs`;
      const stream = `${group}:log-stream:pegasus-qc-2026-01-01/algo-1-1767225600`;
      assert.equal(await simulate("logs:DescribeLogStreams", group, identity), "Allowed");
      assert.equal(await simulate("logs:GetLogEvents", stream, identity), "Allowed");
      assert.notEqual(
        await simulate(
          "logs:GetLogEvents",
          `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/lambda/x:log-stream:y`,
          identity,
        ),
        "Allowed",
      );
    });

    it("may pull only the research image repository", async () => {
      const repo = one(plan, "aws:ecr/repository:Repository").outputs.arn as string;
      assert.equal(await simulate("ecr:BatchGetImage", repo, identity), "Allowed");
      assert.notEqual(
        await simulate("ecr:BatchGetImage", `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/other`, identity),
        "Allowed",
      );
      assert.notEqual(await simulate("ecr:PutImage", repo, identity), "Allowed");
    });

    it("may pass only itself, and only to SageMaker", async () => {
      const role = one(plan, "aws:iam/role:Role").outputs.arn as string;
      assert.notEqual(
        await simulate("iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/admin`, identity),
        "Allowed",
      );
      const pass = identity.flatMap((p) => p.Statement).find((s) => s.Action === "iam:PassRole")!;
      assert.equal(pass.Resource, role);
      assert.deepEqual(pass.Condition, {
        StringEquals: { "iam:PassedToService": "sagemaker.amazonaws.com" },
      });
    });
  });
});
