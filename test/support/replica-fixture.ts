/**
 * Test fixture: a real replica (real SQLite in a temp dir, real HTTP server on 127.0.0.1 port 0).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startReplica, type RunningReplica, type StartOptions } from '../../src/server.ts';
import { DEFAULT_TOPOLOGY, parseTopology, type SubnetConfig } from '../../src/routing/topology.ts';

/** A fresh temporary state dir. */
export function tempStateDir(prefix = 'ckr-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * `CHAINKEY_TEST_NODES=13 npm test`: every test replica runs the threshold protocol on 13
 * simulated nodes per key-holding subnet instead of the default single node.
 */
export const TEST_NODES = process.env.CHAINKEY_TEST_NODES ? Number(process.env.CHAINKEY_TEST_NODES) : undefined;

/**
 * The default topology with only the application (default) subnet on the free cost schedule:
 * its canisters pay no execution, ingress or call fees, while chain-key requests are priced by
 * the key-holding subnets, which stay on the normal schedule — exact chain-key fees without the
 * other fees blurring the balances (what `--cost-schedule free` cannot give: it frees every subnet).
 */
export function freeApplicationSubnetTopology(): SubnetConfig[] {
  return parseTopology({ subnets: DEFAULT_TOPOLOGY.subnets.map((s) => (s.kind === 'application' ? { ...s, cost_schedule: 'free' as const } : s)) });
}

/** Starts a replica on a free port in `stateDir` (a new temp dir by default). */
export async function startTestReplica(options: StartOptions = {}): Promise<RunningReplica & { stateDir: string; cleanup(): Promise<void> }> {
  const stateDir = options.stateDir ?? tempStateDir();
  const threshold = TEST_NODES ? { nodes: TEST_NODES, ...options.threshold } : options.threshold;
  const r = await startReplica({ ...options, ...(threshold && { threshold }), stateDir, host: '127.0.0.1', port: 0 });
  return {
    ...r,
    stateDir,
    cleanup: async () => {
      await r.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/**
 * The management canister methods the tests call, as an IDL factory: agent-js 3 and
 * @icp-sdk/core 6 each pass their own `IDL` to it.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export const managementIdlFactory = ({ IDL }: { IDL: any }) => {
  const settings = IDL.Record({
    controllers: IDL.Opt(IDL.Vec(IDL.Principal)),
    compute_allocation: IDL.Opt(IDL.Nat),
    memory_allocation: IDL.Opt(IDL.Nat),
    freezing_threshold: IDL.Opt(IDL.Nat),
    reserved_cycles_limit: IDL.Opt(IDL.Nat),
    wasm_memory_limit: IDL.Opt(IDL.Nat),
  });
  const keyId = IDL.Record({ curve: IDL.Variant({ secp256k1: IDL.Null }), name: IDL.Text });
  const upgradeOptions = IDL.Record({
    skip_pre_upgrade: IDL.Opt(IDL.Bool),
    wasm_memory_persistence: IDL.Opt(IDL.Variant({ keep: IDL.Null, replace: IDL.Null })),
  });
  return IDL.Service({
    install_code: IDL.Func(
      [
        IDL.Record({
          mode: IDL.Variant({ install: IDL.Null, reinstall: IDL.Null, upgrade: IDL.Opt(upgradeOptions) }),
          canister_id: IDL.Principal,
          wasm_module: IDL.Vec(IDL.Nat8),
          arg: IDL.Vec(IDL.Nat8),
          sender_canister_version: IDL.Opt(IDL.Nat64),
        }),
      ],
      [],
      [],
    ),
    uninstall_code: IDL.Func([IDL.Record({ canister_id: IDL.Principal, sender_canister_version: IDL.Opt(IDL.Nat64) })], [], []),
    start_canister: IDL.Func([IDL.Record({ canister_id: IDL.Principal })], [], []),
    provisional_create_canister_with_cycles: IDL.Func(
      [IDL.Record({ amount: IDL.Opt(IDL.Nat), settings: IDL.Opt(settings), specified_id: IDL.Opt(IDL.Principal), sender_canister_version: IDL.Opt(IDL.Nat64) })],
      [IDL.Record({ canister_id: IDL.Principal })],
      [],
    ),
    provisional_top_up_canister: IDL.Func([IDL.Record({ canister_id: IDL.Principal, amount: IDL.Nat })], [], []),
    canister_status: IDL.Func(
      [IDL.Record({ canister_id: IDL.Principal })],
      [
        IDL.Record({
          status: IDL.Variant({ running: IDL.Null, stopping: IDL.Null, stopped: IDL.Null }),
          settings: IDL.Record({ controllers: IDL.Vec(IDL.Principal), freezing_threshold: IDL.Nat, compute_allocation: IDL.Nat }),
          module_hash: IDL.Opt(IDL.Vec(IDL.Nat8)),
          cycles: IDL.Nat,
          version: IDL.Nat64,
        }),
      ],
      [],
    ),
    update_settings: IDL.Func(
      [IDL.Record({ canister_id: IDL.Principal, settings, sender_canister_version: IDL.Opt(IDL.Nat64) })],
      [],
      [],
    ),
    stop_canister: IDL.Func([IDL.Record({ canister_id: IDL.Principal })], [], []),
    delete_canister: IDL.Func([IDL.Record({ canister_id: IDL.Principal })], [], []),
    raw_rand: IDL.Func([], [IDL.Vec(IDL.Nat8)], []),
    sign_with_ecdsa: IDL.Func(
      [IDL.Record({ message_hash: IDL.Vec(IDL.Nat8), derivation_path: IDL.Vec(IDL.Vec(IDL.Nat8)), key_id: keyId })],
      [IDL.Record({ signature: IDL.Vec(IDL.Nat8) })],
      [],
    ),
  });
};
