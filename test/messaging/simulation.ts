import { runSimulation } from "@cloud-copilot/iam-simulate";

// One way to ask @cloud-copilot/iam-simulate how AWS would decide a request, shared by the specs that
// simulate the program's policies. It records every policy it was given, so policy-coverage.spec.ts
// can find emitted policies that no test simulated.

export type Policy = { Statement: Record<string, unknown>[] };
export type Result = "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied";

/** Every action on every resource: an administrator of the account. */
export const ADMIN: Policy = { Statement: [{ Effect: "Allow", Action: "*", Resource: "*" }] };
/** An identity policy granting `action` (e.g. "s3:*") on every resource. */
export const ALL = (action: string): Policy => ({
  Statement: [{ Effect: "Allow", Action: action, Resource: "*" }],
});

/** Every policy document handed to the simulator in this process. */
export const simulatedPolicies: Policy[] = [];

/**
 * Simulates one request. Global keys are not filled in by the simulator: aws:SecureTransport
 * defaults to "true", and for an IAM principal aws:PrincipalArn and aws:PrincipalAccount are set.
 */
export async function simulate(req: {
  principal: string;
  action: string;
  resource: string;
  resourceAccount: string;
  identity: Policy[];
  resourcePolicy?: Policy;
  context?: Record<string, string | string[]>;
}): Promise<Result> {
  simulatedPolicies.push(...req.identity, ...(req.resourcePolicy ? [req.resourcePolicy] : []));
  const account = req.principal.startsWith("arn:") ? req.principal.split(":")[4] : undefined;
  const context: Record<string, string | string[]> = { "aws:SecureTransport": "true", ...req.context };
  if (account)
    Object.assign(context, {
      "aws:PrincipalArn": req.principal,
      "aws:PrincipalAccount": account,
      ...req.context,
    });
  const result = await runSimulation(
    {
      request: {
        principal: req.principal,
        action: req.action,
        resource: { resource: req.resource, accountId: req.resourceAccount },
        contextVariables: context,
      },
      identityPolicies: req.identity.map((policy, i) => ({
        name: `identity-${i}`,
        policy: { Version: "2012-10-17", ...policy },
      })),
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy: req.resourcePolicy ? { Version: "2012-10-17", ...req.resourcePolicy } : undefined,
    },
    {},
  );
  if (result.resultType === "error")
    throw new Error(`simulation refused the input: ${JSON.stringify(result.errors)}`);
  // A "*" resource (actions IAM does not scope to a resource) comes back as a wildcard result.
  if (result.resultType !== "single" && !(result.resultType === "wildcard" && req.resource === "*"))
    throw new Error(`unexpected simulation result ${result.resultType}`);
  return result.overallResult as Result;
}
