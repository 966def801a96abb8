// PAYLOAD_REPLICAS, read at cold start like the rest of the environment (config.ts): the replicas a
// subscriber reads in its own Region, each standing for an origin bucket the pointers name.
import { SubscriberEnv } from "../contract";

type Env = Record<string, string | undefined>;

/** An origin bucket and its replica in the function's Region (one PAYLOAD_REPLICAS entry). */
export interface ReplicaPair {
  origin: string;
  replica: string;
}

/**
 * PAYLOAD_REPLICAS: comma-separated "originBucket=replicaBucket" pairs. Both buckets must be in
 * PAYLOAD_BUCKET_ALLOWLIST (`bucketAllowList`, already checked as bucket names): the reader reads
 * nowhere else. A replica is not its own origin, and an origin has one replica, the one in this
 * function's Region. Unset or blank: none.
 * @throws Error naming the variable and the entry.
 */
export function readReplicas(env: Env, bucketAllowList: readonly string[]): ReplicaPair[] {
  const name = SubscriberEnv.payloadReplicas;
  const pairs: ReplicaPair[] = [];
  for (const entry of (env[name] ?? "").split(",").map((s) => s.trim())) {
    if (entry === "") continue;
    const bad = (why: string) =>
      new Error(`environment variable ${name}: entry ${JSON.stringify(entry)} ${why}`);
    const parts = entry.split("=").map((s) => s.trim());
    if (parts.length !== 2 || parts.some((p) => p === "")) throw bad('must be "originBucket=replicaBucket"');
    const [origin, replica] = parts;
    for (const [what, bucket] of [
      ["origin", origin],
      ["replica", replica],
    ]) {
      if (!bucketAllowList.includes(bucket)) {
        throw bad(
          `names ${what} ${JSON.stringify(bucket)}, which is not in ${SubscriberEnv.bucketAllowList} [${bucketAllowList.join(", ")}]`,
        );
      }
    }
    if (origin === replica) throw bad("names the same bucket as origin and replica");
    if (pairs.some((p) => p.origin === origin)) throw bad(`gives origin "${origin}" a second replica`);
    pairs.push({ origin, replica });
  }
  return pairs;
}
