package fieldnotes.interop;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/** {@code --name value} options, each read once, with errors that name the option and the value. */
final class Args {
  /** A mistake in how the program was called; the message names the option and what was given. */
  static final class UsageError extends RuntimeException {
    UsageError(String message) {
      super(message);
    }
  }

  private final Map<String, String> values = new HashMap<>();
  private final Set<String> flags = new HashSet<>();
  private final Set<String> read = new HashSet<>();

  Args(String[] argv, int from, Set<String> booleanFlags) {
    for (int i = from; i < argv.length; i++) {
      String token = argv[i];
      if (!token.startsWith("--") || token.length() < 3) {
        throw new UsageError("expected an option like --name, got \"" + token + "\"");
      }
      String name = token.substring(2);
      if (booleanFlags.contains(name)) {
        flags.add(name);
        continue;
      }
      if (i + 1 >= argv.length) {
        throw new UsageError("option --" + name + " needs a value");
      }
      if (values.put(name, argv[++i]) != null) {
        throw new UsageError("option --" + name + " is given twice");
      }
    }
  }

  String required(String name) {
    read.add(name);
    String value = values.get(name);
    if (value == null || value.isEmpty()) {
      throw new UsageError("option --" + name + " is required");
    }
    return value;
  }

  String optional(String name, String fallback) {
    read.add(name);
    return values.getOrDefault(name, fallback);
  }

  boolean flag(String name) {
    return flags.contains(name);
  }

  int nonNegativeInt(String name, String fallback) {
    String raw = fallback == null ? required(name) : optional(name, fallback);
    try {
      int value = Integer.parseInt(raw);
      if (value < 0) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new UsageError("option --" + name + " must be a non-negative integer, got \"" + raw + "\"");
    }
  }

  long seed() {
    String raw = required("seed");
    try {
      long value = Long.parseLong(raw);
      if (value < 0 || value > 0xFFFFFFFFL) {
        throw new NumberFormatException();
      }
      return value;
    } catch (NumberFormatException e) {
      throw new UsageError("option --seed must be an integer from 0 to 4294967295, got \"" + raw + "\"");
    }
  }

  /** Options nobody read are typos; refusing them beats silently running with a default. */
  void rejectUnknown() {
    for (String name : values.keySet()) {
      if (!read.contains(name)) {
        throw new UsageError("unknown option --" + name + " (value \"" + values.get(name) + "\")");
      }
    }
  }

  /** Loopback endpoints come from the same variables boto3 and the AWS SDK for JavaScript read. */
  static URI endpointFromEnv(String variable) {
    String raw = System.getenv(variable);
    if (raw == null || raw.isEmpty()) {
      throw new UsageError("environment variable " + variable + " is required (the emulator's URL)");
    }
    try {
      URI uri = new URI(raw);
      if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null) {
        throw new URISyntaxException(raw, "not an http(s) URL");
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new UsageError("environment variable " + variable + " must be an http(s) URL, got \"" + raw + "\"");
    }
  }

  static String requiredEnv(String variable) {
    String raw = System.getenv(variable);
    if (raw == null || raw.isEmpty()) {
      throw new UsageError("environment variable " + variable + " is required");
    }
    return raw;
  }
}
