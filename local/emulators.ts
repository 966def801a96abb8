// Loopback emulators for the local runner, the benchmarks and the soak; the test suites import them from here.
// Both bind 127.0.0.1 on an ephemeral port: a test must never expose a server beyond the machine,
// and fixed ports collide when suites run side by side.
import { randomUUID } from "node:crypto";
import * as fs from "node:fs";
import * as http from "node:http";
import * as os from "node:os";
import * as path from "node:path";
import { pathToFileURL } from "node:url";
import type { AddressInfo } from "node:net";
import { pipeline } from "node:stream/promises";
import { startFaultProxy, type FaultProxy } from "./fault-proxy";

/** A running emulator. `stop()` is idempotent. */
export interface RunningEmulator {
  /** e.g. `http://127.0.0.1:41234` */
  endpoint: string;
  stop(): Promise<void>;
}

/** A running s3rver; its on-disk store lives in `dir`, removed by `stop()`. */
export interface RunningS3rver extends RunningEmulator {
  dir: string;
}

/** Credentials both emulators accept (s3rver checks the access key; fauxqs ignores it). */
export const emulatorCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;
export const emulatorRegion = "us-east-1";

/**
 * SDK v3 client config for an emulator endpoint. Works for S3, SNS, SQS, SFN and ECS clients.
 * - path-style S3: neither emulator serves virtual-hosted bucket names on 127.0.0.1;
 * - checksums only when required: s3rver stores the framing of aws-chunked bodies as object data.
 */
export function emulatorClientConfig(endpoint: string) {
  return {
    endpoint,
    region: emulatorRegion,
    credentials: { ...emulatorCredentials },
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED" as const,
    responseChecksumValidation: "WHEN_REQUIRED" as const,
  };
}

/**
 * Environment that points code which only reads env (the Lambda handler bundles) at the emulators,
 * through the standard AWS SDK v3 variables. Pass only the services you run.
 */
export function emulatorEnv(endpoints: {
  s3?: string;
  sns?: string;
  sqs?: string;
  sfn?: string;
  ecs?: string;
}): Record<string, string> {
  const env: Record<string, string> = {
    AWS_REGION: emulatorRegion,
    AWS_ACCESS_KEY_ID: emulatorCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: emulatorCredentials.secretAccessKey,
    AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
    AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
  };
  if (endpoints.s3) env.AWS_ENDPOINT_URL_S3 = endpoints.s3;
  if (endpoints.sns) env.AWS_ENDPOINT_URL_SNS = endpoints.sns;
  if (endpoints.sqs) env.AWS_ENDPOINT_URL_SQS = endpoints.sqs;
  if (endpoints.sfn) env.AWS_ENDPOINT_URL_SFN = endpoints.sfn;
  if (endpoints.ecs) env.AWS_ENDPOINT_URL_ECS = endpoints.ecs;
  return env;
}

// fauxqs is ESM-only (its exports map has no "require" condition). Under a commonjs build,
// TypeScript would rewrite import() into require(), so keep a real dynamic import, and resolve the
// entry file ourselves so that it works from any cwd and from worker threads.
const realImport = new Function("specifier", "return import(specifier)") as (
  specifier: string,
) => Promise<unknown>;

function fauxqsEntryUrl(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const pkgFile = path.join(dir, "node_modules", "fauxqs", "package.json");
    if (fs.existsSync(pkgFile)) {
      const pkg = JSON.parse(fs.readFileSync(pkgFile, "utf8"));
      const entry: string = pkg.exports?.["."]?.import?.default ?? pkg.main;
      return pathToFileURL(path.join(path.dirname(pkgFile), entry)).href;
    }
    if (path.dirname(dir) === dir) throw new Error("fauxqs is not installed (npm ci)");
  }
}

interface FauxqsApp {
  listen(opts: { port: number; host: string }): Promise<string>;
  close(): Promise<void>;
  server: { address(): AddressInfo | string | null };
}

/**
 * Starts fauxqs 1.9.2 (SNS + SQS + in-memory S3) in-process on 127.0.0.1. Not its CLI nor its own
 * `startFauxqs()`, which bind 0.0.0.0.
 */
export async function startFauxqs(): Promise<RunningEmulator> {
  const mod = (await realImport(fauxqsEntryUrl())) as {
    buildApp(o: { logger: boolean }): FauxqsApp;
  };
  const app = mod.buildApp({ logger: false });
  await app.listen({ port: 0, host: "127.0.0.1" });
  const address = app.server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    stop: () => (stopped ??= app.close()),
  };
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  store: S3rverStore;
}

/** The two methods of s3rver's FilesystemStore that write a request body (lib/stores/filesystem.js). */
interface S3rverStore {
  putObject(object: { content: unknown }): Promise<{ size: number; md5: string }>;
  putPart(bucket: string, uploadId: string, partNumber: number, content: unknown): Promise<unknown>;
}

/**
 * S3 adds an object only once its whole body has arrived: a success answer means the entire object
 * was added, and S3 never adds a partial one (PutObject, Amazon S3 API Reference:
 * https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html); a request whose connection
 * drops part-way fails (IncompleteBody, RequestTimeout) and leaves what was there before. s3rver
 * 3.7.1 pipes the request body straight into the object's file (parts likewise) and never notices a
 * request that ended early, so a cut upload, or a worker killed while uploading, left the bytes that
 * had arrived as a complete-looking object (or part). Here each body is spooled to a file of its own
 * and handed to s3rver only once the request completed; a cut one is dropped.
 */
function storeCompleteBodiesOnly(store: S3rverStore, spoolDir: string): void {
  const S3Error = require("s3rver/lib/models/error") as new (code: string, message: string) => Error;
  const spool = async (content: unknown): Promise<string | undefined> => {
    if (!(content instanceof http.IncomingMessage)) return undefined;
    const file = path.join(spoolDir, randomUUID());
    try {
      await pipeline(content, fs.createWriteStream(file));
      if (content.complete) return file;
    } catch {
      // The request ended early (ERR_STREAM_PREMATURE_CLOSE): answered below.
    }
    await fs.promises.rm(file, { force: true });
    throw new S3Error(
      "IncompleteBody",
      "You did not provide the number of bytes specified by the Content-Length HTTP header",
    );
  };
  const putObject = store.putObject.bind(store);
  const putPart = store.putPart.bind(store);
  store.putObject = async (object) => {
    const file = await spool(object.content);
    if (!file) return putObject(object);
    try {
      return await putObject(Object.assign(object, { content: fs.createReadStream(file) }));
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  };
  store.putPart = async (bucket, uploadId, partNumber, content) => {
    const file = await spool(content);
    if (!file) return putPart(bucket, uploadId, partNumber, content);
    try {
      return await putPart(bucket, uploadId, partNumber, fs.createReadStream(file));
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  };
}

/**
 * Starts s3rver 3.7.1 (S3 on disk, flat memory: the store for large payloads) on 127.0.0.1 with a
 * fresh temp directory. `buckets` are created at start. `stop()` closes it and removes the directory.
 * `port` lets a fault test restart it on the same endpoint after stopping it.
 */
export async function startS3rver(
  opts: { buckets?: string[]; port?: number; dir?: string } = {},
): Promise<RunningS3rver> {
  const S3rver = require("s3rver") as new (o: Record<string, unknown>) => S3rverInstance;
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), "s3rver-"));
  const server = new S3rver({
    address: "127.0.0.1",
    port: opts.port ?? 0,
    silent: true,
    directory: dir,
    configureBuckets: (opts.buckets ?? []).map((name) => ({ name })),
  });
  // Outside the store: s3rver takes every directory at its root for a bucket.
  const spoolDir = fs.mkdtempSync(path.join(os.tmpdir(), "s3rver-spool-"));
  storeCompleteBodiesOnly(server.store, spoolDir);
  const address = await server.run();
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    dir,
    stop: () =>
      (stopped ??= server.close().finally(() => {
        fs.rmSync(spoolDir, { recursive: true, force: true });
        if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
      })),
  };
}

export type { ProxiedRequest } from "./fault-proxy";

/**
 * A loopback HTTP proxy in front of an emulator that records every request, so a test can prove
 * that an operation made no S3 call, or made only the calls it should. `retarget()` points it at a
 * restarted emulator, so clients keep one endpoint across a stop/start fault test; `addFault()`
 * makes it fail the requests a test selects (local/fault-proxy.ts).
 */
export async function startCountingProxy(target: string): Promise<FaultProxy> {
  return startFaultProxy(target);
}
