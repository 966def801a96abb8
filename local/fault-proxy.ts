// A loopback HTTP proxy between an SDK client and an emulator, for fault injection. It forwards every
// request and records it; for the requests a rule selects it answers with an error or a redirect,
// cuts the socket, never answers, or stops in the middle of the response body. These are the faults
// S3 and the other AWS endpoints show in production (a 503 SlowDown on one part, a connection that
// hangs after the TCP handshake, a body that stops arriving) and that no emulator produces by itself.
// Used by the tests and by soak runs; it binds 127.0.0.1 only.
import * as http from "node:http";
import type { AddressInfo, Socket } from "node:net";

/** A request the proxy received, in arrival order. */
export interface ProxiedRequest {
  method: string;
  /** Path and query, e.g. `/bucket/key?tagging`. */
  url: string;
  headers: http.IncomingHttpHeaders;
  /** The first {@link REQUEST_BODY_KEPT} bytes of the request body, as UTF-8 (query/JSON APIs). */
  readonly body: string;
  /** Response body bytes sent back to the client so far (0 for a request that was never answered). */
  responseBytes: number;
  /** The fault applied, if a rule matched. */
  fault?: FaultAction["kind"];
  /** The AWS service and operation, from what the SDK put on the wire (see {@link classify}). */
  service: AwsService;
  operation: string;
}

/** The services the proxy tells apart; fauxqs serves SNS and SQS on one port. */
export type AwsService = "s3" | "sqs" | "sns" | "downstream";

/** How much of each request body is kept for assertions: enough for any SNS/SQS/SFN/ECS call. */
export const REQUEST_BODY_KEPT = 1024 * 1024;

/** What the proxy does with a request a rule selects. */
export type FaultAction =
  /**
   * Answers with this status, headers and body instead of forwarding. The content-length is the
   * body's, except for a HEAD request, whose answer has the rule's content-length (an object's,
   * e.g. one larger than a test can move) or none.
   */
  | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string }
  /** Accepts the request and never answers (the socket stays open until the client gives up). */
  | { kind: "stall" }
  /**
   * Forwards, sends the status, headers and the first `afterBytes` body bytes (or `afterFraction`
   * of the body), then sends nothing more, or the rest after `resumeAfterMs` (a slow server rather
   * than a hung one).
   */
  | { kind: "stall-body"; afterBytes?: number; afterFraction?: number; resumeAfterMs?: number }
  /** Destroys the client's socket without answering. */
  | { kind: "cut" }
  /**
   * Forwards the first `afterBytes` bytes of the request body, then cuts both connections: the
   * upstream never sees a complete request, the client sees its connection drop while sending.
   */
  | { kind: "cut-request"; afterBytes: number }
  /**
   * Forwards the whole request (the operation happens upstream), then cuts the client's socket
   * after `afterBytes` or `afterFraction` of the response body, always before its end: the client
   * cannot tell whether the operation happened.
   */
  | { kind: "cut-body"; afterBytes?: number; afterFraction?: number };

export interface FaultRule {
  /** Selects the requests this rule applies to. */
  match(request: ProxiedRequest): boolean;
  /** The action, or a function choosing it for the request (e.g. an error in the request's protocol). */
  action: FaultAction | ((request: ProxiedRequest) => FaultAction);
  /** Applies to this many matching requests, then stops matching (default: every one). */
  times?: number;
}

export interface FaultProxy {
  /** e.g. `http://127.0.0.1:41234` */
  endpoint: string;
  requests: ProxiedRequest[];
  /** Adds a rule (checked before older ones); returns a function that removes it. */
  addFault(rule: FaultRule): () => void;
  clearFaults(): void;
  /** Points the proxy at another upstream, e.g. an emulator restarted on a new port. */
  retarget(target: string): void;
  /** Closes the proxy and every open connection, stalled ones included. Idempotent. */
  stop(): Promise<void>;
}

/** An S3-style XML error answer, e.g. `s3Error(503, "SlowDown", "Please reduce your request rate.")`. */
export function s3Error(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): FaultAction {
  return {
    kind: "respond",
    status,
    headers: { "content-type": "application/xml", ...headers },
    body: `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`,
  };
}

/** An error answer in the protocol of the request (AWS JSON, query or S3 REST), which its SDK retries. */
export function awsError(request: ProxiedRequest, kind: "throttle" | "server"): FaultAction {
  const message = "injected by the fault proxy";
  if (typeof request.headers["x-amz-target"] === "string") {
    const type = kind === "throttle" ? "ThrottlingException" : "InternalFailure";
    return {
      kind: "respond",
      status: kind === "throttle" ? 400 : 500,
      headers: { "content-type": "application/x-amz-json-1.0", "x-amzn-query-error": `${type};Sender` },
      body: JSON.stringify({ __type: type, message }),
    };
  }
  if (request.service === "sns") {
    const [type, code] = kind === "throttle" ? ["Sender", "Throttling"] : ["Receiver", "InternalFailure"];
    return {
      kind: "respond",
      status: kind === "throttle" ? 400 : 500,
      headers: { "content-type": "text/xml" },
      body: `<ErrorResponse><Error><Type>${type}</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>`,
    };
  }
  return kind === "throttle"
    ? s3Error(503, "SlowDown", "Please reduce your request rate.")
    : s3Error(500, "InternalError", "We encountered an internal error. Please try again.");
}

/**
 * The AWS service and operation of a request, from what the SDK puts on the wire: the X-Amz-Target
 * header (SQS, Step Functions and ECS speak JSON), the Action field (SNS speaks the query protocol,
 * so its body is needed), or the S3 REST shape (method, sub-resource, copy-source header).
 */
export function classify(
  method: string,
  url: string,
  headers: http.IncomingHttpHeaders,
  body?: Buffer,
): { service: AwsService; operation: string } {
  const target = headers["x-amz-target"];
  if (typeof target === "string") {
    const [prefix, op] = target.split(".");
    return prefix === "AmazonSQS"
      ? { service: "sqs", operation: op }
      : { service: "downstream", operation: op ?? target };
  }
  if (body && isForm(headers)) {
    return {
      service: "sns",
      operation: new URLSearchParams(body.toString("utf8")).get("Action") ?? "unknown",
    };
  }
  const where = new URL(url, "http://x");
  const q = where.searchParams;
  const [, bucket, ...rest] = where.pathname.split("/");
  const onObject = rest.join("/") !== "";
  const copy = headers["x-amz-copy-source"] !== undefined;
  let operation: string;
  if (method === "PUT" && q.has("partNumber")) operation = copy ? "UploadPartCopy" : "UploadPart";
  else if (method === "PUT" && q.has("tagging")) operation = "PutObjectTagging";
  else if (method === "PUT" && onObject) operation = copy ? "CopyObject" : "PutObject";
  else if (method === "PUT") operation = "CreateBucket";
  else if (method === "POST" && q.has("uploads")) operation = "CreateMultipartUpload";
  else if (method === "POST" && q.has("uploadId")) operation = "CompleteMultipartUpload";
  else if (method === "POST" && q.has("delete")) operation = "DeleteObjects";
  else if (method === "GET" && q.has("tagging")) operation = "GetObjectTagging";
  else if (method === "GET" && onObject) operation = "GetObject";
  else if (method === "GET") operation = bucket ? "ListObjects" : "ListBuckets";
  else if (method === "HEAD") operation = onObject ? "HeadObject" : "HeadBucket";
  else if (method === "DELETE" && q.has("uploadId")) operation = "AbortMultipartUpload";
  else if (method === "DELETE") operation = onObject ? "DeleteObject" : "DeleteBucket";
  else operation = method;
  return { service: "s3", operation };
}

const isForm = (headers: http.IncomingHttpHeaders) =>
  String(headers["content-type"] ?? "").startsWith("application/x-www-form-urlencoded");

export interface FaultProxyOptions {
  /** Keep every request in `requests` (default true); a long soak counts instead. */
  record?: boolean;
  /**
   * Called with each forwarded request once the upstream has answered it, before the answer goes
   * back to the client; a returned promise holds the answer until it settles. Local mode's
   * replication (local/replication.ts) copies a write before the writer learns it succeeded.
   */
  afterUpstream?: (request: ProxiedRequest, status: number) => Promise<void> | undefined;
}

/** Starts a fault proxy on 127.0.0.1 in front of `target` (an `http://host:port` endpoint). */
export async function startFaultProxy(target: string, opts: FaultProxyOptions = {}): Promise<FaultProxy> {
  let upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  let rules: Array<FaultRule & { left: number }> = [];
  const sockets = new Set<Socket>();

  // Neither hop reuses a connection the other end may be closing. Node servers close an idle
  // keep-alive connection after 5 s, and a request sent on it at that moment fails with ECONNRESET,
  // which the proxy passes on as a dropped connection: on a loaded machine, where tests sit idle for
  // seconds, that failed tests whose clients make one attempt (replica.spec: "read ECONNRESET").
  // Upstream: a connection per request. Client side: idle connections stay open until stop().
  const upstreamAgent = new http.Agent({ keepAlive: false });
  const server = http.createServer((req, res) => {
    // A query-protocol request (SNS) names its operation in the body: such bodies are small and
    // read before a rule sees the request. Others (S3 bodies of many MiB) stream through.
    if (isForm(req.headers)) {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => handle(req, res, Buffer.concat(chunks)));
    } else handle(req, res);
  });

  function handle(req: http.IncomingMessage, res: http.ServerResponse, body?: Buffer) {
    const kept: Buffer[] = body ? [body.subarray(0, REQUEST_BODY_KEPT)] : [];
    let keptBytes = kept[0]?.length ?? 0;
    const seen: ProxiedRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      get body() {
        return Buffer.concat(kept, keptBytes).toString("utf8");
      },
      responseBytes: 0,
      ...classify(req.method ?? "", req.url ?? "", req.headers, body),
    };
    if (opts.record !== false) {
      requests.push(seen);
      // A streamed body is kept as it passes (a listener added in this tick misses no chunk).
      if (!body) {
        req.on("data", (chunk: Buffer) => {
          if (keptBytes >= REQUEST_BODY_KEPT) return;
          const piece = chunk.subarray(0, REQUEST_BODY_KEPT - keptBytes);
          kept.push(piece);
          keptBytes += piece.length;
        });
      }
    }
    const rule = rules.find((r) => r.left > 0 && r.match(seen));
    const action = rule && (typeof rule.action === "function" ? rule.action(seen) : rule.action);
    if (rule && action) {
      rule.left -= 1;
      seen.fault = action.kind;
    }
    if (action?.kind === "stall") {
      // Read and discard the body so the client finishes sending, then wait forever.
      if (!body) req.resume();
      return;
    }
    if (action?.kind === "cut") {
      req.socket.destroy();
      return;
    }
    if (action?.kind === "respond") {
      const answer = () => {
        const text = Buffer.from(action.body ?? "", "utf8");
        // A HEAD answer describes an object without sending it: its length is the object's, or
        // none at all when the rule gives none.
        const length = req.method === "HEAD" ? action.headers?.["content-length"] : String(text.length);
        res.writeHead(action.status, {
          ...action.headers,
          ...(length === undefined ? {} : { "content-length": length }),
        });
        seen.responseBytes = text.length;
        res.end(text);
      };
      if (body) answer();
      else {
        req.resume();
        req.on("end", answer);
      }
      return;
    }
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent: upstreamAgent,
      },
      (answer) => {
        const held = opts.afterUpstream?.(seen, answer.statusCode ?? 502);
        if (held) void held.catch(() => undefined).then(() => relay(answer));
        else relay(answer);
      },
    );
    const relay = (answer: http.IncomingMessage) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      const length = Number(answer.headers["content-length"] ?? 0);
      let limit =
        action?.kind === "stall-body" || action?.kind === "cut-body"
          ? (action.afterBytes ?? Math.floor(length * (action.afterFraction ?? 0)))
          : Infinity;
      let held: Buffer | undefined;
      let ended = false;
      let reached = false;
      const reachLimit = () => {
        if (reached) return;
        reached = true;
        answer.pause();
        if (action?.kind === "cut-body") {
          res.socket?.destroy();
          answer.destroy();
        } else if (action?.kind === "stall-body" && action.resumeAfterMs !== undefined) {
          setTimeout(() => {
            limit = Infinity;
            if (res.destroyed) return void answer.destroy();
            if (held) res.write(held);
            seen.responseBytes += held?.length ?? 0;
            held = undefined;
            if (ended) res.end();
            else answer.resume();
          }, action.resumeAfterMs).unref();
        }
      };
      answer.on("data", (chunk: Buffer) => {
        const room = limit - seen.responseBytes;
        const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
        if (piece.length) {
          seen.responseBytes += piece.length;
          if (!res.write(piece)) {
            answer.pause();
            res.once("drain", () => {
              if (seen.responseBytes < limit) answer.resume();
            });
          }
        }
        if (piece.length < chunk.length) held = chunk.subarray(piece.length);
        if (seen.responseBytes >= limit) reachLimit();
      });
      answer.on("end", () => {
        ended = true;
        if (seen.responseBytes < limit && action?.kind !== "cut-body") res.end();
        else if (limit === Infinity) res.end();
        // At the limit with nothing more to send (an empty or short body): cut or stall here.
        else reachLimit();
      });
      answer.on("error", () => res.destroy());
    };
    // An upstream that is down looks to the client like a dropped connection, as S3 outages do.
    forward.on("error", () => res.destroy());
    res.on("close", () => forward.destroy());
    if (action?.kind === "cut-request") {
      let room = action.afterBytes;
      const cut = () => {
        forward.destroy();
        req.socket.destroy();
      };
      if (body) {
        forward.write(body.subarray(0, room));
        return cut();
      }
      if (room <= 0) return cut();
      req.on("data", (chunk: Buffer) => {
        if (room <= 0) return;
        forward.write(chunk.subarray(0, room));
        room -= chunk.length;
        if (room <= 0) cut();
      });
      return;
    }
    if (body) forward.end(body);
    else req.pipe(forward);
  }
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  server.keepAliveTimeout = 0;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    addFault(rule) {
      const entry = { ...rule, left: rule.times ?? Infinity };
      rules = [entry, ...rules];
      return () => {
        rules = rules.filter((r) => r !== entry);
      };
    },
    clearFaults() {
      rules = [];
    },
    retarget(next) {
      upstream = new URL(next);
    },
    stop: () =>
      (stopped ??= new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      })),
  };
}

/** The faults a {@link seededFaults} rule draws from. */
export type FaultKind =
  /** A 500 in the request's protocol, not forwarded. */
  | "error5xx"
  /** The service's throttling answer (S3 503 SlowDown, SQS/SNS/SFN/ECS throttling), not forwarded. */
  | "throttle"
  /** Half the request body forwarded, then both connections cut: the operation never completes. */
  | "cutRequest"
  /** The operation completes upstream; its answer is cut half-way through the body. */
  | "cutResponse"
  /** The answer stops half-way through its body for `stallMs`, then the rest follows. */
  | "stall";
export const FAULT_KINDS: readonly FaultKind[] = [
  "error5xx",
  "throttle",
  "cutRequest",
  "cutResponse",
  "stall",
];

export interface SeededFaults {
  /** Add to a proxy with `addFault`; one rule may serve several proxies. */
  rule: FaultRule;
  /** Faults are drawn only while enabled. */
  enabled: boolean;
  /** `${service}:${operation}` → outcome ("ok" or a fault kind) → requests. */
  counts: Record<string, Record<string, number>>;
  byKind(): Record<FaultKind, number>;
  /** Called with every request the rule sees and what it drew for it (a soak logs them per key). */
  onDraw?: (request: ProxiedRequest, outcome: FaultKind | "ok") => void;
}

/** A small seeded generator (mulberry32): the same draws for the same seed on every machine. */
export function seededRandom(seed: string | number): () => number {
  let h = 1779033703 ^ String(seed).length;
  for (const ch of String(seed)) {
    h = Math.imul(h ^ ch.charCodeAt(0), 3432918353);
    h = (h << 13) | (h >>> 19);
  }
  let a = h >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A rule that gives each request of the chosen services a fault with probability `rate`, the kind
 * drawn uniformly from `kinds`. Each operation has its own seeded sequence, so the same seed meets
 * the same faults on each operation in the same order (which message meets them depends on timing).
 */
export function seededFaults(opts: {
  seed: string | number;
  services: readonly AwsService[];
  rate: number;
  stallMs: number;
  kinds?: readonly FaultKind[];
}): SeededFaults {
  if (!(opts.rate >= 0 && opts.rate <= 1))
    throw new Error(`fault rate must be from 0 to 1, got ${opts.rate}`);
  const kinds = opts.kinds ?? FAULT_KINDS;
  const sequences = new Map<string, () => number>();
  const drawn = new WeakMap<ProxiedRequest, FaultKind | undefined>();
  const counts: SeededFaults["counts"] = {};
  const faults: SeededFaults = {
    enabled: false,
    counts,
    byKind() {
      const totals = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
      for (const outcomes of Object.values(counts))
        for (const [k, n] of Object.entries(outcomes)) if (k !== "ok") totals[k as FaultKind] += n;
      return totals;
    },
    rule: {
      match(r) {
        if (drawn.has(r)) return drawn.get(r) !== undefined;
        let kind: FaultKind | undefined;
        if (faults.enabled && opts.services.includes(r.service) && kinds.length) {
          const key = `${r.service}:${r.operation}`;
          let next = sequences.get(key);
          if (!next) sequences.set(key, (next = seededRandom(`${opts.seed}|${key}`)));
          const [a, b] = [next(), next()];
          if (a < opts.rate) kind = kinds[Math.floor(b * kinds.length)];
        }
        drawn.set(r, kind);
        faults.onDraw?.(r, kind ?? "ok");
        const row = (counts[`${r.service}:${r.operation}`] ??= {});
        row[kind ?? "ok"] = (row[kind ?? "ok"] ?? 0) + 1;
        return kind !== undefined;
      },
      action(r): FaultAction {
        switch (drawn.get(r)) {
          case "error5xx":
            return awsError(r, "server");
          case "throttle":
            return awsError(r, "throttle");
          case "cutRequest":
            return {
              kind: "cut-request",
              afterBytes: Math.floor(Number(r.headers["content-length"] ?? 0) / 2),
            };
          case "cutResponse":
            return { kind: "cut-body", afterFraction: 0.5 };
          default:
            return { kind: "stall-body", afterFraction: 0.5, resumeAfterMs: opts.stallMs };
        }
      },
    },
  };
  return faults;
}
