/**
 * BLS12-381 signing in the min-sig scheme (signature in G1, key in G2; ciphersuite
 * `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`, RFC 9380 hash-to-curve), as certificates need it:
 * a fast path on mcl-wasm (herumi/mcl compiled to WebAssembly; ~10× faster than pure JS here) and
 * @noble/curves as the reference. Both produce the same 48 bytes (BLS signatures are
 * deterministic); the tests compare them, and the fast path checks itself against noble once
 * when it becomes ready, falling back to noble for good if they ever differ.
 *
 * mcl's WebAssembly takes 0.1–0.3 s to load and compile, so it is prepared in the background:
 * by {@link prepareFastBlsSigning} (the server calls it once it listens) or else at the first
 * signature; until it is ready, signing uses noble.
 *
 * mcl is driven through its C API (bn.h): `mclBnG1_hashAndMapToWithDst` takes the DST per call,
 * so no global DST is set; the process-wide settings are mcl.ts's (loaded once for every user).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { loadMcl, type McLModule } from './mcl.ts';

const nobleShort = bls12_381.shortSignatures;

// Scratch buffers in mcl's heap, allocated once (bytes: ample for Fr 32, G1 144, a message).
const SLOT = 512;
let fast: { m: McLModule; sk: number; g: number; s: number; buf: number; dst: number; dstLen: number; keyHex: string } | null = null;
let preparing: Promise<boolean> | null = null;
let disabled = false;

/**
 * The reference: noble's min-sig signature of `message` with the hash-to-curve `dst`.
 * @param secretKey 32 bytes, big-endian scalar in [1, r).
 * @returns the compressed G1 point, 48 bytes.
 */
export function blsSignNoble(secretKey: Uint8Array, message: Uint8Array, dst: string): Uint8Array {
  return nobleShort.Signature.toBytes(nobleShort.sign(nobleShort.hash(message, dst), secretKey));
}

/**
 * Starts compiling mcl-wasm (once); resolves true when the fast path is ready and agrees with
 * noble, false if mcl is unavailable or disagreed (noble is used then). Never rejects.
 */
export function prepareFastBlsSigning(): Promise<boolean> {
  preparing ??= (async () => {
    try {
      const mcl = await loadMcl();
      if (mcl === null) throw new Error('mcl-wasm did not load');
      const m = mcl.mod;
      fast = { m, sk: m._malloc(SLOT), g: m._malloc(SLOT), s: m._malloc(SLOT), buf: m._malloc(SLOT), dst: m._malloc(SLOT), dstLen: 0, keyHex: '' };
      // Self-check against the reference on a fixed key and message.
      const key = new Uint8Array(32).fill(0x11);
      const msg = new TextEncoder().encode('chainkey-replica mcl self-check');
      const dst = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_';
      const a = blsSign(key, msg, dst);
      const b = blsSignNoble(key, msg, dst);
      if (Buffer.compare(a, b) !== 0) {
        disabled = true;
        console.error('chainkey-replica: mcl-wasm BLS signature differs from noble; signing with noble');
        return false;
      }
      return true;
    } catch (e) {
      disabled = true;
      console.error('chainkey-replica: mcl-wasm unavailable; signing BLS with noble:', (e as Error).message);
      return false;
    }
  })();
  return preparing;
}

/** Whether signatures are currently made by mcl-wasm. */
export function fastBlsSigningReady(): boolean {
  return fast !== null && !disabled;
}

/**
 * Min-sig BLS signature: mcl-wasm when ready, noble otherwise (the same bytes).
 * @param secretKey 32 bytes, big-endian scalar in [1, r).
 * @param message the bytes to sign (at most 256 bytes on the fast path; longer ones use noble).
 * @param dst the hash-to-curve domain separation tag (ASCII).
 * @returns the compressed G1 signature, 48 bytes.
 * @throws Error if the secret key is not a valid scalar.
 */
export function blsSign(secretKey: Uint8Array, message: Uint8Array, dst: string): Uint8Array {
  const f = fast;
  if (preparing === null) setImmediate(() => void prepareFastBlsSigning());
  if (f === null || disabled || message.length > SLOT || dst.length > SLOT) {
    return blsSignNoble(secretKey, message, dst);
  }
  const { m } = f;
  const heap = new Uint8Array(m.wasmMemory.buffer); // a fresh view: the memory may have grown
  const keyHex = Buffer.from(secretKey).toString('hex');
  if (keyHex !== f.keyHex) {
    heap.set(secretKey, f.buf);
    if (m._mclBnFr_deserialize(f.sk, f.buf, secretKey.length) !== secretKey.length) throw new Error('BLS secret key is not a valid scalar');
    f.keyHex = keyHex;
  }
  heap.set(message, f.buf);
  for (let i = 0; i < dst.length; i++) heap[f.dst + i] = dst.charCodeAt(i);
  if (m._mclBnG1_hashAndMapToWithDst(f.g, f.buf, message.length, f.dst, dst.length) !== 0) throw new Error('mcl hash-to-G1 failed');
  m._mclBnG1_mul(f.s, f.g, f.sk);
  const n = m._mclBnG1_serialize(f.buf, SLOT, f.s);
  if (n !== 48) throw new Error(`mcl G1 serialization gave ${n} bytes`);
  return new Uint8Array(m.wasmMemory.buffer).slice(f.buf, f.buf + 48); // after calls that may grow memory
}
