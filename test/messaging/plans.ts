// Plans of the real program, shared by the messaging specs: each (stack, overrides) is planned once
// per mocha process, in a child process, by local/plan.ts.
import { Plan, PlannedResource, PlanOptions, planStack } from "../../local/plan";

const cache = new Map<string, Promise<Plan>>();

export function planOf(stack: string, config?: PlanOptions["config"]): Promise<Plan> {
  const key = JSON.stringify([stack, config ?? {}]);
  let plan = cache.get(key);
  if (!plan) {
    plan = planStack(stack, { config });
    cache.set(key, plan);
  }
  return plan;
}

/** Runs `jobs` at most `limit` at a time (each plan is a child process; the CI box has 2 cores). */
export async function limited<T>(limit: number, jobs: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const i = next++;
      results[i] = await jobs[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/** The one resource of `type` whose logical name is `name`; fails loudly when absent. */
export function resource(plan: Plan, type: string, name: string): PlannedResource {
  const found = plan.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) {
    const names = plan.resources.filter((r) => r.type === type).map((r) => r.name);
    throw new Error(
      `stack ${plan.stack}: expected one ${type} named ${name}, found ${found.length} (have: ${names.join(", ")})`,
    );
  }
  return found[0];
}

export function ofType(plan: Plan, type: string): PlannedResource[] {
  return plan.resources.filter((r) => r.type === type);
}

/** A policy input as registered: a JSON string under mocks, parsed. */
export function policyInput(r: PlannedResource, field = "policy"): { Statement: Record<string, unknown>[] } {
  const value = r.inputs[field];
  if (typeof value !== "string")
    throw new Error(`${r.type} ${r.name}: input ${field} is not a JSON string: ${JSON.stringify(value)}`);
  return JSON.parse(value);
}

export function assertNoError(plan: Plan): Plan {
  if (plan.error) throw new Error(`stack ${plan.stack} failed under mocks: ${plan.error.message}`);
  return plan;
}

export const ACCOUNT_A = "111111111111";
export const ACCOUNT_B = "222222222222";
export const ACCOUNT_C = "333333333333";
export const SANDBOX = "123456789012";

/** Config override: the project topology with one change applied (e.g. offload.kms = true). */
export interface EditableTopology {
  publisher: Record<string, unknown>;
  subscribers: Record<string, unknown>[];
  offload: Record<string, unknown>;
  [key: string]: unknown;
}

export async function topologyOverride(
  change: (topology: EditableTopology) => void,
): Promise<Record<string, string>> {
  const base = (await planOf("a-use1")).config["fieldnotes:topology"];
  const topology = JSON.parse(base);
  change(topology);
  return { "fieldnotes:topology": JSON.stringify(topology) };
}

export const withKms = () =>
  topologyOverride((t) => {
    t.offload.kms = true;
  });

/**
 * The plans a check over every messaging stack reads: A, B and C, A and B with SSE-KMS payloads,
 * and the one-account dev stack (at most two planning at a time).
 */
export async function messagingPlans(): Promise<{
  a: Plan;
  b: Plan;
  c: Plan;
  aKms: Plan;
  bKms: Plan;
  dev: Plan;
}> {
  const kms = await withKms();
  const [a, b, c, aKms, bKms, dev] = (
    await limited(2, [
      () => planOf("a-use1"),
      () => planOf("b-usw2"),
      () => planOf("c-use1"),
      () => planOf("a-use1", kms),
      () => planOf("b-usw2", kms),
      () => planOf("dev"),
    ])
  ).map(assertNoError);
  return { a, b, c, aKms, bKms, dev };
}
