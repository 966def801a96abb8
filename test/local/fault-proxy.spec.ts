import * as assert from "node:assert/strict";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { s3Error, startFaultProxy, type FaultProxy } from "../../local/fault-proxy";

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
