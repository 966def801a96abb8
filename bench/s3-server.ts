// The payload benchmark's S3 stand-in, in a process of its own (bench/payload.ts starts it). In the
// benchmark's own process, s3rver shared a heap, and so a GC regime, with fauxqs and the
// orchestrator, and the cost of serving a GetObject depended on what else that process had loaded
// (docs/benchmarks.md). Prints {"endpoint"} once listening; stops when its stdin closes, which also
// happens when the parent dies.
import { startS3rver } from "../local/emulators";

async function main(): Promise<void> {
  const buckets = process.argv.slice(2);
  if (buckets.length === 0) throw new Error("usage: s3-server BUCKET...");
  const server = await startS3rver({ buckets });
  process.stdout.write(`${JSON.stringify({ endpoint: server.endpoint })}\n`);
  process.stdin.resume();
  process.stdin.once("end", () => {
    server.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

main().catch((error) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exit(1);
});
