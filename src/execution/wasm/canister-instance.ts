/**
 * A live instance of a canister module: its Wasm memory, mutable globals and function table, the
 * System API it was instantiated with, and the committed copy of its state. After each execution
 * the instance either commits (the pages the execution wrote are copied to the committed copy and
 * marked dirty for the next checkpoint) or rolls back (those pages are restored; if the memory
 * grew, the instance is rebuilt at the committed size, since Wasm memory cannot shrink).
 *
 * Which 4 KiB pages (the replica's OS page size) an execution wrote is known from the marks the
 * instrumented code and the System API set (written-pages.ts), not by comparing memories: a
 * page written with the content it had counts as written, as on the replica.
 */
import type { CanisterModule } from './canister-module.ts';
import type { SystemApi } from '../system-api/system-api.ts';
import { clearMarks, growMarks, markedPages } from './written-pages.ts';

/** `__.yield`: suspends the Wasm stack until the event loop has had a turn (JSPI). */
const YIELD = new WebAssembly.Suspending(() => new Promise<void>((resolve) => setImmediate(resolve)));

/** Granularity of dirty tracking and of persisted pages. */
export const PAGE_BYTES = 4096;
const WASM_PAGE_BYTES = 65536;
const ZERO_PAGE = new Uint8Array(PAGE_BYTES);
/** Most spare capacity the committed copy keeps beyond the memory size when it grows (bytes; untouched, so not resident). */
const MAX_SPARE_BYTES = 16 * 1024 * 1024;

/**
 * True if every byte is 0. Compares natively a page at a time: a per-byte JS callback made a
 * fresh install's full checkpoint (5 MB of Motoko heap) cost ~50 ms.
 */
export function isAllZero(bytes: Uint8Array): boolean {
  for (let off = 0; off < bytes.length; off += PAGE_BYTES) {
    const n = Math.min(PAGE_BYTES, bytes.length - off);
    if (Buffer.compare(bytes.subarray(off, off + n), ZERO_PAGE.subarray(0, n)) !== 0) return false;
  }
  return true;
}

/**
 * A global's value as persisted: i32 as a JSON number, i64 as a decimal string, f32/f64 as
 * `f32:<hex bits>` / `f64:<hex bits>` (bit-exact: NaN payloads, ±0, infinities); null when the
 * host cannot read it (v128, references).
 */
export type GlobalValue = number | string | null;

const floatBits = new DataView(new ArrayBuffer(8));

function encodeGlobal(type: string, v: unknown): GlobalValue {
  if (type === 'f64' && typeof v === 'number') {
    floatBits.setFloat64(0, v);
    return `f64:${floatBits.getBigUint64(0).toString(16)}`;
  }
  if (type === 'f32' && typeof v === 'number') {
    floatBits.setFloat32(0, v);
    return `f32:${floatBits.getUint32(0).toString(16)}`;
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') return v;
  return null;
}

function decodeGlobal(v: GlobalValue): unknown {
  if (typeof v === 'string' && v.startsWith('f64:')) {
    floatBits.setBigUint64(0, BigInt(`0x${v.slice(4)}`));
    return floatBits.getFloat64(0);
  }
  if (typeof v === 'string' && v.startsWith('f32:')) {
    floatBits.setUint32(0, Number.parseInt(v.slice(4), 16));
    return floatBits.getFloat32(0);
  }
  return typeof v === 'string' ? BigInt(v) : v;
}

/** The committed execution state of an instance, as a checkpoint stores it. */
export interface InstanceSnapshot {
  /** Wasm memory size in bytes (a multiple of 64 KiB). */
  memoryBytes: number;
  /** Mutable globals in `__g<i>` order. */
  globals: GlobalValue[];
}

/** Live memory and globals of an instance between executions (see {@link CanisterInstance.saveLive}). */
export interface LiveState {
  memory: Uint8Array;
  globals: GlobalValue[];
  /** The 4 KiB pages written since the last commit (they differ from the committed state). */
  written: number[];
}

function growTo(memory: WebAssembly.Memory, bytes: number, wasm64: boolean): void {
  const need = (bytes - memory.buffer.byteLength) / WASM_PAGE_BYTES;
  if (need <= 0) return;
  memory.grow(wasm64 ? BigInt(need) : need);
}

/** One canister's instantiated module with commit/rollback and dirty-page tracking. */
export class CanisterInstance {
  readonly module: CanisterModule;
  readonly api: SystemApi;
  #instance!: WebAssembly.Instance;
  #memory!: WebAssembly.Memory;
  #globals: WebAssembly.Global[] = [];
  /** One byte per 4 KiB heap page, set when the page is written (null: the module has no memory of its own). */
  #marks: WebAssembly.Memory | null = null;
  /** The committed memory: a view of the first `memoryBytes` of {@link #committedCapacity}. */
  #committed: Uint8Array = new Uint8Array();
  #committedCapacity: Uint8Array = new Uint8Array();
  #committedGlobals: GlobalValue[] = [];
  /** Pages changed since the last {@link takeDirtyPages}. */
  readonly #dirty = new Set<number>();
  /** Set when every page must be rewritten at the next checkpoint (fresh install). */
  #fullRewrite = true;

  /**
   * Instantiates `module` with `api` as its ic0 imports. The start function does not run (the
   * module was rewritten to export it as `__start`); call {@link runStart} for that.
   * @throws WebAssembly.LinkError / RuntimeError when instantiation fails (e.g. data segment out of range).
   */
  constructor(module: CanisterModule, api: SystemApi) {
    this.module = module;
    this.api = api;
    this.#instantiate();
    this.#setCommitted(new Uint8Array(this.#memory.buffer).slice());
    this.#committedGlobals = this.#readGlobals();
  }

  #instantiate(): void {
    const meter = this.api.meter;
    const imports = {
      ic0: this.api.imports(this.module.ic0Imports.keys()),
      // The metering pass's imports (instrumentation.ts).
      __: { out_of_instructions: () => meter.outOfInstructions(), yield: YIELD },
    } as WebAssembly.Imports;
    this.#instance = new WebAssembly.Instance(this.module.module, imports);
    meter.attach(this.#instance.exports[this.module.counterExport] as WebAssembly.Global);
    const mem = this.#instance.exports[this.module.exportNames.memory];
    if (!(mem instanceof WebAssembly.Memory)) throw new Error('instrumented module exports no memory');
    this.#memory = mem;
    const marks = this.module.writtenPagesExport ? this.#instance.exports[this.module.writtenPagesExport] : undefined;
    this.#marks = marks instanceof WebAssembly.Memory ? marks : null;
    this.api.attachMemory(mem, this.#marks);
    this.#globals = this.module.globals.map((g) => this.#instance.exports[g.name] as WebAssembly.Global);
  }

  #readGlobals(): GlobalValue[] {
    return this.#globals.map((g, i) => {
      try {
        return encodeGlobal(this.module.globals[i]!.type, g.value);
      } catch {
        return null; // v128 cannot be read from JS
      }
    });
  }

  #writeGlobals(values: GlobalValue[]): void {
    this.#globals.forEach((g, i) => {
      const v = values[i];
      if (v === null || v === undefined) return;
      g.value = decodeGlobal(v);
    });
  }

  /** Current Wasm memory size in bytes. */
  get memoryBytes(): number {
    return this.#memory.buffer.byteLength;
  }

  /** Whether the module exports a function with this name (e.g. `canister_update inc`). */
  hasExport(name: string): boolean {
    return typeof this.#instance.exports[name] === 'function';
  }

  /** Runs the module's start function, if it has one. */
  runStart(): void {
    const name = this.module.exportNames.start;
    const f = name ? this.#instance.exports[name] : undefined;
    if (typeof f === 'function') (f as () => void)();
  }

  /** Calls an exported function with no arguments (`canister_update <name>`, `canister_init`, ...). */
  callExport(name: string): void {
    const f = this.#instance.exports[name];
    if (typeof f !== 'function') throw new Error(`module does not export ${name}`);
    (f as () => void)();
  }

  /**
   * Calls table entry `fn` with `env` (a callback of `ic0.call_new`).
   * @returns false if the table has no function at that index.
   */
  callTable(fn: bigint, env: bigint): boolean {
    const f = this.#tableEntry(fn);
    if (!f) return false;
    f(this.#envArg(env));
    return true;
  }

  #tableEntry(fn: bigint): ((e: number | bigint) => void) | null {
    const table = this.module.exportNames.table ? this.#instance.exports[this.module.exportNames.table] : undefined;
    if (!(table instanceof WebAssembly.Table)) return null;
    let f: unknown;
    try {
      f = table.get(this.module.table64 ? fn : Number(fn));
    } catch {
      return null;
    }
    return typeof f === 'function' ? (f as (e: number | bigint) => void) : null;
  }

  #envArg(env: bigint): number | bigint {
    return this.module.memoryType === 'wasm64' ? env : Number(BigInt.asIntN(32, env));
  }

  /**
   * {@link callExport} on its own stack (JSPI `WebAssembly.promising`): the Wasm may suspend at
   * the end of an instruction slice (`__.yield`) and resume after the event loop had a turn.
   */
  callExportSliced(name: string): Promise<void> {
    const f = this.#instance.exports[name];
    if (typeof f !== 'function') return Promise.reject(new Error(`module does not export ${name}`));
    return WebAssembly.promising(f as () => void)();
  }

  /** {@link runStart} on its own stack (see {@link callExportSliced}). */
  runStartSliced(): Promise<void> {
    const name = this.module.exportNames.start;
    return name ? this.callExportSliced(name) : Promise.resolve();
  }

  /** {@link callTable} on its own stack (see {@link callExportSliced}); resolves false if there is no such entry. */
  callTableSliced(fn: bigint, env: bigint): Promise<boolean> {
    const f = this.#tableEntry(fn);
    if (!f) return Promise.resolve(false);
    return WebAssembly.promising(f)(this.#envArg(env)).then(() => true);
  }

  /** The pages the running (or last) execution wrote, ascending, and clears their marks. */
  #takeWritten(): number[] {
    if (!this.#marks) return [];
    const pages = markedPages(this.#marks, this.#memory.buffer.byteLength / PAGE_BYTES);
    clearMarks(this.#marks, pages);
    return pages;
  }

  /** Grows the heap from the host (and the marks with it). */
  #growTo(bytes: number): void {
    growTo(this.#memory, bytes, this.module.memoryType === 'wasm64');
    if (this.#marks) growMarks(this.#marks, this.#memory.buffer.byteLength);
  }

  /**
   * Keeps the last execution's memory and globals; marks the pages it wrote dirty.
   * @returns how many 4 KiB pages the execution wrote (what the dirty-page charge counts).
   */
  commit(): number {
    const heap = new Uint8Array(this.#memory.buffer);
    if (heap.length !== this.#committed.length) this.#growCommitted(heap.length);
    const written = this.#takeWritten();
    for (const p of written) {
      this.#committed.set(heap.subarray(p * PAGE_BYTES, (p + 1) * PAGE_BYTES), p * PAGE_BYTES);
      this.#dirty.add(p);
    }
    this.#committedGlobals = this.#readGlobals();
    return written.length;
  }

  /**
   * Lengthens the committed copy to `bytes`. Grown pages start as zeros in the committed copy:
   * only those the execution wrote differ and become dirty (an untouched grown page is zero, which
   * the store does not keep), so growing costs nothing per page until the page is used.
   *
   * The copy lives in a buffer with spare capacity (doubling): a Motoko heap grows by a 64 KiB
   * page every few calls, and copying the whole committed memory each time cost 6% of the main
   * thread at 64 concurrent signing calls. Bytes past the committed length stay zero: nothing
   * writes there until the copy is lengthened over them.
   */
  #growCommitted(bytes: number): void {
    if (bytes <= this.#committedCapacity.length) {
      this.#committed = this.#committedCapacity.subarray(0, bytes);
      return;
    }
    const capacity = new Uint8Array(Math.max(bytes, Math.min(2 * this.#committedCapacity.length, bytes + MAX_SPARE_BYTES)));
    capacity.set(this.#committed);
    this.#committedCapacity = capacity;
    this.#committed = capacity.subarray(0, bytes);
  }

  /** Makes `copy` the committed copy (its length the committed memory size). */
  #setCommitted(copy: Uint8Array): void {
    this.#committedCapacity = copy;
    this.#committed = copy;
  }

  /** Restores memory and globals to the last commit (trap, or the end of a query). */
  rollback(): void {
    if (this.#memory.buffer.byteLength !== this.#committed.length) {
      this.#instantiate();
      this.#growTo(this.#committed.length);
      new Uint8Array(this.#memory.buffer).set(this.#committed);
    } else {
      const heap = new Uint8Array(this.#memory.buffer);
      for (const p of this.#takeWritten()) {
        heap.set(this.#committed.subarray(p * PAGE_BYTES, (p + 1) * PAGE_BYTES), p * PAGE_BYTES);
      }
    }
    this.#writeGlobals(this.#committedGlobals);
  }

  /**
   * A copy of the live (uncommitted) memory and globals: a composite query re-entering a canister
   * runs the callee on the committed state and then puts the caller's state back.
   */
  saveLive(): LiveState {
    const written = this.#marks ? markedPages(this.#marks, this.#memory.buffer.byteLength / PAGE_BYTES) : [];
    return { memory: new Uint8Array(this.#memory.buffer).slice(), globals: this.#readGlobals(), written };
  }

  /** Makes `live` (from {@link saveLive}) the live state again; the committed state is unchanged. */
  restoreLive(live: LiveState): void {
    this.rollback();
    this.#growTo(live.memory.length);
    new Uint8Array(this.#memory.buffer).set(live.memory);
    this.#writeGlobals(live.globals);
    // The pages the live state differs in are the ones written before it was saved.
    if (this.#marks) {
      const m = new Uint8Array(this.#marks.buffer);
      for (const p of live.written) m[p] = 1;
    }
  }

  /** The committed globals and memory size, for a checkpoint. */
  snapshot(): InstanceSnapshot {
    return { memoryBytes: this.#committed.length, globals: this.#committedGlobals };
  }

  /**
   * The pages changed since the last call, with their committed content (undefined = all zero,
   * which the store need not keep), and whether the checkpoint must first drop every stored page.
   */
  takeDirtyPages(): { replaceAll: boolean; pages: [number, Uint8Array | undefined][] } {
    const replaceAll = this.#fullRewrite;
    const out: [number, Uint8Array | undefined][] = [];
    const pages = replaceAll ? this.#allPages() : this.#dirty;
    for (const p of pages) {
      const bytes = this.#committed.subarray(p * PAGE_BYTES, (p + 1) * PAGE_BYTES);
      out.push([p, isAllZero(bytes) ? undefined : bytes.slice()]);
    }
    this.#dirty.clear();
    this.#fullRewrite = false;
    return { replaceAll, pages: out.filter(([, b]) => !replaceAll || b !== undefined) };
  }

  *#allPages(): Generator<number> {
    for (let p = 0; p < this.#committed.length / PAGE_BYTES; p++) yield p;
  }

  /**
   * Replaces memory and globals with a stored checkpoint (after a restart) or with retained
   * memory (an upgrade with `wasm_memory_persistence = keep`), and commits that state.
   * @param memory the full memory content (length a multiple of 64 KiB), or pages to place on zeros.
   * @param globals stored global values; omit to keep the fresh instance's globals (upgrade).
   * @param fromCheckpoint true when the content came from the store (nothing to rewrite then).
   */
  load(memory: { bytes: number; pages: Iterable<[number, Uint8Array]> }, globals: GlobalValue[] | undefined, fromCheckpoint: boolean): void {
    // Wasm memory cannot shrink: a bigger memory (e.g. grown by a failed upgrade) needs a new instance.
    if (this.#memory.buffer.byteLength > memory.bytes) {
      const keepGlobals = globals ?? this.#readGlobals();
      this.#instantiate();
      globals = keepGlobals;
    }
    this.#growTo(memory.bytes);
    this.#takeWritten();
    // Only the stored (non-zero) pages are written, into the heap and into a zero-filled committed
    // copy: pages that stay zero are never touched, so they take no resident memory in either
    // (filling or copying the whole heap made every page of a mostly empty memory resident twice).
    const heap = new Uint8Array(this.#memory.buffer);
    const committed = new Uint8Array(memory.bytes);
    const stored = new Set<number>();
    for (const [p, bytes] of memory.pages) {
      heap.set(bytes, p * PAGE_BYTES);
      committed.set(bytes, p * PAGE_BYTES);
      stored.add(p);
    }
    // The rest must read as zero: a fresh instance holds its data segments there (a zero page
    // is only read, which keeps it unbacked).
    for (let p = 0; p < memory.bytes / PAGE_BYTES; p++) {
      if (stored.has(p)) continue;
      const page = heap.subarray(p * PAGE_BYTES, (p + 1) * PAGE_BYTES);
      if (!isAllZero(page)) page.fill(0);
    }
    if (globals) this.#writeGlobals(globals);
    this.#setCommitted(committed);
    this.#committedGlobals = this.#readGlobals();
    this.#dirty.clear();
    this.#fullRewrite = !fromCheckpoint;
  }

  /** The committed memory as pages (for keeping main memory across an upgrade). */
  committedMemory(): { bytes: number; pages: [number, Uint8Array][] } {
    const pages: [number, Uint8Array][] = [];
    for (let p = 0; p < this.#committed.length / PAGE_BYTES; p++) {
      const b = this.#committed.subarray(p * PAGE_BYTES, (p + 1) * PAGE_BYTES);
      if (!isAllZero(b)) pages.push([p, b]);
    }
    return { bytes: this.#committed.length, pages };
  }
}
