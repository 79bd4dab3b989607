/**
 * Wall time per phase of request handling and rounds, for `npm run bench`'s breakdown (HTTP
 * envelope and authentication, execution, chain-key signing, SQLite commit, certification).
 * Off by default: when disabled, `time` just runs its function.
 */

/** Accumulated milliseconds and counts per phase name. */
export class PhaseProfile {
  enabled = false;
  readonly #totals = new Map<string, { ms: number; count: number }>();

  /** Runs `fn`, adding its wall time to `phase` when enabled. */
  time<T>(phase: string, fn: () => T): T {
    if (!this.enabled) return fn();
    const t0 = performance.now();
    try {
      return fn();
    } finally {
      const e = this.#totals.get(phase) ?? { ms: 0, count: 0 };
      e.ms += performance.now() - t0;
      e.count++;
      this.#totals.set(phase, e);
    }
  }

  /** Adds `ms` measured elsewhere (an awaited phase) to `phase` when enabled. */
  add(phase: string, ms: number): void {
    if (!this.enabled) return;
    const e = this.#totals.get(phase) ?? { ms: 0, count: 0 };
    e.ms += ms;
    e.count++;
    this.#totals.set(phase, e);
  }

  /** The totals so far, by phase. */
  snapshot(): Record<string, { ms: number; count: number }> {
    return Object.fromEntries([...this.#totals].map(([k, v]) => [k, { ...v }]));
  }

  reset(): void {
    this.#totals.clear();
  }
}
