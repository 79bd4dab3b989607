/**
 * Chain-key requests in flight are stored with the round that accepted them and read back
 * exactly (bytes, bigints, optional fields), so a restart answers every paid request; answered
 * ones are deleted; callback ids keep increasing after a reload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { Principal } from '@icp-sdk/core/principal';
import { StateStore } from '../../src/store/state-store.ts';
import { SubnetCallContextManager } from '../../src/state/subnet-call-context-manager.ts';
import { tempStateDir } from '../support/replica-fixture.ts';

test('sign_with_threshold contexts survive a reopen; answered ones are gone', () => {
  const dir = tempStateDir();
  try {
    let store = StateStore.open(dir);
    const m = SubnetCallContextManager.load(store);
    const base = { origin: { caller: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai'), callbackId: 3, deadlineNanos: 0n }, batchTimeNanos: 5n, pseudoRandomId: new Uint8Array(32).fill(7) };
    const a = m.push({ ...base, method: 'sign_with_ecdsa', keyId: 'ecdsa:Secp256k1:test_key_1', args: { kind: 'ecdsa', messageHash: new Uint8Array(32).fill(1), derivationPath: [new Uint8Array(), new Uint8Array([1, 2])] }, refundCycles: 123n });
    const b = m.push({ ...base, method: 'sign_with_schnorr', keyId: 'schnorr:Bip340Secp256k1:key_1', args: { kind: 'schnorr', message: new Uint8Array([9]), derivationPath: [], taprootMerkleRoot: new Uint8Array() }, refundCycles: 0n });
    const c = m.push({ ...base, method: 'vetkd_derive_key', keyId: 'vetkd:Bls12_381_G2:key_1', args: { kind: 'vetkd', input: new Uint8Array([1]), context: new Uint8Array(), transportPublicKey: new Uint8Array(48) }, refundCycles: 1n });
    store.transaction(() => m.writeChanges(store));
    m.clearChanges();
    m.remove(b.callbackId);
    store.transaction(() => m.writeChanges(store));
    store.close();

    store = StateStore.open(dir);
    const again = SubnetCallContextManager.load(store);
    assert.deepEqual(again.answerable(), [a, c], 'stored contexts are answerable after a restart');
    assert.equal(again.countForKey('ecdsa:Secp256k1:test_key_1'), 1);
    const d = again.push({ ...a });
    assert.ok(d.callbackId > c.callbackId);
    assert.deepEqual(again.answerable(), [a, c], 'accepted in this round: answered from the next one');
    again.endRound();
    assert.deepEqual(again.answerable(), [a, c, d]);
    store.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
