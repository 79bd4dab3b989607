/**
 * Test support for the threshold protocol suite: signing through a ThresholdNetwork and checking
 * each signature with @noble/curves under the key @dfinity/ic-pub-key derives from the master
 * public key (the oracles nobody here wrote).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { secp256k1, schnorr } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { Principal } from '@icp-sdk/core/principal';
import { ecdsa as oracleEcdsa, schnorr as oracleSchnorr } from '@dfinity/ic-pub-key';
import { deriveEd25519PublicKey, deriveSecp256k1PublicKey, fullDerivationPath } from '../../src/crypto/derivation/index.ts';
import { idkgGroup } from '../../src/crypto/threshold/idkg/group.ts';
import { publicPreSignature } from '../../src/consensus/idkg/pre-signature-record.ts';
import type { ThresholdNetwork } from '../../src/consensus/idkg/threshold-network.ts';

type OraclePrincipal = Parameters<typeof oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix>[0];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const canister = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
const path = [new Uint8Array([1, 2, 3]), new Uint8Array()];

/** Runs rounds until `done()` or the bound. @returns rounds run */
export function runUntil(net: ThresholdNetwork, done: () => boolean, maxRounds = 200): number {
  let r = 0;
  while (!done() && r < maxRounds) {
    net.runRound(0n);
    r++;
  }
  assert.ok(done(), `not done after ${maxRounds} rounds`);
  return r;
}

/** The master public key of a key (compressed), from its current key transcript. */
export function masterKeyOf(net: ThresholdNetwork, keyId: string): string {
  const t = net.keyTranscript(keyId)!;
  return hex(idkgGroup(t.curve).encode(t.combined.points[0]!));
}

/**
 * Makes `k` signatures with a key (waiting for pre-signatures as needed) and verifies each with
 * noble under the ic-pub-key derived key.
 */
export function signAndVerify(net: ThresholdNetwork, keyId: string, k: number): void {
  const master = masterKeyOf(net, keyId);
  const kind = keyId.startsWith('ecdsa') ? 'ecdsa' : keyId.includes('Ed25519') ? 'ed25519' : 'bip340';
  const full = fullDerivationPath(canister.toUint8Array(), path);
  for (let i = 0; i < k; i++) {
    if (net.preSignatureCount(keyId) === 0) net.noteDemand(keyId, 1);
    runUntil(net, () => net.preSignatureCount(keyId) > 0);
    net.noteDemand(keyId, 0);
    const e = net.takePreSignature(keyId)!;
    const pre = publicPreSignature(e);
    const randomness = new Uint8Array(randomBytes(32));
    if (kind === 'ecdsa') {
      const d = deriveSecp256k1PublicKey(Buffer.from(master, 'hex'), new Uint8Array(32), full);
      const oracle = oracleEcdsa.secp256k1.PublicKeyWithChainCode.fromHex({ public_key: master, chain_code: '00'.repeat(32) }).deriveSubkeyWithChainCode(
        oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix(canister as unknown as OraclePrincipal, path),
      );
      const messageHash = new Uint8Array(randomBytes(32));
      const sig = net.sign(e, { derivationTweak: d.tweak, derivedPublicKey: d.publicKey, messageHash, randomness }, pre);
      assert.ok(secp256k1.verify(sig, messageHash, Buffer.from(oracle.public_key.toHex(), 'hex'), { prehash: false, lowS: true }), `${keyId} signature ${i}`);
    } else if (kind === 'bip340') {
      const d = deriveSecp256k1PublicKey(Buffer.from(master, 'hex'), new Uint8Array(32), full);
      const oracle = oracleSchnorr.bip340secp256k1.PublicKeyWithChainCode.fromHex({ public_key: master, chain_code: '00'.repeat(32) }).deriveSubkeyWithChainCode(
        oracleSchnorr.bip340secp256k1.DerivationPath.withCanisterPrefix(canister as unknown as OraclePrincipal, path),
      );
      const message = new TextEncoder().encode(`bip340 message ${i}`);
      const sig = net.sign(e, { derivationTweak: d.tweak, derivedPublicKey: d.publicKey, message, randomness }, pre);
      assert.ok(schnorr.verify(sig, message, Buffer.from(oracle.public_key.toHex(), 'hex').subarray(1)), `${keyId} signature ${i}`);
    } else {
      const d = deriveEd25519PublicKey(Buffer.from(master, 'hex'), new Uint8Array(32), full);
      const oracle = oracleSchnorr.ed25519.PublicKeyWithChainCode.fromHex(master, '00'.repeat(32)).deriveSubkeyWithChainCode(
        oracleSchnorr.ed25519.DerivationPath.withCanisterPrefix(canister as unknown as OraclePrincipal, path),
      );
      const message = new TextEncoder().encode(`ed25519 message ${i}`);
      const sig = net.sign(e, { derivationTweak: d.tweak, derivedPublicKey: d.publicKey, message, randomness }, pre);
      assert.ok(ed25519.verify(sig, message, Buffer.from(oracle.public_key.toHex(), 'hex')), `${keyId} signature ${i}`);
    }
  }
}

/** Every node holds at most one receiver's share of any transcript (its own). */
export function assertNeverWhole(net: ThresholdNetwork): void {
  for (const n of net.nodes) assert.ok(n.maxReceiversPerTranscript() <= 1, `${n.id} holds more than its own share of a transcript`);
}
