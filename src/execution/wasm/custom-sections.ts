/**
 * Reads a Wasm module's custom sections without compiling it (Wasm core spec §5.5.3: section id 0,
 * a name, then bytes), and the canister metadata they carry (interface spec §"Canister module
 * format": sections named `icp:public <name>` or `icp:private <name>`). Accepts gzip-compressed
 * modules (spec: a module starting with the gzip magic bytes is decompressed first).
 */
import { gunzipSync } from 'node:zlib';

const WASM_MAGIC = [0x00, 0x61, 0x73, 0x6d] as const;
const GZIP_MAGIC = [0x1f, 0x8b, 0x08] as const;

/** A canister metadata section: visibility and raw content. */
export interface CanisterMetadata {
  visibility: 'public' | 'private';
  content: Uint8Array;
}

/** Thrown for a module that is not well-formed Wasm; the message says what is wrong. */
export class WasmDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WasmDecodeError';
  }
}

/** True if `bytes` starts with the gzip magic bytes. */
export function isGzipped(bytes: Uint8Array): boolean {
  return GZIP_MAGIC.every((b, i) => bytes[i] === b);
}

/**
 * The raw Wasm of a module as installed: gunzipped if it is gzip-compressed.
 * @throws WasmDecodeError if gunzip fails.
 */
export function decompressModule(bytes: Uint8Array): Uint8Array {
  if (!isGzipped(bytes)) return bytes;
  try {
    return new Uint8Array(gunzipSync(bytes));
  } catch (e) {
    throw new WasmDecodeError(`failed to decompress gzipped module: ${(e as Error).message}`);
  }
}

function readU32(b: Uint8Array, pos: { o: number }): number {
  let result = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (pos.o >= b.length) throw new WasmDecodeError('unexpected end of module in a LEB128 number');
    const x = b[pos.o++]!;
    result += (x & 0x7f) * 2 ** shift;
    if ((x & 0x80) === 0) return result;
    shift += 7;
  }
  throw new WasmDecodeError('LEB128 number too long');
}

/**
 * Lists the sections of a raw (not gzipped) Wasm module: id, and the byte range of the payload.
 * @throws WasmDecodeError on a bad header, a section running past the end, or a bad custom name.
 */
export function readSections(wasm: Uint8Array): { id: number; start: number; end: number; name?: string }[] {
  if (wasm.length < 8 || !WASM_MAGIC.every((b, i) => wasm[i] === b)) {
    throw new WasmDecodeError('bad magic number (expected \\0asm)');
  }
  if (wasm[4] !== 1 || wasm[5] !== 0 || wasm[6] !== 0 || wasm[7] !== 0) {
    throw new WasmDecodeError('unsupported Wasm version (expected 1)');
  }
  const out: { id: number; start: number; end: number; name?: string }[] = [];
  const pos = { o: 8 };
  while (pos.o < wasm.length) {
    const id = wasm[pos.o++]!;
    const size = readU32(wasm, pos);
    const start = pos.o;
    const end = start + size;
    if (end > wasm.length) throw new WasmDecodeError(`section ${id} runs past the end of the module`);
    if (id === 0) {
      const p = { o: start };
      const n = readU32(wasm, p);
      if (p.o + n > end) throw new WasmDecodeError('custom section name runs past its section');
      let name: string;
      try {
        name = new TextDecoder('utf-8', { fatal: true }).decode(wasm.subarray(p.o, p.o + n));
      } catch {
        throw new WasmDecodeError('custom section name is not UTF-8');
      }
      out.push({ id, start: p.o + n, end, name });
    } else {
      out.push({ id, start, end });
    }
    pos.o = end;
  }
  return out;
}

/**
 * The canister metadata of a module (raw or gzipped): `icp:public NAME` / `icp:private NAME`
 * custom sections, keyed by NAME.
 * @throws WasmDecodeError if the module is malformed or names one metadata section twice.
 */
export function canisterMetadata(module: Uint8Array): Map<string, CanisterMetadata> {
  const wasm = decompressModule(module);
  const out = new Map<string, CanisterMetadata>();
  for (const s of readSections(wasm)) {
    if (s.id !== 0 || !s.name) continue;
    const m = /^icp:(public|private) (.+)$/s.exec(s.name);
    if (!m) continue;
    const name = m[2]!;
    if (out.has(name)) throw new WasmDecodeError(`duplicate canister metadata section "${name}"`);
    out.set(name, { visibility: m[1] as 'public' | 'private', content: wasm.slice(s.start, s.end) });
  }
  return out;
}
