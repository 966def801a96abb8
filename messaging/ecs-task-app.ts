import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { SubscriberNames } from "./naming";
import { serviceTrustPolicy, taskExecutionRolePolicy } from "./policies";
import { DEFAULT_TASK_IMAGE } from "./topology";

export const APP_CONTAINER = "app";

export interface EcsTaskAppArgs {
  names: SubscriberNames;
  image: string;
  cpu: number;
  memoryMb: number;
  logRetentionDays: number;
}

/**
 * Application C: an ECS cluster and a Fargate task definition the consumer runs once per message,
 * with the payload summary in the container's PAYLOAD_SUMMARY variable.
 *
 * @example
 * const app = new EcsTaskApp(
 *   "subscriber-c-app",
 *   {
 *     names: subscriberNames(topology, sub),
 *     image: sub.taskImage,
 *     cpu: sub.taskCpu, // 256
 *     memoryMb: sub.taskMemoryMb, // 512
 *     logRetentionDays: topology.logRetentionDays,
 *   },
 *   { parent: this },
 * );
 * app.taskDefinition.arn; // what the consumer's RunTask names
 */
export class EcsTaskApp extends pulumi.ComponentResource {
  readonly cluster: aws.ecs.Cluster;
  readonly taskDefinition: aws.ecs.TaskDefinition;

  constructor(name: string, args: EcsTaskAppArgs, opts?: pulumi.ComponentResourceOptions) {
    super("fieldnotes:messaging:EcsTaskApp", name, {}, opts);
    const { names } = args;
    const child = { parent: this };
    this.cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      { name: names.cluster, settings: [{ name: "containerInsights", value: "enabled" }] },
      child,
    );
    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: names.taskLogGroup, retentionInDays: args.logRetentionDays },
      child,
    );
    const executionRole = new aws.iam.Role(
      `${name}-execution-role`,
      {
        name: names.taskExecutionRole,
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ecs-tasks.amazonaws.com", names.account)),
      },
      child,
    );
    new aws.iam.RolePolicy(
      `${name}-execution-policy`,
      { role: executionRole.name, policy: JSON.stringify(taskExecutionRolePolicy(names, args.image)) },
      child,
    );
    // The application's own role: no permissions until the application needs some.
    const taskRole = new aws.iam.Role(
      `${name}-task-role`,
      {
        name: names.taskRole,
        assumeRolePolicy: JSON.stringify(serviceTrustPolicy("ecs-tasks.amazonaws.com", names.account)),
      },
      child,
    );
    this.taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: names.taskFamily,
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: String(args.cpu),
        memory: String(args.memoryMb),
        executionRoleArn: executionRole.arn,
        taskRoleArn: taskRole.arn,
        runtimePlatform: { operatingSystemFamily: "LINUX", cpuArchitecture: "X86_64" },
        containerDefinitions: logGroup.name.apply((group) =>
          JSON.stringify(containerDefinitions(names, args.image, group)),
        ),
      },
      child,
    );
    this.registerOutputs({ clusterArn: this.cluster.arn, taskDefinitionArn: this.taskDefinition.arn });
  }
}

/** Pure: the container of Application C. The default image just prints the summary it was given. */
export function containerDefinitions(names: SubscriberNames, image: string, logGroup: string) {
  return [
    {
      name: APP_CONTAINER,
      image,
      essential: true,
      ...(image === DEFAULT_TASK_IMAGE ? { command: ["sh", "-c", 'echo "$PAYLOAD_SUMMARY"'] } : {}),
      logConfiguration: {
        logDriver: "awslogs",
        options: {
          "awslogs-group": logGroup,
          "awslogs-region": names.region,
          "awslogs-stream-prefix": "app",
        },
      },
    },
  ];
}
