/**
 * `npm run bench` — what users of a local replica feel, with the machine's physical limit beside
 * it in the same run (this machine is shared and noisy: ratios hold better than absolute times).
 *
 *   1. Cold start: process start → `listening on` line, on an existing and on a new state dir.
 *   2. Replica capacity (bench/capacity.ts): the light driver, per method at c1/c16/c64/c256,
 *      CPU per call, WAL bytes and RSS per signature, the same at a 100k-entry ingress history.
 *   3. What a user with agent-js feels (figures named `agentjs_*`): a Motoko canister method
 *      calling sign_with_ecdsa / sign_with_schnorr (BIP340, Ed25519) / vetkd_derive_key /
 *      ecdsa_public_key, driven by @dfinity/agent 3 (v3 sync calls) against the replica as a
 *      child process: latency at concurrency 1, throughput at 16 and 64; SQLite growth.
 *   4. Anchor: raw @noble/curves secp256k1 sign ops/s in this process, and the ratios to it.
 *   5. PocketIC (bin/pocket-ic under PicJS): instance create + delete, an update call, and their
 *      anchor, a plain HTTP round trip (bench/pocket-ic.ts).
 *   6. Where the time goes: per-phase wall time for one signing call (in-process replica with
 *      its phase profile on).
 *
 * Every figure has a median and a p99 over its repetitions (latencies: per call; throughputs: per
 * one-second window; cold starts and raw signing: per repetition). Prints a table and writes
 * bench/results.json (`--out FILE` to write elsewhere). `--quick`: a smoke run under a minute
 * (the test suite runs it to keep the bench working; its figures are not meaningful).
 *
 * The driver verifies each distinct certificate once (the agent's `blsVerify`, memoised): a round
 * certifies many responses with one signature, and re-verifying the same BLS signature per call
 * would measure the client's pairings, not the replica.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { agent3, vetkeys } from '../test/clients/agent-js-3/index.ts';
import { idlFactoryFromCandid } from '../src/candid/candid-text.ts';
import { benchIdkg } from './idkg.ts';
import { startReplica } from '../src/server.ts';
import { replicaCapacity } from './capacity.ts';
import { figures, record, round } from './figures.ts';
import { benchPocketIc } from './pocket-ic.ts';
import { benchMetering } from './metering.ts';
import { benchTopology, deployFixture, startReplicaChild } from './replica-child.ts';

const quick = process.argv.includes('--quick');
const outArg = process.argv.indexOf('--out');
const OUT = outArg > 0 ? process.argv[outArg + 1]! : new URL('./results.json', import.meta.url).pathname;
const ROOT = new URL('..', import.meta.url).pathname;

const P = quick
  ? { coldReps: 2, latencyCalls: 8, throughputSeconds: 2, growthSignatures: 50, rawReps: 3 }
  : { coldReps: 10, latencyCalls: 200, throughputSeconds: 20, growthSignatures: 1_000, rawReps: 7 };
const CAPACITY = quick
  ? { quick, cellSeconds: 1, concurrencies: [1, 64], historyEntries: 2_000, rssSignatures: 50, walSignatures: 30 }
  : { quick, cellSeconds: 5, concurrencies: [1, 16, 64, 256], historyEntries: 100_000, rssSignatures: 10_000, walSignatures: 1_000 };
// `--methods sign_with_ecdsa,vetkd_derive_key` / `--concurrencies 1,64`: capacity cells of these
// only, and `--no-history`: skip the WAL, RSS and 100k-history phases (targeted runs on a shared machine).
const listArg = (flag: string): string[] | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1]!.split(',') : undefined;
};
const methodsArg = listArg('--methods');
const concurrencyArg = listArg('--concurrencies')?.map(Number);
Object.assign(CAPACITY, {
  ...(methodsArg && { methods: methodsArg }),
  ...(concurrencyArg && { concurrencies: concurrencyArg }),
  ...(process.argv.includes('--no-history') && { skipHistory: true }),
});

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'ckr-bench-'));
}

// ---- 1. cold start ------------------------------------------------------------------------------

async function timeToListening(stateDir: string, cpu?: number[]): Promise<number> {
  const r = await startReplicaChild(stateDir);
  await r.stop();
  cpu?.push(r.readyCpuMs);
  return r.readyMs;
}

async function coldStart(): Promise<void> {
  console.log('cold start');
  const fresh: number[] = [];
  const existing: number[] = [];
  const existingCpu: number[] = [];
  const dirs: string[] = [];
  try {
    for (let i = 0; i < P.coldReps; i++) {
      const d = tempDir();
      dirs.push(d);
      fresh.push(await timeToListening(join(d, 'state')));
    }
    for (let i = 0; i < P.coldReps; i++) existing.push(await timeToListening(join(dirs[0]!, 'state'), existingCpu));
  } finally {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  }
  record('ready_existing_state_ms', existing, 'ms', 'bin/chainkey-replica.mjs start (what npm start runs) to its listening line');
  record('ready_existing_state_cpu_ms', existingCpu, 'ms', 'CPU the process used until listening (10 ms ticks): steadier than wall time on a shared machine');
  record('ready_new_state_ms', fresh, 'ms', 'includes root/node key and 12 master key generations');
}

// ---- 2. end to end --------------------------------------------------------------------------------

/** The agent's own BLS verification, run once per distinct (signature, message). */
function memoisedBlsVerify(): (pk: Uint8Array, sig: Uint8Array, msg: Uint8Array) => Promise<boolean> {
  const seen = new Map<string, Promise<boolean>>();
  return (pk, sig, msg) => {
    const k = Buffer.from(sig).toString('hex') + Buffer.from(msg).toString('hex');
    let v = seen.get(k);
    if (!v) {
      v = Promise.resolve(agent3.blsVerify(pk, sig, msg));
      seen.set(k, v);
      if (seen.size > 1000) seen.delete(seen.keys().next().value!);
    }
    return v;
  };
}

interface Target {
  actor: any;
  canisterId: string;
}

async function deployChainKey(url: string): Promise<Target> {
  const { canisterId, candid, agent } = await deployFixture(url, 'ChainKey');
  const actor = agent3.Actor.createActor(idlFactoryFromCandid(candid), { agent, canisterId, blsVerify: memoisedBlsVerify() } as any);
  return { actor, canisterId };
}

const FEE = 10_000_000_000n;
const HASH = new Uint8Array(32).fill(7);
const MESSAGE = new TextEncoder().encode('bench message');
let transportKey: Uint8Array;

/** One call of each measured kind; throws unless it succeeded. */
const calls: Record<string, (t: Target) => Promise<void>> = {
  sign_with_ecdsa: async (t) => ok(await t.actor.signEcdsa('test_key_1', [], HASH, FEE)),
  sign_with_schnorr_bip340: async (t) => ok(await t.actor.signSchnorr(false, 'test_key_1', [], MESSAGE, [], FEE)),
  sign_with_schnorr_ed25519: async (t) => ok(await t.actor.signSchnorr(true, 'test_key_1', [], MESSAGE, [], FEE)),
  vetkd_derive_key: async (t) => ok(await t.actor.vetkdDeriveKey('test_key_1', new Uint8Array(), MESSAGE, transportKey, FEE)),
  ecdsa_public_key: async (t) => ok(await t.actor.ecdsaPublicKey('test_key_1', [])),
};
function ok(v: any): void {
  if (!('ok' in v)) throw new Error(`call failed: ${v.err}`);
}

async function latency(t: Target, name: string, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    await calls[name]!(t);
    out.push(performance.now() - t0);
  }
  return out;
}

/** Completions per one-second window with `concurrency` callers for `seconds`. */
async function throughput(t: Target, name: string, concurrency: number, seconds: number): Promise<{ rates: number[]; done: number; failed: number }> {
  const start = performance.now();
  const end = start + seconds * 1000;
  const windows = new Array<number>(seconds).fill(0);
  let failed = 0;
  let done = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        try {
          await calls[name]!(t);
          const w = Math.floor((performance.now() - start) / 1000);
          if (w < seconds) windows[w]!++;
          done++;
        } catch {
          failed++;
        }
      }
    }),
  );
  return { rates: windows, done, failed };
}

function fileBytes(stateDir: string): number {
  let n = 0;
  for (const f of ['state.sqlite3', 'state.sqlite3-wal']) {
    try {
      n += statSync(join(stateDir, f)).size;
    } catch {
      /* absent */
    }
  }
  return n;
}

async function endToEnd(): Promise<void> {
  console.log('what a user with agent-js feels (replica as a child process, @dfinity/agent 3 driver)');
  const dir = tempDir();
  const stateDir = join(dir, 'state');
  const replica = await startReplicaChild(stateDir, benchTopology(dir, 100));
  try {
    const t = await deployChainKey(replica.url);
    transportKey = vetkeys.TransportSecretKey.random().publicKeyBytes();
    for (const name of Object.keys(calls)) await calls[name]!(t); // warm up every path

    record('agentjs_sign_with_ecdsa_latency_c1_ms', await latency(t, 'sign_with_ecdsa', P.latencyCalls), 'ms');
    record('agentjs_ecdsa_public_key_latency_c1_ms', await latency(t, 'ecdsa_public_key', P.latencyCalls), 'ms');
    const tp = async (name: string, c: number, figure: string): Promise<void> => {
      const r = await throughput(t, name, c, P.throughputSeconds);
      record(figure, r.rates, 'calls/s', r.failed > 0 ? `${r.failed} calls failed` : undefined);
    };
    await tp('sign_with_ecdsa', 16, 'agentjs_sign_with_ecdsa_throughput_c16_per_s');
    await tp('sign_with_ecdsa', 64, 'agentjs_sign_with_ecdsa_throughput_c64_per_s');
    await tp('sign_with_schnorr_bip340', 64, 'agentjs_sign_with_schnorr_bip340_throughput_c64_per_s');
    await tp('sign_with_schnorr_ed25519', 64, 'agentjs_sign_with_schnorr_ed25519_throughput_c64_per_s');
    await tp('vetkd_derive_key', 64, 'agentjs_vetkd_derive_key_throughput_c64_per_s');
    await tp('ecdsa_public_key', 64, 'agentjs_ecdsa_public_key_throughput_c64_per_s');

    // Storage: growth of the SQLite files over a fixed number of signatures.
    const before = fileBytes(stateDir);
    await runSignatures(t, P.growthSignatures);
    const grown = fileBytes(stateDir) - before;
    record('sqlite_growth_per_1k_signatures_kb', [(grown / 1024) * (1000 / P.growthSignatures)], 'KiB', `${P.growthSignatures} signatures measured, scaled to 1,000 (database + WAL file sizes)`);
  } finally {
    await replica.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runSignatures(t: Target, n: number): Promise<void> {
  let left = n;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (left > 0) {
        left--;
        await calls.sign_with_ecdsa!(t);
      }
    }),
  );
}

// ---- 3. raw signing anchor -------------------------------------------------------------------------

function rawNobleSign(): void {
  console.log('anchor: raw @noble/curves secp256k1 sign in this process');
  const keys = Array.from({ length: 64 }, () => secp256k1.utils.randomSecretKey());
  const msgs = Array.from({ length: 64 }, (_, i) => new Uint8Array(32).fill(i));
  for (let i = 0; i < 200; i++) secp256k1.sign(msgs[i % 64]!, keys[i % 64]!, { prehash: false });
  const rates: number[] = [];
  for (let r = 0; r < P.rawReps; r++) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
      secp256k1.sign(msgs[n % 64]!, keys[n % 64]!, { prehash: false });
      n++;
    }
    rates.push((n * 1000) / (performance.now() - t0));
  }
  record('raw_noble_sign_per_s', rates, 'signatures/s');
  const raw = figures['raw_noble_sign_per_s']!;
  const e2e = figures['agentjs_sign_with_ecdsa_throughput_c64_per_s'];
  if (e2e) record('ratio_agentjs_ecdsa_over_raw', [e2e.median / raw.median], 'ratio', 'median c64 agent-js throughput / median raw sign rate');
  const cap = figures['replica_sign_with_ecdsa_capacity_c64_per_s'];
  if (cap) record('ratio_replica_ecdsa_over_raw', [cap.median / raw.median], 'ratio', 'median c64 replica capacity (light driver) / median raw sign rate');
}

// ---- 5. breakdown -----------------------------------------------------------------------------------

async function breakdown(): Promise<Record<string, number>> {
  console.log('where the time goes: one sign_with_ecdsa call at concurrency 1 (in-process replica, phase profile on)');
  const dir = tempDir();
  const running = await startReplica({ port: 0, stateDir: join(dir, 'state'), debugPrint: () => {} });
  try {
    const t = await deployChainKey(running.url);
    await latency(t, 'sign_with_ecdsa', 3);
    const n = Math.max(5, Math.floor(P.latencyCalls / 4));
    running.replica.profile.enabled = true;
    running.replica.profile.reset();
    const lat = await latency(t, 'sign_with_ecdsa', n);
    const total = lat.reduce((a, b) => a + b, 0) / n;
    const phases = running.replica.profile.snapshot();
    const per = (k: string): number => round((phases[k]?.ms ?? 0) / n);
    const out: Record<string, number> = {
      http_envelope_auth_ms: per('http_envelope_auth'),
      execution_ms: per('execution'),
      chain_key_signing_ms: per('chain_key_signing'),
      sqlite_commit_ms: per('sqlite_commit'),
      certification_ms: per('certification'),
    };
    const detail = { certification_hash_tree_ms: per('certification_hash_tree'), certification_bls_sign_ms: per('certification_bls_sign') };
    const accounted = Object.values(out).reduce((a, b) => a + b, 0);
    out.certifications_per_call = round((phases['certification']?.count ?? 0) / n);
    out.other_ms = round(total - accounted);
    out.total_ms = round(total);
    Object.assign(out, detail);
    for (const [k, v] of Object.entries(out)) console.log(`  ${k.padEnd(30)} ${v}`);
    return out;
  } finally {
    await running.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- main ---------------------------------------------------------------------------------------------

// `--only a,b`: run only these parts (cold, capacity, agentjs, pocketic, metering, idkg, breakdown); the raw anchor always runs.
const onlyArg = process.argv.indexOf('--only');
const only = onlyArg > 0 ? new Set(process.argv[onlyArg + 1]!.split(',')) : null;
const part = (name: string): boolean => only === null || only.has(name);

const t0 = performance.now();
if (part('cold')) await coldStart();
if (part('capacity')) {
  const dir = tempDir();
  try {
    await replicaCapacity(CAPACITY, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
if (part('agentjs')) await endToEnd();
rawNobleSign();
if (part('pocketic')) await benchPocketIc(record, quick);
if (part('metering')) await benchMetering(record, quick);
if (part('idkg')) {
  console.log('threshold protocol (in process, simulated nodes)');
  benchIdkg(record, quick);
}
const perCall = part('breakdown') ? await breakdown() : {};
const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  quick,
  figures,
  breakdown_sign_with_ecdsa_c1: perCall,
  commit: (() => {
    try {
      return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT }).toString().trim();
    } catch {
      return 'unknown';
    }
  })(),
};
writeFileSync(OUT, JSON.stringify(results, null, 2) + '\n');
console.log(`wrote ${OUT} (${Math.round((performance.now() - t0) / 1000)} s)`);
process.exit(0);
