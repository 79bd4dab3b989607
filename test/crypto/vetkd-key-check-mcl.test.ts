/**
 * vetKD keys combined and checked many at once (vetkd-key-check-mcl.ts) against the noble
 * reference: a batch over two derived keys, repeated and identity transport keys, 1-node and
 * 2-of-3 sharings gives the noble bytes for every request, and @dfinity/vetkeys decrypts and
 * verifies them; a batch with keys broken in only the first equation, only the second, or E2
 * is refused exactly there (noble refuses the same keys) while the others still come back; the
 * multi-Miller loop equals the product of single pairings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mod } from '@noble/curves/abstract/modular.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { Principal } from '@icp-sdk/core/principal';
import { vetkeys } from '../clients/agent-js-3/index.ts';
import { loadMcl, millerLoopVec, type McL } from '../../src/crypto/mcl.ts';
import { dealSingleNodeKey, groupOrder, type SecretShare } from '../../src/crypto/threshold/key-transcript.ts';
import { combineEncryptedKeyShares, createEncryptedKeyShare, type EncryptedKeyShare, type VetKdDerivationInputs } from '../../src/crypto/threshold/vetkd-encrypted-key.ts';
import {
  combineEncryptedKeySharesBatchMcl,
  createEncryptedKeyShareMcl,
  deriveEncryptedKeysMcl,
  prepareVetKdRequestMcl,
  type McLEncryptedKeyShare,
} from '../../src/crypto/threshold/vetkd-encrypted-key-mcl.ts';
import { deriveVetKdPublicKey } from '../../src/crypto/derivation/index.ts';
import { KeyAlgorithm } from '../../src/routing/key-id.ts';
import { mulberry32 } from '../support/prng.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rand = mulberry32(1717);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
const canister = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai').toUint8Array();
const R = groupOrder('bls12_381_g2');
const G1 = bls12_381.G1.Point;

async function mcl(): Promise<McL> {
  const m = await loadMcl();
  assert.ok(m, 'mcl-wasm loads (a dependency)');
  return m;
}

const { share } = dealSingleNodeKey({ algorithm: KeyAlgorithm.vetkdBls12381G2, name: 'k' }, bytes(64));
const mpk = bls12_381.G2.Point.BASE.multiply(share.value).toBytes(true);
/** 2 of 3: f(x) = msk + a·x at x = 1, 2, 3. */
const a1 = mod(bytesToNumberBE(bytes(48)), R);
const shareAt = (i: number): SecretShare => ({ ...share, receiver: i, value: mod(share.value + a1 * BigInt(i + 1), R) });

const identity = new Uint8Array(48);
identity[0] = 0xc0;
const tsks = [vetkeys.TransportSecretKey.random(), vetkeys.TransportSecretKey.random()];

interface Case {
  inputs: VetKdDerivationInputs;
  tsk: vetkeys.TransportSecretKey | null;
  shares: SecretShare[];
  rs: Uint8Array[];
}

/** Six requests: two contexts (two derived keys), a repeated and the identity transport key, 1 node and 2 of 3. */
function cases(): Case[] {
  return [0, 1, 2, 3, 4, 5].map((i) => {
    const d = deriveVetKdPublicKey(mpk, canister, new TextEncoder().encode(i % 2 ? 'ctx' : ''));
    const tsk = i === 3 ? null : tsks[i % 2]!;
    const shares = i % 3 === 2 ? [shareAt(0), shareAt(2)] : [share];
    const inputs = { derivedPublicKey: d.publicKey, derivationTweak: d.tweak, input: bytes(i * 7), transportPublicKey: tsk ? tsk.publicKeyBytes() : identity };
    return { inputs, tsk, shares, rs: shares.map(() => bytes(64)) };
  });
}

type Tamper = (m: McL | null, s: { e1: unknown; e2: unknown; e3: unknown }) => void;

const shared = cases();
let untampered: (Uint8Array | Error)[] | null = null;

/** The batch on mcl, and noble's answers (computed once for the requests not tampered with). */
function run(m: McL, cs: Case[], tamper: Map<number, Tamper> = new Map()) {
  const fast = combineEncryptedKeySharesBatchMcl(
    m,
    cs.map((c, j) => {
      const request = prepareVetKdRequestMcl(m, c.inputs);
      const shares: McLEncryptedKeyShare[] = c.shares.map((s, i) => createEncryptedKeyShareMcl(m, request, s, c.rs[i]!));
      tamper.get(j)?.(m, shares[0]!);
      return { request, shares };
    }),
  );
  const reference = cs.map((c, j) => {
    if (cs === shared && untampered && !tamper.has(j)) return untampered[j]!;
    const shares: EncryptedKeyShare[] = c.shares.map((s, i) => createEncryptedKeyShare(c.inputs, s, c.rs[i]!));
    tamper.get(j)?.(null, shares[0]!);
    try {
      return combineEncryptedKeyShares(c.inputs, shares);
    } catch (e) {
      return e as Error;
    }
  });
  if (cs === shared && tamper.size === 0) untampered = reference;
  return { fast, reference };
}

test('vetKD batch check: a batch equals noble for every request and decrypts with @dfinity/vetkeys', async () => {
  const m = await mcl();
  const cs = shared;
  const { fast, reference } = run(m, cs);
  fast.forEach((ek, j) => {
    assert.ok(ek instanceof Uint8Array && reference[j] instanceof Uint8Array, `request ${j} combines`);
    assert.equal(hex(ek), hex(reference[j] as Uint8Array), `request ${j}`);
    const { tsk, inputs } = cs[j]!;
    if (tsk) vetkeys.EncryptedVetKey.deserialize(ek).decryptAndVerify(tsk, vetkeys.DerivedPublicKey.deserialize(inputs.derivedPublicKey), inputs.input);
  });
  // The whole path with fresh randomness (the worker's): every key decrypts and verifies.
  const derived = deriveEncryptedKeysMcl(m, cs.map((c) => ({ inputs: c.inputs, shares: c.shares, threshold: c.shares.length })));
  derived.forEach((ek, j) => {
    assert.ok(ek instanceof Uint8Array, `request ${j}`);
    const { tsk, inputs } = cs[j]!;
    if (tsk) vetkeys.EncryptedVetKey.deserialize(ek).decryptAndVerify(tsk, vetkeys.DerivedPublicKey.deserialize(inputs.derivedPublicKey), inputs.input);
  });
});

test('vetKD batch check: keys broken in E1 only, E3 only or E2 fail alone, as in noble', async () => {
  const m = await mcl();
  // Adds G1 to E1 (equation 1 fails, 2 holds) or to E3 (2 fails, 1 holds); swaps in another E2 (both fail).
  const addG1 = (field: 'e1' | 'e3'): Tamper => (mc, s) => {
    if (mc) {
      const g = new mc.G1();
      g.deserialize(G1.BASE.toBytes(true));
      (s as McLEncryptedKeyShare)[field] = mc.add((s as McLEncryptedKeyShare)[field], g);
    } else (s as EncryptedKeyShare)[field] = (s as EncryptedKeyShare)[field].add(G1.BASE);
  };
  const doubleE2: Tamper = (mc, s) => {
    if (mc) (s as McLEncryptedKeyShare).e2 = mc.dbl((s as McLEncryptedKeyShare).e2);
    else (s as EncryptedKeyShare).e2 = (s as EncryptedKeyShare).e2.double();
  };
  for (const [bad, tamper] of [
    [1, addG1('e1')],
    [4, addG1('e3')],
    [2, doubleE2],
  ] as const) {
    if (!untampered) run(m, shared);
    const { fast, reference } = run(m, shared, new Map([[bad, tamper]]));
    fast.forEach((ek, j) => {
      if (j === bad) {
        assert.ok(ek instanceof Error && /does not verify/.test(ek.message), `request ${j} refused`);
        assert.ok(reference[j] instanceof Error && /does not verify/.test(reference[j].message), `noble refuses request ${j}`);
      } else assert.equal(hex(ek as Uint8Array), hex(reference[j] as Uint8Array), `request ${j} still answered`);
    });
  }
  // Every key bad: each refused.
  const all = run(m, shared.slice(0, 3), new Map([0, 1, 2].map((j) => [j, addG1('e3')])));
  assert.ok(all.fast.every((r) => r instanceof Error) && all.reference.every((r) => r instanceof Error));
});

test('vetKD batch check: the multi-Miller loop equals the product of single pairings', async () => {
  const m = await mcl();
  const g1 = new m.G1();
  g1.deserialize(G1.BASE.toBytes(true));
  const g2 = new m.G2();
  g2.deserialize(bls12_381.G2.Point.BASE.toBytes(true));
  const fr = () => {
    const f = new m.Fr();
    f.setBigEndianMod(bytes(32));
    return f;
  };
  for (const n of [1, 2, 5]) {
    const ps = Array.from({ length: n }, () => m.mul(g1, fr()));
    const qs = Array.from({ length: n }, () => m.mul(g2, fr()));
    const product = ps.map((p, i) => m.pairing(p, qs[i]!)).reduce((x, y) => m.mul(x, y));
    assert.ok(m.finalExp(millerLoopVec(m, ps, qs)).isEqual(product), `n = ${n}`);
  }
  assert.throws(() => millerLoopVec(m, [], []), /equally many/);
});
