/**
 * Acceptance (issue 3): hand-written WAT canisters (compiled with wabt) that misuse the System
 * API get the replica's trap texts and codes: replying twice, reading the argument in a reject
 * callback, stable memory out of bounds, a call with cycles beyond the balance; and a trapping
 * update leaves memory as it was. The same canister is run as wasm32 and wasm64 (memory64).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { compileWat } from '../support/wat.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;

const DOCS = 'https://internetcomputer.org/docs/current/references/execution-errors';
const TOOLCHAIN =
  'If you are running this canister in a test environment (e.g., dfx), make sure the test environment is up to date. ' +
  'Otherwise, this is likely an error with the compiler/CDK toolchain being used to build the canister. Please report the ' +
  'error to IC devs on the forum: https://forum.dfinity.org and include which language/CDK was used to create the canister.';

/** The misuse canister; `I` is the pointer type (i32 or i64), `c` makes a constant of it. */
function misuseWat(wide: boolean): string {
  const I = wide ? 'i64' : 'i32';
  const c = (n: number) => `(${I}.const ${n})`;
  return `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param ${I} ${I})))
  (import "ic0" "msg_arg_data_size" (func $arg_size (result ${I})))
  (import "ic0" "call_new" (func $call_new (param ${I} ${I} ${I} ${I} ${I} ${I} ${I} ${I})))
  (import "ic0" "call_cycles_add128" (func $cycles_add (param i64 i64)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "stable64_grow" (func $stable_grow (param i64) (result i64)))
  (import "ic0" "stable64_read" (func $stable_read (param i64 i64 i64)))
  (memory ${wide ? 'i64 ' : ''}1)
  (table ${wide ? 'i64 ' : ''}2 funcref)
  (elem (${I}.const 0) $on_reply $on_reject)
  (global $counter (mut i32) (i32.const 0))
  (data (${I}.const 0) "DIDL\\00\\00")
  (data (${I}.const 16) "nope")
  (data (${I}.const 32) "\\00\\00\\00\\00\\00\\f0\\ff\\ff\\01\\01")
  (func $on_reply (param ${I}) (call $reply))
  (func $on_reject (param ${I}) (drop (call $arg_size)) (call $append ${c(0)} ${c(6)}) (call $reply))
  (func (export "canister_update reply_twice")
    (call $append ${c(0)} ${c(6)}) (call $reply) (call $reply))
  (func (export "canister_update arg_in_reject_callback")
    ;; calls a canister that does not exist, so the reject callback runs
    (call $call_new ${c(32)} ${c(10)} ${c(16)} ${c(4)} ${c(0)} ${c(0)} ${c(1)} ${c(0)})
    (drop (call $perform)))
  (func (export "canister_update stable_out_of_bounds")
    (drop (call $stable_grow (i64.const 1)))
    (call $stable_read (i64.const 0) (i64.const 65530) (i64.const 10)))
  (func (export "canister_update stable_huge_read")
    ;; a sparse 437 GiB stable memory, read into a 64 KiB heap: a heap trap, not a host failure
    (drop (call $stable_grow (i64.const 7000000)))
    (call $stable_read (i64.const 0) (i64.const 0) (i64.const 458000000000)))
  (func (export "canister_update cycles_beyond_balance")
    (call $call_new ${c(32)} ${c(10)} ${c(16)} ${c(4)} ${c(0)} ${c(0)} ${c(1)} ${c(0)})
    (call $cycles_add (i64.const 1) (i64.const 0))
    (drop (call $perform)))
  (func (export "canister_update bump_then_trap")
    (global.set $counter (i32.add (global.get $counter) (i32.const 1)))
    (i32.store8 ${c(100)} (i32.const 7))
    unreachable)
  (func (export "canister_query state")
    ;; replies DIDL\\00\\00 only while the global is 0 and byte 100 is 0
    (if (i32.or (global.get $counter) (i32.load8_u ${c(100)})) (then unreachable))
    (call $append ${c(0)} ${c(6)}) (call $reply))
)`;
}

for (const wide of [false, true]) {
  describe(`System API misuse (WAT, ${wide ? 'wasm64' : 'wasm32'})`, () => {
    let r: Running;
    let agent: HttpAgent;
    let id: Principal;

    before(async () => {
      const wasm = await compileWat(misuseWat(wide), { memory64: wide });
      // Free cost schedule: the canister holds 1_000 cycles (for the out-of-cycles transfer case).
      r = await startTestReplica({ debugPrint: () => {}, costSchedule: 'free' });
      agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
      const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
      id = (await mgmt.provisional_create_canister_with_cycles({ amount: [1_000n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
      await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: IDL.encode([], []), sender_canister_version: [] });
    });
    after(async () => {
      await r?.cleanup();
    });

    /** Calls an update method and returns the reject's code, error code and message. */
    async function rejectOf(method: string): Promise<{ code: number; errorCode: string | undefined; message: string }> {
      const res = await agent.call(id, { methodName: method, arg: IDL.encode([], []), effectiveCanisterId: id });
      const body = res.response.body as { reject_code?: number; reject_message?: string; error_code?: string } | null;
      if (body && 'reject_code' in body && body.reject_code !== undefined) {
        return { code: body.reject_code, errorCode: body.error_code, message: body.reject_message! };
      }
      // v4 sync call: the outcome is in the certificate.
      const status = r.replica.state.ingress(new Uint8Array(res.requestId));
      assert.ok(status && status.status === 'rejected', `expected a reject, got ${status?.status}`);
      return { code: status.rejectCode!, errorCode: status.errorCode, message: status.rejectMessage! };
    }

    test('msg_reply twice traps with the toolchain contract violation (IC0504)', async () => {
      assert.deepEqual(await rejectOf('reply_twice'), {
        code: 5,
        errorCode: 'IC0504',
        message: `Error from Canister ${id.toText()}: Canister violated contract: ic0.msg_reply: the call is already replied.\n${TOOLCHAIN}`,
      });
    });

    test('msg_arg_data_size in a reject callback traps: wrong mode (IC0504)', async () => {
      assert.deepEqual(await rejectOf('arg_in_reject_callback'), {
        code: 5,
        errorCode: 'IC0504',
        message:
          `Error from Canister ${id.toText()}: Canister violated contract: "ic0_msg_arg_data_size" cannot be executed in reject callback mode.\n` +
          `Check the ICP documentation to make sure APIs are being called in the correct message types. See documentation: ${DOCS}#calling-a-system-api-from-the-wrong-mode`,
      });
    });

    test('stable memory read out of bounds traps (IC0502)', async () => {
      assert.deepEqual(await rejectOf('stable_out_of_bounds'), {
        code: 5,
        errorCode: 'IC0502',
        message:
          `Error from Canister ${id.toText()}: Canister trapped: stable memory out of bounds.\n` +
          `Consider gracefully handling failures from this canister or altering the canister to handle exceptions. See documentation: ${DOCS}#trapped`,
      });
    });

    test('a huge stable read is charged per byte before it runs: the instruction limit, and the replica keeps running (IC0522)', async () => {
      // 458 GB read = 458 B instructions, charged before the copy (linker.rs charge_for_cpu_and_mem).
      const reject = await rejectOf('stable_huge_read');
      assert.equal(reject.errorCode, 'IC0522');
      assert.match(reject.message, /Canister exceeded the limit of 40000000000 instructions for single message execution\.\./);
      assert.equal((await rejectOf('reply_twice')).errorCode, 'IC0504');
    });

    test('attaching more cycles than the balance traps: out of cycles (IC0504)', async () => {
      assert.deepEqual(await rejectOf('cycles_beyond_balance'), {
        code: 5,
        errorCode: 'IC0504',
        message: `Error from Canister ${id.toText()}: Canister ${id.toText()} is out of cycles`,
      });
    });

    test('a Wasm trap rolls back memory and globals; unreachable has the replica text (IC0502)', async () => {
      assert.deepEqual(await rejectOf('bump_then_trap'), {
        code: 5,
        errorCode: 'IC0502',
        message:
          `Error from Canister ${id.toText()}: Canister trapped: unreachable.\n` +
          `Consider gracefully handling failures from this canister or altering the canister to handle exceptions. See documentation: ${DOCS}#trapped`,
      });
      const reply = await agent.query(id, { methodName: 'state', arg: IDL.encode([], []) });
      assert.equal(reply.status, 'replied');
    });
  });
}
