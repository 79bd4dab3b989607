/**
 * vetKD encrypted keys on mcl-wasm: the same computation as vetkd-encrypted-key.ts (the noble
 * reference; read it for the scheme) with BLS12-381 arithmetic in WebAssembly, ~10× faster. With
 * the same inputs and the same per-node randomness both produce the same 192 bytes (tested).
 *
 * A request's public points (the transport key, deserialized and subgroup-checked; the message
 * point H; the derived key K) are computed once ({@link prepareVetKdRequestMcl}) and shared by
 * every node's share and the check; the transport key and K are kept for reuse (callers send the
 * same few again and again). Combined keys are checked as the replica checks them (two pairing
 * equations, vetkd-key-check-mcl.ts), many at once when many are combined together.
 */
import { randomBytes } from 'node:crypto';
import type { Fr, G1, G2 } from 'mcl-wasm';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { hashToG1, type McL } from '../mcl.ts';
import type { SecretShare } from './key-transcript.ts';
import { scalarFromBytes } from './key-transcript.ts';
import { lagrangeWeightsAtZero } from './lagrange.ts';
import { VETKD_SIGNATURE_DST, type VetKdDerivationInputs } from './vetkd-encrypted-key.ts';
import { encryptedKeysAreValidMcl, generatorsMcl, type McLKeyToCheck } from './vetkd-key-check-mcl.ts';

const R_ORDER = bls12_381.G2.Point.Fn.ORDER;
/** Transport keys and derived keys kept as points (each map; oldest dropped first). */
const POINT_CACHE_ENTRIES = 1024;

/** One node's encrypted key share (E1_i, E2_i, E3_i) as mcl points. */
export interface McLEncryptedKeyShare {
  receiver: number;
  e1: G1;
  e2: G2;
  e3: G1;
}

/** A request's inputs with its public points (from {@link prepareVetKdRequestMcl}). */
export interface VetKdRequestMcl {
  inputs: VetKdDerivationInputs;
  /** The transport public key (in the prime-order subgroup; the identity allowed). */
  tpk: G1;
  /** H = hash_to_G1(ser(K) ‖ input) with the augmented BLS DST. */
  h: G1;
  /** The derived public key K. */
  k: G2;
  /** K's bytes as hex. */
  kId: string;
}

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Points by their encoding's hex, per mcl instance (a worker thread has its own). */
let cache: { mcl: McL; tpk: Map<string, G1>; k: Map<string, G2> } | null = null;
function cacheOf(mcl: McL): { tpk: Map<string, G1>; k: Map<string, G2> } {
  if (cache?.mcl !== mcl) cache = { mcl, tpk: new Map(), k: new Map() };
  return cache;
}
function remember<T>(map: Map<string, T>, id: string, value: T): T {
  if (map.size >= POINT_CACHE_ENTRIES) map.delete(map.keys().next().value!);
  map.set(id, value);
  return value;
}

function fr(mcl: McL, x: bigint): Fr {
  const f = new mcl.Fr();
  f.setBigEndianMod(numberToBytesBE(((x % R_ORDER) + R_ORDER) % R_ORDER, 32));
  return f;
}

/**
 * The transport public key as an mcl point.
 * @throws Error unless it is a compressed G1 point in the prime-order subgroup (the identity included)
 */
function transportKey(mcl: McL, bytes: Uint8Array): G1 {
  const id = hex(bytes);
  const known = cacheOf(mcl).tpk.get(id);
  if (known) return known;
  const p = new mcl.G1();
  try {
    if (bytes.length !== 48) throw new Error('length');
    p.deserialize(bytes);
    if (!p.isValidOrder()) throw new Error('order');
  } catch {
    throw new Error('vetKD: invalid transport public key');
  }
  return remember(cacheOf(mcl).tpk, id, p);
}

function derivedKey(mcl: McL, bytes: Uint8Array, id: string): G2 {
  const known = cacheOf(mcl).k.get(id);
  if (known) return known;
  const k = new mcl.G2();
  k.deserialize(bytes);
  return remember(cacheOf(mcl).k, id, k);
}

/**
 * A request's public points, computed once for all of its shares and its check.
 * @throws Error if the transport key is invalid ('vetKD: invalid transport public key')
 */
export function prepareVetKdRequestMcl(mcl: McL, inputs: VetKdDerivationInputs): VetKdRequestMcl {
  const tpk = transportKey(mcl, inputs.transportPublicKey);
  const kId = hex(inputs.derivedPublicKey);
  const k = derivedKey(mcl, inputs.derivedPublicKey, kId);
  const h = hashToG1(mcl, concatBytes(inputs.derivedPublicKey, inputs.input), VETKD_SIGNATURE_DST);
  return { inputs, tpk, h, k, kId };
}

/**
 * A node's encrypted key share (= vetkd-encrypted-key.ts `createEncryptedKeyShare`).
 * @param keyShare the node's share of the vetKD key transcript
 * @param random 64 uniformly random bytes (the node's encryption randomness r_i)
 */
export function createEncryptedKeyShareMcl(mcl: McL, request: VetKdRequestMcl, keyShare: SecretShare, random: Uint8Array): McLEncryptedKeyShare {
  const { g1, g2 } = generatorsMcl(mcl);
  const r = fr(mcl, scalarFromBytes('bls12_381_g2', random));
  const secret = fr(mcl, keyShare.value + request.inputs.derivationTweak);
  return {
    receiver: keyShare.receiver,
    e1: mcl.mul(g1, r),
    e2: mcl.mul(g2, r),
    // r·tpk + (msk_i + δ)·H as one two-point multiplication
    e3: mcl.mulVec([request.tpk, request.h], [r, secret]),
  };
}

/** Lagrange interpolation at 0 of t shares' three components (a single share's weight is 1). */
function interpolate(mcl: McL, shares: readonly McLEncryptedKeyShare[]): { e1: G1; e2: G2; e3: G1 } {
  if (shares.length === 0) throw new Error('vetKD: no encrypted key shares');
  if (shares.length === 1) return shares[0]!;
  const w = lagrangeWeightsAtZero(shares.map((s) => s.receiver), R_ORDER).map((x) => fr(mcl, x));
  return { e1: mcl.mulVec(shares.map((s) => s.e1), w), e2: mcl.mulVec(shares.map((s) => s.e2), w), e3: mcl.mulVec(shares.map((s) => s.e3), w) };
}

/**
 * Combines the shares of many requests, each into E1 ‖ E2 ‖ E3 (192 bytes, compressed), and
 * checks all combined keys together (vetkd-key-check-mcl.ts). If that check fails, each key is
 * checked alone, so only the invalid ones fail (as the replica falls back to checking shares).
 * @param jobs each request with t of its encrypted key shares
 * @returns per job, the 192 bytes or the Error ('vetKD: combined encrypted key does not verify')
 */
export function combineEncryptedKeySharesBatchMcl(mcl: McL, jobs: readonly { request: VetKdRequestMcl; shares: readonly McLEncryptedKeyShare[] }[]): (Uint8Array | Error)[] {
  const keys: (McLKeyToCheck | Error)[] = jobs.map(({ request, shares }) => {
    try {
      return { ...interpolate(mcl, shares), tpk: request.tpk, h: request.h, k: request.k, kId: request.kId };
    } catch (e) {
      return e as Error;
    }
  });
  const good = keys.filter((k): k is McLKeyToCheck => !(k instanceof Error));
  const allValid = good.length > 0 && encryptedKeysAreValidMcl(mcl, good);
  return keys.map((k) => {
    if (k instanceof Error) return k;
    if (!allValid && (good.length === 1 || !encryptedKeysAreValidMcl(mcl, [k]))) return new Error('vetKD: combined encrypted key does not verify');
    return concatBytes(k.e1.serialize(), k.e2.serialize(), k.e3.serialize());
  });
}

/**
 * Combines t encrypted key shares into E1 ‖ E2 ‖ E3 (192 bytes, compressed) and checks it
 * (= vetkd-encrypted-key.ts `combineEncryptedKeyShares`).
 * @throws Error if the combination is not a valid encryption of the vetKey (a bad share)
 */
export function combineEncryptedKeySharesMcl(mcl: McL, request: VetKdRequestMcl, shares: readonly McLEncryptedKeyShare[]): Uint8Array {
  const out = combineEncryptedKeySharesBatchMcl(mcl, [{ request, shares }])[0]!;
  if (out instanceof Error) throw out;
  return out;
}

/**
 * The encrypted keys of many requests, start to end: every node's share with fresh randomness,
 * t of them combined, all combined keys checked together (a request's error in its place).
 * @param jobs each request's inputs, every node's secret share, and t
 */
export function deriveEncryptedKeysMcl(mcl: McL, jobs: readonly { inputs: VetKdDerivationInputs; shares: readonly SecretShare[]; threshold: number }[]): (Uint8Array | Error)[] {
  const out: (Uint8Array | Error)[] = new Array(jobs.length);
  const ready: { at: number; request: VetKdRequestMcl; shares: McLEncryptedKeyShare[] }[] = [];
  jobs.forEach((job, at) => {
    try {
      const request = prepareVetKdRequestMcl(mcl, job.inputs);
      const shares = job.shares.map((s) => createEncryptedKeyShareMcl(mcl, request, s, new Uint8Array(randomBytes(64))));
      ready.push({ at, request, shares: shares.slice(0, job.threshold) });
    } catch (e) {
      out[at] = e as Error;
    }
  });
  if (ready.length > 0) combineEncryptedKeySharesBatchMcl(mcl, ready).forEach((r, i) => (out[ready[i]!.at] = r));
  return out;
}
