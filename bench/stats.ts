// Summaries of repeated measurements. On a shared 2-core machine one run measures the neighbours as
// much as the code, so every figure the benchmarks print is a median with its spread.

/** Median, quartiles and range of a sample. */
export interface Spread {
  median: number;
  /** First and third quartile (linear interpolation between order statistics). */
  q1: number;
  q3: number;
  min: number;
  max: number;
  n: number;
}

function quantile(sorted: readonly number[], q: number): number {
  const at = (sorted.length - 1) * q;
  const lo = Math.floor(at);
  const hi = Math.ceil(at);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/** @throws Error on an empty sample or a value that is not a finite number. */
export function spread(values: readonly number[], digits = 3): Spread {
  if (values.length === 0) throw new Error("spread: no values");
  const bad = values.find((v) => !Number.isFinite(v));
  if (bad !== undefined) throw new Error(`spread: ${bad} is not a finite number`);
  const sorted = [...values].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10 ** digits) / 10 ** digits;
  return {
    median: round(quantile(sorted, 0.5)),
    q1: round(quantile(sorted, 0.25)),
    q3: round(quantile(sorted, 0.75)),
    min: round(sorted[0]),
    max: round(sorted[sorted.length - 1]),
    n: values.length,
  };
}

/** "0.93 (IQR 0.91–0.95, range 0.88–0.97, n=5)" */
export function formatSpread(s: Spread): string {
  return `${s.median} (IQR ${s.q1}–${s.q3}, range ${s.min}–${s.max}, n=${s.n})`;
}

/**
 * The order in which round `round` runs `items`: rotated by one each round, so that no candidate
 * always runs first (on a warm page cache) or last (after the neighbours woke up).
 */
export function rotation<T>(items: readonly T[], round: number): T[] {
  const k = round % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}
