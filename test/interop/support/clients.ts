// Runs the Java and Python programs that drive AWS's extended clients (built and installed by
// test/interop/setup.sh), and parses the JSON lines they print.
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";

export const interopRoot = path.resolve(__dirname, "..");
const repoRoot = path.resolve(interopRoot, "..", "..");
export const javaJar = path.join(interopRoot, "java", "target", "interop-clients.jar");
export const pythonBin = path.join(repoRoot, ".venv", "interop", "bin", "python");
const pythonDir = path.join(interopRoot, "python");

/** One JSON line a program printed: what it sent or received, as sha256 and UTF-8 byte count. */
export interface ClientRecord {
  role: "sent" | "received";
  messageId: string;
  sha256: string;
  size: number;
  attributeNames?: string[];
  pointerInReceiptHandle?: boolean;
}

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  records: ClientRecord[];
}

export class ClientFailed extends Error {
  constructor(
    readonly program: string,
    readonly result: RunResult,
  ) {
    super(`${program} exited with ${result.code}:\n${result.stderr.slice(-4000)}`);
  }
}

/** Fails fast, with the command to run, when setup.sh has not been run. */
export function assertClientsInstalled(): void {
  const missing = [javaJar, pythonBin].filter((file) => !fs.existsSync(file));
  if (missing.length > 0) {
    throw new Error(
      `interop clients are not installed (missing ${missing.join(", ")}): run bash test/interop/setup.sh`,
    );
  }
}

/**
 * The child sees only the emulator environment: no developer ~/.aws profile, no instance metadata
 * lookups, so nothing can reach real AWS.
 */
function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    LANG: "C.UTF-8",
    AWS_CONFIG_FILE: "/dev/null",
    AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
    AWS_EC2_METADATA_DISABLED: "true",
    PYTHONDONTWRITEBYTECODE: "1",
    // boto3 reads the Region only from AWS_DEFAULT_REGION.
    ...(env.AWS_REGION ? { AWS_DEFAULT_REGION: env.AWS_REGION } : {}),
    ...env,
  };
}

function run(
  program: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<RunResult> {
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(command, args, { env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const timer = setTimeout(() => {
      stderr += `\n[killed after ${timeoutMs} ms]`;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`${program} could not start: ${err.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const records = stdout
        .split("\n")
        .filter((line) => line.startsWith("{"))
        .map((line) => JSON.parse(line) as ClientRecord);
      resolve({ code, stdout, stderr, records });
    });
  });
}

async function runOrThrow(
  program: string,
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
) {
  const result = await run(program, command, args, env, timeoutMs);
  if (result.code !== 0) throw new ClientFailed(program, result);
  return result.records;
}

// C1 only and the serial collector: these are short-lived processes on a 2-core machine.
const jvmFlags = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-jar", javaJar];

/** The Java program; `args` are its command and options (see InteropCli.java). */
export function runJava(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<RunResult> {
  return run(`java ${args[0]}`, "java", [...jvmFlags, ...args], env, timeoutMs);
}

/** A Python role script (e.g. "sqs_receive.py") from test/interop/python. */
export function runPython(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 120_000,
): Promise<RunResult> {
  return run(`python ${script}`, pythonBin, [path.join(pythonDir, script), ...args], env, timeoutMs);
}

export async function java(
  args: string[],
  env: Record<string, string>,
  timeoutMs?: number,
): Promise<ClientRecord[]> {
  return runOrThrow(`java ${args[0]}`, "java", [...jvmFlags, ...args], env, timeoutMs ?? 120_000);
}

export async function python(
  script: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs?: number,
): Promise<ClientRecord[]> {
  return runOrThrow(
    `python ${script}`,
    pythonBin,
    [path.join(pythonDir, script), ...args],
    env,
    timeoutMs ?? 120_000,
  );
}
