// Wiring checks on what the program registered: the mistakes mocks and emulators would otherwise
// accept, caught before anything runs, each with a message naming the resource. The local run then
// exercises what static checks cannot (each handler validates its environment at cold start).
import { snsServicePrincipal } from "../common/regions";
import { PublisherEnv, SubscriberEnv } from "../messaging/contract";
import { isBucket, label, T } from "./deploy";
import type { Plan, PlannedResource } from "./plan";

export interface WiringProblem {
  /** e.g. `Function "subscriber-b-consumer"`. */
  resource: string;
  message: string;
}

/** Environment names Lambda refuses (docs/messaging.md, "AWS pitfalls"). */
const RESERVED =
  /^(AWS_REGION|AWS_DEFAULT_REGION|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|AWS_LAMBDA_.*|_HANDLER|LAMBDA_TASK_ROOT|LAMBDA_RUNTIME_DIR)$/;

const contractFor: Record<string, readonly string[]> = {
  publish: Object.values(PublisherEnv),
  "consume-queue": Object.values(SubscriberEnv),
  "consume-topic": Object.values(SubscriberEnv),
};

/** The contract handler a function runs, from its bundle directory (`.build/handlers/<name>`). */
export function handlerOf(fn: PlannedResource): string | undefined {
  const p = (fn.inputs.code as { path?: string } | undefined)?.path;
  return p ? p.split(/[\\/]/).filter(Boolean).pop() : undefined;
}

export function envOf(fn: PlannedResource): Record<string, string> {
  const vars =
    (fn.inputs.environment as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
  return Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, String(v)]));
}

const s = (v: unknown) => (typeof v === "string" ? v : undefined);

interface Statement {
  Effect?: string;
  Action?: string | string[];
  Resource?: string | string[];
}

function statements(policy: unknown): Statement[] {
  try {
    const doc = (typeof policy === "string" ? JSON.parse(policy) : policy) as {
      Statement?: Statement | Statement[];
    };
    return Array.isArray(doc?.Statement) ? doc.Statement : doc?.Statement ? [doc.Statement] : [];
  } catch {
    return [];
  }
}

const grants = (st: Statement, action: string) =>
  st.Effect === "Allow" && [st.Action ?? []].flat().some((a) => a === action || a === "s3:*" || a === "*");

/**
 * A subscriber reads payloads with its role: both the bucket policy (it names the role) and the
 * role's own policy (GetObject on the bucket) must let it, where both are in this stack.
 */
function readAccess(plan: Plan, fn: PlannedResource, roleArn: string, bucket: string): WiringProblem[] {
  const out: WiringProblem[] = [];
  const bucketPolicies = plan.resources.filter(
    (r) => r.type === "aws:s3/bucketPolicy:BucketPolicy" && r.inputs.bucket === bucket,
  );
  if (bucketPolicies.length) {
    const named = bucketPolicies.some((p) =>
      statements(p.inputs.policy).some(
        (st) => grants(st, "s3:GetObject") && JSON.stringify(st).includes(roleArn),
      ),
    );
    if (!named) {
      out.push({
        resource: label(fn),
        message: `its role ${roleArn} is not allowed s3:GetObject by the bucket policy of ${bucket}`,
      });
    }
  }
  const roleName = roleArn.split("/").pop();
  const rolePolicies = plan.resources.filter(
    (r) =>
      r.type === "aws:iam/rolePolicy:RolePolicy" && (r.inputs.role === roleName || r.inputs.role === roleArn),
  );
  if (rolePolicies.length) {
    const allowed = rolePolicies.some((p) =>
      statements(p.inputs.policy).some(
        (st) =>
          grants(st, "s3:GetObject") &&
          [st.Resource ?? []].flat().some((r) => r.startsWith(`arn:aws:s3:::${bucket}/`) || r === "*"),
      ),
    );
    if (!allowed)
      out.push({
        resource: label(fn),
        message: `its role ${roleName}'s policies do not allow s3:GetObject in ${bucket}`,
      });
  }
  return out;
}

/**
 * Why a plan cannot be run on the emulators, or undefined when it can: the program failed under the
 * mock engine, or the wiring check found mistakes. The demo and the soak refuse the same plans.
 */
export function unrunnablePlan(plan: Plan): string | undefined {
  if (plan.error) return `the program failed under the mock engine: ${plan.error.message}`;
  const problems = checkWiring(plan);
  if (problems.length)
    return `wiring mistakes:\n${problems.map((p) => `  - ${p.resource}: ${p.message}`).join("\n")}`;
  return undefined;
}

export function checkWiring(plan: Plan): WiringProblem[] {
  const problems: WiringProblem[] = [];
  const add = (r: PlannedResource, message: string) => problems.push({ resource: label(r), message });
  const of = (type: string) => plan.resources.filter((r) => r.type === type);
  const arns = (type: string) => new Set(of(type).map((r) => s(r.outputs.arn)));
  const functions = of(T.fn);
  const fnByRef = (ref: unknown) =>
    functions.find((f) => f.outputs.name === ref || f.outputs.arn === ref || f.name === ref);
  const permissions = of(T.permission);
  const buckets = plan.resources.filter(isBucket);
  const bucketNames = new Set(buckets.map((b) => s(b.outputs.bucket)));
  const publisherBuckets = functions
    .filter((f) => handlerOf(f) === "publish")
    .map((f) => envOf(f)[PublisherEnv.payloadBucket])
    .filter((b): b is string => !!b);

  for (const fn of functions) {
    const handler = handlerOf(fn);
    const env = envOf(fn);
    for (const name of Object.keys(env)) {
      if (RESERVED.test(name))
        add(fn, `sets the environment variable ${name}, a name Lambda reserves and rejects`);
    }
    const contract = handler ? contractFor[handler] : undefined;
    if (!contract) continue;
    for (const name of Object.keys(env)) {
      if (!contract.includes(name) && !RESERVED.test(name) && !name.startsWith("POWERTOOLS_")) {
        add(
          fn,
          `sets ${name}, which the ${handler} handler never reads (its variables: ${contract.join(", ")})`,
        );
      }
    }
    const refersTo = (name: string, type: string, what: string) => {
      const v = env[name];
      if (v && !arns(type).has(v)) add(fn, `${name}=${v} is no ${what} of this stack`);
    };
    if (handler === "publish") {
      refersTo(PublisherEnv.topicArn, T.topic, "topic");
      const bucket = env[PublisherEnv.payloadBucket];
      if (bucket && !bucketNames.has(bucket))
        add(fn, `${PublisherEnv.payloadBucket}=${bucket} is no bucket of this stack`);
    } else {
      refersTo(SubscriberEnv.stateMachineArn, T.stateMachine, "state machine");
      refersTo(SubscriberEnv.ecsClusterArn, T.ecsCluster, "ECS cluster");
      refersTo(SubscriberEnv.ecsTaskDefinitionArn, T.taskDefinition, "ECS task definition");
      const allow = (env[SubscriberEnv.bucketAllowList] ?? "")
        .split(",")
        .map((b) => b.trim())
        .filter(Boolean);
      for (const bucket of publisherBuckets) {
        if (!allow.includes(bucket)) {
          add(
            fn,
            `${SubscriberEnv.bucketAllowList}=${JSON.stringify(allow.join(","))} does not include the publisher's payload bucket ${bucket}: every offloaded message would be refused`,
          );
        }
        const role = s(fn.inputs.role);
        if (role) problems.push(...readAccess(plan, fn, role, bucket));
        const region = env[SubscriberEnv.bucketRegion];
        const bucketResource = buckets.find((b) => b.outputs.bucket === bucket);
        const actual = bucketResource?.provider?.region;
        if (region && actual && region !== actual) {
          add(
            fn,
            `${SubscriberEnv.bucketRegion}=${region}, but the payload bucket ${bucket} is in ${actual}: reads would get a 301`,
          );
        }
      }
    }
  }

  for (const sub of of(T.subscription)) {
    const topicArn = s(sub.inputs.topic) ?? "";
    const topicRegion = topicArn.split(":")[3];
    if (topicRegion && sub.provider?.region && sub.provider.region !== topicRegion) {
      add(
        sub,
        `is created in ${sub.provider.region}, but its topic is in ${topicRegion}: SNS only subscribes in the topic's Region`,
      );
    }
    const protocol = s(sub.inputs.protocol);
    if (protocol === "sqs") {
      if (sub.inputs.rawMessageDelivery !== true && sub.inputs.rawMessageDelivery !== "true") {
        add(
          sub,
          "delivers to SQS without raw message delivery: the Java SQS extended client only resolves pointers in raw messages",
        );
      }
      const endpointAccount = s(sub.inputs.endpoint)?.split(":")[4];
      if (endpointAccount && sub.provider?.account && endpointAccount !== sub.provider.account) {
        add(
          sub,
          `is created by account ${sub.provider.account}, not by the queue's account ${endpointAccount}: it would stay pending confirmation`,
        );
      }
      const queue = of(T.queue).find((q) => q.outputs.arn === sub.inputs.endpoint);
      if (queue && s(queue.inputs.kmsMasterKeyId) === "alias/aws/sqs") {
        add(
          queue,
          "is encrypted with alias/aws/sqs, which SNS cannot use: it would never receive from the topic",
        );
      }
    } else if (protocol === "lambda") {
      const fn = fnByRef(sub.inputs.endpoint);
      if (fn) {
        const principal = snsServicePrincipal(topicRegion, fn.provider?.region ?? "");
        const allowed = permissions.some(
          (p) =>
            fnByRef(p.inputs.function) === fn &&
            p.inputs.principal === principal &&
            p.inputs.sourceArn === topicArn,
        );
        if (!allowed)
          add(
            sub,
            `delivers to ${label(fn)}, but no lambda Permission lets ${principal} invoke it with sourceArn ${topicArn}`,
          );
      }
    }
  }

  for (const esm of of(T.esm)) {
    const fn = fnByRef(esm.inputs.functionName);
    const types = (esm.inputs.functionResponseTypes as string[] | undefined) ?? [];
    if (fn && handlerOf(fn) === "consume-queue" && !types.includes("ReportBatchItemFailures")) {
      add(
        esm,
        "lacks functionResponseTypes [ReportBatchItemFailures]: one bad record would fail and retry its whole batch",
      );
    }
    const queue = of(T.queue).find((q) => q.outputs.arn === esm.inputs.eventSourceArn);
    if (fn && queue && handlerOf(fn) === "consume-queue") {
      // The consumer unwraps SNS's envelope only when told the subscription is not raw.
      const told = envOf(fn)[SubscriberEnv.sqsRawDelivery];
      for (const sub of of(T.subscription).filter((x) => x.inputs.endpoint === queue.outputs.arn)) {
        const raw = String(
          sub.inputs.rawMessageDelivery === true || sub.inputs.rawMessageDelivery === "true",
        );
        if (told !== raw) {
          add(
            fn,
            `${SubscriberEnv.sqsRawDelivery}=${told ?? "(unset)"}, but ${label(sub)} has rawMessageDelivery ${raw}: bodies would be read as the wrong shape`,
          );
        }
      }
    }
    const visibility = Number(queue?.inputs.visibilityTimeoutSeconds ?? 30);
    const timeout = Number(fn?.inputs.timeout ?? 3);
    if (queue && fn && visibility < timeout) {
      add(
        esm,
        `reads ${label(queue)} whose visibility timeout (${visibility} s) is below ${label(fn)}'s timeout (${timeout} s); Lambda refuses such a mapping`,
      );
    }
    if (
      queue &&
      !s(queue.inputs.redrivePolicy) &&
      !of(T.redrivePolicy).some((p) => p.inputs.queueUrl === queue.outputs.url)
    )
      add(
        queue,
        "feeds a Lambda function but has no redrive policy: a failing record would be retried until it expires",
      );
  }

  for (const target of of(T.target)) {
    const fn = fnByRef(target.inputs.arn);
    if (!fn) continue;
    const rule = of(T.rule).find((r) => r.outputs.name === target.inputs.rule);
    const allowed = permissions.some(
      (p) =>
        fnByRef(p.inputs.function) === fn &&
        p.inputs.principal === "events.amazonaws.com" &&
        (!rule || p.inputs.sourceArn === rule.outputs.arn),
    );
    if (!allowed)
      add(
        target,
        `targets ${label(fn)}, but no lambda Permission lets events.amazonaws.com invoke it for this rule`,
      );
  }
  return problems;
}
