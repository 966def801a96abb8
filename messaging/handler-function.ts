import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { Downstream, HandlerName, OperationsMetrics } from "./contract";
import { handlerBundle } from "./handlers/build";
import { PolicyDocument, serviceTrustPolicy, tracingStatement } from "./policies";

export interface HandlerFunctionArgs {
  /** Which bundle of messaging/handlers/ the function runs. */
  handler: HandlerName;
  /**
   * A subscriber's downstream: its bundle carries that downstream's SDK client only (build.ts), and
   * loads only with the same DOWNSTREAM. Absent for the publisher.
   * @default none (the publisher's bundle, no downstream client)
   */
  downstream?: Downstream;
  /** Physical names, derived from the topology (naming.ts). */
  functionName: string;
  roleName: string;
  logGroupName: string;
  /** The role's only permissions. */
  policy: pulumi.Input<PolicyDocument>;
  /** Exactly the variables of messaging/contract.ts the handler reads. */
  environment: pulumi.Input<Record<string, pulumi.Input<string>>>;
  timeoutSeconds: number;
  memoryMb: number;
  logRetentionDays: number;
  /** X-Ray active tracing (and the role's permission to send traces). */
  tracing: boolean;
  /** CloudWatch namespace of the handler's metrics: the topology's system name. */
  metricsNamespace: string;
}

/** Names Lambda rejects in a function's environment (docs/messaging.md, "AWS pitfalls"). */
export const RESERVED_ENV =
  /^(AWS_REGION|AWS_DEFAULT_REGION|AWS_EXECUTION_ENV|AWS_ACCESS_KEY|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_LAMBDA_.*|_HANDLER|_X_AMZN_TRACE_ID|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR)$/;

/**
 * One Lambda function running a handler bundle, with its own least-privilege role and a log
 * group created up front (with retention) so the role needs no logs:CreateLogGroup.
 *
 * @example
 * const names = subscriberNames(topology, sub);
 * const consumer = new HandlerFunction(
 *   "subscriber-b-consumer",
 *   {
 *     handler: "consume-queue",
 *     downstream: "stepfunctions",
 *     functionName: names.function,
 *     roleName: names.role,
 *     logGroupName: names.logGroup,
 *     policy: subscriberRolePolicy(pub, names, { kms: topology.offload.kms, downstream: "stepfunctions" }),
 *     environment: subscriberEnvironment(pub, sub, { stateMachineArn }, undefined, { rawMessageDelivery: true }),
 *     timeoutSeconds: 60,
 *     memoryMb: 512,
 *     logRetentionDays: 30,
 *     tracing: true,
 *     metricsNamespace: topology.system,
 *   },
 *   { parent: this },
 * );
 */
export class HandlerFunction extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly role: aws.iam.Role;
  readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: HandlerFunctionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:HandlerFunction", name, {}, opts);
    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: args.logGroupName, retentionInDays: args.logRetentionDays },
      { parent: this },
    );
    this.role = new aws.iam.Role(
      `${name}-role`,
      { name: args.roleName, assumeRolePolicy: JSON.stringify(serviceTrustPolicy("lambda.amazonaws.com")) },
      { parent: this },
    );
    const rolePolicy = new aws.iam.RolePolicy(
      `${name}-policy`,
      {
        role: this.role.name,
        policy: pulumi
          .output(args.policy)
          .apply((p) =>
            JSON.stringify(args.tracing ? { ...p, Statement: [...p.Statement, tracingStatement()] } : p),
          ),
      },
      { parent: this },
    );
    this.function = new aws.lambda.Function(
      name,
      {
        name: args.functionName,
        role: this.role.arn,
        runtime: "nodejs22.x",
        handler: "index.handler",
        code: new pulumi.asset.FileArchive(handlerBundle(args.handler, args.downstream)),
        architectures: ["arm64"],
        timeout: args.timeoutSeconds,
        memorySize: args.memoryMb,
        environment: {
          variables: pulumi.output(args.environment).apply((env) =>
            checkEnvironment(
              {
                ...env,
                // Read by Powertools: where the metrics go, and whether the Tracer (and the X-Ray SDK
                // it loads) is used at all.
                [OperationsMetrics.namespaceEnv]: args.metricsNamespace,
                [OperationsMetrics.traceEnabledEnv]: String(args.tracing),
              },
              args.functionName,
            ),
          ),
        },
        loggingConfig: { logFormat: "JSON", logGroup: this.logGroup.name },
        // Active: the function samples and sends traces itself; PassThrough only forwards a header.
        tracingConfig: { mode: args.tracing ? "Active" : "PassThrough" },
      },
      // The policy must exist before the first invocation can use it.
      { parent: this, dependsOn: [rolePolicy, this.logGroup] },
    );
    this.registerOutputs({ functionArn: this.function.arn, roleArn: this.role.arn });
  }
}

/**
 * Lambda caps a function's environment at 4 KB, names and values of all variables together
 * ("Lambda quotas", https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html);
 * CreateFunction/UpdateFunctionConfiguration refuse more.
 */
export const LAMBDA_ENV_MAX_BYTES = 4096;

/** Variables whose length follows a config key, so the error can say what to shorten. */
const ENV_SOURCES: Record<string, string> = {
  SOURCE_ALLOWLIST: "fieldnotes:topology.publisher.extraSources",
  ECS_SUBNET_IDS: "fieldnotes:ecsNetwork.<subscriber>.subnetIds",
  ECS_SECURITY_GROUP_IDS: "fieldnotes:ecsNetwork.<subscriber>.securityGroupIds",
};

/**
 * Lambda refuses reserved variable names and an environment over 4 KB only at deploy time; refuse
 * them here, under mocks too.
 */
export function checkEnvironment(
  env: Record<string, string>,
  functionName = "function",
): Record<string, string> {
  for (const key of Object.keys(env)) {
    if (RESERVED_ENV.test(key))
      throw new Error(
        `Lambda environment variable ${key} is reserved by Lambda and would be rejected at deploy`,
      );
  }
  const sizes = Object.entries(env).map(
    ([k, v]) => [k, Buffer.byteLength(k, "utf8") + Buffer.byteLength(v, "utf8")] as const,
  );
  const total = sizes.reduce((sum, [, n]) => sum + n, 0);
  if (total > LAMBDA_ENV_MAX_BYTES) {
    const [largest, bytes] = sizes.reduce((a, b) => (b[1] > a[1] ? b : a));
    const source = ENV_SOURCES[largest] ? ` (from ${ENV_SOURCES[largest]}: shorten or remove entries)` : "";
    throw new Error(
      `Lambda environment of ${functionName} is ${total} bytes (names + values), over Lambda's limit of ${LAMBDA_ENV_MAX_BYTES}; ${largest} takes ${bytes} bytes${source}`,
    );
  }
  return env;
}
