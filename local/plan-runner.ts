// Child process of planStack: sets Pulumi's mocks and the stack's config, loads the real program,
// waits until every registration has settled, and sends back what was registered. One process per
// plan, because the Pulumi runtime's state is global to a process.
import * as pulumi from "@pulumi/pulumi";
import type { Plan, PlannedResource, PlanRequest } from "./plan";
import {
  fallbackAccount,
  mockCall,
  mockResource,
  providerPlacement,
  type ProviderPlacement,
} from "./mock-cloud";

// Internal modules of @pulumi/pulumi: the mock monitor (to learn each registration's parent, which
// MockResourceArgs leaves out), the RPC queue (to know when the program has settled) and the promise
// leak detector (to say why a program that never settles did not).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: any };
const settings = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };
const debuggable = require("@pulumi/pulumi/runtime/debuggable") as {
  leakedPromises(): [Set<unknown>, string];
};
const rpc = require("@pulumi/pulumi/runtime/rpc") as { specialSigKey: string; specialSecretSig: string };

interface RegistrationArgs extends pulumi.runtime.MockResourceArgs {
  parent?: string;
  /** URNs the registration waits for: explicit dependsOn and the resources its inputs come from. */
  dependencies?: string[];
}

const resources: PlannedResource[] = [];
const providers = new Map<string, ProviderPlacement>();
let pending = 0;
let firstError: { message: string; resourcesBefore: number } | undefined;
let signalError: () => void = () => {};
/** Resolves when the program fails, so waiting for an output that will never resolve can stop. */
const failed = new Promise<void>((resolve) => (signalError = resolve));
let signalIdle: () => void = () => {};
/**
 * Resolves when nothing is left that could make progress: the event loop drained while the runner
 * still waits (`beforeExit`, as the Pulumi language host notices that a program has finished), or a
 * bounded grace after the program failed. Once it has, no wait below blocks again.
 */
const idle = new Promise<void>((resolve) => (signalIdle = resolve));
/** After a failure, how long the runner waits for a further registration before it stops. */
const ERROR_GRACE_MS = 5_000;
let graceTimer: NodeJS.Timeout | undefined;

/**
 * The SDK prefixes `error serializing property "k": ` to an input's rejection, on the same error
 * object once per awaiter (one rejected output feeding many resources stacks dozens of prefixes).
 * The program's own message is what is left.
 */
function programMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^(error serializing property "[^"]*": )+/, "");
}

/**
 * Like Pulumi's language host (cmd/run): a program error reaches the runner as an uncaught exception
 * or unhandled rejection — also when it is thrown in an apply whose output feeds resource inputs:
 * the registration that awaits it rejects unhandled. The first one is the plan's error; its message
 * is taken now, before later awaiters add their prefixes, with the number of resources so far.
 */
function recordError(err: unknown): void {
  if (firstError) return;
  firstError = { message: programMessage(err), resourcesBefore: resources.length };
  signalError();
  // Registrations that do not depend on the failure go on until the event loop drains, as under
  // `pulumi up`. The grace, restarted by each registration (so a slow machine loses none), bounds a
  // program that keeps the loop busy without progress; unref'd, it does not keep the loop busy itself.
  graceTimer = setTimeout(signalIdle, ERROR_GRACE_MS).unref();
}

process.on("unhandledRejection", recordError);
process.on("uncaughtException", recordError);
// An input that depends on a failed output never resolves, so the SDK's RPC queue never drains and
// `waitForRPCs()` never settles; with nothing else to do, Node would exit (with the SDK's "promises
// were still active" message) before the plan is sent. `beforeExit` fires first: stop waiting.
process.on("beforeExit", () => signalIdle());

/** Waits for `p`, or until the runner is idle; `p`'s value boxed, or undefined if idle came first. */
async function unlessIdle<T>(p: Promise<T>): Promise<{ value: T } | undefined> {
  return Promise.race([p.then((value) => ({ value })), idle.then(() => undefined)]);
}

// Pass the registration's parent and dependencies through to newResource, so they can be recorded.
for (const method of ["registerResource", "readResource"] as const) {
  const original = MockMonitor.prototype[method];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  MockMonitor.prototype[method] = function (this: any, req: any, callback: unknown) {
    const parent: string = req.getParent();
    const dependencies: string[] = req.getDependenciesList?.() ?? [];
    const mocks = this.mocks as pulumi.runtime.Mocks;
    const view = Object.create(this, {
      mocks: {
        value: {
          call: mocks.call,
          newResource: (a: pulumi.runtime.MockResourceArgs) =>
            mocks.newResource({ ...a, parent, dependencies } as RegistrationArgs),
        },
      },
    });
    return original.call(view, req, callback);
  };
}

function urnOf(args: RegistrationArgs): string {
  let type = args.type;
  if (args.parent) {
    const parentType = args.parent.split("::")[2].split("$").pop();
    type = `${parentType}$${type}`;
  }
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${type}::${args.name}`;
}

/** "urn::id" provider reference → the provider's URN. */
function providerUrn(ref: string | undefined): string | undefined {
  if (!ref) return undefined;
  const at = ref.lastIndexOf("::");
  return at > 0 ? ref.slice(0, at) : ref;
}

function placementFor(providerRef: string | undefined, defaultRegion: string | undefined): ProviderPlacement {
  const urn = providerUrn(providerRef);
  const known = urn ? providers.get(urn) : undefined;
  if (known) return known;
  // No explicit provider: the default provider takes the stack's aws:region.
  return { region: defaultRegion };
}

/** JSON-safe copy: secrets unwrapped (local mode), assets/archives as {kind, path}, resources marked. */
async function plain(value: unknown, ancestors: object[] = []): Promise<unknown> {
  if (value === null || typeof value !== "object") {
    return typeof value === "function" || typeof value === "symbol" ? undefined : value;
  }
  if (ancestors.includes(value)) return "[circular]";
  const inner = [...ancestors, value];
  const obj = value as Record<string, unknown>;
  if (obj[rpc.specialSigKey] === rpc.specialSecretSig) return plain(obj.value, inner);
  if (value instanceof Promise) return plain(await value, inner);
  // The SDK's type guards would narrow `value` to never below; ask them as plain predicates.
  const is = (guard: (x: unknown) => boolean) => guard(value);
  if (is(pulumi.asset.Archive.isInstance) || is(pulumi.asset.Asset.isInstance)) {
    const out: Record<string, unknown> = { kind: value.constructor.name };
    for (const k of ["path", "text", "uri"]) {
      // The SDK keeps an asset's path/text/uri as a promise.
      const v = await (value as unknown as Record<string, unknown>)[k];
      if (typeof v === "string") out[k] = v;
    }
    return out;
  }
  if (is(pulumi.Resource.isInstance)) return { kind: "ResourceReference" };
  if (Array.isArray(value)) return Promise.all(value.map((v) => plain(v, inner)));
  if (Buffer.isBuffer(value)) return value.toString("base64");
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(obj)) {
    const p = await plain(v, inner);
    if (p !== undefined) out[k] = p;
  }
  return out;
}

// Components carry no provider of their own: place each where all its custom descendants are.
function placeComponents(): void {
  const children = new Map<string, PlannedResource[]>();
  for (const r of resources) if (r.parent) children.set(r.parent, [...(children.get(r.parent) ?? []), r]);
  const placements = (urn: string): string[] =>
    (children.get(urn) ?? []).flatMap((c) =>
      // Resources of other providers (docker, …) have no AWS placement and do not count.
      c.custom
        ? c.provider?.account || c.provider?.region
          ? [`${c.provider?.account ?? ""}|${c.provider?.region ?? ""}`]
          : []
        : placements(c.urn),
    );
  for (const r of resources) {
    if (r.custom) continue;
    const distinct = [...new Set(placements(r.urn))];
    if (distinct.length === 1) {
      const [account, region] = distinct[0].split("|");
      r.provider = { urn: "(from its children)", account: account || undefined, region: region || undefined };
    } else {
      r.provider = undefined;
    }
  }
}

/** True if every registration has settled; false if the runner went idle first. */
async function settle(): Promise<boolean> {
  // Registrations can trigger further registrations (apply callbacks): wait until a round of RPCs
  // drains with nothing in flight and no new resource.
  for (;;) {
    const before = resources.length;
    if (!(await unlessIdle(settings.waitForRPCs()))) return false;
    await new Promise((r) => setTimeout(r, 20));
    if (pending === 0 && resources.length === before) return true;
  }
}

async function resolveOutputs(exported: Record<string, unknown>): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(exported)) {
    if (key === "__esModule") continue;
    const resolved = new Promise((resolve) =>
      (pulumi.output(value) as pulumi.Output<unknown>).apply(resolve),
    );
    const value_ = await Promise.race([unlessIdle(resolved), failed.then(() => undefined)]);
    if (firstError || !value_) break;
    out[key] = await plain(value_.value);
  }
  return out;
}

async function run(req: PlanRequest): Promise<Plan> {
  const defaultRegion = req.config["aws:region"];
  const mocks: pulumi.runtime.Mocks = {
    async newResource(args: RegistrationArgs) {
      pending++;
      try {
        const urn = urnOf(args);
        const isProvider = args.type.startsWith("pulumi:providers:");
        const inputs = ((await plain(args.inputs)) ?? {}) as Record<string, unknown>;
        const where = isProvider ? providerPlacement(inputs) : placementFor(args.provider, defaultRegion);
        if (isProvider) providers.set(urn, where);
        const result = mockResource(args.type, args.name, args.inputs ?? {}, where, urn);
        const puid = providerUrn(args.provider);
        resources.push({
          type: args.type,
          name: args.name,
          urn,
          parent: args.parent || undefined,
          dependencies: args.dependencies?.length ? args.dependencies : undefined,
          custom: args.custom ?? true,
          // A provider is placed where it points, so grouping by placement needs no special case.
          provider: {
            urn: isProvider ? urn : (puid ?? "default"),
            account: where.account,
            region: where.region,
          },
          inputs,
          outputs: ((await plain(result.state)) ?? {}) as Record<string, unknown>,
        });
        graceTimer?.refresh();
        return result;
      } finally {
        pending--;
      }
    },
    call(args: pulumi.runtime.MockCallArgs) {
      const where = placementFor(args.provider, defaultRegion);
      try {
        return mockCall(
          args.token,
          args.inputs ?? {},
          { ...where, account: where.account ?? fallbackAccount },
          req.mocks,
        );
      } catch (err) {
        // The SDK reports a failed invoke with the error's gRPC `details` only; keep the message.
        recordError(err);
        throw Object.assign(new Error((err as Error).message), { details: (err as Error).message });
      }
    },
  };

  await pulumi.runtime.setMocks(mocks, req.project, req.stack, false);
  pulumi.runtime.setAllConfig(req.config, req.secretKeys);

  let outputs: Record<string, unknown> = {};
  let exportNames: string[] | undefined;
  let settled: boolean;
  try {
    const exported = require(req.program) as Record<string, unknown>;
    exportNames = Object.keys(exported).filter((k) => k !== "__esModule");
    settled = await settle();
    if (settled && !firstError) outputs = await resolveOutputs(exported);
    if (settled) settled = await settle();
  } catch (err) {
    // A synchronous throw (config validation): count what had been constructed before it, which
    // reaches the mock engine only once the queued registrations drain.
    const first = !firstError;
    recordError(err);
    settled = await settle().catch(() => false);
    if (first && firstError) firstError.resourcesBefore = resources.length;
  }
  if (!settled) {
    // Stopped waiting with registrations still pending. After a program error that is expected (the
    // inputs that depend on it never resolve); without one, report what `pulumi up` would: a leak.
    const [leaks, message] = debuggable.leakedPromises();
    if (!firstError) recordError(new Error(`the program did not finish (${leaks.size} pending). ${message}`));
  }
  placeComponents();
  const plan: Plan = {
    stack: req.stack,
    project: req.project,
    config: req.config,
    resources,
    outputs,
    exportNames,
  };
  if (firstError) plan.error = { ...firstError };
  return plan;
}

process.once("message", (req: PlanRequest) => {
  run(req).then(
    (plan) => process.send?.({ plan }, undefined, {}, () => process.exit(0)),
    (err: Error) => {
      process.stderr.write(`plan runner failed: ${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
});
