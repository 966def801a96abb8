// The plan view: what a stack would create, grouped by account and Region, then by part, with the
// settings a reviewer looks for (raw delivery, who policies let in and on what condition,
// encryption, dead-letter queues and redrive, batch settings). Text for a terminal; JSON for tools.
import type { Plan, PlannedResource } from "./plan";
import { checkWiring, envOf, handlerOf, type WiringProblem } from "./wiring";

export interface ViewResource {
  type: string;
  name: string;
  /** The physical name (or ARN) the resource would have, when known. */
  physicalName?: string;
  settings: Record<string, string>;
}

export interface ViewPart {
  /** Logical name of the part's component (e.g. "publisher", "subscriber-b"); "" for loose resources. */
  part: string;
  componentType?: string;
  resources: ViewResource[];
}

export interface ViewGroup {
  account: string;
  region: string;
  parts: ViewPart[];
}

export interface PlanView {
  stack: string;
  project: string;
  resourceCount: number;
  groups: ViewGroup[];
  outputs: Record<string, unknown>;
  wiring: WiringProblem[];
  error?: { message: string; resourcesBefore: number };
}

const shortType = (t: string) =>
  t.startsWith("pulumi:providers:") ? "provider" : t.replace(/^aws:([^/]+)\/[^:]+:(.+)$/, "$1:$2");

/** Last segment of an ARN or URL: a readable name. */
export const shortName = (arn: unknown): string => {
  const s = String(arn ?? "");
  return s.split(/[:/]/).filter(Boolean).pop() ?? s;
};

const list = (v: unknown): string[] =>
  v === undefined || v === null ? [] : Array.isArray(v) ? v.map(String) : [String(v)];

function parse(text: unknown): unknown {
  if (typeof text !== "string") return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** One line per statement: effect, actions, resources, principals, conditions. */
export function summarisePolicy(policy: unknown): string[] {
  const doc = parse(policy) as { Statement?: unknown } | undefined;
  const raw = doc?.Statement;
  const statements: unknown[] = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return statements.map((st) => {
    const s = st as Record<string, unknown>;
    const principal = s.Principal;
    let who = "";
    if (principal === "*") who = "anyone";
    else if (principal && typeof principal === "object") {
      who = Object.entries(principal as Record<string, unknown>)
        .map(
          ([k, v]) =>
            `${k}:${list(v)
              .map((p) => (p.startsWith("arn:") ? p.replace(/^arn:aws:iam::/, "") : p))
              .join(",")}`,
        )
        .join(" ");
    }
    const cond = s.Condition as Record<string, Record<string, unknown>> | undefined;
    const when = cond
      ? Object.entries(cond)
          .flatMap(([op, kv]) => Object.entries(kv).map(([k, v]) => `${k} ${op} ${list(v).join("|")}`))
          .join(" and ")
      : "";
    const actions = list(s.Action ?? s.NotAction);
    const resources = list(s.Resource ?? s.NotResource).map((r) => (r.length > 60 ? `…${r.slice(-57)}` : r));
    return [
      `${s.Effect ?? "?"}${s.NotAction ? " all but" : ""} ${actions.join(",")}`,
      resources.length ? `on ${resources.join(",")}` : "",
      who ? `to ${who}` : "",
      when ? `when ${when}` : "",
    ]
      .filter(Boolean)
      .join(" ");
  });
}

function settingsOf(r: PlannedResource): Record<string, string> {
  const i = r.inputs;
  const out: Record<string, string> = {};
  const put = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== "") out[k] = String(v);
  };
  const policyLines = (v: unknown, key = "policy") =>
    summarisePolicy(v).forEach((line, n) => put(`${key}[${n}]`, line));
  switch (r.type) {
    case "pulumi:providers:aws":
      put("assumeRole", (i.assumeRoles as Array<{ roleArn?: string }> | undefined)?.[0]?.roleArn);
      break;
    case "aws:sns/topic:Topic":
      put("encryption", i.kmsMasterKeyId ? `KMS ${shortName(i.kmsMasterKeyId)}` : "NONE");
      if (i.policy) policyLines(i.policy);
      break;
    case "aws:sns/topicSubscription:TopicSubscription": {
      put("protocol", i.protocol);
      put("endpoint", shortName(i.endpoint));
      put("topic", `${shortName(i.topic)} (${String(i.topic ?? "").split(":")[3] ?? "?"})`);
      if (i.protocol === "sqs")
        put("rawDelivery", i.rawMessageDelivery === true || i.rawMessageDelivery === "true" ? "on" : "OFF");
      const redrive = parse(i.redrivePolicy) as { deadLetterTargetArn?: string } | undefined;
      put("deliveryDLQ", redrive?.deadLetterTargetArn ? shortName(redrive.deadLetterTargetArn) : "none");
      put("filter", i.filterPolicy);
      break;
    }
    case "aws:sqs/queue:Queue": {
      put(
        "encryption",
        i.kmsMasterKeyId
          ? `KMS ${shortName(i.kmsMasterKeyId)}`
          : i.sqsManagedSseEnabled === false
            ? "NONE"
            : "SSE-SQS",
      );
      put(
        "visibilityTimeout",
        i.visibilityTimeoutSeconds !== undefined ? `${i.visibilityTimeoutSeconds} s` : undefined,
      );
      put(
        "retention",
        i.messageRetentionSeconds !== undefined
          ? `${Math.round(Number(i.messageRetentionSeconds) / 86400)} d`
          : undefined,
      );
      const redrive = parse(i.redrivePolicy) as
        { deadLetterTargetArn?: string; maxReceiveCount?: number } | undefined;
      if (redrive?.deadLetterTargetArn)
        put("dlq", `${shortName(redrive.deadLetterTargetArn)} after ${redrive.maxReceiveCount} receives`);
      break;
    }
    case "aws:sqs/redrivePolicy:RedrivePolicy": {
      const redrive = parse(i.redrivePolicy) as
        { deadLetterTargetArn?: string; maxReceiveCount?: number } | undefined;
      put("queue", shortName(i.queueUrl));
      put("dlq", `${shortName(redrive?.deadLetterTargetArn)} after ${redrive?.maxReceiveCount} receives`);
      break;
    }
    case "aws:sqs/queuePolicy:QueuePolicy":
    case "aws:sns/topicPolicy:TopicPolicy":
    case "aws:s3/bucketPolicy:BucketPolicy":
    case "aws:cloudwatch/eventBusPolicy:EventBusPolicy":
    case "aws:iam/rolePolicy:RolePolicy":
    case "aws:iam/policy:Policy":
      policyLines(i.policy);
      break;
    case "aws:kms/key:Key":
      put("rotation", i.enableKeyRotation === true ? "on" : "off");
      policyLines(i.policy, "keyPolicy");
      break;
    case "aws:iam/role:Role":
      policyLines(i.assumeRolePolicy, "trust");
      break;
    case "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock":
      put(
        "blockPublic",
        ["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
          (k) => i[k] === true,
        )
          ? "all four on"
          : JSON.stringify(i),
      );
      break;
    case "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
      const rule = (
        i.rules as Array<{
          applyServerSideEncryptionByDefault?: { sseAlgorithm?: string; kmsMasterKeyId?: string };
        }>
      )?.[0];
      const d = rule?.applyServerSideEncryptionByDefault;
      put(
        "encryption",
        d ? `${d.sseAlgorithm}${d.kmsMasterKeyId ? ` ${shortName(d.kmsMasterKeyId)}` : ""}` : undefined,
      );
      break;
    }
    case "aws:s3/bucketOwnershipControls:BucketOwnershipControls":
      put("ownership", (i.rule as { objectOwnership?: string } | undefined)?.objectOwnership);
      break;
    case "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration":
      for (const [n, rule] of ((i.rules as Array<Record<string, unknown>>) ?? []).entries()) {
        const prefix = (rule.filter as { prefix?: string } | undefined)?.prefix ?? "";
        const days = (rule.expiration as { days?: number } | undefined)?.days;
        put(
          `rule[${n}]`,
          `${rule.status ?? ""} ${prefix || "(all)"}${days !== undefined ? ` expires after ${days} d` : ""}`.trim(),
        );
      }
      break;
    case "aws:lambda/function:Function": {
      put("handler", `${handlerOf(r) ?? "?"} bundle, ${i.handler}, ${i.runtime}`);
      put("memory/timeout", `${i.memorySize ?? 128} MB / ${i.timeout ?? 3} s`);
      put("role", shortName(i.role));
      for (const [k, v] of Object.entries(envOf(r)))
        put(`env.${k}`, v.length > 70 ? `${v.slice(0, 67)}…` : v);
      const dlq = (i.deadLetterConfig as { targetArn?: string } | undefined)?.targetArn;
      if (dlq) put("dlq", shortName(dlq));
      break;
    }
    case "aws:lambda/eventSourceMapping:EventSourceMapping":
      put("source", shortName(i.eventSourceArn));
      put("function", shortName(i.functionName));
      put("batch", `${i.batchSize ?? 10} records, window ${i.maximumBatchingWindowInSeconds ?? 0} s`);
      put(
        "partialBatch",
        list(i.functionResponseTypes).includes("ReportBatchItemFailures") ? "ReportBatchItemFailures" : "OFF",
      );
      break;
    case "aws:lambda/permission:Permission":
      put("grants", `${i.action} on ${shortName(i.function)} to ${i.principal}`);
      put("sourceArn", i.sourceArn ?? "NONE");
      break;
    case "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
      put("retries", i.maximumRetryAttempts);
      const dest = (i.destinationConfig as { onFailure?: { destination?: string } } | undefined)?.onFailure
        ?.destination;
      put("onFailure", dest ? shortName(dest) : "none");
      break;
    }
    case "aws:cloudwatch/eventRule:EventRule":
      put("bus", i.eventBusName ?? "default");
      put("pattern", i.eventPattern);
      break;
    case "aws:cloudwatch/eventTarget:EventTarget": {
      put("target", shortName(i.arn));
      const retry = i.retryPolicy as
        { maximumRetryAttempts?: number; maximumEventAgeInSeconds?: number } | undefined;
      if (retry) put("retries", `${retry.maximumRetryAttempts} within ${retry.maximumEventAgeInSeconds} s`);
      const dlq = (i.deadLetterConfig as { arn?: string } | undefined)?.arn;
      put("dlq", dlq ? shortName(dlq) : "none");
      break;
    }
    case "aws:ecs/taskDefinition:TaskDefinition":
      put("fargate", `${i.cpu ?? "?"} CPU / ${i.memory ?? "?"} MB, ${i.networkMode ?? ""}`);
      break;
    case "aws:cloudwatch/logGroup:LogGroup":
      put("retention", i.retentionInDays !== undefined ? `${i.retentionInDays} d` : undefined);
      break;
    case "aws:ecr/repository:Repository":
      put(
        "scanOnPush",
        (i.imageScanningConfiguration as { scanOnPush?: boolean } | undefined)?.scanOnPush ? "on" : "OFF",
      );
      put("tags", i.imageTagMutability);
      break;
    case "aws:sagemaker/domain:Domain":
      put("authMode", i.authMode);
      put("url", r.outputs.url);
      break;
  }
  return out;
}

function physicalName(r: PlannedResource): string | undefined {
  const o = r.outputs;
  for (const k of [
    "name",
    "bucket",
    "family",
    "domainName",
    "userProfileName",
    "imageName",
    "pipelineName",
    "appImageConfigName",
  ]) {
    if (typeof o[k] === "string" && o[k] !== r.name) return o[k] as string;
  }
  return undefined;
}

/** The plan as data: groups by account and Region, parts within them, settings per resource. */
export function planView(plan: Plan): PlanView {
  const byUrn = new Map(plan.resources.map((r) => [r.urn, r]));
  const chain = (r: PlannedResource): PlannedResource[] => {
    const out: PlannedResource[] = [];
    for (
      let p = r.parent ? byUrn.get(r.parent) : undefined;
      p;
      p = p.parent ? byUrn.get(p.parent) : undefined
    )
      out.unshift(p);
    return out;
  };
  // A part is a component directly inside the outermost one (publisher, subscriber-b, research-studio,
  // …), or the outermost one itself for what sits directly in it.
  const partOf = (r: PlannedResource): PlannedResource | undefined => {
    const [top, next] = chain(r);
    return next ?? top;
  };
  const groups = new Map<string, ViewGroup>();
  for (const r of plan.resources) {
    if (!r.custom) continue;
    // A resource of another provider (a docker image) is shown where its component is.
    const placed =
      r.provider?.account || r.provider?.region ? r : [...chain(r)].reverse().find((c) => c.provider);
    const account = placed?.provider?.account ?? "(unknown account)";
    const region = placed?.provider?.region ?? "(unknown Region)";
    const key = `${account}|${region}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = { account, region, parts: [] }));
    const part = partOf(r);
    const partName = part?.name ?? (r.type.startsWith("pulumi:providers:") ? "providers" : "");
    let vp = g.parts.find((p) => p.part === partName);
    if (!vp) g.parts.push((vp = { part: partName, componentType: part?.type, resources: [] }));
    vp.resources.push({ type: r.type, name: r.name, physicalName: physicalName(r), settings: settingsOf(r) });
  }
  return {
    stack: plan.stack,
    project: plan.project,
    resourceCount: plan.resources.filter((r) => r.custom).length,
    groups: [...groups.values()].sort((a, b) =>
      `${a.account}${a.region}`.localeCompare(`${b.account}${b.region}`),
    ),
    outputs: plan.outputs,
    wiring: plan.error ? [] : checkWiring(plan),
    error: plan.error,
  };
}

/**
 * The first lines of a plan that failed: the program's own message leads, so a config error is not
 * announced as a plan of 0 resources.
 */
function failureLines(view: PlanView): string[] {
  if (!view.error) return [];
  return [
    `The program failed for stack "${view.stack}" (project ${view.project}) after ${view.error.resourcesBefore} registration(s):`,
    ...view.error.message.split("\n").map((line) => `  ${line}`),
  ];
}

/** The plan view as terminal text. */
export function renderPlanView(view: PlanView): string {
  const lines: string[] = failureLines(view);
  if (view.error && view.resourceCount === 0) return lines.join("\n");
  if (view.error) lines.push("", `What it registered before failing (${view.resourceCount} resources):`);
  else
    lines.push(
      `Plan for stack "${view.stack}" (project ${view.project}): ${view.resourceCount} resources, by account and Region`,
    );
  for (const g of view.groups) {
    lines.push("", `━━ account ${g.account} · ${g.region} ━━`);
    for (const p of g.parts) {
      lines.push(
        `  ${p.part ? `▸ ${p.part}${p.componentType ? ` (${p.componentType})` : ""}` : "▸ (outside any component)"}`,
      );
      const typeWidth = Math.max(...p.resources.map((r) => shortType(r.type).length));
      for (const r of p.resources) {
        lines.push(
          `    ${shortType(r.type).padEnd(typeWidth)}  ${r.name}${r.physicalName ? `  →  ${r.physicalName}` : ""}`,
        );
        for (const [k, v] of Object.entries(r.settings))
          lines.push(`    ${" ".repeat(typeWidth)}      ${k}: ${v}`);
      }
    }
  }
  if (view.wiring.length) {
    lines.push("", "Wiring problems:");
    for (const w of view.wiring) lines.push(`  ✗ ${w.resource}: ${w.message}`);
  } else if (!view.error) {
    lines.push("", "Wiring checks: no problem found.");
  }
  return lines.join("\n");
}

/** Columns of the summary and of the delivery report: one terminal screen wide. */
export const SCREEN_COLUMNS = 100;

/**
 * The plan in a few lines: resources per account and Region, and per part, then the wiring
 * verdict; the full view is one flag away.
 */
export function renderPlanSummary(view: PlanView, fullPlanHint = "npm start -- --plan"): string {
  const lines: string[] = failureLines(view);
  if (view.error && view.resourceCount === 0) return lines.join("\n");
  lines.push(
    ...wrap(
      "",
      `Plan for stack "${view.stack}": ${view.resourceCount} resources (full plan: ${fullPlanHint})`,
      SCREEN_COLUMNS,
    ),
  );
  const where = view.groups.map((g) => `${g.account} · ${g.region}`);
  const width = Math.max(...where.map((w) => w.length));
  view.groups.forEach((g, i) => {
    const count = g.parts.reduce((n, p) => n + p.resources.length, 0);
    const parts = g.parts.map((p) => `${p.part || "(loose)"} ${p.resources.length}`).join(", ");
    const head = `  ${where[i].padEnd(width)}  ${String(count).padStart(3)}  `;
    lines.push(...wrap(head, parts, SCREEN_COLUMNS));
  });
  if (view.wiring.length) {
    lines.push("Wiring problems:");
    for (const w of view.wiring) lines.push(...wrap("  ✗ ", `${w.resource}: ${w.message}`, SCREEN_COLUMNS));
  } else if (!view.error) {
    lines.push("Wiring checks: no problem found.");
  }
  return lines.join("\n");
}

/** `text` after `head`, broken at spaces into lines of at most `columns`, continuation lines indented. */
export function wrap(head: string, text: string, columns: number): string[] {
  const indent = " ".repeat(head.length);
  const out: string[] = [];
  let line = head;
  for (const word of text.split(" ")) {
    const sep = line === head || line === indent ? "" : " ";
    if (line.length + sep.length + word.length > columns && line.trim() !== "") {
      out.push(line);
      line = indent + word;
    } else line += sep + word;
  }
  out.push(line);
  return out;
}
