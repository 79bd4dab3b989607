/**
 * Call contexts across rounds, end to end from ingress to the ingress history (a real replica:
 * SQLite in a temp dir, Wasm canisters compiled from WAT, manual rounds under a virtual clock so
 * a context can be held open deterministically). A chain-key request is answered from the round
 * after the one that accepted it, so a canister whose update calls `sign_with_ecdsa` keeps an open
 * call context until the next round. Checked here, each with the replica's code and text:
 * - start_canister cancels a pending stop_canister (IC0511);
 * - uninstall_code rejects open call contexts ("Canister has been uninstalled.", IC0406);
 * - a best-effort call past its deadline gets "Call deadline has expired." (reject code 6);
 * - a best-effort signing request past its deadline gets "Signature request expired" (code 5);
 * - a trapping reply callback runs the call_on_cleanup callback;
 * - a canister calling delete_canister on itself is refused first (IC0512 DeleteCanisterSelf).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { Principal } from '@icp-sdk/core/principal';
import { encodeManagementArgs, decodeManagementReply } from '../../src/management/codec.ts';
import { Replica } from '../../src/replica.ts';
import type { IngressRecord } from '../../src/store/ingress-repository.ts';
import { compileWat } from '../support/wat.ts';
import { forwarderWat, type CallSpec } from '../support/forwarder-wat.ts';
import { tempStateDir } from '../support/replica-fixture.ts';

const DOCS = 'https://internetcomputer.org/docs/current/references/execution-errors';
const MANAGEMENT = Principal.managementCanister();
const USER = Principal.fromUint8Array(new Uint8Array([...new Uint8Array(28).fill(7), 0x02]));
const SIGN_FEE = 10_000_000_000n;

describe('call contexts across rounds (manual rounds, virtual clock)', () => {
  let replica: Replica;
  let stateDir: string;
  let nowNanos = BigInt(Date.now()) * 1_000_000n;
  const printed: string[] = [];

  /** Submits an ingress message (through the ingress filter) for the next round; returns its request id. */
  async function submit(canisterId: Principal, methodName: string, arg: Uint8Array, effectiveCanisterId = canisterId): Promise<Uint8Array> {
    const requestId = new Uint8Array(randomBytes(32));
    const accepted = await replica.submitCall({ requestId, sender: USER, canisterId, methodName, arg, expiryNanos: nowNanos + 240_000_000_000n, effectiveCanisterId });
    assert.equal(accepted, 'accepted');
    return requestId;
  }
  const status = (rid: Uint8Array): IngressRecord => replica.state.ingress(rid)!;
  /** The [reject code, message] a forwarder's reject callback replied with. */
  function forwardedReject(rid: Uint8Array): { code: number; message: string } {
    const r = status(rid);
    assert.equal(r.status, 'replied', `expected the forwarder's reply, got ${r.status}: ${r.rejectMessage ?? ''}`);
    return { code: r.reply![0]!, message: Buffer.from(r.reply!.subarray(1)).toString('utf8') };
  }
  async function round(advanceSeconds = 0): Promise<void> {
    nowNanos += BigInt(advanceSeconds) * 1_000_000_000n + 1_000_000n;
    await replica.runRound();
  }
  async function createCanister(): Promise<Principal> {
    const rid = await submit(MANAGEMENT, 'provisional_create_canister_with_cycles', encodeManagementArgs('provisional_create_canister_with_cycles', [{ amount: [], settings: [], specified_id: [], sender_canister_version: [] }]), Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai'));
    await round();
    return decodeManagementReply('provisional_create_canister_with_cycles', status(rid).reply!)[0].canister_id;
  }
  async function install(id: Principal, calls: readonly CallSpec[], mode: 'install' | 'reinstall' = 'install'): Promise<void> {
    const wasm = await compileWat(forwarderWat(calls));
    const rid = await submit(MANAGEMENT, 'install_code', encodeManagementArgs('install_code', [{ mode: mode === 'install' ? { install: null } : { reinstall: null }, canister_id: id, wasm_module: wasm, arg: new Uint8Array(), sender_canister_version: [] }]), id);
    await round();
    assert.equal(status(rid).status, 'replied', status(rid).rejectMessage);
  }
  const signArg = encodeManagementArgs('sign_with_ecdsa', [{ message_hash: new Uint8Array(32).fill(1), derivation_path: [], key_id: { curve: { secp256k1: null }, name: 'test_key_1' } }]);
  const canisterIdArg = (id: Principal): Uint8Array => encodeManagementArgs('stop_canister', [{ canister_id: id }]);

  let x: Principal;
  let y: Principal;

  before(async () => {
    stateDir = tempStateDir();
    replica = Replica.open({ stateDir, manualRounds: true, clock: { nowNanos: () => nowNanos }, debugPrint: (_id, text) => printed.push(text) });
    x = await createCanister();
    y = await createCanister();
    // y signs (guaranteed response); x's calls are set per test by reinstalling it.
    await install(y, [{ callee: MANAGEMENT, method: 'sign_with_ecdsa', arg: signArg, cycles: SIGN_FEE }]);
  });
  after(async () => {
    await replica?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  test('start_canister cancels a pending stop_canister: IC0511, and the call context still completes', async () => {
    const waiting = await submit(y, 'go_0', new Uint8Array());
    const stop = await submit(MANAGEMENT, 'stop_canister', canisterIdArg(y), y);
    const start = await submit(MANAGEMENT, 'start_canister', canisterIdArg(y), y);
    await round();
    assert.equal(status(waiting).status, 'processing');
    assert.equal(status(start).status, 'replied');
    const s = status(stop);
    assert.deepEqual(
      { status: s.status, code: s.rejectCode, errorCode: s.errorCode, message: s.rejectMessage },
      { status: 'rejected', code: 5, errorCode: 'IC0511', message: `Canister ${y.toText()}'s stop request was cancelled.` },
    );
    await round();
    assert.equal(status(waiting).status, 'replied', 'the signature arrives in the next round');
    assert.equal(status(waiting).reply!.length > 64, true);
  });

  test('uninstall_code rejects open call contexts: "Canister has been uninstalled." (IC0406)', async () => {
    const waiting = await submit(y, 'go_0', new Uint8Array());
    await round();
    assert.equal(status(waiting).status, 'processing');
    const uninstall = await submit(MANAGEMENT, 'uninstall_code', encodeManagementArgs('uninstall_code', [{ canister_id: y, sender_canister_version: [] }]), y);
    await round();
    assert.equal(status(uninstall).status, 'replied');
    const w = status(waiting);
    assert.deepEqual(
      { status: w.status, code: w.rejectCode, errorCode: w.errorCode, message: w.rejectMessage },
      { status: 'rejected', code: 4, errorCode: 'IC0406', message: 'Canister has been uninstalled.' },
    );
    await round(); // the late signature finds no context and is dropped
    await install(y, [{ callee: MANAGEMENT, method: 'sign_with_ecdsa', arg: signArg, cycles: SIGN_FEE }], 'install');
  });

  test('a best-effort call past its deadline is answered "Call deadline has expired." (reject code 6)', async () => {
    // x calls y with a 1 s deadline; y waits a round for its signature; the round 2 s later times x's call out first.
    await install(x, [{ callee: y, method: 'go_0', arg: new Uint8Array(), timeoutSeconds: 1 }], 'reinstall');
    const rid = await submit(x, 'go_0', new Uint8Array());
    await round();
    assert.equal(status(rid).status, 'processing');
    await round(2);
    assert.deepEqual(forwardedReject(rid), { code: 6, message: 'Call deadline has expired.' });
  });

  test('a best-effort signing request past its deadline is answered "Signature request expired" (reject code 5)', async () => {
    await install(x, [{ callee: MANAGEMENT, method: 'sign_with_ecdsa', arg: signArg, cycles: SIGN_FEE, timeoutSeconds: 1 }], 'reinstall');
    const rid = await submit(x, 'go_0', new Uint8Array());
    await round();
    assert.equal(status(rid).status, 'processing');
    await round(2);
    assert.deepEqual(forwardedReject(rid), { code: 5, message: 'Signature request expired' });
  });

  test('a trapping reply callback runs the call_on_cleanup callback; the caller sees the trap', async () => {
    await install(x, [{ callee: MANAGEMENT, method: 'raw_rand', arg: encodeManagementArgs('raw_rand', []), trapInReplyWithCleanup: true }], 'reinstall');
    printed.length = 0;
    const rid = await submit(x, 'go_0', new Uint8Array());
    await round();
    const r = status(rid);
    assert.deepEqual(
      { status: r.status, code: r.rejectCode, errorCode: r.errorCode, message: r.rejectMessage },
      {
        status: 'rejected',
        code: 5,
        errorCode: 'IC0502',
        message:
          `Error from Canister ${x.toText()}: Canister trapped: unreachable.\n` +
          `Consider gracefully handling failures from this canister or altering the canister to handle exceptions. See documentation: ${DOCS}#trapped`,
      },
    );
    assert.deepEqual(printed, ['cleanup ran']);
  });

  test('delete_canister on the calling canister itself is refused first: IC0512 DeleteCanisterSelf', async () => {
    await install(x, [{ callee: MANAGEMENT, method: 'delete_canister', arg: canisterIdArg(x) }], 'reinstall');
    const rid = await submit(x, 'go_0', new Uint8Array());
    await round();
    assert.deepEqual(forwardedReject(rid), {
      code: 5,
      message:
        `IC0512: Canister ${x.toText()} cannot delete itself.\n` +
        `Delete the canister from one of its other controllers. See documentation: ${DOCS}#delete-canister-self`,
    });
  });

  test('open call contexts are stored one row each and survive a restart; their answers arrive after it', async () => {
    const waiting = [await submit(y, 'go_0', new Uint8Array()), await submit(y, 'go_0', new Uint8Array())];
    await round();
    for (const rid of waiting) assert.equal(status(rid).status, 'processing');
    const rows = replica.store.execution.callContextEntries(y.toUint8Array());
    assert.deepEqual(rows.map((r) => r.kind).sort(), [0, 0, 1, 1], 'two open contexts, each waiting on one callback');
    await replica.close();
    replica = Replica.open({ stateDir, manualRounds: true, clock: { nowNanos: () => nowNanos }, debugPrint: (_id, text) => printed.push(text) });
    await round();
    for (const rid of waiting) assert.equal(status(rid).status, 'replied', status(rid).rejectMessage);
    assert.deepEqual(replica.store.execution.callContextEntries(y.toUint8Array()), [], 'closed contexts and answered callbacks are deleted');
    assert.equal(replica.chainKey.offThread.handedOver, 0, 'manual rounds sign in the round itself, not on the signing worker');
  });
});
