/**
 * Units as branded types, so a number of cycles cannot be passed where nanoseconds are expected.
 * All are bigint: cycles exceed 2^53 (a 34-node signature fee is 26_153_846_153) and IC time is
 * nanoseconds since the Unix epoch (u64).
 */

/** An amount of cycles (interface spec §"Cycles"), never negative. */
export type Cycles = bigint & { readonly __unit: 'cycles' };
/** Nanoseconds since 1970-01-01T00:00:00Z (IC time, `ic0.time`, `ingress_expiry`). */
export type Nanos = bigint & { readonly __unit: 'nanos' };

/** Brands a bigint as cycles; throws RangeError if negative. */
export function cycles(n: bigint | number): Cycles {
  const v = BigInt(n);
  if (v < 0n) throw new RangeError(`cycles must not be negative, got ${v}`);
  return v as Cycles;
}

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
