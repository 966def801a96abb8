// S3 Replication, emulated for local mode: s3rver has none. A proxy in front of s3rver sees every
// write the functions make, and for a write under a replicated prefix of an origin bucket it copies
// the object to the replica after `objectMs`, and the checksum tag after `tagMs` (counted from the
// tag's own write, as S3 replicates a later PutObjectTagging as a separate operation). With both
// lags 0 the write's answer waits for its replication, so the replica is complete before the
// publisher publishes the pointer: a run without lag is deterministic.
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  PutObjectCommand,
  PutObjectTaggingCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { PayloadLayout, SubscriberEnv } from "../messaging/contract";
import type { LocalFunction } from "./deploy";
import { emulatorClientConfig } from "./emulators";
import { startFaultProxy, type FaultProxy, type ProxiedRequest } from "./fault-proxy";

/** One replication rule: objects under `prefix` in `origin` are copied to `replica`, same key. */
export interface ReplicationRule {
  origin: string;
  replica: string;
  prefix: string;
}

/** How far the replica trails the origin: the object, and the tag written after it. */
export interface ReplicationLag {
  objectMs: number;
  tagMs: number;
}

export interface LocalReplication {
  /** The S3 endpoint the functions use: writes through it are replicated. */
  endpoint: string;
  rules: readonly ReplicationRule[];
  /** Objects and tags copied so far, and the copies that failed (each with its reason). */
  readonly copied: { objects: number; tags: number };
  readonly failures: string[];
  /**
   * Holds replication until `release()`: the replica lags as long as the caller says, so a run can
   * show the fallback deterministically. "tags" holds only the tags (the replica has the object
   * without its checksum tag); "objects" holds both.
   */
  hold(what: "objects" | "tags"): void;
  release(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The rules the program's subscriber functions imply: each PAYLOAD_REPLICAS pair is an origin
 * bucket and its replica, replicating the payload prefix (what the replication rule of the stack
 * filters on).
 */
export function replicationRules(functions: readonly LocalFunction[]): ReplicationRule[] {
  const rules = new Map<string, ReplicationRule>();
  for (const fn of functions) {
    for (const pair of (fn.plannedEnv[SubscriberEnv.payloadReplicas] ?? "").split(",")) {
      const [origin, replica] = pair.split("=").map((s) => s.trim());
      if (!origin || !replica) continue;
      rules.set(`${origin}=${replica}`, { origin, replica, prefix: PayloadLayout.payloadPrefix });
    }
  }
  return [...rules.values()];
}

const OBJECT_WRITES = new Set(["PutObject", "CompleteMultipartUpload", "CopyObject"]);

/** Bucket and key of a path-style S3 request. */
function location(request: ProxiedRequest): { bucket: string; key: string } {
  const path = new URL(request.url, "http://x").pathname;
  const [, bucket, ...rest] = path.split("/");
  return { bucket: decodeURIComponent(bucket ?? ""), key: rest.map(decodeURIComponent).join("/") };
}

export async function startReplication(
  s3Endpoint: string,
  rules: readonly ReplicationRule[],
  lag: ReplicationLag,
): Promise<LocalReplication> {
  const s3 = new S3Client(emulatorClientConfig(s3Endpoint));
  for (const replica of new Set(rules.map((r) => r.replica))) {
    // The stack may plan the replica bucket itself (then it exists already) or not.
    await s3.send(new CreateBucketCommand({ Bucket: replica })).catch((error: { name?: string }) => {
      if (error?.name !== "BucketAlreadyOwnedByYou" && error?.name !== "BucketAlreadyExists") throw error;
    });
  }
  const copied = { objects: 0, tags: 0 };
  const failures: string[] = [];
  const held = { objects: false, tags: false };
  const waiting: Array<() => Promise<void>> = [];
  const timers = new Set<NodeJS.Timeout>();
  const pending = new Set<Promise<void>>();
  /** Keys whose object copy is done, each with its copy's promise (the tag waits for it). */
  const objectCopies = new Map<string, Promise<void>>();
  let stopped = false;

  const track = (work: Promise<void>) => {
    pending.add(work);
    void work.finally(() => pending.delete(work));
    return work;
  };
  const after = (ms: number, job: () => Promise<void>): Promise<void> =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve(job());
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve(stopped ? undefined : job());
      }, ms);
      timers.add(timer);
    });

  const copyObject = async (rule: ReplicationRule, key: string) => {
    const got = await s3.send(new GetObjectCommand({ Bucket: rule.origin, Key: key }));
    // Tags are not copied with the object: the tag is replicated as its own, later operation.
    await s3.send(
      new PutObjectCommand({
        Bucket: rule.replica,
        Key: key,
        Body: got.Body as NodeJS.ReadableStream as never,
        ContentLength: got.ContentLength,
      }),
    );
    copied.objects += 1;
  };
  const copyTag = async (rule: ReplicationRule, key: string) => {
    await objectCopies.get(`${rule.replica}/${key}`);
    const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: rule.origin, Key: key }));
    await s3.send(
      new PutObjectTaggingCommand({ Bucket: rule.replica, Key: key, Tagging: { TagSet: tags.TagSet ?? [] } }),
    );
    copied.tags += 1;
  };

  const replicate = (request: ProxiedRequest, status: number): Promise<void> | undefined => {
    if (stopped || status < 200 || status >= 300) return undefined;
    const isObject = OBJECT_WRITES.has(request.operation);
    if (!isObject && request.operation !== "PutObjectTagging") return undefined;
    const { bucket, key } = location(request);
    const rule = rules.find((r) => r.origin === bucket && key.startsWith(r.prefix));
    if (!rule) return undefined;
    const what = `${request.operation} s3://${rule.replica}/${key}`;
    const copy = () =>
      (isObject ? copyObject : copyTag)(rule, key).catch((error: Error) => {
        failures.push(`${what}: ${error.name}: ${error.message}`);
      });
    const job = () => track(after(isObject ? lag.objectMs : lag.tagMs, copy));
    const holding = held.objects || (!isObject && held.tags);
    let work: Promise<void>;
    if (holding) {
      let run!: () => Promise<void>;
      work = new Promise<void>((resolve) => (run = () => job().then(resolve)));
      waiting.push(run);
    } else work = job();
    if (isObject) objectCopies.set(`${rule.replica}/${key}`, work);
    // Without lag the write's answer waits for its replication (never for a held one).
    return !holding && lag.objectMs === 0 && lag.tagMs === 0 ? work : undefined;
  };

  const proxy: FaultProxy = await startFaultProxy(s3Endpoint, { record: false, afterUpstream: replicate });
  return {
    endpoint: proxy.endpoint,
    rules,
    copied,
    failures,
    hold(what) {
      held[what] = true;
    },
    async release() {
      held.objects = held.tags = false;
      await Promise.all(waiting.splice(0).map((run) => run()));
    },
    async stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      await Promise.allSettled([...pending]);
      await proxy.stop();
      s3.destroy();
    },
  };
}
