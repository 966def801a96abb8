// SHA-256 of a payload as it streams, off the thread that moves the bytes when there is a core for it.
//
// Verification means one SHA-256 pass over every byte (about 1 GiB/s per core with the CPU's SHA
// extensions). On the thread that also receives or sends the bytes that pass is serial with the
// transfer: wherever the process, not the network, is the bottleneck, it cuts throughput by a
// quarter or more. A worker thread hashes while the main thread keeps the sockets busy. It costs a
// copy of each byte into a 1 MiB batch (a tenth of the hash), so it is used only where it can run in
// parallel (more than one core) and for payloads large enough to repay starting the worker.
import { createHash, type Hash } from "node:crypto";
import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

const MiB = 1024 * 1024;
/** Bytes per message to the worker: per-message overhead stays small against hashing 1 MiB. */
const BATCH_BYTES = MiB;
/** Batches sent and not yet hashed, per stream: bounds memory when the worker falls behind. */
const MAX_OUTSTANDING = 8;
/** Below this a payload is hashed in the thread: starting a worker costs more than it saves. */
export const PARALLEL_HASH_MIN_BYTES = 16 * MiB;

/** A running SHA-256 over a stream's chunks. */
export interface StreamHash {
  /** Where the bytes are hashed. */
  readonly where: "thread" | "worker";
  /** Adds a chunk. The caller may reuse or release the chunk as soon as this returns. */
  update(chunk: Uint8Array): void;
  /**
   * True while more bytes are queued for hashing than the bound allows: stop feeding until
   * `onDrain` fires.
   */
  readonly backlogged: boolean;
  /** Called (once per backlog) when a backlogged hash can take more. */
  onDrain(callback: () => void): void;
  /** Hex digest of everything added. No update after it. */
  digest(): Promise<string>;
  /** Gives the resources up without a digest (the stream failed). */
  dispose(): void;
}

/** The hash in this thread: no copy, no message. */
class InlineHash implements StreamHash {
  private readonly hash: Hash = createHash("sha256");
  readonly where = "thread";
  readonly backlogged = false;
  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
  }
  onDrain(callback: () => void): void {
    callback();
  }
  async digest(): Promise<string> {
    return this.hash.digest("hex");
  }
  dispose(): void {}
}

// The worker's whole program: one hash per stream id, updated in message order; each batch's buffer
// goes back to its stream to be filled again.
const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const hashes = new Map();
parentPort.on("message", (m) => {
  if (m.type === "update") {
    let hash = hashes.get(m.id);
    if (!hash) hashes.set(m.id, (hash = createHash("sha256")));
    hash.update(new Uint8Array(m.buffer, 0, m.length));
    parentPort.postMessage({ type: "hashed", id: m.id, buffer: m.buffer }, [m.buffer]);
  } else if (m.type === "digest") {
    const hash = hashes.get(m.id) ?? createHash("sha256");
    hashes.delete(m.id);
    parentPort.postMessage({ type: "digest", id: m.id, hex: hash.digest("hex") });
  } else if (m.type === "drop") {
    hashes.delete(m.id);
  }
});`;

type WorkerReply =
  { type: "hashed"; id: number; buffer: ArrayBuffer } | { type: "digest"; id: number; hex: string };

/** The process's hashing worker, started on first use and shared by every stream. */
class HashWorker {
  private readonly worker: Worker;
  private readonly streams = new Map<number, WorkerHash>();
  private nextId = 1;

  constructor(onGone: () => void) {
    this.worker = new Worker(WORKER_SOURCE, { eval: true });
    // Idle, the worker must not keep the process alive; while a stream hashes, it does.
    this.worker.unref();
    this.worker.on("message", (m: WorkerReply) => this.streams.get(m.id)?.reply(m));
    const fail = (error: Error) => {
      onGone();
      for (const stream of this.streams.values()) stream.fail(error);
      this.streams.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`the SHA-256 worker thread exited (code ${code})`)));
  }

  open(stream: WorkerHash): number {
    // Stryker disable next-line UpdateOperator: counting down gives unique ids too.
    const id = this.nextId++;
    if (this.streams.size === 0) this.worker.ref();
    this.streams.set(id, stream);
    return id;
  }

  close(id: number, drop: boolean): void {
    if (drop) this.worker.postMessage({ type: "drop", id });
    this.streams.delete(id);
    if (this.streams.size === 0) this.worker.unref();
  }

  post(message: object, transfer?: ArrayBuffer[]): void {
    this.worker.postMessage(message, transfer);
  }

  /** Ends the thread; its exit fails the streams still hashing on it (the path of a crashed worker). */
  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}

let shared: HashWorker | undefined;
function hashWorker(): HashWorker {
  shared ??= new HashWorker(() => (shared = undefined));
  return shared;
}

/**
 * Stops the shared hashing worker, if one runs: streams hashing on it fail (their digest rejects),
 * and the next large stream starts a new one. For a host that ends its threads on shutdown.
 */
export async function stopHashWorker(): Promise<void> {
  await shared?.stop();
}

/** The hash on the shared worker thread, fed in batches of BATCH_BYTES. */
class WorkerHash implements StreamHash {
  readonly where = "worker";
  private readonly id: number;
  private readonly free: ArrayBuffer[] = [];
  private batch?: Uint8Array;
  private filled = 0;
  private outstanding = 0;
  private drain?: () => void;
  private result?: { resolve(hex: string): void; reject(error: Error): void };
  private error?: Error;
  private closed = false;

  constructor(private readonly worker: HashWorker) {
    this.id = worker.open(this);
  }

  get backlogged(): boolean {
    return this.outstanding >= MAX_OUTSTANDING && this.error === undefined;
  }

  update(chunk: Uint8Array): void {
    if (this.error) return;
    for (let at = 0; at < chunk.length;) {
      this.batch ??= new Uint8Array(this.free.pop() ?? new ArrayBuffer(BATCH_BYTES));
      const n = Math.min(BATCH_BYTES - this.filled, chunk.length - at);
      this.batch.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === BATCH_BYTES) this.send();
    }
  }

  private send(): void {
    const buffer = this.batch!.buffer as ArrayBuffer;
    // Stryker disable next-line ArrayDeclaration: without the transfer the buffer is copied; only the cost differs.
    this.worker.post({ type: "update", id: this.id, buffer, length: this.filled }, [buffer]);
    this.outstanding++;
    this.batch = undefined;
    this.filled = 0;
  }

  onDrain(callback: () => void): void {
    if (!this.backlogged) callback();
    else this.drain = callback;
  }

  digest(): Promise<string> {
    if (this.error) return Promise.reject(this.error);
    if (this.filled > 0) this.send();
    return new Promise((resolve, reject) => {
      this.result = { resolve, reject };
      this.worker.post({ type: "digest", id: this.id });
    });
  }

  reply(m: WorkerReply): void {
    if (m.type === "hashed") {
      this.outstanding--;
      // At most MAX_OUTSTANDING + 1 buffers per stream, reused: no 1 MiB allocation per batch.
      this.free.push(m.buffer);
      const drain = this.drain;
      if (drain && !this.backlogged) {
        this.drain = undefined;
        drain();
      }
    } else {
      this.closed = true;
      this.worker.close(this.id, false);
      // Stryker disable next-line OptionalChaining: a digest reply answers a digest request, which set result.
      this.result?.resolve(m.hex);
    }
  }

  fail(error: Error): void {
    this.error = error;
    this.closed = true;
    this.result?.reject(error);
    const drain = this.drain;
    this.drain = undefined;
    drain?.();
  }

  dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.worker.close(this.id, true);
  }
}

/** Lambda's memory per vCPU: a function gets CPU in proportion to its memory, one vCPU at 1,769 MB. */
export const LAMBDA_MB_PER_VCPU = 1769;

/**
 * Cores this process may keep busy at once. Lambda shows the function more cores than it may use
 * (the CPU share follows the memory setting, "Configure Lambda function memory"), so there the
 * memory decides: below 3,538 MB a worker would take its CPU from the thread moving the bytes and
 * only add the copy.
 */
export function usableCores(env: NodeJS.ProcessEnv = process.env): number {
  const memoryMb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  const visible = availableParallelism();
  if (!Number.isInteger(memoryMb) || memoryMb <= 0) return visible;
  return Math.min(visible, Math.floor(memoryMb / LAMBDA_MB_PER_VCPU));
}

/**
 * A SHA-256 for a stream of `expectedBytes` (undefined when unknown): on the shared worker thread
 * when the process may use more than one core (usableCores) and the payload is at least PARALLEL_HASH_MIN_BYTES, in
 * this thread otherwise, or if the worker cannot start.
 */
export function streamHash(expectedBytes: number | undefined): StreamHash {
  if (expectedBytes === undefined || expectedBytes < PARALLEL_HASH_MIN_BYTES || usableCores() < 2) {
    return new InlineHash();
  }
  try {
    return new WorkerHash(hashWorker());
  } catch {
    return new InlineHash();
  }
}
