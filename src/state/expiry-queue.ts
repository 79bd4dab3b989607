/**
 * Ingress history entries ordered by expiry (a binary min-heap of `[expiryNanos, key]`), so a
 * round prunes what has expired in O(k log n) for k pruned entries instead of scanning the whole
 * history. An entry's expiry never changes (it is part of the request id), so a popped key whose
 * entry is gone or was replaced is just skipped by the caller.
 */

/** A min-heap of keys by expiry (nanoseconds). */
export class ExpiryQueue {
  readonly #heap: [bigint, string][] = [];

  /** Number of queued keys (including ones whose entries are already gone). */
  get size(): number {
    return this.#heap.length;
  }

  /** Queues `key` to expire at `expiryNanos`. */
  push(expiryNanos: bigint, key: string): void {
    const h = this.#heap;
    h.push([expiryNanos, key]);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (h[p]![0] <= h[i]![0]) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }

  /** Removes and returns every queued key whose expiry is before `beforeNanos`, earliest first. */
  popBefore(beforeNanos: bigint): [bigint, string][] {
    const out: [bigint, string][] = [];
    const h = this.#heap;
    while (h.length > 0 && h[0]![0] < beforeNanos) {
      out.push(h[0]!);
      const last = h.pop()!;
      if (h.length === 0) break;
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]![0] < h[m]![0]) m = l;
        if (r < h.length && h[r]![0] < h[m]![0]) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return out;
  }
}
