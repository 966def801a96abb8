// The deterministic payload the Java (Payload.java) and Python (interop_payload.py) programs
// generate too: same seed, same bytes. The suite computes what should arrive on its own, rather than
// trusting the sender's report.
import { createHash } from "node:crypto";

const ASCII = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;:-_/\"\\<>&'{}[]\n\t";
const THREE = Buffer.from("\u20AC", "utf8");
const TWO = Buffer.from("\u00E9", "utf8");

/**
 * Exactly `size` bytes of valid UTF-8. The text mixes 1- to 3-byte characters and characters JSON,
 * XML and the SNS query protocol escape, so a client that counts characters instead of bytes, or
 * mangles escaping, changes the digest. No 4-byte characters: SQS accepts them, but fauxqs 1.9.2
 * refuses them in message bodies, which would fail every inline SQS case.
 */
export function payloadBytes(size: number, seed: number): Buffer {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new Error(`payload size must be a non-negative integer, got ${size}`);
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw new Error(`payload seed must be an integer from 0 to 4294967295, got ${seed}`);
  }
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 0x9e3779b9;
  let at = 0;
  while (at < size) {
    // xorshift32
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const r = x >>> 0;
    const remaining = size - at;
    const kind = r % 16;
    const chunk = kind === 1 && remaining >= 3 ? THREE : kind === 2 && remaining >= 2 ? TWO : undefined;
    if (chunk) {
      chunk.copy(out, at);
      at += chunk.length;
    } else {
      out[at++] = ASCII.charCodeAt((r >>> 8) % ASCII.length);
    }
  }
  return out;
}

export function payloadText(size: number, seed: number): string {
  return payloadBytes(size, seed).toString("utf8");
}

export interface Digest {
  sha256: string;
  size: number;
}

export function digestOf(body: Buffer | string): Digest {
  const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
  return { sha256: createHash("sha256").update(bytes).digest("hex"), size: bytes.length };
}

/** The sizes the issue names: inline, offloaded just over the SNS limit, and large. */
export const PAYLOAD_SIZES = [
  { label: "1 KiB (inline)", size: 1024, offloaded: false },
  { label: "300 KiB (offloaded)", size: 300 * 1024, offloaded: true },
  { label: "5 MiB (offloaded)", size: 5 * 1024 * 1024, offloaded: true },
] as const;
