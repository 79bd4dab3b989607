/**
 * The bench's figures: every figure has a median and a p99 over its samples (latencies: per
 * call; throughputs: per one-second window; one-shot figures: one sample) and a unit. Shared by
 * bench/run.ts (agent-js, cold start, anchors) and bench/capacity.ts (the light driver).
 */

/** One figure as written to results.json. */
export type Figure = { median: number; p99: number; unit: string; samples: number; note?: string };

/** Every figure recorded in this process, by name. */
export const figures: Record<string, Figure> = {};

/** The q-quantile (nearest rank) of the samples; NaN for none. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!;
}

/** Two decimals (non-finite values unchanged). */
export const round = (x: number): number => (Number.isFinite(x) ? Math.round(x * 100) / 100 : x);

/** Records a figure from its samples and prints its line. */
export function record(name: string, samples: readonly number[], unit: string, note?: string): void {
  figures[name] = { median: round(quantile(samples, 0.5)), p99: round(quantile(samples, 0.99)), unit, samples: samples.length, ...(note ? { note } : {}) };
  console.log(`  ${name.padEnd(56)} median ${String(figures[name]!.median).padStart(10)}  p99 ${String(figures[name]!.p99).padStart(10)}  ${unit}`);
}
