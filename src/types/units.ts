/**
 * IC time as a branded bigint (nanoseconds since the Unix epoch, u64) and how cycles are printed.
 * Cycles amounts are plain bigints named `...Cycles` / `cycles` (they exceed 2^53: a 34-node
 * signature fee is 26_153_846_153); an unused `Cycles` brand was removed rather than threaded
 * through every layer.
 */

/** Nanoseconds since 1970-01-01T00:00:00Z (IC time, `ic0.time`, `ingress_expiry`). */
export type Nanos = bigint & { readonly __unit: 'nanos' };

/** Brands a bigint as nanoseconds. */
export function nanos(n: bigint | number): Nanos {
  return BigInt(n) as Nanos;
}

/** The current wall-clock time in nanoseconds since the epoch (millisecond resolution). */
export function nowNanos(): Nanos {
  return (BigInt(Date.now()) * 1_000_000n) as Nanos;
}

/** Formats cycles the way the replica prints them in messages: `_` thousands separators. */
export function formatCycles(c: bigint): string {
  const s = c.toString();
  return s.replace(/\B(?=(\d{3})+(?!\d))/g, '_');
}
