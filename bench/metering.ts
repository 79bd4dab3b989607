/**
 * Figures of instruction metering and slicing (issue 13):
 * - `metering_overhead_ratio`: the same Motoko workload (an update summing over a loop, wasm64),
 *   run on the same canister instance code metered (as installed) and not metered (the module
 *   rewritten without the metering pass), in one run: median metered time / median plain time;
 * - `runaway_loop_to_ic0522_s`: an update looping forever until it ends with IC0522 (40 B
 *   instructions), wall time, while the replica keeps serving;
 * - `status_p99_during_runaway_ms`: `/api/v2/status` latency, polled during that loop.
 * The runaway loop is `loop br` (the pathological case, V8 Liftoff) in the full run; in `--quick`
 * a loop of 64 KiB `memory.fill`s (the same 40 B limit, in seconds).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { startReplica } from '../src/server.ts';
import { runOnInstance } from '../src/execution/hypervisor.ts';
import { SystemApi } from '../src/execution/system-api/system-api.ts';
import { ic0Signatures } from '../src/execution/system-api/ic0-table.ts';
import { noChanges } from '../src/execution/system-api/system-state-changes.ts';
import type { ExecutionContext } from '../src/execution/system-api/execution-context.ts';
import type { ApiType } from '../src/execution/system-api/api-type.ts';
import { CanisterInstance } from '../src/execution/wasm/canister-instance.ts';
import { decodeCanisterModule, prepareCanisterModule, type CanisterModule } from '../src/execution/wasm/canister-module.ts';
import { rewrite } from '../src/execution/wasm/module-rewrite.ts';
import { StableMemory } from '../src/execution/wasm/stable-memory.ts';
import { parseModule, readSectionHeaders } from '../src/execution/wasm/wasm-binary.ts';
import { compileMotoko } from '../test/support/motoko.ts';
import { compileWat } from '../test/support/wat.ts';
import { managementIdlFactory } from '../test/support/replica-fixture.ts';
import { quantile } from './figures.ts';

type Record = (name: string, samples: readonly number[], unit: string, note?: string) => void;

const WORKLOAD = `
import Prim "mo:⛔";
persistent actor {
  public func work(n : Nat) : async Nat {
    var s = 0;
    var i = 0;
    while (i < n) { s += (i * 7) % 13; i += 1 };
    s
  };
}`;

function context(apiType: ApiType, arg: Uint8Array): ExecutionContext {
  const self = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
  return {
    apiType,
    canisterId: self,
    subnetId: Principal.managementCanister(),
    subnetSize: 13,
    caller: Principal.anonymous(),
    arg,
    methodName: '',
    timeNanos: 1n,
    balance: 10n ** 15n,
    cyclesAvailable: 0n,
    cyclesRefunded: 0n,
    rejectCode: 0,
    rejectMessage: '',
    responded: false,
    controllers: [],
    status: 1,
    version: 1n,
    rootKeyDer: new Uint8Array(133),
    deadlineNanos: 0n,
    environmentVariables: [],
    frozenReserveCycles: 0n,
    callCost: () => ({ total: 0n }),
    canisterCreationFee: 0n,
    thresholdFee: () => undefined,
    httpRequestCost: () => 0n,
    changes: noChanges(),
  };
}

/** Times `work(n)` on a fresh instance of `module`, `runs` times; ms each. */
function timeWorkload(module: CanisterModule, n: bigint, runs: number): number[] {
  const api = new SystemApi(true, new StableMemory(), { debugPrint: () => {} });
  const inst = new CanisterInstance(module, api);
  runOnInstance(inst, context('start', new Uint8Array()), (i) => i.runStart(), true, 0n);
  runOnInstance(inst, context('init', new Uint8Array(IDL.encode([], []))), (i) => i.callExport('canister_init'), true, 0n);
  const arg = new Uint8Array(IDL.encode([IDL.Nat], [n]));
  const out: number[] = [];
  for (let k = 0; k < runs + 1; k++) {
    const t = performance.now();
    const r = runOnInstance(inst, context('update', arg), (i) => i.callExport('canister_update work'), true, 0n);
    if (!r.ok) throw new Error(`workload trapped: ${r.error.text}`);
    if (k > 0) out.push(performance.now() - t); // the first run compiles
  }
  return out;
}

/** Records the three metering figures. */
export async function benchMetering(record: Record, quick: boolean): Promise<void> {
  console.log('metering and slicing');
  // 1. overhead
  const mo = await compileMotoko(WORKLOAD);
  const metered = prepareCanisterModule(mo.wasm, ic0Signatures);
  const raw = decodeCanisterModule(mo.wasm);
  const plain: CanisterModule = { ...metered, module: new WebAssembly.Module(rewrite(raw, parseModule(raw, readSectionHeaders(raw))).bytes) };
  const n = quick ? 200_000n : 2_000_000n;
  const runs = quick ? 3 : 9;
  const ratios: number[] = [];
  for (let round = 0; round < (quick ? 1 : 3); round++) {
    const p = quantile(timeWorkload(plain, n, runs), 0.5);
    const m = quantile(timeWorkload(metered, n, runs), 0.5);
    ratios.push(m / p);
  }
  record('metering_overhead_ratio', ratios, 'ratio', `Motoko loop of ${n} iterations (wasm64), median metered / median unmetered time, same run`);

  // 2. runaway loop and status latency
  const dir = mkdtempSync(join(tmpdir(), 'ckr-bench-metering-'));
  const running = await startReplica({ port: 0, stateDir: join(dir, 'state'), debugPrint: () => {} });
  try {
    // Full: the pathological `loop br` (2 instructions an iteration). Quick: a loop filling 64 KiB
    // an iteration (charged 1 instruction per byte), so the limit comes in seconds.
    const body = quick ? '(loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 65536)) (br $l))' : '(loop $l (br $l))';
    const wasm = await compileWat(`(module (import "ic0" "debug_print" (func $print (param i32 i32))) (memory 1) (func (export "canister_update spin") ${body}))`);
    const agent = await HttpAgent.create({ host: running.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
    const id = (await mgmt.provisional_create_canister_with_cycles({ amount: [10n ** 15n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
    await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: new Uint8Array(), sender_canister_version: [] });
    const t0 = performance.now();
    let done = false;
    const spin = (async () => {
      const res = await agent.call(id, { methodName: 'spin', arg: new Uint8Array(), effectiveCanisterId: id });
      return running.replica.waitForCompletion(new Uint8Array(res.requestId), 600_000);
    })().finally(() => (done = true));
    const latencies: number[] = [];
    while (!done) {
      const t = performance.now();
      const r = await fetch(`${running.url}/api/v2/status`);
      await r.arrayBuffer();
      latencies.push(performance.now() - t);
      await new Promise((res) => setTimeout(res, 10));
    }
    const outcome = await spin;
    const seconds = (performance.now() - t0) / 1000;
    const note = outcome?.status === 'rejected' && outcome.errorCode === 'IC0522' ? (quick ? 'memory.fill loop (quick)' : 'loop br') : `unexpected outcome ${outcome?.status}`;
    record('runaway_loop_to_ic0522_s', [seconds], 's', note);
    record('status_p99_during_runaway_ms', latencies, 'ms', `${latencies.length} polls of /api/v2/status during the loop`);
  } finally {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
