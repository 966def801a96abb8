import { strict as assert } from "assert";
import { Plan } from "../../local/plan";
import { messagingPlans, ofType, policyInput } from "./plans";
import { Policy, simulatedPolicies } from "./simulation";
// The specs that simulate policies, loaded first so that their tests run before this one, whether
// this file runs alone or in the whole suite (mocha loads each file once).
import "./operations.spec";
import "./policy-simulation.spec";
import "./replicas.spec";

// Every policy the messaging stacks emit must have been simulated by some test: a new policy (or a
// new statement in one) that nobody simulated fails here, naming the resource.

/** Where each resource type that carries a policy document keeps it. */
const POLICY_FIELDS: Record<string, string> = {
  "aws:iam/role:Role": "assumeRolePolicy",
  "aws:iam/rolePolicy:RolePolicy": "policy",
  "aws:sns/topicPolicy:TopicPolicy": "policy",
  "aws:sqs/queuePolicy:QueuePolicy": "policy",
  "aws:s3/bucketPolicy:BucketPolicy": "policy",
  "aws:kms/key:Key": "policy",
  "aws:cloudwatch/eventBusPolicy:EventBusPolicy": "policy",
};

/**
 * A policy's shape: per statement its Sid, effect, actions, principal kinds and condition keys,
 * without the names and ARNs. Two stacks' policies from the same builder and options (differing
 * only in accounts, Regions and names) have one shape, so simulating one covers the other.
 */
function shape(policy: Policy): string {
  const list = (v: unknown) => (Array.isArray(v) ? [...v].sort() : v === undefined ? [] : [v]);
  return JSON.stringify(
    policy.Statement.map((st) => ({
      sid: st.Sid,
      effect: st.Effect,
      actions: list(st.Action),
      principal:
        typeof st.Principal === "object" && st.Principal !== null
          ? Object.keys(st.Principal).sort()
          : st.Principal,
      conditions: Object.entries((st.Condition ?? {}) as Record<string, Record<string, unknown>>)
        .map(([op, keys]) => `${op}:${Object.keys(keys).sort().join(",")}`)
        .sort(),
    })),
  );
}

describe("policy simulation coverage", function () {
  this.timeout(120_000);
  let plans: Plan[];

  before(async () => {
    plans = Object.values(await messagingPlans());
  });

  it("every policy the messaging stacks emit was simulated at least once", () => {
    const covered = new Set(simulatedPolicies.map(shape));
    const missing: string[] = [];
    let count = 0;
    for (const plan of plans) {
      for (const [type, field] of Object.entries(POLICY_FIELDS)) {
        for (const r of ofType(plan, type)) {
          count++;
          if (!covered.has(shape(policyInput(r, field)))) missing.push(`${plan.stack}: ${type} ${r.name}`);
        }
      }
    }
    assert.ok(count > 40, `found only ${count} policies`);
    assert.deepEqual([...new Set(missing)], [], "emitted policies that no test simulated");
  });
});
