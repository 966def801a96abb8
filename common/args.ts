// The one command-line reader of every command (npm start/plan, qc, dlq, soak, the benchmarks):
// node:util parseArgs, strict, with its mistakes reworded the way the config errors are (the flag
// and the value named, the closest known flag suggested), and one grammar for numeric flags.
// Sizes and durations have theirs in local/size.ts.
import { parseArgs, type ParseArgsConfig } from "node:util";
import { closestKey } from "./config-error";

/** A command-line mistake: the command prints it (with its usage) and exits with status 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;
const HELP = { help: { type: "boolean", short: "h" } } as const;

/**
 * Reads `argv` (without node and the script) against `options`, every command's `-h`/`--help`
 * included. An unknown flag (with the closest known one suggested), a missing value (or a flag in
 * its place: `--input --stack r`), a flag given twice that is not `multiple`, a value for a switch,
 * or a positional the command does not take is a {@link UsageError} naming it. `hidden` flags are
 * read but never suggested: an old spelling kept working should not be what a typo is pointed to.
 *
 * @example
 * const { values } = readFlags(["--repeat", "3"], { repeat: { type: "string" } });
 * values.repeat; // "3"
 * readFlags(["--repet", "3"], { repeat: { type: "string" } });
 * // throws UsageError: unknown flag "--repet"; did you mean --repeat?
 */
export function readFlags<const O extends Options>(
  argv: readonly string[],
  options: O,
  { positionals = false, hidden = [] }: { positionals?: boolean; hidden?: readonly string[] } = {},
) {
  const all = { ...options, ...HELP };
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: all,
      strict: true,
      allowPositionals: positionals,
      tokens: true,
    });
  } catch (error) {
    throw new UsageError(
      reworded(
        (error as Error).message,
        Object.keys(all).filter((k) => !hidden.includes(k)),
      ),
    );
  }
  const seen = new Set<string>();
  for (const token of parsed.tokens) {
    if (token.kind !== "option") continue;
    const option = all[token.name as keyof typeof all] as { type: string; multiple?: boolean };
    if (seen.has(token.name) && !option.multiple) throw new UsageError(`--${token.name} is given twice`);
    seen.add(token.name);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

function reworded(message: string, known: string[]): string {
  const unknown = /^Unknown option '(-{1,2})([^']+)'/.exec(message);
  if (unknown) {
    const suggestion = unknown[1] === "--" ? closestKey(unknown[2], known) : undefined;
    return `unknown flag "${unknown[1]}${unknown[2]}"${suggestion ? `; did you mean --${suggestion}?` : ""}`;
  }
  const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(message);
  if (missing) return `${missing[1]} needs a value`;
  // A value starting with "-" (`--input --stack r`): strict parseArgs takes it for a forgotten value.
  const ambiguous = /^Option '(?:-\w, )?(--[\w-]+)' argument is ambiguous/.exec(message);
  if (ambiguous)
    return `${ambiguous[1]} needs a value (a value starting with "-" goes as ${ambiguous[1]}=VALUE)`;
  const switched = /^Option '(?:-\w, )?(--[\w-]+)' does not take an argument/.exec(message);
  if (switched) return `${switched[1]} takes no value`;
  const positional = /^Unexpected argument '([^']*)'/.exec(message);
  if (positional) return `unexpected argument "${positional[1]}"`;
  return message;
}

/**
 * What a command's entry point does with the error that ended it: a {@link UsageError} is printed
 * with the usage and gives exit status 2, anything else its message and 1. `prefix` names the
 * command in the message (`dlq: `).
 *
 * @example
 * main(process.argv.slice(2)).catch((error) => process.exit(failed(error, USAGE)));
 */
export function failed(error: unknown, usage: string, prefix = ""): number {
  if (error instanceof UsageError) {
    console.error(`${prefix}${error.message}\n${usage}`);
    return 2;
  }
  console.error(`${prefix}${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
  return 1;
}

/**
 * A whole-number flag: digits only (no sign, fraction, exponent or hex), from `min` to `max`.
 *
 * @example integerFlag("--repeat", "5", 1, 1000) // 5
 * @example integerFlag("--repeat", "2.5", 1, 1000) // throws UsageError: --repeat: "2.5" must be an integer from 1 to 1000
 */
export function integerFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min || n > max) {
    throw new UsageError(`${flag}: "${text}" must be an integer from ${min} to ${max}`);
  }
  return n;
}

/**
 * A decimal flag: digits with an optional fraction (no sign or exponent), from `min` to `max`.
 *
 * @example numberFlag("--fault-rate", "0.05", 0, 1) // 0.05
 * @example numberFlag("--fault-rate", "5%", 0, 1) // throws UsageError: --fault-rate: "5%" must be a number from 0 to 1
 */
export function numberFlag(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || n < min || n > max) {
    throw new UsageError(`${flag}: "${text}" must be a number from ${min} to ${max}`);
  }
  return n;
}
