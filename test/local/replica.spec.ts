// Local mode's emulated S3 Replication (local/replication.ts) and the demo of a subscriber reading its
// Region-local replica: the real reader against s3rver through the replicating proxy, and the demo
// of the dev stack with subscriber b's replica on.
import * as assert from "node:assert/strict";
import { Writable } from "node:stream";
import { S3Client } from "@aws-sdk/client-s3";
import { PayloadLayout } from "../../messaging/contract";
import {
  digestPayload,
  formatPointer,
  resolveMessage,
  uploadPayload,
  type PayloadReadFrom,
  type ReaderOptions,
} from "../../messaging/payload";
import { parseArgs, parseReplicaLag, USAGE } from "../../local/cli";
import { renderReport, runDemo, type DemoReport } from "../../local/demo";
import { emulatorClientConfig, startS3rver, type RunningS3rver } from "../../local/emulators";
import { planStack } from "../../local/plan";
import { startReplication, type LocalReplication, type ReplicationLag } from "../../local/replication";
import { KiB } from "../../local/size";
import { loadStackConfig } from "../../local/stack-config";

const ORIGIN = "fieldnotes-payloads-111111111111-us-east-1";
const REPLICA = "fieldnotes-payloads-111111111111-us-west-2";
const rules = [{ origin: ORIGIN, replica: REPLICA, prefix: PayloadLayout.payloadPrefix }];

describe("local mode: emulated replication, read through by the real reader", function () {
  this.timeout(60_000);
  let s3rver: RunningS3rver;
  let direct: S3Client;

  before(async () => {
    s3rver = await startS3rver({ buckets: [ORIGIN] });
    direct = new S3Client(emulatorClientConfig(s3rver.endpoint));
  });
  after(async () => {
    direct?.destroy();
    await s3rver?.stop();
  });

  /** A replication at `lag`, a writer through it, and a reader with the replica. */
  async function setUp(lag: ReplicationLag) {
    const replication = await startReplication(s3rver.endpoint, rules, lag);
    const through = new S3Client(emulatorClientConfig(replication.endpoint));
    const reader: ReaderOptions = {
      s3: direct,
      allowedBuckets: [ORIGIN, REPLICA],
      replicas: { [ORIGIN]: { bucket: REPLICA } },
    };
    const write = (body: string) =>
      uploadPayload(body, { s3: through, bucket: ORIGIN, keyPrefix: "payloads/" });
    const read = async (out: Awaited<ReturnType<typeof write>>): Promise<PayloadReadFrom> => {
      const message = resolveMessage(
        {
          body: formatPointer(out.pointer),
          attributes: { ExtendedPayloadSize: { DataType: "Number", StringValue: String(out.size) } },
        },
        reader,
      );
      const digest = await digestPayload(message);
      assert.equal(digest.sha256, out.sha256);
      return digest.readFrom!;
    };
    const stop = async (r: LocalReplication) => {
      through.destroy();
      await r.stop();
      assert.deepEqual(r.failures, []);
    };
    return { replication, write, read, stop: () => stop(replication) };
  }

  it("without lag the replica is complete when the write returns; held, it lags: object first, its tag later", async () => {
    const { replication, write, read, stop } = await setUp({ objectMs: 0, tagMs: 0 });
    try {
      assert.equal((await read(await write("ready at once"))).reason, "replica-hit");
      replication.hold("tags");
      const tagLate = await write("tag arrives later");
      assert.equal((await read(tagLate)).reason, "replica-untagged");
      await replication.release();
      assert.equal((await read(tagLate)).reason, "replica-hit");
      replication.hold("objects");
      const objectLate = await write("object arrives later");
      assert.equal((await read(objectLate)).reason, "replica-missing");
      await replication.release();
      assert.equal((await read(objectLate)).reason, "replica-hit");
      assert.deepEqual(replication.copied, { objects: 3, tags: 3 });
    } finally {
      await stop();
    }
  });

  it("with a lag, reads fall back to the origin until the object and then its tag arrive", async () => {
    const { write, read, stop } = await setUp({ objectMs: 300, tagMs: 900 });
    try {
      const out = await write("lagged");
      const order = ["replica-missing", "replica-untagged", "replica-hit"];
      const seen: string[] = [];
      for (let until = Date.now() + 20_000; Date.now() < until;) {
        const { reason } = await read(out);
        if (seen.at(-1) !== reason) seen.push(reason);
        if (reason === "replica-hit") break;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(seen.at(-1), "replica-hit", `reads: ${seen.join(" → ")}`);
      // Never backwards: a replica does not lose its object or tag.
      assert.deepEqual(
        seen,
        [...seen].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
      );
      assert.ok(seen.length >= 2, `the first read fell back: ${seen.join(" → ")}`);
    } finally {
      await stop();
    }
  });

  it("--replica-lag: LAG or OBJECT,TAG durations, 0s allowed; bad values name the flag; --help lists it", () => {
    assert.deepEqual(parseReplicaLag("2s"), { objectMs: 2000, tagMs: 2000 });
    assert.deepEqual(parseReplicaLag("0s,1500ms"), { objectMs: 0, tagMs: 1500 });
    assert.deepEqual(parseArgs(["start", "--replica-lag", "1s,3s"]).replicaLag, {
      objectMs: 1000,
      tagMs: 3000,
    });
    assert.throws(() => parseReplicaLag("2"), /--replica-lag: "2" is not a duration such as 90s/);
    assert.throws(() => parseReplicaLag("1s,2s,3s"), /--replica-lag: "1s,2s,3s" must be LAG or OBJECT,TAG/);
    assert.throws(() => parseReplicaLag("1s,"), /must be LAG or OBJECT,TAG/);
    assert.throws(
      () => parseArgs(["plan", "--stack", "dev", "--replica-lag", "1s"]),
      /--replica-lag is an option of "start"/,
    );
    assert.match(USAGE, /--replica-lag LAG/);
  });
});

describe("local mode: the dev stack with subscriber b reading its replica", function () {
  this.timeout(180_000);
  let report: DemoReport;
  let text: string;

  before(async () => {
    // The dev topology with b's replica on (whatever Pulumi.yaml says): the program wires it.
    const { config } = loadStackConfig("dev");
    const topology = JSON.parse(config["fieldnotes:topology"]) as {
      subscribers: { name: string; replica?: boolean }[];
    };
    topology.subscribers.find((s) => s.name === "b")!.replica = true;
    const plan = await planStack("dev", { config: { "fieldnotes:topology": JSON.stringify(topology) } });
    assert.equal(plan.error, undefined, plan.error?.message);
    report = await runDemo({
      plan,
      sizes: [KiB, 300 * KiB],
      out: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    text = renderReport(report);
  });

  it("b reads from its replica, and from the origin in the lag step (the tag not replicated yet); c reads as before", () => {
    assert.ok(report.ok, `${report.reason}\n${text}`);
    const b = report.rows.filter((r) => r.subscriber === "b" && r.path === "S3");
    assert.deepEqual(
      b.map((r) => [r.replicaLag === true, r.readFrom]),
      [
        [false, { from: "replica", reason: "replica-hit" }],
        [true, { from: "origin", reason: "replica-untagged" }],
      ],
    );
    for (const r of report.rows.filter((r) => r.subscriber === "c")) assert.equal(r.readFrom, undefined);
    for (const r of b) assert.equal(r.reportedSha256, r.sha256);
  });

  it("the report counts b's reads by location and reason, and the metrics say it too", () => {
    assert.match(text, /\nReplica reads: b: replica 1 \(replica-hit 1\) · origin 1 \(replica-untagged 1\)\n/);
    const metric = (name: string) =>
      report.metrics
        .filter((m) => m.name === name && m.dimensions.includes("subscriber=b"))
        .reduce((n, m) => n + m.sum, 0);
    assert.deepEqual([metric("replicaReads"), metric("replicaFallbacks")], [1, 1]);
    for (const line of text.split("\n")) assert.ok(line.length <= 100, `over 100 columns: ${line}`);
  });
});
