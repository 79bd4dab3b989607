/**
 * Threshold-key derivation (src/crypto/derivation): (a) every known-answer vector in
 * test/vectors/derivation.json (ICP mainnet, PocketIC, dfinity/ic unit tests, SLIP-0010,
 * dfinity/vetkeys); (b) fast-check properties against the `@dfinity/ic-pub-key` oracle for ECDSA
 * secp256k1, BIP340 and Ed25519 with random master keys, principals and paths (ic-pub-key has no
 * vetKD); (c) secret-side consistency: the derived secret's public key is the derived public key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { secp256k1, schnorr as nobleSchnorr } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToNumberBE, bytesToNumberLE, numberToBytesBE, numberToBytesLE } from '@noble/curves/utils.js';
import { Principal } from '@icp-sdk/core/principal';
import { ChainCode, ecdsa as oracleEcdsa, schnorr as oracleSchnorr } from '@dfinity/ic-pub-key';
import {
  BLS12_381_ORDER,
  deriveEd25519PublicKey,
  deriveEd25519SecretKey,
  deriveSecp256k1PublicKey,
  deriveSecp256k1SecretKey,
  deriveVetKdPublicKey,
  deriveVetKdSecretKey,
  deriveVetKdSubKey,
  ED25519_ORDER,
  fullDerivationPath,
  MAX_DERIVATION_PATH_ELEMENTS,
  SECP256K1_ORDER,
} from '../../src/crypto/derivation/index.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

type PrincipalVector = { text: string | null; hex: string };
type PublicVector = {
  name: string;
  source: string;
  masterPublicKey: string;
  chainCode: string;
  principal?: PrincipalVector;
  derivationPath: string[];
  expectedPublicKey: string;
  expectedChainCode?: string;
};
type SecretVector = {
  name: string;
  source: string;
  chainCode: string;
  masterSecret: string;
  masterPublicKey: string;
  derivationPath: string[];
  expectedChainCode: string;
  expectedSecretKey: string;
  expectedPublicKey: string;
};
type VetKdVector = {
  name: string;
  source: string;
  masterPublicKey: string;
  canisterId: PrincipalVector;
  context: string;
  expectedPublicKey: string;
};
type VetKdSubKeyVector = {
  name: string;
  source: string;
  canisterPublicKey: string;
  context: string;
  expectedPublicKey: string;
};
type Vectors = {
  source: string;
  secp256k1: { publicKey: PublicVector[]; secretKey: SecretVector[] };
  ed25519: { publicKey: PublicVector[]; secretKey: SecretVector[] };
  vetkd: { publicKey: VetKdVector[]; subKey: VetKdSubKeyVector[] };
};

const vectors = JSON.parse(
  readFileSync(new URL('../vectors/derivation.json', import.meta.url), 'utf8'),
) as Vectors;

/** The full path of a vector: [principal, ...derivationPath] when it names a principal. */
function vectorPath(v: PublicVector): Uint8Array[] {
  const path = v.derivationPath.map(unhex);
  if (v.principal === undefined) return path;
  if (v.principal.text !== null) {
    // The vector's raw bytes must be the principal's bytes (never its text form).
    assert.equal(hex(Principal.fromText(v.principal.text).toUint8Array()), v.principal.hex);
  }
  return fullDerivationPath(unhex(v.principal.hex), path);
}

// ---------------------------------------------------------------------------------------------
// (a) Known-answer vectors
// ---------------------------------------------------------------------------------------------

test('vectors: secp256k1 public derivation (ECDSA and BIP340)', async (t) => {
  assert.ok(vectors.secp256k1.publicKey.length >= 20);
  for (const v of vectors.secp256k1.publicKey) {
    await t.test(v.name, () => {
      const d = deriveSecp256k1PublicKey(unhex(v.masterPublicKey), unhex(v.chainCode), vectorPath(v));
      assert.equal(hex(d.publicKey), v.expectedPublicKey);
      if (v.expectedChainCode !== undefined) assert.equal(hex(d.chainCode), v.expectedChainCode);
    });
  }
});

test('vectors: secp256k1 secret derivation (SLIP-0010 via dfinity/ic)', async (t) => {
  for (const v of vectors.secp256k1.secretKey) {
    await t.test(v.name, () => {
      const path = v.derivationPath.map(unhex);
      const s = deriveSecp256k1SecretKey(unhex(v.masterSecret), unhex(v.chainCode), path);
      assert.equal(hex(s.secretKey), v.expectedSecretKey);
      assert.equal(hex(s.publicKey), v.expectedPublicKey);
      assert.equal(hex(s.chainCode), v.expectedChainCode);
      const p = deriveSecp256k1PublicKey(unhex(v.masterPublicKey), unhex(v.chainCode), path);
      assert.equal(hex(p.publicKey), v.expectedPublicKey);
      assert.equal(hex(p.chainCode), v.expectedChainCode);
      const tweaked = (bytesToNumberBE(unhex(v.masterSecret)) + p.tweak) % SECP256K1_ORDER;
      assert.equal(hex(numberToBytesBE(tweaked, 32)), v.expectedSecretKey);
    });
  }
});

test('vectors: Ed25519 public derivation', async (t) => {
  assert.ok(vectors.ed25519.publicKey.length >= 7);
  for (const v of vectors.ed25519.publicKey) {
    await t.test(v.name, () => {
      const d = deriveEd25519PublicKey(unhex(v.masterPublicKey), unhex(v.chainCode), vectorPath(v));
      assert.equal(hex(d.publicKey), v.expectedPublicKey);
      if (v.expectedChainCode !== undefined) assert.equal(hex(d.chainCode), v.expectedChainCode);
    });
  }
});

test('vectors: Ed25519 secret derivation (little-endian scalars, dfinity/ic)', async (t) => {
  for (const v of vectors.ed25519.secretKey) {
    await t.test(v.name, () => {
      const path = v.derivationPath.map(unhex);
      const s = deriveEd25519SecretKey(unhex(v.masterSecret), unhex(v.chainCode), path);
      assert.equal(hex(s.secretKey), v.expectedSecretKey);
      assert.equal(hex(s.publicKey), v.expectedPublicKey);
      assert.equal(hex(s.chainCode), v.expectedChainCode);
      const p = deriveEd25519PublicKey(unhex(v.masterPublicKey), unhex(v.chainCode), path);
      assert.equal(hex(p.publicKey), v.expectedPublicKey);
      const tweaked = (bytesToNumberLE(unhex(v.masterSecret)) + p.tweak) % ED25519_ORDER;
      assert.equal(hex(numberToBytesLE(tweaked, 32)), v.expectedSecretKey);
    });
  }
});

test('vectors: vetKD public derivation (dfinity/vetkeys, mainnet and PocketIC)', async (t) => {
  assert.ok(vectors.vetkd.publicKey.length >= 9);
  for (const v of vectors.vetkd.publicKey) {
    await t.test(v.name, () => {
      if (v.canisterId.text !== null) {
        assert.equal(hex(Principal.fromText(v.canisterId.text).toUint8Array()), v.canisterId.hex);
      }
      const d = deriveVetKdPublicKey(unhex(v.masterPublicKey), unhex(v.canisterId.hex), unhex(v.context));
      assert.equal(hex(d.publicKey), v.expectedPublicKey);
    });
  }
  for (const v of vectors.vetkd.subKey) {
    await t.test(v.name, () => {
      const canisterKey = unhex(v.canisterPublicKey);
      assert.equal(hex(deriveVetKdSubKey(canisterKey, unhex(v.context)).publicKey), v.expectedPublicKey);
      // An empty context is a no-op.
      assert.equal(hex(deriveVetKdSubKey(canisterKey, new Uint8Array()).publicKey), v.canisterPublicKey);
    });
  }
});

test('framing: the principal is the first path element; limits and input checks', () => {
  assert.equal(MAX_DERIVATION_PATH_ELEMENTS, 255);
  const principal = Uint8Array.of(1, 2, 3);
  const element = Uint8Array.of(9);
  assert.deepEqual(fullDerivationPath(principal, [element]), [principal, element]);
  const v = vectors.secp256k1.publicKey[0];
  assert.ok(v !== undefined && v.principal !== undefined);
  const mpk = unhex(v.masterPublicKey);
  const zero = new Uint8Array(32);
  // Empty path: master key and chain code unchanged, tweak 0.
  const none = deriveSecp256k1PublicKey(mpk, zero, []);
  assert.equal(hex(none.publicKey), v.masterPublicKey);
  assert.equal(hex(none.chainCode), hex(zero));
  assert.equal(none.tweak, 0n);
  // Negative controls: text principal bytes, a missing prefix, and a joined path all differ.
  const path = v.derivationPath.map(unhex);
  const textBytes = new TextEncoder().encode(v.principal.text ?? '');
  for (const other of [fullDerivationPath(textBytes, path), path, [unhex(v.principal.hex + v.derivationPath.join(''))]]) {
    assert.notEqual(hex(deriveSecp256k1PublicKey(mpk, zero, other).publicKey), v.expectedPublicKey);
  }
  assert.throws(() => deriveSecp256k1PublicKey(mpk.subarray(1), zero, []), /expected 33 bytes/);
  assert.throws(() => deriveSecp256k1PublicKey(mpk, zero.subarray(1), []), /expected 32 bytes/);
  assert.throws(() => deriveEd25519PublicKey(new Uint8Array(33), zero, []), /expected 32 bytes/);
  assert.throws(() => deriveSecp256k1SecretKey(zero, zero, []), /0 < d < n/);
  assert.throws(() => deriveEd25519SecretKey(numberToBytesLE(ED25519_ORDER, 32), zero, []), /0 < s < ℓ/);
  assert.throws(() => deriveVetKdSecretKey(numberToBytesBE(BLS12_381_ORDER, 32), zero, zero), /0 < msk < r/);
});

// ---------------------------------------------------------------------------------------------
// (b) + (c) Properties against @dfinity/ic-pub-key, and secret-side consistency
// ---------------------------------------------------------------------------------------------

const RUNS = 50;

/** A path element: mostly empty / 4-byte BIP-32 style / short arbitrary, sometimes longer. */
const elementArb = fc.oneof(
  { weight: 1, arbitrary: fc.constant(new Uint8Array()) },
  { weight: 2, arbitrary: fc.uint8Array({ minLength: 4, maxLength: 4 }) },
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 0, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ minLength: 41, maxLength: 300 }) },
);
/** A derivation path of 0..255 elements; long paths are rare (they cost ~ms per element). */
const pathArb = fc.oneof(
  { weight: 30, arbitrary: fc.array(elementArb, { minLength: 0, maxLength: 6 }) },
  { weight: 1, arbitrary: fc.array(elementArb, { minLength: 200, maxLength: MAX_DERIVATION_PATH_ELEMENTS }) },
);
/** A principal: a 10-byte canister id, anonymous, or any 0..29 bytes (self-authenticating is 29). */
const principalArb = fc.oneof(
  fc.uint8Array({ minLength: 10, maxLength: 10 }),
  fc.constant(Uint8Array.of(0x04)),
  fc.uint8Array({ minLength: 0, maxLength: 29 }),
);
/** A chain code: mostly random, sometimes the mainnet all-zero one. */
const chainCodeArb = fc.oneof(
  { weight: 3, arbitrary: fc.uint8Array({ minLength: 32, maxLength: 32 }) },
  { weight: 1, arbitrary: fc.constant(new Uint8Array(32)) },
);
/** One guaranteed maximal case per property: 255 elements, all empty but one. */
const MAX_PATH = Array.from({ length: MAX_DERIVATION_PATH_ELEMENTS }, (_, i) =>
  i === 7 ? Uint8Array.of(0, 0, 0, 1) : new Uint8Array(),
);

const secp256k1Case = fc.record({
  secret: fc.bigInt({ min: 1n, max: SECP256K1_ORDER - 1n }),
  chainCode: chainCodeArb,
  principal: principalArb,
  path: pathArb,
});
const ed25519Case = fc.record({
  secret: fc.bigInt({ min: 1n, max: ED25519_ORDER - 1n }),
  chainCode: chainCodeArb,
  principal: principalArb,
  path: pathArb,
});

/**
 * ic-pub-key types its principal as `@dfinity/principal`'s class; it only calls `toUint8Array()`,
 * so the product's `@icp-sdk/core` Principal works at run time (the private `_arr` makes the
 * two declarations nominally distinct for tsc).
 */
type OraclePrincipal = Parameters<typeof oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix>[0];
const oraclePrincipal = (bytes: Uint8Array): OraclePrincipal =>
  Principal.fromUint8Array(bytes) as unknown as OraclePrincipal;

type Secp256k1Case = { secret: bigint; chainCode: Uint8Array; principal: Uint8Array; path: Uint8Array[] };

/** Our derivation vs ic-pub-key's for one secp256k1 case (ECDSA or BIP340 classes). */
function checkSecp256k1(c: Secp256k1Case, oracle: typeof oracleEcdsa.secp256k1 | typeof oracleSchnorr.bip340secp256k1): void {
  const masterSecret = numberToBytesBE(c.secret, 32);
  const masterPublicKey = secp256k1.getPublicKey(masterSecret, true);
  const ours = deriveSecp256k1PublicKey(masterPublicKey, c.chainCode, fullDerivationPath(c.principal, c.path));
  // Oracle: ic-pub-key's own canister-prefix framing and derivation.
  const dp = oracle.DerivationPath.withCanisterPrefix(oraclePrincipal(c.principal), c.path);
  const theirs = oracle.PublicKeyWithChainCode.fromHex({ public_key: hex(masterPublicKey), chain_code: hex(c.chainCode) })
    .deriveSubkeyWithChainCode(dp);
  assert.equal(hex(ours.publicKey), theirs.public_key.toHex());
  assert.equal(hex(ours.chainCode), theirs.chain_code.toHex());
  const [, theirTweak] = dp.derive_offset(
    oracleEcdsa.secp256k1.Sec1EncodedPublicKey.fromHex(hex(masterPublicKey)).toAffinePoint(),
    new ChainCode(c.chainCode),
  );
  assert.equal(ours.tweak, theirTweak);
  // (c) secret side: d' = d + tweak, d'·G is the derived key.
  const s = deriveSecp256k1SecretKey(masterSecret, c.chainCode, fullDerivationPath(c.principal, c.path));
  assert.equal(hex(s.publicKey), hex(ours.publicKey));
  assert.equal(hex(s.chainCode), hex(ours.chainCode));
  assert.equal(hex(secp256k1.getPublicKey(s.secretKey, true)), hex(ours.publicKey));
}

test('property: ECDSA secp256k1 agrees with @dfinity/ic-pub-key; secret side consistent', () => {
  fc.assert(
    fc.property(secp256k1Case, (c) => checkSecp256k1(c, oracleEcdsa.secp256k1)),
    { numRuns: RUNS, examples: [[{ secret: 1n, chainCode: new Uint8Array(32), principal: Uint8Array.of(4), path: MAX_PATH }]] },
  );
});

test('property: BIP340 secp256k1 agrees with @dfinity/ic-pub-key; derived secret signs', () => {
  let odd = 0;
  fc.assert(
    fc.property(secp256k1Case, fc.uint8Array({ maxLength: 64 }), (c, message) => {
      checkSecp256k1(c, oracleSchnorr.bip340secp256k1);
      const s = deriveSecp256k1SecretKey(numberToBytesBE(c.secret, 32), c.chainCode, fullDerivationPath(c.principal, c.path));
      if (s.publicKey[0] === 0x03) odd++;
      // BIP340 signs with the even-y twin of d' internally; verify against x-only(P').
      const signature = nobleSchnorr.sign(message, s.secretKey, new Uint8Array(32));
      assert.ok(nobleSchnorr.verify(signature, message, s.publicKey.subarray(1)));
    }),
    { numRuns: RUNS },
  );
  assert.ok(odd > 0 && odd < RUNS, `odd-y derived keys: ${odd}`);
});

test('property: Ed25519 agrees with @dfinity/ic-pub-key; secret scalar consistent', () => {
  fc.assert(
    fc.property(ed25519Case, (c) => {
      const masterSecret = numberToBytesLE(c.secret, 32);
      const masterPublicKey = ed25519.Point.BASE.multiply(c.secret).toBytes();
      const full = fullDerivationPath(c.principal, c.path);
      const ours = deriveEd25519PublicKey(masterPublicKey, c.chainCode, full);
      const dp = oracleSchnorr.ed25519.DerivationPath.withCanisterPrefix(oraclePrincipal(c.principal), c.path);
      const master = oracleSchnorr.ed25519.PublicKeyWithChainCode.fromHex(hex(masterPublicKey), hex(c.chainCode));
      const theirs = master.deriveSubkeyWithChainCode(dp);
      assert.equal(hex(ours.publicKey), theirs.public_key.toHex());
      assert.equal(hex(ours.chainCode), theirs.chain_code.toHex());
      const [, theirTweak] = dp.deriveOffset(master.public_key.key, new ChainCode(c.chainCode));
      assert.equal(ours.tweak, theirTweak);
      // (c) secret side: s' = s + tweak mod ℓ (a scalar, not a seed), s'·B is the derived key.
      const s = deriveEd25519SecretKey(masterSecret, c.chainCode, full);
      assert.equal(hex(s.publicKey), hex(ours.publicKey));
      assert.equal(hex(s.chainCode), hex(ours.chainCode));
      const scalar = bytesToNumberLE(s.secretKey);
      assert.ok(scalar < ED25519_ORDER);
      assert.equal(hex(ed25519.Point.BASE.multiply(scalar).toBytes()), hex(ours.publicKey));
    }),
    { numRuns: RUNS, examples: [[{ secret: 1n, chainCode: new Uint8Array(32), principal: Uint8Array.of(4), path: MAX_PATH }]] },
  );
});

test('property: vetKD secret side consistent with public side (no ic-pub-key oracle)', () => {
  fc.assert(
    fc.property(
      fc.bigInt({ min: 1n, max: BLS12_381_ORDER - 1n }),
      principalArb,
      fc.oneof(fc.constant(new Uint8Array()), fc.uint8Array({ maxLength: 100 })),
      (secret, canisterId, context) => {
        const masterSecret = numberToBytesBE(secret, 32);
        const masterPublicKey = bls12_381.G2.Point.BASE.multiply(secret).toBytes(true);
        const ours = deriveVetKdPublicKey(masterPublicKey, canisterId, context);
        const s = deriveVetKdSecretKey(masterSecret, canisterId, context);
        assert.equal(hex(s.publicKey), hex(ours.publicKey));
        const derived = bytesToNumberBE(s.secretKey);
        assert.equal(derived, (secret + ours.tweak) % BLS12_381_ORDER);
        assert.equal(hex(bls12_381.G2.Point.BASE.multiply(derived).toBytes(true)), hex(ours.publicKey));
        // Two-step = canister key, then sub-key (what ic_vetkeys does offline).
        const canisterKey = deriveVetKdPublicKey(masterPublicKey, canisterId, new Uint8Array()).publicKey;
        assert.equal(hex(deriveVetKdSubKey(canisterKey, context).publicKey), hex(ours.publicKey));
      },
    ),
    { numRuns: 20 },
  );
});
