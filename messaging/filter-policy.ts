// SNS subscription filter policies, attribute scope: checked at config time against SNS's limits
// and this system's wire format, and evaluated by local mode to report a filtered-out message as
// filtered. No Pulumi import: the local runtime and the tests use it too.
import { MARKER_ATTRIBUTE_NAMES } from "./payload/attributes";

// Limits from "Filter policy constraints in Amazon SNS" (Amazon SNS Developer Guide):
// | rule                                   | limit                                              |
// |----------------------------------------|----------------------------------------------------|
// | keys (attribute names) in a policy     | 5                                                  |
// | combinations (product of array sizes)  | 150                                                |
// | policy size                            | 256 KB                                             |
// | numeric values                         | -1e9 to 1e9, five digits after the decimal point   |
// | nesting (MessageAttributes scope)      | none: attribute policies are flat                  |
// | attribute data types compared          | String, String.Array, Number (Binary never matches) |
export const FILTER_POLICY_MAX_KEYS = 5;
export const FILTER_POLICY_MAX_COMBINATIONS = 150;
export const FILTER_POLICY_MAX_BYTES = 256 * 1024;
const NUMERIC_LIMIT = 1e9;

/** The operators SNS accepts inside an attribute condition object. */
const OPERATORS = ["prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case"] as const;
const NUMERIC_OPS = ["=", "<", "<=", ">", ">="];
/** Names a producer cannot set on a message (the writers refuse them), so a policy on them is a mistake. */
const RESERVED_PREFIX = /^(aws|amazon)\./i;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;

export type FilterPolicy = Record<string, unknown>;

/** A problem with a policy: where in it (a JSON path below the policy) and what is wrong. */
export class FilterPolicyError extends Error {
  constructor(
    readonly path: string,
    readonly value: unknown,
    readonly reason: string,
  ) {
    super(`${path} ${reason}`);
    this.name = "FilterPolicyError";
  }
}

/**
 * Validates an attribute-scope filter policy. Returns it unchanged when valid.
 * @throws FilterPolicyError naming the place in the policy, the value and the rule it breaks.
 */
export function validateFilterPolicy(policy: unknown): FilterPolicy {
  if (typeof policy !== "object" || policy === null || Array.isArray(policy)) {
    throw new FilterPolicyError("", policy, "must be an object of attribute name → list of conditions");
  }
  const p = policy as FilterPolicy;
  if (Object.keys(p).length === 0) throw new FilterPolicyError("", p, "must name at least one attribute");
  const size = Buffer.byteLength(JSON.stringify(p), "utf8");
  if (size > FILTER_POLICY_MAX_BYTES) {
    throw new FilterPolicyError("", `${size} bytes`, `is over SNS's ${FILTER_POLICY_MAX_BYTES}-byte limit`);
  }
  const names = new Set<string>();
  const branches = checkGroup(p, "", names, true);
  if (names.size > FILTER_POLICY_MAX_KEYS) {
    throw new FilterPolicyError(
      "",
      [...names],
      `names ${names.size} attributes; SNS allows at most ${FILTER_POLICY_MAX_KEYS} keys in a policy`,
    );
  }
  if (branches > FILTER_POLICY_MAX_COMBINATIONS) {
    throw new FilterPolicyError(
      "",
      `${branches} value combinations`,
      `are more than the ${FILTER_POLICY_MAX_COMBINATIONS} SNS allows (the product of the lists' lengths, $or branches added)`,
    );
  }
  return p;
}

/** Checks one level (the policy or an `$or` branch); returns its number of value combinations. */
function checkGroup(group: FilterPolicy, at: string, names: Set<string>, top: boolean): number {
  let combinations = 1;
  for (const [key, conditions] of Object.entries(group)) {
    const path = `${at}.${key}`;
    if (key === "$or") {
      if (!top) throw new FilterPolicyError(path, conditions, "may appear only at the top of the policy");
      if (!Array.isArray(conditions) || conditions.length < 2) {
        throw new FilterPolicyError(path, conditions, "must be a list of at least two policy objects");
      }
      let sum = 0;
      conditions.forEach((branch, i) => {
        if (
          typeof branch !== "object" ||
          branch === null ||
          Array.isArray(branch) ||
          !Object.keys(branch).length
        ) {
          throw new FilterPolicyError(
            `${path}[${i}]`,
            branch,
            "must be a non-empty object of attribute conditions",
          );
        }
        sum += checkGroup(branch as FilterPolicy, `${path}[${i}]`, names, false);
      });
      combinations *= sum;
      continue;
    }
    checkName(key, path);
    names.add(key);
    if (!Array.isArray(conditions)) {
      const nested = typeof conditions === "object" && conditions !== null;
      throw new FilterPolicyError(
        path,
        conditions,
        nested
          ? "is a nested object: attribute-scope policies are flat (nesting is for MessageBody scope, which this system refuses)"
          : `must be a list of conditions, e.g. [${JSON.stringify(conditions)}]`,
      );
    }
    if (conditions.length === 0)
      throw new FilterPolicyError(path, conditions, "must list at least one condition");
    conditions.forEach((c, i) => checkCondition(c, `${path}[${i}]`));
    combinations *= conditions.length;
  }
  return combinations;
}

function checkName(name: string, path: string): void {
  if (MARKER_ATTRIBUTE_NAMES.includes(name)) {
    throw new FilterPolicyError(
      path,
      name,
      "is the payload marker attribute: it is present only when a payload is offloaded, so a policy on it routes by payload size and offload settings, not by content. Filter on an attribute the producer sets",
    );
  }
  if (RESERVED_PREFIX.test(name)) {
    throw new FilterPolicyError(
      path,
      name,
      "uses a prefix AWS reserves: no message can carry this attribute",
    );
  }
  if (!ATTRIBUTE_NAME.test(name)) {
    throw new FilterPolicyError(
      path,
      name,
      "is not a message attribute name (1-256 of [A-Za-z0-9_.-]): no message can carry it",
    );
  }
}

function checkNumber(value: unknown, path: string): void {
  if (typeof value !== "number" || !Number.isFinite(value) || Math.abs(value) > NUMERIC_LIMIT) {
    throw new FilterPolicyError(path, value, `must be a number from -${NUMERIC_LIMIT} to ${NUMERIC_LIMIT}`);
  }
  if (Math.round(value * 1e5) / 1e5 !== value) {
    throw new FilterPolicyError(path, value, "has more than the five decimal digits SNS compares");
  }
}

function checkCondition(condition: unknown, path: string): void {
  if (typeof condition === "string" || typeof condition === "boolean") return;
  if (typeof condition === "number") return checkNumber(condition, path);
  if (typeof condition !== "object" || condition === null || Array.isArray(condition)) {
    throw new FilterPolicyError(path, condition, "must be a string, a number, or an operator object");
  }
  const ops = Object.keys(condition);
  const op = ops[0] as (typeof OPERATORS)[number];
  if (ops.length !== 1 || !OPERATORS.includes(op)) {
    throw new FilterPolicyError(path, condition, `must have exactly one operator of ${OPERATORS.join(", ")}`);
  }
  const arg = (condition as Record<string, unknown>)[op];
  const at = `${path}.${op}`;
  switch (op) {
    case "prefix":
    case "suffix":
    case "equals-ignore-case":
      if (typeof arg !== "string" || arg === "")
        throw new FilterPolicyError(at, arg, "must be a non-empty string");
      return;
    case "exists":
      if (typeof arg !== "boolean") throw new FilterPolicyError(at, arg, "must be true or false");
      return;
    case "anything-but": {
      if (typeof arg === "object" && arg !== null && !Array.isArray(arg)) {
        const inner = Object.keys(arg);
        if (inner.length !== 1 || !["prefix", "suffix"].includes(inner[0])) {
          throw new FilterPolicyError(at, arg, 'as an object must be {"prefix": …} or {"suffix": …}');
        }
        return checkCondition(arg, at);
      }
      const values = Array.isArray(arg) ? arg : [arg];
      if (values.length === 0) throw new FilterPolicyError(at, arg, "must list at least one value");
      values.forEach((v, i) => {
        if (typeof v === "number") checkNumber(v, `${at}[${i}]`);
        else if (typeof v !== "string")
          throw new FilterPolicyError(`${at}[${i}]`, v, "must be a string or a number");
      });
      return;
    }
    case "numeric": {
      if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) {
        throw new FilterPolicyError(at, arg, 'must be [op, n] or [op, n, op, n], e.g. [">=", 0, "<", 100]');
      }
      for (let i = 0; i < arg.length; i += 2) {
        if (!NUMERIC_OPS.includes(arg[i] as string)) {
          throw new FilterPolicyError(`${at}[${i}]`, arg[i], `must be one of ${NUMERIC_OPS.join(" ")}`);
        }
        checkNumber(arg[i + 1], `${at}[${i + 1}]`);
      }
      if (arg.length === 4 && (arg[0] === "=" || arg[2] === "=")) {
        throw new FilterPolicyError(at, arg, 'may combine only a lower and an upper bound, not "="');
      }
      return;
    }
  }
}

/** A message attribute as the filter sees it: SNS's DataType and the string form of its value. */
export interface FilterAttribute {
  DataType: string;
  StringValue?: string;
}

/**
 * Whether SNS would deliver a message with these attributes under `policy` (attribute scope): every
 * key must match one of its conditions, and with `$or` one branch must match as well. String.Array
 * values match when any element matches; Binary attributes never match.
 */
export function filterPolicyMatches(
  policy: FilterPolicy,
  attributes: Record<string, FilterAttribute>,
): boolean {
  return groupMatches(policy, attributes);
}

function groupMatches(group: FilterPolicy, attributes: Record<string, FilterAttribute>): boolean {
  return Object.entries(group).every(([key, conditions]) =>
    key === "$or"
      ? (conditions as FilterPolicy[]).some((branch) => groupMatches(branch, attributes))
      : (conditions as unknown[]).some((c) => conditionMatches(c, attributes[key])),
  );
}

/** The values an attribute offers to the filter: none for Binary, each element of a String.Array. */
function valuesOf(attr: FilterAttribute | undefined): Array<string | number | boolean | null> {
  if (!attr || attr.StringValue === undefined || attr.DataType.startsWith("Binary")) return [];
  if (attr.DataType.startsWith("Number")) return [Number(attr.StringValue)];
  if (attr.DataType === "String.Array") {
    try {
      const parsed = JSON.parse(attr.StringValue) as unknown;
      if (Array.isArray(parsed))
        return parsed.filter((v) => ["string", "number", "boolean"].includes(typeof v) || v === null);
    } catch {
      return [];
    }
    return [];
  }
  return [attr.StringValue];
}

function conditionMatches(condition: unknown, attr: FilterAttribute | undefined): boolean {
  const values = valuesOf(attr);
  if (typeof condition === "string" || typeof condition === "boolean") {
    return values.some((v) => v === condition);
  }
  if (typeof condition === "number") return values.some((v) => typeof v === "number" && v === condition);
  const [op, arg] = Object.entries(condition as Record<string, unknown>)[0];
  switch (op) {
    case "exists":
      return arg === (attr !== undefined);
    case "prefix":
      return values.some((v) => typeof v === "string" && v.startsWith(arg as string));
    case "suffix":
      return values.some((v) => typeof v === "string" && v.endsWith(arg as string));
    case "equals-ignore-case":
      return values.some((v) => typeof v === "string" && v.toLowerCase() === (arg as string).toLowerCase());
    case "anything-but": {
      if (values.length === 0) return false;
      if (typeof arg === "object" && arg !== null && !Array.isArray(arg)) {
        return values.every((v) => !conditionMatches(arg, { DataType: "String", StringValue: String(v) }));
      }
      const excluded = Array.isArray(arg) ? arg : [arg];
      return values.every((v) => !excluded.includes(v));
    }
    case "numeric": {
      const range = arg as Array<string | number>;
      return values.some((v) => {
        if (typeof v !== "number" || Number.isNaN(v)) return false;
        for (let i = 0; i < range.length; i += 2) {
          const bound = range[i + 1] as number;
          const ok = { "=": v === bound, "<": v < bound, "<=": v <= bound, ">": v > bound, ">=": v >= bound }[
            range[i] as string
          ];
          if (!ok) return false;
        }
        return true;
      });
    }
  }
  return false;
}
