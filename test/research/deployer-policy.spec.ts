import { strict as assert } from "assert";
import { runSimulation } from "@cloud-copilot/iam-simulate";
import * as fs from "fs";
import * as path from "path";
import { Plan, planStack } from "../../local/plan";
import { loadStackConfig } from "../../local/stack-config";
import { PROVIDER_ACTIONS, PROVIDER_INVOKE_ACTIONS } from "../../research/iam/provider-actions";
import { researchNames } from "../../research/names";

// research/iam/deployer-policy.json, simulated for every action the provider calls over each planned
// resource's life (research/iam/provider-actions.ts), in the account and Region the policy is filled for.

const ACCOUNT = "444444444444";
const REGION = "us-east-1";
const IAM_DIR = path.join(__dirname, "..", "..", "research", "iam");
// Two managed policies: the isolated network's EC2 rights would push one past IAM's limit.
const POLICY_FILES = ["deployer-policy.json", "deployer-network-policy.json"].map((f) =>
  path.join(IAM_DIR, f),
);
/** IAM quotas: a customer managed policy holds at most 6,144 characters, whitespace not counted. */
const MANAGED_POLICY_MAX = 6144;
const DEPLOYER = `arn:aws:iam::${ACCOUNT}:role/research-deployer`;

function deployerPolicies() {
  // The documents say REGION and ACCOUNT_ID where the deployer fills in its own (docs/research.md).
  return POLICY_FILES.map((file) =>
    JSON.parse(
      fs
        .readFileSync(file, "utf8")
        .replace(/REGION/g, REGION)
        .replace(/ACCOUNT_ID/g, ACCOUNT),
    ),
  );
}

async function allowed(action: string, resource: string, context: Record<string, string> = {}) {
  const result = await runSimulation(
    {
      request: {
        principal: DEPLOYER,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: { "aws:PrincipalArn": DEPLOYER, "aws:PrincipalAccount": ACCOUNT, ...context },
      },
      identityPolicies: deployerPolicies().map((policy, i) => ({ name: `deployer-${i}`, policy })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  // Actions that take no resource (ecr:GetAuthorizationToken, the list calls) must be asked on "*".
  if (result.resultType === "error" && result.errors.message === "must.use.wildcard" && resource !== "*") {
    return allowed(action, "*", context);
  }
  if (result.resultType === "single" || result.resultType === "wildcard") return result.overallResult;
  return `not simulated (${JSON.stringify(result.errors)})`;
}

describe("research deployer policy vs what the provider calls", function () {
  this.timeout(120_000);
  const names = researchNames("fieldnotes-research", ACCOUNT, REGION);
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/${names.executionRole}`;
  let plans: Plan[];
  before(async () => {
    const base = JSON.parse(loadStackConfig("research").config["fieldnotes:research"]);
    plans = await Promise.all([
      planStack("research"),
      planStack("research", {
        config: { "fieldnotes:research": JSON.stringify({ ...base, network: { mode: "vpcOnly" } }) },
      }),
      planStack("research", {
        config: {
          "fieldnotes:research": JSON.stringify({ ...base, network: { mode: "vpcOnly", natGateways: 2 } }),
        },
      }),
    ]);
    for (const plan of plans) if (plan.error) throw new Error(plan.error.message);
  });

  it("has a row for every resource type the research plan registers, with and without the isolated network", () => {
    const types = new Set(
      plans.flatMap((plan) =>
        plan.resources.filter((r) => r.custom && !r.type.startsWith("pulumi:")).map((r) => r.type),
      ),
    );
    const missing = [...types].filter((t) => !(t in PROVIDER_ACTIONS));
    assert.deepEqual(
      missing,
      [],
      "every planned type needs its provider actions in research/iam/provider-actions.ts",
    );
  });

  /** The ARN an action is checked on: the row's resource for its own service, the role for PassRole. */
  function resourceFor(template: string, action: string): [string, Record<string, string>] {
    if (action === "iam:PassRole") return [roleArn, { "iam:PassedToService": "sagemaker.amazonaws.com" }];
    const service = action.split(":")[0];
    const arnService = template.split(":")[2];
    if (template === "*" || service !== arnService) return ["*", {}];
    const name =
      { iam: names.executionRole, ecr: names.repository, s3: names.bucket }[service] ?? names.jupyterLabImage;
    return [
      template
        .replace("REGION", REGION)
        .replace("ACCOUNT_ID", ACCOUNT)
        .replace("DOMAIN", "d-0123456789ab")
        .replace("NAME", name),
      {},
    ];
  }

  for (const [table, rows] of [
    ["resource", PROVIDER_ACTIONS],
    ["lookup", PROVIDER_INVOKE_ACTIONS],
  ] as const) {
    for (const [type, row] of Object.entries(rows)) {
      it(`allows what the provider calls for ${table} ${type}`, async () => {
        const refused: string[] = [];
        for (const action of row.actions) {
          const [resource, context] = resourceFor(row.actionResources?.[action] ?? row.resource, action);
          const result = await allowed(action, resource, context);
          if (result !== "Allowed") refused.push(`${action} on ${resource}: ${result}`);
        }
        assert.deepEqual(refused, [], `${type} (${row.source})`);
      });
    }
  }

  it("keeps each managed policy within IAM's 6,144-character limit", () => {
    for (const file of POLICY_FILES) {
      const size = fs.readFileSync(file, "utf8").replace(/\s/g, "").length;
      assert.ok(size <= MANAGED_POLICY_MAX, `${path.basename(file)}: ${size} characters without whitespace`);
    }
  });

  it("refuses what no research resource needs (the simulation can say no)", async () => {
    assert.notEqual(
      await allowed(
        "sagemaker:CreateImageVersion",
        `arn:aws:sagemaker:us-west-2:${ACCOUNT}:image-version/x/1`,
      ),
      "Allowed",
    );
    assert.notEqual(
      await allowed("iam:PassRole", `arn:aws:iam::${ACCOUNT}:role/admin`, {
        "iam:PassedToService": "sagemaker.amazonaws.com",
      }),
      "Allowed",
    );
    assert.notEqual(await allowed("s3:GetObject", "arn:aws:s3:::someone-elses-bucket/x"), "Allowed");
  });
});
