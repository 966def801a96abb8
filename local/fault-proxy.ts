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
  /** Response body bytes sent back to the client so far (0 for a request that was never answered). */
  responseBytes: number;
  /** The fault applied, if a rule matched. */
  fault?: FaultAction["kind"];
}

/** What the proxy does with a request a rule selects. */
export type FaultAction =
  /** Answers with this status, headers and body instead of forwarding. */
  | { kind: "respond"; status: number; headers?: Record<string, string>; body?: string }
  /** Accepts the request and never answers (the socket stays open until the client gives up). */
  | { kind: "stall" }
  /** Forwards, sends the status, headers and the first `afterBytes` body bytes, then sends nothing more. */
  | { kind: "stall-body"; afterBytes: number }
  /** Destroys the client's socket without answering. */
  | { kind: "cut" };

export interface FaultRule {
  /** Selects the requests this rule applies to. */
  match(request: ProxiedRequest): boolean;
  action: FaultAction;
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

/** Starts a fault proxy on 127.0.0.1 in front of `target` (an `http://host:port` endpoint). */
export async function startFaultProxy(target: string): Promise<FaultProxy> {
  let upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  let rules: Array<FaultRule & { left: number }> = [];
  const sockets = new Set<Socket>();

  const server = http.createServer((req, res) => {
    const seen: ProxiedRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      responseBytes: 0,
    };
    requests.push(seen);
    const rule = rules.find((r) => r.left > 0 && r.match(seen));
    if (rule) {
      rule.left -= 1;
      seen.fault = rule.action.kind;
    }
    const action = rule?.action;
    if (action?.kind === "stall") {
      // Read and discard the body so the client finishes sending, then wait forever.
      req.resume();
      return;
    }
    if (action?.kind === "cut") {
      req.socket.destroy();
      return;
    }
    if (action?.kind === "respond") {
      req.resume();
      req.on("end", () => {
        const body = Buffer.from(action.body ?? "", "utf8");
        res.writeHead(action.status, { ...action.headers, "content-length": String(body.length) });
        seen.responseBytes = body.length;
        res.end(body);
      });
      return;
    }
    const forward = http.request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        const limit = action?.kind === "stall-body" ? action.afterBytes : Infinity;
        answer.on("data", (chunk: Buffer) => {
          const room = limit - seen.responseBytes;
          if (room <= 0) {
            answer.pause();
            return;
          }
          const piece = chunk.length > room ? chunk.subarray(0, room) : chunk;
          seen.responseBytes += piece.length;
          if (!res.write(piece)) {
            answer.pause();
            res.once("drain", () => {
              if (seen.responseBytes < limit) answer.resume();
            });
          }
          if (seen.responseBytes >= limit) answer.pause();
        });
        answer.on("end", () => {
          if (seen.responseBytes < limit || limit === Infinity) res.end();
        });
        answer.on("error", () => res.destroy());
      },
    );
    // An upstream that is down looks to the client like a dropped connection, as S3 outages do.
    forward.on("error", () => res.destroy());
    res.on("close", () => forward.destroy());
    req.pipe(forward);
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
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
