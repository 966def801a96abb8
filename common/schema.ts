// The one way config is validated: valibot schemas built from these helpers, run with every issue
// collected (not only the first), and turned into ConfigProblems that name the key path and the
// value in the project's wording. Objects are strict: a key nobody reads is an error with the
// closest known key suggested, because a typo that is silently ignored deploys the wrong thing
// (`offload.kmss: true` would plan an SSE-S3 bucket).
import * as v from "valibot";
import { ConfigProblem, throwIfProblems, unknownKeyReason } from "./config-error";
import { isKnownRegion } from "./regions";

export { v };

/** Any schema whose input is unknown config and whose output is T. */
export type Schema<T = unknown> = v.GenericSchema<unknown, T>;

type Reason = string | ((input: unknown) => string);

/** A value the test accepts, typed T; anything else is refused with `reason`. */
export function accept<T>(test: (value: unknown) => boolean, reason: Reason) {
  return v.custom<T>(test, (issue) => (typeof reason === "string" ? reason : reason(issue.input)));
}

/** A string matching `pattern`. */
export function text(pattern: RegExp, reason: string = `must match ${pattern}`) {
  return accept<string>((x) => typeof x === "string" && pattern.test(x), reason);
}

/** An integer from min to max inclusive. */
export function integer(min: number, max: number) {
  return accept<number>(
    (x) => typeof x === "number" && Number.isInteger(x) && x >= min && x <= max,
    `must be an integer from ${min} to ${max}`,
  );
}

/** true or false. */
export const bool = accept<boolean>((x) => typeof x === "boolean", "must be true or false");

/** One of the listed values, which the message quotes. */
export function oneOf<const T extends readonly (string | number)[]>(allowed: T) {
  return accept<T[number]>(
    (x) => allowed.includes(x as T[number]),
    `is not one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}`,
  );
}

/**
 * A 12-digit AWS account ID, as a string. YAML reads an unquoted 012345678901 as the number
 * 12345678901, and Pulumi hands a stack-level scalar over as the string "12345678901": both lost
 * the leading zero the user typed, so the message says to quote the value.
 */
export const accountId = accept<string>(isAccountId, accountReason);

export function isAccountId(value: unknown): value is string {
  return typeof value === "string" && /^\d{12}$/.test(value);
}

export function accountReason(value: unknown): string {
  const digits =
    typeof value === "number" && Number.isSafeInteger(value) && value >= 0
      ? String(value)
      : typeof value === "string" && /^\d{9,11}$/.test(value)
        ? value
        : undefined;
  if (digits !== undefined && digits.length < 12) {
    const restored = digits.padStart(12, "0");
    return `is not a 12-digit AWS account ID: if you typed ${restored}, YAML read it as a number and dropped the leading zero; quote it: "${restored}"`;
  }
  if (typeof value === "number") {
    return `is not a 12-digit AWS account ID: write it as a quoted string ("${value}"), or a leading zero is lost`;
  }
  return "is not a 12-digit AWS account ID";
}

/** A commercial-partition Region. */
export const region = accept<string>(
  isKnownRegion,
  "is not a known AWS Region (commercial partition, e.g. us-east-1)",
);

/** A list of items; `reason` when the value is not a list. */
export function list<T>(item: Schema<T>, reason = "must be a list") {
  return v.array(item, reason);
}

/** A string, then checked by `pattern`: "must be a string" for other types, `reason` for a mismatch. */
export function listedText(pattern: RegExp, reason: string) {
  return v.pipe(
    v.string("must be a string"),
    v.check((s) => pattern.test(s), reason),
  );
}

/**
 * An object that refuses unknown keys (with the closest known key suggested) and reports a missing
 * required key as "(not set)" with the key's own reason when it has a fixed one.
 */
export function strict<const E extends v.ObjectEntries>(entries: E, reason: string) {
  const known = Object.keys(entries);
  return v.strictObject(entries, (issue) => {
    if (issue.expected === "never") return unknownKeyReason(String(issue.input), known);
    const missing = /^"(.*)"$/.exec(issue.expected ?? "");
    if (missing && issue.received === "undefined") {
      const message = (entries[missing[1]] as { message?: unknown } | undefined)?.message;
      return typeof message === "string" ? message : "is required";
    }
    return reason;
  });
}

/** Optional with a default: absent (or null, when `nullIsAbsent`) means the default. */
export function withDefault<T>(schema: Schema<T>, fallback: T, nullIsAbsent = false) {
  return nullIsAbsent ? v.nullish(schema, fallback) : v.optional(schema, fallback);
}

/**
 * Validates `raw` against `schema` and returns the output and every problem found, each with its
 * key path under `root` (`fieldnotes:topology.subscribers[0].account`).
 */
export function check<T>(
  schema: Schema<T>,
  raw: unknown,
  root: string,
): { output: T; problems: [] } | { output: undefined; problems: ConfigProblem[] } {
  const result = v.safeParse(schema, raw, { abortEarly: false, abortPipeEarly: true });
  if (result.success) return { output: result.output, problems: [] };
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const issue of result.issues) {
    const path = issue.path ?? [];
    const key =
      root + path.map((p) => (typeof p.key === "number" ? `[${p.key}]` : `.${String(p.key)}`)).join("");
    // One problem per key: a value failing its type and its range says so once.
    if (seen.has(key)) continue;
    seen.add(key);
    const last = path[path.length - 1];
    const unknownKey = issue.expected === "never" && last?.origin === "key";
    problems.push({ key, value: unknownKey ? last.value : issue.input, reason: issue.message });
  }
  return { output: undefined, problems };
}

/** Like `check`, but throws a ConfigError with every problem. */
export function parse<T>(schema: Schema<T>, raw: unknown, root: string): T {
  const { output, problems } = check(schema, raw, root);
  throwIfProblems(problems);
  return output as T;
}
