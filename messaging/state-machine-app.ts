import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SubscriberNames } from "./naming";
import { serviceTrustPolicy } from "./policies";

export interface StateMachineAppArgs {
  names: SubscriberNames;
}

/**
 * Application B: a Step Functions state machine the consumer starts once per message, with the
 * payload summary as input. Its one state is where the application's own steps go; it needs no
 * permissions until they are added.
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
    this.stateMachine = new aws.sfn.StateMachine(
      name,
      {
        name: names.stateMachine,
        type: "STANDARD",
        roleArn: role.arn,
        definition: JSON.stringify(stateMachineDefinition()),
      },
      { parent: this },
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
