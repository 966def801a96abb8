// The outputs of a deployed stack, read with the Pulumi CLI (`pulumi stack output --json`), for the
// commands that act on a deployed stack (`npm run qc`, `npm run dlq`): nothing is typed twice.
import { execFileSync } from "child_process";

export type Exec = (file: string, args: string[]) => string;

/**
 * Runs a program and returns its stdout; its stderr goes with the error when it fails.
 *
 * @example defaultExec("pulumi", ["stack", "output", "--json", "--stack", "dev"]); // the CLI's stdout
 */
export const defaultExec: Exec = (file, args) =>
  execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 16 << 20 });

/**
 * All outputs of `stack`. `fail` builds the caller's usage error, so each command reports a missing
 * CLI, a failing CLI or non-JSON output in its own terms.
 *
 * @example const outputs = readPulumiOutputs("research", (message) => new UsageError(message));
 */
export function readPulumiOutputs(
  stack: string,
  fail: (message: string) => Error,
  exec: Exec = defaultExec,
): Record<string, unknown> {
  let text: string;
  try {
    text = exec("pulumi", ["stack", "output", "--json", "--stack", stack]);
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string | Buffer };
    if (e.code === "ENOENT") {
      throw fail(
        "the Pulumi CLI is not installed (no `pulumi` on PATH): install it (https://www.pulumi.com/docs/install/) " +
          "and log in to the backend that holds the stack",
      );
    }
    throw fail(`pulumi stack output --stack ${stack} failed: ${String(e.stderr ?? e.message).trim()}`);
  }
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw fail(`pulumi stack output --json --stack ${stack} did not print JSON: ${text.slice(0, 200)}`);
  }
}
