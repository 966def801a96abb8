// The one size grammar of every command (npm start --sizes, the benchmark's --sizes and
// --part-size), and the one duration grammar (npm start --replica-lag, the soak's --duration): a byte count, or a number with a binary unit B, KiB, MiB or GiB. "KB", "MB" and
// "GB" are refused rather than guessed: they mean 10^3, 10^6 and 10^9 to some tools and 2^10, 2^20
// and 2^30 to others, and the two copies of this parser once read "512MB" both ways.

import { UsageError } from "../common/args";

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const UNITS: Record<string, number> = { B: 1, KiB, MiB, GiB };
const SIZE = /^(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/;

/**
 * Reads one size: `1500` (bytes), `1KiB`, `300KiB`, `64MiB`, `2GiB`, `1.5GiB`. Throws an Error that
 * names the flag and the text (a UsageError) for anything else, including the ambiguous decimal units.
 *
 * @param flag - the flag named in the error, e.g. `--sizes`
 * @example parseSize("64MiB") // 67108864
 */
export function parseSize(text: string, flag = "--sizes"): number {
  const m = SIZE.exec(text.trim());
  if (!m)
    throw new UsageError(`${flag}: "${text}" is not a size; write a byte count or e.g. 1KiB, 64MiB, 2GiB`);
  const [, amount, unit] = m;
  const factor = unit === "" ? 1 : UNITS[unit];
  if (factor === undefined) {
    const binary = Object.keys(UNITS).find(
      (u) => u.length > 1 && u[0].toLowerCase() === unit[0]?.toLowerCase(),
    );
    throw new UsageError(
      binary && /^[kmg]b?$/i.test(unit)
        ? `${flag}: "${text}" is ambiguous (${unit} means 1000s to some tools, 1024s to others); write ${amount}${binary} (binary) or the byte count`
        : `${flag}: "${text}" has an unknown unit "${unit}"; use B, KiB, MiB or GiB`,
    );
  }
  if (unit === "" && amount.includes(".")) {
    throw new UsageError(
      `${flag}: "${text}" is a fraction of a byte; write a whole byte count or add a unit`,
    );
  }
  const bytes = Math.round(Number(amount) * factor);
  if (bytes < 1) throw new UsageError(`${flag}: "${text}" must be at least 1 byte`);
  return bytes;
}

/**
 * Reads a comma-separated list of sizes (`1KiB,300KiB,64MiB`), each by {@link parseSize}.
 *
 * @example parseSizes("1KiB,2GiB") // [1024, 2147483648]
 */
export function parseSizes(list: string, flag = "--sizes"): number[] {
  const items = list.split(",").map((s) => s.trim());
  if (items.some((s) => s === "")) throw new UsageError(`${flag}: "${list}" has an empty entry`);
  return items.map((s) => parseSize(s, flag));
}

/**
 * The size in the largest binary unit that divides it: `1 KiB`, `64 MiB`, `1500 B`.
 *
 * @example formatSize(300 * 1024) // "300 KiB"
 */
export function formatSize(bytes: number): string {
  if (bytes >= GiB && bytes % GiB === 0) return `${bytes / GiB} GiB`;
  if (bytes >= MiB && bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes >= KiB && bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} B`;
}

/**
 * Reads one duration: `1500ms`, `90s`, `5m`, `2h`. Zero (`0s`) only when `zero` allows it (a lag
 * may be none; a run's duration may not). Throws a UsageError that names the flag and the text.
 *
 * @example parseDuration("--duration", "90s") // 90000
 */
export function parseDuration(flag: string, text: string, opts: { zero?: boolean } = {}): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: "${text}" is not a duration such as 90s, 5m or 1500ms`);
  const ms = Math.round(
    Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as "ms" | "s" | "m" | "h"],
  );
  if (ms <= 0 && !(opts.zero && ms === 0)) throw new UsageError(`${flag}: "${text}" must be more than zero`);
  return ms;
}
