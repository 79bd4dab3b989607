/**
 * The replica under measurement as a child process (`MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --heap-growing-percent=100 bin/chainkey-replica.mjs start --port 0`, what `npm start` runs), as a user
 * runs it: started on a state dir with the bench's topology, stopped with SIGTERM. Also the few
 * things the bench reads from outside the process: its RSS and its main thread's CPU time
 * (/proc, Linux), and a Motoko fixture installed through @dfinity/agent (setup, not measured).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { IDL } from '@icp-sdk/core/candid';
import { agent3, identity3 } from '../test/clients/agent-js-3/index.ts';
import { DEFAULT_TOPOLOGY } from '../src/routing/topology.ts';
import { WASM_STACK_NODE_FLAGS } from '../src/execution/wasm/wasm-stack.ts';
import { compileMotokoFixture } from '../test/support/motoko.ts';

const ROOT = new URL('..', import.meta.url).pathname;

/** A running replica child process. */
export interface ReplicaChild {
  child: ChildProcess;
  url: string;
  /** Spawn → `listening on` line, ms. */
  readyMs: number;
  /** CPU time the process used until then (all threads), ms (10 ms ticks). */
  readyCpuMs: number;
  stop(): Promise<void>;
}

/**
 * Writes a topology like the default one, with room for `maxQueueSize` chain-key requests in
 * flight per test key (the replica's per-key cap, so high concurrencies are not rejected).
 * @returns the file's path.
 */
export function benchTopology(dir: string, maxQueueSize: number): string {
  const t = structuredClone(DEFAULT_TOPOLOGY);
  for (const s of t.subnets) if (s.kind === 'test_keys') s.max_queue_size = maxQueueSize;
  const file = join(dir, 'topology.json');
  writeFileSync(file, JSON.stringify(t));
  return file;
}

/** Starts the replica on `stateDir` and resolves at its listening line. */
export async function startReplicaChild(stateDir: string, topologyFile?: string): Promise<ReplicaChild> {
  const t0 = performance.now();
  const args = [...WASM_STACK_NODE_FLAGS, '--max-semi-space-size=8', '--heap-growing-percent=100', 'bin/chainkey-replica.mjs', 'start', '--port', '0', '--state-dir', stateDir, '--no-request-log', ...(topologyFile ? ['--topology', topologyFile] : [])];
  // As the bin's shebang and `npm start` launch it (two glibc malloc arenas: README, "Memory").
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, MALLOC_ARENA_MAX: '2' } });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^listening on (http:\/\/\S+)\n/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (c) => reject(new Error(`replica exited (${c}) before listening`)));
  });
  const readyMs = performance.now() - t0;
  const readyCpuMs = cpuMs(child.pid!, true);
  child.stdout!.resume();
  const exited = new Promise((res) => child.once('exit', res));
  return {
    child,
    url,
    readyMs,
    readyCpuMs,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Resident set size of a process, MiB. */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/**
 * CPU time (user + system) of a process's main thread (task id = pid), ms; with `wholeProcess`
 * the sum over all its threads (GC helpers, workers). Clock ticks of 10 ms (USER_HZ 100).
 */
export function cpuMs(pid: number, wholeProcess = false): number {
  const stat = readFileSync(wholeProcess ? `/proc/${pid}/stat` : `/proc/${pid}/task/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/**
 * Creates a canister with 10^20 cycles and installs a Motoko fixture into it (agent-js,
 * anonymous-free Ed25519 identity; setup only).
 * @returns the canister id (text), the Candid interface and the agent used.
 */
export async function deployFixture(url: string, fixture: string): Promise<{ canisterId: string; candid: string; agent: any }> {
  const wasm = await compileMotokoFixture(fixture);
  const agent = await agent3.HttpAgent.create({ host: url, identity: identity3.Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
  const mgmtIdl = ({ IDL: I }: { IDL: any }) =>
    I.Service({
      provisional_create_canister_with_cycles: I.Func(
        [I.Record({ amount: I.Opt(I.Nat), settings: I.Opt(I.Reserved), specified_id: I.Opt(I.Principal), sender_canister_version: I.Opt(I.Nat64) })],
        [I.Record({ canister_id: I.Principal })],
        [],
      ),
      install_code: I.Func(
        [I.Record({ mode: I.Variant({ install: I.Null }), canister_id: I.Principal, wasm_module: I.Vec(I.Nat8), arg: I.Vec(I.Nat8), sender_canister_version: I.Opt(I.Nat64) })],
        [],
        [],
      ),
    });
  const mgmt = agent3.Actor.createActor(mgmtIdl, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: 'bnz7o-iuaaa-aaaaa-qaaaa-cai' } as any) as any;
  const { canister_id } = await mgmt.provisional_create_canister_with_cycles({ amount: [10n ** 20n], settings: [], specified_id: [], sender_canister_version: [] });
  await mgmt.install_code({ mode: { install: null }, canister_id, wasm_module: wasm.wasm, arg: new Uint8Array(IDL.encode([], [])), sender_canister_version: [] });
  return { canisterId: canister_id.toText(), candid: wasm.candid, agent };
}
