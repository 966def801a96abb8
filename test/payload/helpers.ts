// Test data: payload streams of a given length whose SHA-256 is computed from the bytes actually
// produced, so a test compares what arrived with what was sent, not with a constant.
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";

const BLOCK = randomBytes(1024 * 1024 + 7);

/**
 * A Readable of `size` bytes with no known length (like a socket). `onProduced(bytes)` is called as
 * bytes are handed out, so a fault test can act in the middle of a transfer.
 */
export function payloadStream(
  size: number,
  onProduced?: (bytes: number) => void,
): Readable & { sha256(): string } {
  const hash = createHash("sha256");
  let produced = 0;
  let offset = 0;
  let digest: string | undefined;
  const stream = new Readable({
    highWaterMark: 256 * 1024,
    read() {
      if (produced >= size) {
        this.push(null);
        return;
      }
      const n = Math.min(256 * 1024, size - produced);
      // Chunks slide over a random block, so parts differ and a misplaced part changes the digest.
      if (offset + n > BLOCK.length) offset = (offset + 13) % 4096;
      const chunk = Buffer.from(BLOCK.subarray(offset, offset + n));
      offset += n;
      produced += n;
      hash.update(chunk);
      this.push(chunk);
      onProduced?.(produced);
    },
  });
  return Object.assign(stream, {
    sha256: () => {
      if (produced < size) throw new Error("stream not fully produced yet");
      return (digest ??= hash.digest("hex"));
    },
  });
}

export function sha256(bytes: Buffer | string): string {
  return createHash("sha256").update(bytes).digest("hex");
}

export async function drain(stream: AsyncIterable<Buffer>): Promise<{ bytes: number; sha256: string }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { bytes, sha256: hash.digest("hex") };
}
