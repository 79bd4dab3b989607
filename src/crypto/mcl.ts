/**
 * mcl-wasm (herumi/mcl compiled to WebAssembly): BLS12-381 group and pairing arithmetic ~8–10×
 * faster than pure JS here, loaded once per process for every user (certificate signing in
 * bls-signing.ts, vetKD in threshold/vetkd-encrypted-key-mcl.ts).
 *
 * mcl's settings are process-wide, so they are set here once and nowhere else: curve BLS12-381,
 * ETH/ZCash serialization (compressed big-endian points as noble's `toBytes(true)`, big-endian
 * scalars) and the RFC 9380 map-to mode (IRTF). No global hash-to-curve DST is set: callers pass
 * theirs per call through {@link hashToG1}. Subgroup checks on deserialization are left off
 * (mcl's default); callers check with `isValidOrder()` where an input is untrusted.
 *
 * Loading compiles ~0.4 MB of WebAssembly (0.1–0.3 s), so it happens in the background
 * ({@link loadMcl}); until it is ready, callers use their noble path ({@link readyMcl} is null).
 */
import { createRequire } from 'node:module';
import type * as McLApi from 'mcl-wasm';

/** The C exports of mcl's module used directly (bn.h), and its heap. */
export interface McLModule {
  wasmMemory: WebAssembly.Memory;
  _malloc(n: number): number;
  _free(p: number): void;
  _mclBnFr_deserialize(x: number, buf: number, n: number): number;
  _mclBnG1_hashAndMapToWithDst(x: number, buf: number, n: number, dst: number, dstN: number): number;
  _mclBnG1_mul(z: number, x: number, y: number): void;
  _mclBnG1_serialize(buf: number, max: number, x: number): number;
  _mclBn_millerLoopVec(z: number, x: number, y: number, n: number): void;
}

/** The mcl-wasm API (its typed JS wrappers) plus the raw module. */
export type McL = typeof McLApi & { mod: McLModule };

let loading: Promise<McL | null> | null = null;
let ready: McL | null = null;

/**
 * Loads and configures mcl-wasm (once per process).
 * @returns the module, or null if it cannot be loaded here (callers then stay on noble). Never rejects.
 */
export function loadMcl(): Promise<McL | null> {
  loading ??= (async () => {
    try {
      const mcl = createRequire(import.meta.url)('mcl-wasm') as McL;
      await mcl.init(mcl.BLS12_381);
      mcl.setETHserialization(true);
      mcl.setMapToMode(mcl.IRTF);
      ready = mcl;
      return mcl;
    } catch (e) {
      console.error('chainkey-replica: mcl-wasm unavailable; BLS12-381 stays on noble:', (e as Error).message);
      return null;
    }
  })();
  return loading;
}

/** The loaded module, or null while loading (or if it failed); starts loading on first call. */
export function readyMcl(): McL | null {
  if (loading === null) void loadMcl();
  return ready;
}

/** Scratch space in mcl's heap for hashToG1 (message, DST, output point), grown on demand. */
let scratch: { msg: number; msgSize: number; dst: number; out: number } | null = null;

/**
 * RFC 9380 hash_to_curve into G1 (expand_message_xmd SHA-256, SSWU, random oracle) with a
 * caller's domain separation tag: equal to noble's `bls12_381.G1.hashToCurve(msg, { DST })`.
 * @param dst ASCII, at most 255 bytes
 * @throws Error if mcl's hashing fails or the DST is too long
 */
export function hashToG1(mcl: McL, message: Uint8Array, dst: string): McLApi.G1 {
  const m = mcl.mod;
  if (dst.length > 255) throw new Error('hash-to-G1: DST longer than 255 bytes');
  if (scratch === null || scratch.msgSize < message.length) {
    if (scratch) m._free(scratch.msg);
    const msgSize = Math.max(1024, message.length);
    scratch = { msg: m._malloc(msgSize), msgSize, dst: scratch?.dst ?? m._malloc(256), out: scratch?.out ?? m._malloc(256) };
  }
  const heap = new Uint8Array(m.wasmMemory.buffer); // a fresh view: the memory may have grown
  heap.set(message, scratch.msg);
  for (let i = 0; i < dst.length; i++) heap[scratch.dst + i] = dst.charCodeAt(i);
  if (m._mclBnG1_hashAndMapToWithDst(scratch.out, scratch.msg, message.length, scratch.dst, dst.length) !== 0) throw new Error('mcl hash-to-G1 failed');
  const p = new mcl.G1();
  p.copyFromMem(scratch.out);
  return p;
}

/** Bytes of a G1 point in mcl's memory: 3 coordinates of 6 64-bit words (G2: twice, GT: four times). */
const G1_MEM_BYTES = 3 * 6 * 8;

/**
 * The product of the Miller loops of (ps[i], qs[i]) as one multi-Miller loop (shared Fp12
 * squarings: ~0.65× the cost of separate loops for three pairs, less for more); equal to
 * `mcl.mul(mcl.millerLoop(ps[0], qs[0]), …)`. Apply `finalExp` for the pairing product.
 * @throws Error if the arrays differ in length or are empty
 */
export function millerLoopVec(mcl: McL, ps: readonly McLApi.G1[], qs: readonly McLApi.G2[]): McLApi.GT {
  const n = ps.length;
  if (n === 0 || n !== qs.length) throw new Error('millerLoopVec: need equally many G1 and G2 points');
  const m = mcl.mod;
  const g1 = G1_MEM_BYTES;
  const g2 = 2 * G1_MEM_BYTES;
  const at = m._malloc(n * (g1 + g2) + 4 * G1_MEM_BYTES);
  try {
    const qAt = at + n * g1;
    const zAt = qAt + n * g2;
    for (let i = 0; i < n; i++) {
      ps[i]!.copyToMem(at + i * g1);
      qs[i]!.copyToMem(qAt + i * g2);
    }
    m._mclBn_millerLoopVec(zAt, at, qAt, n);
    const z = new mcl.GT();
    z.copyFromMem(zAt);
    return z;
  } finally {
    m._free(at);
  }
}
