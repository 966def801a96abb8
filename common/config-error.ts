// Config errors must stop the program before any resource is registered, and must say which key
// and which value were wrong: a user reading "invalid config" alone cannot fix a 40-line topology.
// Every problem of a config is reported at once, one line each, so a user fixes them in one pass.

/** One wrong config value: the key path, the value as read, and what is wrong with it. */
export interface ConfigProblem {
  key: string;
  value: unknown;
  reason: string;
}

/**
 * Thrown for invalid configuration; the message has one line per problem, each naming the key
 * path and the value: `Invalid config fieldnotes:topology.offload.kmss: true is not a known key…`.
 */
export class ConfigError extends Error {
  readonly problems: readonly ConfigProblem[];
  /** Key path of the first problem. */
  readonly key: string;
  /** Value of the first problem. */
  readonly value: unknown;

  constructor(key: string, value: unknown, reason: string);
  constructor(problems: readonly ConfigProblem[]);
  constructor(keyOrProblems: string | readonly ConfigProblem[], value?: unknown, reason?: string) {
    const problems =
      typeof keyOrProblems === "string"
        ? [{ key: keyOrProblems, value, reason: reason ?? "" }]
        : keyOrProblems;
    if (problems.length === 0) throw new Error("ConfigError needs at least one problem");
    super(problems.map(problemLine).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
    this.key = problems[0].key;
    this.value = problems[0].value;
  }
}

/**
 * Throws a ConfigError holding every problem, if there is any.
 *
 * @example
 * throwIfProblems([{ key: "fieldnotes:parts", value: [], reason: "must be a non-empty list" }]);
 * // throws ConfigError: Invalid config fieldnotes:parts: [] must be a non-empty list
 */
export function throwIfProblems(problems: readonly ConfigProblem[]): void {
  if (problems.length > 0) throw new ConfigError(problems);
}

/**
 * Runs a throwing loader; its ConfigError's problems go into `problems` and undefined is returned.
 *
 * @example
 * const problems: ConfigProblem[] = [];
 * const research = collectProblems(problems, () => loadResearchSettings(config)); // undefined when wrong
 * throwIfProblems(problems); // every key's problems, in one error
 */
export function collectProblems<T>(problems: ConfigProblem[], load: () => T): T | undefined {
  try {
    return load();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    problems.push(...e.problems);
    return undefined;
  }
}

function problemLine(p: ConfigProblem): string {
  return `Invalid config ${p.key}: ${showValue(p.value)} ${p.reason}`;
}

/**
 * @example
 * showValue(undefined); // "(not set)"
 * showValue({ kms: true }); // '{"kms":true}'
 */
export function showValue(value: unknown): string {
  if (value === undefined) return "(not set)";
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/**
 * The reason for a key nobody reads: the closest known key as a suggestion when there is one close
 * enough to be a typo, and the known keys.
 *
 * @example
 * unknownKeyReason("kmss", ["kms", "retentionDays"]);
 * // "is not a known key; did you mean kms? (known: kms, retentionDays)"
 */
export function unknownKeyReason(key: string, known: readonly string[]): string {
  const suggestion = closestKey(key, known);
  const list = `known: ${known.join(", ")}`;
  return suggestion === undefined
    ? `is not a known key (${list})`
    : `is not a known key; did you mean ${suggestion}? (${list})`;
}

/**
 * The known key a typo most likely meant: the smallest edit distance (case-insensitive), if that
 * distance is at most a third of the key's length (at least 2), else undefined.
 *
 * @example
 * closestKey("kmss", ["kms", "retentionDays"]); // "kms"
 * closestKey("colour", ["kms"]); // undefined: too far to be a typo
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: { key: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { key: candidate, distance };
  }
  const allowed = Math.max(2, Math.floor(key.length / 3));
  return best && best.distance <= allowed ? best.key : undefined;
}

/** Levenshtein distance, with a transposition of two neighbours counted as one edit. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.length][b.length];
}

/**
 * Reads a config key holding structured data; Pulumi stores objects as JSON strings.
 *
 * @example readStructured(new pulumi.Config("fieldnotes"), "research"); // {account: "…", …}, or undefined when unset
 */
export function readStructured(
  config: { get(key: string): string | undefined; name: string },
  key: string,
): unknown {
  const raw = config.get(key);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    // A plain scalar (e.g. `fieldnotes:parts: publisher`) is not JSON; keep it as the string it is.
    return raw;
  }
}
