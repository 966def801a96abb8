import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import * as path from "node:path";
import { promisify } from "node:util";
import { S3Client } from "@aws-sdk/client-s3";
import { uploadPayload } from "../../messaging/payload";
import { bundleWorker } from "../../bench/payload";
import type { WorkerJob, WorkerResult } from "../../bench/worker";
import { emulatorClientConfig, startS3rver, type RunningS3rver } from "../../local/emulators";
import { payloadStream } from "./helpers";

const MiB = 1024 * 1024;
const ROOT = path.resolve(__dirname, "../..");

describe("payload memory", function () {
  let s3rver: RunningS3rver;
  let s3: S3Client;
  before(async () => {
    s3rver = await startS3rver({ buckets: ["mem"] });
    s3 = new S3Client(emulatorClientConfig(s3rver.endpoint));
  });
  after(async () => {
    s3?.destroy();
    await s3rver?.stop();
  });

  it("resolving 256 MiB as a stream grows the resolving process's RSS by less than 128 MiB", async () => {
    const size = 256 * MiB;
    const source = payloadStream(size);
    const stored = await uploadPayload(source, { s3, bucket: "mem", keyPrefix: "payloads/" });
    // A fresh process, so that the figure is the resolve's own and not what this one already holds.
    const job: WorkerJob = {
      mode: "resolve",
      s3Endpoint: s3rver.endpoint,
      bucket: "mem",
      size,
      partSize: 8 * MiB,
      queueSize: 4,
      s3Key: stored.pointer.s3Key,
    };
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ["--no-warnings", bundleWorker(), JSON.stringify(job)],
      { cwd: ROOT, maxBuffer: 1024 * 1024 },
    );
    const result = JSON.parse(stdout.trim().split("\n").at(-1)!) as WorkerResult;
    assert.deepEqual([result.bytes, result.sha256, result.verified], [size, source.sha256(), true]);
    const growthMiB = result.peakRssMiB - result.startRssMiB;
    if (process.env.PAYLOAD_TEST_VERBOSE)
      console.log(
        `      resolve RSS ${result.startRssMiB.toFixed(1)} → ${result.peakRssMiB.toFixed(1)} MiB in ${result.seconds.toFixed(1)} s`,
      );
    assert.ok(growthMiB < 128, `RSS grew by ${growthMiB.toFixed(1)} MiB while resolving 256 MiB`);
  });
});
