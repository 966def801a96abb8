import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SubscriberNames } from "./naming";
import { serviceTrustPolicy, tracingStatement } from "./policies";

export interface StateMachineAppArgs {
  names: SubscriberNames;
  /** X-Ray tracing of each execution (and the role's permission to send traces). */
  tracing: boolean;
}

/**
 * Application B: a Step Functions state machine the consumer starts once per message, with the
 * payload summary as input. Its one state is where the application's own steps go; it needs no
 * permissions until they are added.
 *
 * @example
 * const app = new StateMachineApp(
 *   "subscriber-b-app",
 *   { names: subscriberNames(topology, sub), tracing: true },
 *   { parent: this },
 * );
 * app.stateMachine.arn; // what the consumer's StartExecution names
 */
export class StateMachineApp extends pulumi.ComponentResource {
  readonly stateMachine: aws.sfn.StateMachine;

  constructor(name: string, args: StateMachineAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:StateMachineApp", name, {}, opts);
    const { names } = args;
    const role = new aws.iam.Role(
      `${name}-role`,
      {
        name: names.stateMachineRole,
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy("states.amazonaws.com", names.account)),
      },
      { parent: this },
    );
    const policy =
      args.tracing &&
      new aws.iam.RolePolicy(
        `${name}-policy`,
        {
          role: role.name,
          // Step Functions also reads the sampling rules before it sends segments.
          policy: JSON.stringify({
            Version: "2012-10-17",
            Statement: [tracingStatement(["xray:GetSamplingRules", "xray:GetSamplingTargets"])],
          }),
        },
        { parent: this },
      );
    this.stateMachine = new aws.sfn.StateMachine(
      name,
      {
        name: names.stateMachine,
        type: "STANDARD",
        roleArn: role.arn,
        definition: JSON.stringify(stateMachineDefinition()),
        tracingConfiguration: { enabled: args.tracing },
      },
      { parent: this, dependsOn: policy ? [policy] : [] },
    );
    this.registerOutputs({ stateMachineArn: this.stateMachine.arn });
  }
}

/** Pure: the Amazon States Language definition of Application B. */
export function stateMachineDefinition() {
  return {
    Comment:
      "Application B: receives the payload summary (subscriber, messageId, pointer, size, sha256, attributes, preview)",
    StartAt: "PayloadReceived",
    States: { PayloadReceived: { Type: "Pass", End: true } },
  };
}
