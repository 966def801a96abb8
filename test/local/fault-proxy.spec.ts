import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import {
  classify,
  s3Error,
  seededFaults,
  seededRandom,
  startFaultProxy,
  type AwsService,
  type FaultKind,
  type FaultProxy,
  type SeededFaults,
} from "../../local/fault-proxy";

/** GET through the proxy; resolves with what arrived before the answer ended, failed or timed out. */
function get(
  endpoint: string,
  path: string,
  timeoutMs = 300,
): Promise<{ status?: number; body: string; outcome: "end" | "error" | "timeout" }> {
  return new Promise((resolve) => {
    let body = "";
    let status: number | undefined;
    const req = http.get(`${endpoint}${path}`, (res) => {
      status = res.statusCode;
      res.setEncoding("utf8");
      res.on("data", (c: string) => (body += c));
      res.on("end", () => resolve({ status, body, outcome: "end" }));
      res.on("error", () => resolve({ status, body, outcome: "error" }));
    });
    req.setTimeout(timeoutMs, () => {
      resolve({ status, body, outcome: "timeout" });
      req.destroy();
    });
    req.on("error", () => resolve({ status, body, outcome: "error" }));
  });
}

describe("fault proxy (local/fault-proxy.ts)", () => {
  let upstream: http.Server;
  let proxy: FaultProxy;
  const BODY = "0123456789".repeat(10_000);

  before(async () => {
    upstream = http.createServer((_req, res) => {
      res.writeHead(200, { "content-length": String(BODY.length) });
      res.end(BODY);
    });
    await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
    proxy = await startFaultProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`);
  });
  after(async () => {
    await proxy.stop();
    upstream.closeAllConnections();
    await new Promise<void>((r) => upstream.close(() => r()));
  });
  afterEach(() => proxy.clearFaults());

  it("forwards and records requests the rules do not select, counting response bytes", async () => {
    const got = await get(proxy.endpoint, "/plain");
    assert.deepEqual([got.status, got.body.length, got.outcome], [200, BODY.length, "end"]);
    const seen = proxy.requests.at(-1)!;
    assert.deepEqual(
      [seen.method, seen.url, seen.responseBytes, seen.fault],
      ["GET", "/plain", BODY.length, undefined],
    );
  });

  it("answers a selected request with an error, only as many times as asked", async () => {
    proxy.addFault({ match: (r) => r.url === "/busy", action: s3Error(503, "SlowDown", "slow"), times: 1 });
    const first = await get(proxy.endpoint, "/busy");
    assert.equal(first.status, 503);
    assert.match(first.body, /<Code>SlowDown<\/Code>/);
    assert.equal((await get(proxy.endpoint, "/busy")).status, 200, "the rule is used up");
  });

  it("never answers a stalled request, stops mid-body, and cuts the socket", async () => {
    proxy.addFault({ match: (r) => r.url === "/stall", action: { kind: "stall" } });
    proxy.addFault({ match: (r) => r.url === "/half", action: { kind: "stall-body", afterBytes: 1000 } });
    proxy.addFault({ match: (r) => r.url === "/cut", action: { kind: "cut" } });
    const [stalled, half, cut] = await Promise.all([
      get(proxy.endpoint, "/stall"),
      get(proxy.endpoint, "/half"),
      get(proxy.endpoint, "/cut"),
    ]);
    assert.deepEqual([stalled.status, stalled.outcome], [undefined, "timeout"]);
    assert.deepEqual([half.status, half.body.length, half.outcome], [200, 1000, "timeout"]);
    assert.equal(cut.outcome, "error");
  });
});

describe("fault proxy: the faults a soak draws", function () {
  this.timeout(20_000);
  const payload = Buffer.alloc(200 * 1024, "p");

  /** An upstream that counts the requests it completed and answers each with a 64 KiB body. */
  async function startUpstream() {
    let completed = 0;
    const body = Buffer.alloc(64 * 1024, "x");
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        completed++;
        res.writeHead(200, { "content-length": body.length });
        res.end(body);
      });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
      endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      completed: () => completed,
      body,
      stop: () => {
        server.closeAllConnections();
        return new Promise<void>((r) => server.close(() => r()));
      },
    };
  }

  /** One request with a body: the status and body, or that the connection dropped. */
  function send(endpoint: string, path: string, body: Buffer, headers: Record<string, string> = {}) {
    return new Promise<{ status?: number; body?: Buffer; error?: boolean; ms: number }>((resolve) => {
      const t0 = Date.now();
      const req = http.request(
        `${endpoint}${path}`,
        { method: "PUT", headers: { "content-length": String(body.length), ...headers } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () =>
            resolve({ status: res.statusCode, body: Buffer.concat(chunks), ms: Date.now() - t0 }),
          );
          res.on("error", () => resolve({ error: true, ms: Date.now() - t0 }));
        },
      );
      req.on("error", () => resolve({ error: true, ms: Date.now() - t0 }));
      req.end(body);
    });
  }

  /** A proxy whose seeded rule faults every request of `services` with `kind`. */
  async function withFault(
    kind: FaultKind,
    run: (
      faults: SeededFaults,
      proxy: FaultProxy,
      up: Awaited<ReturnType<typeof startUpstream>>,
    ) => Promise<void>,
    services: AwsService[] = ["s3"],
  ) {
    const up = await startUpstream();
    const proxy = await startFaultProxy(up.endpoint, { record: false });
    const faults = seededFaults({ seed: 1, services, rate: 1, stallMs: 400, kinds: [kind] });
    faults.enabled = true;
    proxy.addFault(faults.rule);
    try {
      await run(faults, proxy, up);
    } finally {
      await proxy.stop();
      await up.stop();
    }
  }

  it("answers 5xx and throttling in the S3 error format without forwarding", async () => {
    for (const [kind, status, code] of [
      ["error5xx", 500, "InternalError"],
      ["throttle", 503, "SlowDown"],
    ] as const) {
      await withFault(kind, async (faults, proxy, up) => {
        const r = await send(proxy.endpoint, "/bucket/key", payload);
        assert.equal(r.status, status);
        assert.match(r.body!.toString(), new RegExp(`<Code>${code}</Code>`));
        assert.equal(up.completed(), 0, "the request must not reach the emulator");
        assert.deepEqual(faults.counts["s3:PutObject"], { [kind]: 1 });
      });
    }
  });

  it("answers SQS (JSON) and SNS (query) throttling in their own protocols", async () => {
    await withFault(
      "throttle",
      async (faults, proxy) => {
        const sqs = await send(proxy.endpoint, "/", Buffer.from("{}"), {
          "x-amz-target": "AmazonSQS.ReceiveMessage",
          "content-type": "application/x-amz-json-1.0",
        });
        assert.equal(JSON.parse(sqs.body!.toString()).__type, "ThrottlingException");
        const sns = await send(proxy.endpoint, "/", Buffer.from("Action=Publish&TopicArn=x"), {
          "content-type": "application/x-www-form-urlencoded",
        });
        assert.match(sns.body!.toString(), /<Code>Throttling<\/Code>/);
        assert.deepEqual(Object.keys(faults.counts).sort(), ["sns:Publish", "sqs:ReceiveMessage"]);
      },
      ["sqs", "sns"],
    );
  });

  it("cuts a request mid-body: the emulator never completes it and the client's connection drops", async () => {
    await withFault("cutRequest", async (faults, proxy, up) => {
      const r = await send(proxy.endpoint, "/bucket/key?partNumber=1&uploadId=u", payload);
      assert.equal(r.error, true, `expected a dropped connection, got status ${r.status}`);
      await new Promise((res) => setTimeout(res, 100));
      assert.equal(up.completed(), 0);
      assert.deepEqual(faults.counts["s3:UploadPart"], { cutRequest: 1 });
    });
  });

  it("cuts a response mid-body after the emulator completed the operation", async () => {
    await withFault("cutResponse", async (_f, proxy, up) => {
      const r = await send(proxy.endpoint, "/bucket/key", payload);
      assert.equal(up.completed(), 1, "the operation happened upstream");
      assert.equal(r.error, true, "the client must not get the whole answer");
    });
  });

  it("stalls an answer half-way, then delivers it whole", async () => {
    await withFault("stall", async (_f, proxy, up) => {
      const r = await send(proxy.endpoint, "/bucket/key", payload);
      assert.equal(r.status, 200);
      assert.ok(r.body!.equals(up.body), "the stalled body arrives intact");
      assert.ok(r.ms >= 350, `answered in ${r.ms} ms, expected the 400 ms stall`);
    });
  });

  it("passes everything through while disabled, and the services it does not fault", async () => {
    await withFault(
      "error5xx",
      async (faults, proxy) => {
        faults.enabled = false;
        assert.equal((await send(proxy.endpoint, "/b/k", payload)).status, 200);
        faults.enabled = true;
        assert.equal((await send(proxy.endpoint, "/b/k", payload)).status, 200, "S3 is not faulted here");
        assert.deepEqual(faults.counts["s3:PutObject"], { ok: 2 });
      },
      ["sqs"],
    );
  });

  it("reports each request and what it drew for it, for a per-key log", async () => {
    await withFault("error5xx", async (faults, proxy) => {
      const drawn: string[] = [];
      faults.onDraw = (r, outcome) => drawn.push(`${r.operation} ${r.url} ${outcome}`);
      await send(proxy.endpoint, "/b/k", payload);
      faults.enabled = false;
      await send(proxy.endpoint, "/b/k", payload);
      assert.deepEqual(drawn, ["PutObject /b/k error5xx", "PutObject /b/k ok"]);
    });
  });

  it("draws the same faults for the same seed, other faults for another", () => {
    const draws = (seed: string) => Array.from({ length: 50 }, seededRandom(seed));
    assert.deepEqual(draws("15|s3:GetObject"), draws("15|s3:GetObject"));
    assert.notDeepEqual(draws("15|s3:GetObject"), draws("16|s3:GetObject"));
  });

  it("names the S3 operation from the request line", () => {
    const op = (method: string, url: string, headers: http.IncomingHttpHeaders = {}) =>
      classify(method, url, headers).operation;
    assert.equal(op("PUT", "/b/k?partNumber=2&uploadId=x"), "UploadPart");
    assert.equal(
      op("PUT", "/b/k?partNumber=2&uploadId=x", { "x-amz-copy-source": "/b/s" }),
      "UploadPartCopy",
    );
    assert.equal(op("PUT", "/b/k", { "x-amz-copy-source": "/b/s" }), "CopyObject");
    assert.equal(op("PUT", "/b/k?tagging"), "PutObjectTagging");
    assert.equal(op("GET", "/b/k?tagging"), "GetObjectTagging");
    assert.equal(op("POST", "/b/k?uploads"), "CreateMultipartUpload");
    assert.equal(op("POST", "/b/k?uploadId=x"), "CompleteMultipartUpload");
    assert.equal(op("GET", "/b/k/with/slashes"), "GetObject");
    assert.equal(op("GET", "/b?list-type=2"), "ListObjects");
    assert.equal(op("DELETE", "/b/k?uploadId=x"), "AbortMultipartUpload");
  });

  it("refuses a fault rate outside 0–1", () => {
    assert.throws(
      () => seededFaults({ seed: 1, services: [], rate: 1.5, stallMs: 1 }),
      /fault rate must be from 0 to 1, got 1.5/,
    );
  });
});
