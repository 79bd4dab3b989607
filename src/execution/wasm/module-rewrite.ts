/**
 * The rewrite that lets the host run a canister module (compare the replica's instrumentation,
 * dfinity/ic rs/embedders/src/wasm_utils/instrumentation.rs): adds exports for every
 * module-defined mutable global (`__g<i>`), table 0 (`__table`), memory 0 (`__memory`, an empty
 * 32-bit memory added if the module has none) and the start function (`__start`, the start
 * section dropped), and re-encodes the export section. Every other section is copied byte for
 * byte. Assumes a module V8 has validated and wasm-binary.ts's `parseModule` has read.
 */
import { SECTION_RANK, type ParsedModule } from './wasm-binary.ts';
import { Out, sectionBytes } from './wasm-writer.ts';

/** Names of the exports the rewrite added (normally `__memory`, `__table`, `__start`). */
export interface InjectedExportNames {
  memory: string;
  /** null if the module has no table. */
  table: string | null;
  /** null if the module has no start function. */
  start: string | null;
}

/** The prefix for injected exports: `__`, lengthened until it clashes with no module export. */
function injectedPrefix(exportNames: readonly string[]): string {
  let prefix = '__';
  const clashes = (p: string): boolean =>
    exportNames.some((n) => n.startsWith(p) && /^(memory|table|start|g\d+)$/.test(n.slice(p.length)));
  while (clashes(prefix)) prefix += '_';
  return prefix;
}

interface Rewrite {
  bytes: Uint8Array<ArrayBuffer>;
  globals: { name: string; type: string }[];
  exportNames: InjectedExportNames;
}

/**
 * Adds the host's exports, drops the start section, and adds an empty memory if there is none.
 * The last `hostGlobals` globals (the instruction counter) are the host's and not exported again.
 * Every other section is copied byte for byte; new sections go where the section order wants
 * them (memory before tag/global, export after global and before start/element/datacount/code).
 */
export function rewrite(wasm: Uint8Array, m: ParsedModule, hostGlobals = 0): Rewrite {
  const prefix = injectedPrefix(m.exports.map((e) => e.name));
  const extra = new Out();
  let added = 0;
  const add = (name: string, kind: number, index: number): void => {
    extra.name(name);
    extra.byte(kind);
    extra.u32(index);
    added++;
  };
  const exportNames: InjectedExportNames = { memory: `${prefix}memory`, table: null, start: null };
  add(exportNames.memory, 2, 0);
  if (m.tables.length > 0) {
    exportNames.table = `${prefix}table`;
    add(exportNames.table, 1, 0);
  }
  const globals: { name: string; type: string }[] = [];
  m.globals.forEach((g, i) => {
    if (!g.mutable || i >= m.globals.length - hostGlobals) return;
    const name = `${prefix}g${globals.length}`;
    globals.push({ name, type: g.type });
    add(name, 3, m.importedGlobalCount + i);
  });
  if (m.start !== null) {
    exportNames.start = `${prefix}start`;
    add(exportNames.start, 0, m.start);
  }

  const old = m.exportEntries ? wasm.subarray(m.exportEntries.start, m.exportEntries.end) : new Uint8Array(0);
  const payload = new Out();
  payload.u32(m.exports.length + added);
  payload.bytes(old);
  payload.bytes(extra.take());
  const exportSection = sectionBytes(7, payload.take());
  // An empty 32-bit memory for a module without one: (memory 0).
  let pendingMemory: Uint8Array | null = m.memories.length === 0 ? sectionBytes(5, new Uint8Array([1, 0x00, 0])) : null;
  let pendingExport: Uint8Array | null = m.exportEntries ? null : exportSection;

  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  for (const s of m.sections) {
    const rank = SECTION_RANK[s.id];
    if (rank !== undefined) {
      if (pendingMemory && rank > SECTION_RANK[5]!) {
        parts.push(pendingMemory);
        pendingMemory = null;
      }
      if (pendingExport && rank > SECTION_RANK[7]!) {
        parts.push(pendingExport);
        pendingExport = null;
      }
    }
    if (s.id === 8) continue; // start: now an export
    if (s.id === 5 && pendingMemory) {
      parts.push(pendingMemory); // an empty memory section (count 0): replace it
      pendingMemory = null;
      continue;
    }
    parts.push(s.id === 7 ? exportSection : wasm.subarray(s.headerStart, s.end));
  }
  if (pendingMemory) parts.push(pendingMemory);
  if (pendingExport) parts.push(pendingExport);

  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, globals, exportNames };
}
