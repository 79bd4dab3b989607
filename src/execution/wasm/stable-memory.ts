/**
 * A canister's stable memory (interface spec §"Stable memory"): a byte array grown in 64 KiB
 * Wasm pages, kept sparse (untouched pages read as zeros and take no space). Writes are recorded
 * in an undo log per execution, so a trap or a query rolls back exactly the pages it touched,
 * and the pages changed since the last checkpoint are known without comparing memories.
 */

/** Stable memory page size: 64 KiB, as Wasm pages. */
export const STABLE_PAGE_BYTES = 65536;
/** The spec's stable memory limit: 500 GiB, in 64 KiB pages. */
export const MAX_STABLE_PAGES = (500n * 1024n * 1024n * 1024n) / 65536n;

/** Sparse, page-granular stable memory with an undo log and dirty-page tracking. */
export class StableMemory {
  readonly #pages = new Map<number, Uint8Array>();
  #sizePages: bigint;
  /** Undo log of the running execution: page → content before its first write (undefined = absent). */
  #undo: Map<number, Uint8Array | undefined> | null = null;
  #undoSize = 0n;
  /** Pages written since the last {@link takeDirtyPages}. */
  readonly #dirty = new Set<number>();
  /** 4 KiB pages written by the running execution (the replica's dirty-page charge counts these). */
  readonly #written = new Set<number>();

  /**
   * @param sizePages current size in 64 KiB pages.
   * @param pages stored non-zero pages (64 KiB each) by page index.
   */
  constructor(sizePages = 0n, pages?: Iterable<[number, Uint8Array]>) {
    this.#sizePages = sizePages;
    if (pages) for (const [i, p] of pages) this.#pages.set(i, p);
  }

  /** Size in 64 KiB pages. */
  get sizePages(): bigint {
    return this.#sizePages;
  }

  /** Size in bytes. */
  get sizeBytes(): bigint {
    return this.#sizePages * BigInt(STABLE_PAGE_BYTES);
  }

  /**
   * Grows by `pages` pages.
   * @returns the old size in pages, or -1n if the limit `maxPages` would be exceeded (spec).
   */
  grow(pages: bigint, maxPages: bigint = MAX_STABLE_PAGES): bigint {
    const old = this.#sizePages;
    if (pages < 0n || old + pages > maxPages) return -1n;
    this.#sizePages = old + pages;
    return old;
  }

  /** Whether [offset, offset+size) lies inside the memory. */
  inBounds(offset: bigint, size: bigint): boolean {
    return offset >= 0n && size >= 0n && offset + size <= this.sizeBytes;
  }

  /** Reads `size` bytes at `offset` (caller checked bounds). */
  read(offset: bigint, size: number): Uint8Array {
    const out = new Uint8Array(size);
    this.readInto(out, 0, offset, size);
    return out;
  }

  /** Copies `size` bytes at `offset` into `out` at `at` (caller checked both bounds). */
  readInto(out: Uint8Array, at: number, offset: bigint, size: number): void {
    let pos = Number(offset);
    let done = 0;
    while (done < size) {
      const page = Math.floor(pos / STABLE_PAGE_BYTES);
      const within = pos % STABLE_PAGE_BYTES;
      const n = Math.min(STABLE_PAGE_BYTES - within, size - done);
      const p = this.#pages.get(page);
      if (p) out.set(p.subarray(within, within + n), at + done);
      else out.fill(0, at + done, at + done + n);
      done += n;
      pos += n;
    }
  }

  /** Writes `data` at `offset` (caller checked bounds), recording undo entries and dirty pages. */
  write(offset: bigint, data: Uint8Array): void {
    let pos = Number(offset);
    let done = 0;
    while (done < data.length) {
      const page = Math.floor(pos / STABLE_PAGE_BYTES);
      const within = pos % STABLE_PAGE_BYTES;
      const n = Math.min(STABLE_PAGE_BYTES - within, data.length - done);
      let p = this.#pages.get(page);
      if (this.#undo && !this.#undo.has(page)) this.#undo.set(page, p ? p.slice() : undefined);
      if (!p) this.#pages.set(page, (p = new Uint8Array(STABLE_PAGE_BYTES)));
      p.set(data.subarray(done, done + n), within);
      this.#dirty.add(page);
      for (let q = Math.floor(pos / 4096); q <= Math.floor((pos + n - 1) / 4096); q++) this.#written.add(q);
      done += n;
      pos += n;
    }
  }

  /** Starts recording an undo log (at the start of an execution). */
  beginExecution(): void {
    this.#written.clear();
    this.#undo = new Map();
    this.#undoSize = this.#sizePages;
  }

  /** 4 KiB pages the running (or last) execution wrote. */
  get writtenOsPages(): number {
    return this.#written.size;
  }

  /** Keeps the execution's writes. */
  commitExecution(): void {
    this.#undo = null;
  }

  /** Undoes the execution's writes and growth. */
  rollbackExecution(): void {
    if (!this.#undo) return;
    for (const [page, before] of this.#undo) {
      if (before) this.#pages.set(page, before);
      else this.#pages.delete(page);
    }
    this.#sizePages = this.#undoSize;
    this.#undo = null;
  }

  /**
   * The pages written since the last call, with their current content (undefined = all zero),
   * for a checkpoint.
   */
  takeDirtyPages(): [number, Uint8Array | undefined][] {
    const out: [number, Uint8Array | undefined][] = [];
    for (const i of this.#dirty) out.push([i, this.#pages.get(i)]);
    this.#dirty.clear();
    return out;
  }

  /** Copies of the non-zero pages by index (a snapshot of the memory). */
  pageEntries(): [number, Uint8Array][] {
    return [...this.#pages.entries()].map(([i, p]) => [i, p.slice()] as [number, Uint8Array]).sort((a, b) => a[0] - b[0]);
  }

  /** Marks every page dirty, so the next checkpoint writes all of them (a loaded snapshot). */
  markAllDirty(): void {
    for (const i of this.#pages.keys()) this.#dirty.add(i);
  }

  /** Drops all content (reinstall, uninstall). Every previously stored page becomes dirty. */
  clear(): void {
    for (const i of this.#pages.keys()) this.#dirty.add(i);
    this.#pages.clear();
    this.#sizePages = 0n;
  }

  /** A deep copy (for upgrades that keep stable memory while replacing the instance). */
  clone(): StableMemory {
    const copy = new StableMemory(this.#sizePages);
    for (const [i, p] of this.#pages) copy.#pages.set(i, p.slice());
    for (const i of this.#dirty) copy.#dirty.add(i);
    return copy;
  }
}
