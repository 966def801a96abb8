package fieldnotes.interop;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The deterministic test payload shared by the Java, Python and TypeScript sides of the suite
 * (test/interop/python/interop_payload.py and test/interop/support/payload.ts implement the same
 * generator): each side can then check what arrived against an expectation it computed itself.
 *
 * <p>The text mixes 1-, 2- and 3-byte UTF-8 characters and the characters that JSON, XML and the SNS
 * query protocol must escape, so a client that counts characters instead of bytes, or that mangles
 * escaping, changes the digest. No 4-byte characters: SQS accepts them, but fauxqs 1.9.2 refuses
 * them in a message body (it allows only the BMP), which would fail every inline SQS case.
 */
final class Payload {
  static final String ASCII =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;:-_/\"\\<>&'{}[]\n\t";
  private static final byte[] THREE = "\u20AC".getBytes(StandardCharsets.UTF_8);
  private static final byte[] TWO = "\u00E9".getBytes(StandardCharsets.UTF_8);

  private Payload() {}

  /** Exactly {@code size} bytes of valid UTF-8, the same for the same seed on every side. */
  static byte[] generate(int size, long seed) {
    byte[] out = new byte[size];
    int x = (int) (seed & 0xFFFFFFFFL);
    if (x == 0) {
      x = 0x9E3779B9;
    }
    int at = 0;
    while (at < size) {
      // xorshift32
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      long r = Integer.toUnsignedLong(x);
      int remaining = size - at;
      long kind = r % 16;
      byte[] chunk = null;
      if (kind == 1 && remaining >= 3) {
        chunk = THREE;
      } else if (kind == 2 && remaining >= 2) {
        chunk = TWO;
      }
      if (chunk != null) {
        System.arraycopy(chunk, 0, out, at, chunk.length);
        at += chunk.length;
      } else {
        out[at++] = (byte) ASCII.charAt((int) ((r >>> 8) % ASCII.length()));
      }
    }
    return out;
  }

  static String sha256Hex(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }
}
