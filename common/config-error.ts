// Config errors must stop the program before any resource is registered, and must say which key
// and which value were wrong: a user reading "invalid config" alone cannot fix a 40-line topology.

/** Thrown for any invalid configuration value; the message names the key path and the value. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`Invalid config ${key}: ${showValue(value)} ${reason}`);
    this.name = "ConfigError";
  }
}

function showValue(value: unknown): string {
  if (value === undefined) return "(not set)";
  const text = JSON.stringify(value);
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Reads a config key holding structured data; Pulumi stores objects as JSON strings. */
export function readStructured(
  config: { get(key: string): string | undefined; name: string },
  key: string,
): unknown {
  const raw = config.get(key);
  if (raw === undefined) return undefined;
  try {
    return JSON.parse(raw);
  } catch {
    // A plain scalar (e.g. `fieldnotes:parts: publisher`) is not JSON; keep it as the string it is.
    return raw;
  }
}
