// The one way config is validated: valibot schemas built from these helpers, run with every issue
// collected (not only the first), and turned into ConfigProblems that name the key path and the
// value in the project's wording. Objects are strict: a key nobody reads is an error with the
// closest known key suggested, because a typo that is silently ignored deploys the wrong thing
// (`offload.kmss: true` would plan an SSE-S3 bucket).
import * as v from "valibot";
import { ConfigProblem, throwIfProblems, unknownKeyReason } from "./config-error";
import { isKnownRegion } from "./regions";

// For config code. Handler code imports valibot itself: esbuild keeps the whole of a re-exported
// namespace, which put 90 KiB of unused valibot into every handler bundle (measured 2026-11-28).
export { v };

/** Any schema whose input is unknown config and whose output is T. */
export type Schema<T = unknown> = v.GenericSchema<unknown, T>;

type Reason = string | ((input: unknown) => string);

/**
 * A value the test accepts, typed T; anything else is refused with `reason`.
 *
 * @example const even = accept<number>((x) => typeof x === "number" && x % 2 === 0, "must be an even number");
 */
export function accept<T>(test: (value: unknown) => boolean, reason: Reason) {
  return v.custom<T>(test, (issue) => (typeof reason === "string" ? reason : reason(issue.input)));
}

/**
 * A string matching `pattern`. The reason says in words what the pattern allows: an operator
 * should not have to read a regular expression to fix a config value.
 *
 * @example const vpcId = text(/^vpc-[0-9a-f]{8,17}$/, "must be a VPC ID (vpc-...)");
 */
export function text(pattern: RegExp, reason: string) {
  return accept<string>((x) => typeof x === "string" && pattern.test(x), reason);
}

/**
 * An integer from min to max inclusive.
 *
 * @example
 * parse(integer(1, 10), 11, "fieldnotes:retries");
 * // throws ConfigError: Invalid config fieldnotes:retries: 11 must be an integer from 1 to 10
 */
export function integer(min: number, max: number) {
  return accept<number>(
    (x) => typeof x === "number" && Number.isInteger(x) && x >= min && x <= max,
    `must be an integer from ${min} to ${max}`,
  );
}

/** true or false. */
export const bool = accept<boolean>((x) => typeof x === "boolean", "must be true or false");

/**
 * One of the listed values, which the message quotes.
 *
 * @example const protocol = oneOf(["email", "https"] as const); // refuses "sms": is not one of "email", "https"
 */
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

/**
 * @example
 * isAccountId("012345678901"); // true
 * isAccountId(12345678901); // false: a number lost its leading zero
 */
export function isAccountId(value: unknown): value is string {
  return typeof value === "string" && /^\d{12}$/.test(value);
}

/**
 * @example
 * accountReason(12345678901);
 * // 'is not a 12-digit AWS account ID: if you typed 012345678901, YAML read it as a number and dropped the leading zero; quote it: "012345678901"'
 */
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

/**
 * A list of items; `reason` when the value is not a list.
 *
 * @example const accounts = list(accountId, "must be a list of account IDs");
 */
export function list<T>(item: Schema<T>, reason = "must be a list") {
  return v.array(item, reason);
}

/**
 * A string, then checked by `pattern`: "must be a string" for other types, `reason` for a mismatch.
 *
 * @example const prefixes = list(listedText(/^[\w/-]+\/$/, "must end with /"));
 */
export function listedText(pattern: RegExp, reason: string) {
  return v.pipe(
    v.string("must be a string"),
    v.check((s) => pattern.test(s), reason),
  );
}

/**
 * An object that refuses unknown keys (with the closest known key suggested) and reports a missing
 * required key as "(not set)" with the key's own reason when it has a fixed one.
 *
 * @example
 * const offload = strict({ kms: bool }, "must be a map like {kms: true}");
 * parse(offload, { kmss: true }, "offload");
 * // throws: Invalid config offload.kmss: true is not a known key; did you mean kms? (known: kms)
 */
export function strict<const E extends v.ObjectEntries>(entries: E, reason: Reason) {
  return v.strictObject(entries, objectReason(entries, reason));
}

/**
 * An object that keeps keys it does not know, for input with room for fields others add (an AWS
 * event); otherwise like `strict`.
 *
 * @example const record = fields({ eventSource: v.string("must be a string") }, "must be an object"); // keeps AWS's other fields
 */
export function fields<const E extends v.ObjectEntries>(entries: E, reason: Reason) {
  return v.object(entries, objectReason(entries, reason));
}

function objectReason(entries: v.ObjectEntries, reason: Reason) {
  const known = Object.keys(entries);
  return (issue: v.BaseIssue<unknown>): string => {
    if (issue.expected === "never") return unknownKeyReason(String(issue.input), known);
    const missing = /^"(.*)"$/.exec(issue.expected ?? "");
    if (missing && issue.received === "undefined") {
      const message = (entries[missing[1]] as { message?: unknown } | undefined)?.message;
      return typeof message === "string" ? message : "is required";
    }
    return typeof reason === "string" ? reason : reason(issue.input);
  };
}

/**
 * Optional with a default: absent (or null, when `nullIsAbsent`) means the default.
 *
 * @example const retentionDays = withDefault(integer(1, 3653), 14); // absent: 14
 */
export function withDefault<T>(schema: Schema<T>, fallback: T, nullIsAbsent = false) {
  return nullIsAbsent ? v.nullish(schema, fallback) : v.optional(schema, fallback);
}

/** One problem a schema found: where (keys and list indexes from the root), the value there, what is wrong. */
export interface SchemaProblem {
  path: (string | number)[];
  value: unknown;
  reason: string;
}

/**
 * Validates `raw` against `schema` and returns the output, or every problem found (one per path:
 * a value failing its type and its range says so once). Config and handler input both go through
 * here; only the wording of a problem's place differs (a config key path, an environment variable,
 * an event field).
 *
 * @example
 * problemsOf(strict({ retries: integer(0, 5) }, "must be a map"), { retries: 9 });
 * // {output: undefined, problems: [{path: ["retries"], value: 9, reason: "must be an integer from 0 to 5"}]}
 */
export function problemsOf<T>(
  schema: Schema<T>,
  raw: unknown,
  everyRule = false,
): { output: T; problems: [] } | { output: undefined; problems: SchemaProblem[] } {
  // `everyRule` runs the rules of a pipe after one of them failed (valibot's abortPipeEarly off):
  // config wants every problem at once, and its rules only read what passed (`rule`, `checkKey`…).
  const result = v.safeParse(schema, raw, { abortEarly: false, abortPipeEarly: !everyRule });
  if (result.success) return { output: result.output, problems: [] };
  const problems: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const issue of result.issues) {
    const steps = issue.path ?? [];
    const path = steps.map((p) => (typeof p.key === "number" ? p.key : String(p.key)));
    const id = JSON.stringify(path);
    if (seen.has(id)) continue;
    seen.add(id);
    const last = steps[steps.length - 1];
    const unknownKey = issue.expected === "never" && last?.origin === "key";
    problems.push({ path, value: unknownKey ? last.value : issue.input, reason: issue.message });
  }
  return { output: undefined, problems };
}

/**
 * `a.b[0].c`: a problem's path as one text, the way the project's messages name a field.
 *
 * @example pathText(["subscribers", 0, "account"]); // "subscribers[0].account"
 */
export function pathText(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === "number" ? `[${p}]` : i === 0 ? p : `.${p}`)).join("");
}

/**
 * Validates `raw` against `schema` and returns the output and every problem found, each with its
 * key path under `root` (`fieldnotes:topology.subscribers[0].account`).
 *
 * @example
 * const { output, problems } = check(integer(0, 5), 9, "fieldnotes:retries");
 * // problems: [{key: "fieldnotes:retries", value: 9, reason: "must be an integer from 0 to 5"}]
 */
export function check<T>(
  schema: Schema<T>,
  raw: unknown,
  root: string,
): { output: T; problems: [] } | { output: undefined; problems: ConfigProblem[] } {
  const { output, problems } = problemsOf(schema, raw, true);
  if (problems.length === 0) return { output: output as T, problems: [] };
  return {
    output: undefined,
    problems: problems.map((p) => ({
      key: root + (p.path.length && typeof p.path[0] === "string" ? "." : "") + pathText(p.path),
      value: p.value,
      reason: p.reason,
    })),
  };
}

/**
 * A check across the keys of an object, reported on the one key to change, with that key's value
 * (valibot's `forward` would report the whole object as the value).
 *
 * @example
 * const range = v.pipe(
 *   strict({ min: integer(0, 9), max: integer(0, 9) }, "must be {min, max}"),
 *   checkKey("min", (r) => r.min <= r.max, (r) => `must be at most max (${r.max})`),
 * );
 */
export function checkKey<T extends Record<string, unknown>>(
  key: keyof T & string,
  test: (value: T) => boolean,
  reason: (value: T) => string,
) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const value = dataset.value as T;
    if (test(value)) return;
    addIssue({
      message: reason(value),
      input: value[key],
      path: [{ type: "object", origin: "value", input: value, key, value: value[key] }],
    });
  });
}

/**
 * A list whose items' ids (`idOf`) are unique: each repeat is reported at its index, on `field`
 * when given (the item's key that makes it a repeat), "is listed twice" unless `reason` says else.
 *
 * @example const groups = v.pipe(list(v.string()), unique((g: string) => g)); // a repeat: "is listed twice"
 */
export function unique<T>(
  idOf: (item: T, index: number) => string,
  field?: keyof T & string,
  reason: (id: string) => string = () => "is listed twice",
) {
  return v.rawCheck<T[]>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    const list = dataset.value as T[];
    const seen = new Set<string>();
    list.forEach((item, i) => {
      const id = idOf(item, i);
      if (seen.has(id)) {
        const at = { type: "array", origin: "value", input: list, key: i, value: item } as const;
        const value = field === undefined ? item : item[field];
        const inner = { ...(item as Record<string, unknown>) };
        addIssue({
          message: reason(id),
          input: value,
          path:
            field === undefined
              ? [at]
              : [at, { type: "object", origin: "value", input: inner, key: field, value }],
        });
      }
      seen.add(id);
    });
  });
}

/** Reports one problem of a `rule`: the path below the checked value, the value there, the reason. */
export type Report = (path: readonly (string | number)[], value: unknown, reason: string) => void;

/**
 * What a `rule` reads: a key of the checked value, or a path below one (`["publisher", "region"]`),
 * where `"*"` stands for every item of a list (`["subscribers", "*", "name"]`).
 */
export type Read<T> = (keyof T & string) | readonly [keyof T & string, ...(string | number)[]];

/**
 * A rule across the keys of an object (or the items of a list) that reports each problem on the
 * key to change, with that key's value, in the project's wording. It runs once everything it
 * `reads` passed its own schema, even when other keys did not, so its problems are reported with
 * theirs (under `check`; without `reads`, only when the whole value passed). A key another rule
 * found a problem in is still read: it has its type. The rule must read nothing outside `reads`:
 * the rest may still hold what the user wrote.
 *
 * @example
 * const range = v.pipe(
 *   strict({ min: integer(0, 9), max: integer(0, 9) }, "must be {min, max}"),
 *   rule<{ min: number; max: number }>(
 *     (r, report) => r.min > r.max && report(["min"], r.min, `must be at most max (${r.max})`),
 *     ["min", "max"],
 *   ),
 * );
 * // parse(range, { min: 5, max: 2 }, "x") throws "Invalid config x.min: 5 must be at most max (2)"
 */
export function rule<T>(run: (value: T, report: Report) => void, reads?: readonly Read<T>[]) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    const issues = dataset.issues ?? [];
    const readable = dataset.typed || (reads !== undefined && !issues.some((i) => blocks(i, reads)));
    if (!readable) return;
    const root = dataset.value;
    run(root as T, (path, value, reason) => {
      const items: v.IssuePathItem[] = [];
      let input: unknown = root;
      for (const key of path) {
        const next = (input as Record<string | number, unknown>)[key];
        items.push({ type: "unknown", origin: "value", input, key, value: next });
        input = next;
      }
      const [first, ...rest] = items;
      addIssue({ message: reason, input: value, path: first && [first, ...rest] });
    });
  });
}

/**
 * Whether an issue leaves something a rule reads without its type: a schema refused it, the value
 * above it, or something inside it. A rule's own problem (a validation) leaves the value its type;
 * an issue without a path is about the whole value (not an object, say).
 */
function blocks(
  issue: v.BaseIssue<unknown>,
  reads: readonly (string | readonly (string | number)[])[],
): boolean {
  if (issue.kind === "validation") return false;
  if (issue.path === undefined) return true;
  const at = issue.path.map((p) => p.key);
  return reads.some((read) =>
    (typeof read === "string" ? [read] : read).every(
      (step, i) => i >= at.length || step === "*" || step === at[i],
    ),
  );
}

/**
 * A check by a validator that throws (the payload library's validateKeyPrefix, validateKeyPath…):
 * its message becomes the problem's reason, so the library's rule and wording are not restated.
 *
 * @example const keyPrefix = v.pipe(v.string(), validatedBy(validateKeyPrefix)); // the library's rule and words
 */
export function validatedBy<T>(validate: (value: T) => void) {
  return v.rawCheck<T>(({ dataset, addIssue }) => {
    if (!dataset.typed) return;
    try {
      validate(dataset.value as T);
    } catch (error) {
      addIssue({ message: (error as Error).message });
    }
  });
}

/**
 * Like `check`, but throws a ConfigError with every problem.
 *
 * @example const days = parse(withDefault(integer(1, 3653), 14), undefined, "fieldnotes:logRetentionDays"); // 14
 */
export function parse<T>(schema: Schema<T>, raw: unknown, root: string): T {
  const { output, problems } = check(schema, raw, root);
  throwIfProblems(problems);
  return output as T;
}
