/**
 * A canister's heap after a restart is its checkpoint: the stored (non-zero) pages, and zeros
 * everywhere else. The new instance is created with the module's data segments, so a
 * data-segment page the canister has since zeroed (a zero page is not stored) must read as zero
 * after the restore, not as the segment; a written page reads back as written. (Restore writes
 * only stored pages, so pages that stay zero take no resident memory; canister-instance.ts `load`.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Principal } from '@icp-sdk/core/principal';
import { decodeManagementReply, encodeManagementArgs } from '../../src/management/codec.ts';
import { Replica } from '../../src/replica.ts';
import { compileWat } from '../support/wat.ts';
import { tempStateDir } from '../support/replica-fixture.ts';

const MANAGEMENT = Principal.managementCanister();
const USER = Principal.fromUint8Array(new Uint8Array([...new Uint8Array(28).fill(7), 0x02]));
const SEGMENT = 4096 * 3;
const WRITTEN = 4096 * 5;

const WAT = `(module
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (memory (export "memory") 8)
  (data (i32.const ${SEGMENT}) "ABCD")
  (func (export "canister_update zero") (memory.fill (i32.const ${SEGMENT}) (i32.const 0) (i32.const 4)) (call $reply))
  (func (export "canister_update set") (i32.store8 (i32.const ${WRITTEN}) (i32.const 90)) (call $reply))
  (func (export "canister_update read") (call $append (i32.const ${SEGMENT}) (i32.const 4)) (call $append (i32.const ${WRITTEN}) (i32.const 1)) (call $reply)))`;

test('after a restart a zeroed data-segment page reads as zero and a written page as written', async () => {
  const stateDir = tempStateDir('ckr-restore-');
  const nowNanos = BigInt(Date.now()) * 1_000_000n;
  const open = () => Replica.open({ stateDir, manualRounds: true, clock: { nowNanos: () => nowNanos } });
  let replica = open();
  async function call(canisterId: Principal, methodName: string, arg: Uint8Array, effectiveCanisterId = canisterId): Promise<Uint8Array> {
    const requestId = new Uint8Array(randomBytes(32));
    assert.equal(await replica.submitCall({ requestId, sender: USER, canisterId, methodName, arg, expiryNanos: nowNanos + 240_000_000_000n, effectiveCanisterId }), 'accepted');
    await replica.runRound();
    const r = replica.state.ingress(requestId)!;
    assert.equal(r.status, 'replied', r.rejectMessage);
    return r.reply!;
  }
  try {
    const anyId = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
    const created = await call(MANAGEMENT, 'provisional_create_canister_with_cycles', encodeManagementArgs('provisional_create_canister_with_cycles', [{ amount: [], settings: [], specified_id: [], sender_canister_version: [] }]), anyId);
    const id: Principal = decodeManagementReply('provisional_create_canister_with_cycles', created)[0].canister_id;
    const wasm = await compileWat(WAT, { bulk_memory: true });
    await call(MANAGEMENT, 'install_code', encodeManagementArgs('install_code', [{ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: new Uint8Array(), sender_canister_version: [] }]), id);
    assert.deepEqual([...(await call(id, 'read', new Uint8Array()))], [65, 66, 67, 68, 0], 'the data segment, before anything is written');
    await call(id, 'zero', new Uint8Array());
    await call(id, 'set', new Uint8Array());
    assert.deepEqual([...(await call(id, 'read', new Uint8Array()))], [0, 0, 0, 0, 90]);
    await replica.close();
    replica = open();
    assert.deepEqual([...(await call(id, 'read', new Uint8Array()))], [0, 0, 0, 0, 90], 'restored from the checkpoint, not from the data segment');
  } finally {
    await replica.close();
    rmSync(stateDir, { recursive: true, force: true });
  }
});
