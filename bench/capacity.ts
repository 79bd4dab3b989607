/**
 * Replica capacity, measured with the light driver (bench/light-driver.ts) against the replica as
 * a child process, so the figures are the replica's and not a client's:
 *
 *   - per method (a trivial Motoko update, sign_with_ecdsa, sign_with_schnorr BIP340 / Ed25519,
 *     vetkd_derive_key; each a Motoko method calling aaaaa-aa) at concurrency 1/16/64/256:
 *     completions per one-second window, and the p50 latency at concurrency 1;
 *   - the replica's main-thread and whole-process CPU per signature at c64 (from /proc), and the
 *     driver's own CPU share, to show it is not the bottleneck;
 *   - WAL bytes per signature (a reader holds a snapshot so the WAL is only appended to);
 *   - RSS after 10,000 signatures;
 *   - the same sign_with_ecdsa / vetkd_derive_key capacity with a pre-filled ingress history of
 *     100,000 entries (written into the stopped replica's SQLite file), and the ready time there.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import Database from 'better-sqlite3';
import { decode } from '@dfinity/cbor';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { vetkeys } from '../test/clients/agent-js-3/index.ts';
import { blsPublicKeyFromDer } from '../src/crypto/certificate.ts';
import { figures, quantile, record } from './figures.ts';
import { LightDriver, type CallSpec } from './light-driver.ts';
import { benchTopology, cpuMs, deployFixture, rssMb, startReplicaChild, type ReplicaChild } from './replica-child.ts';

/** Sizes of the capacity phase (quick: a smoke run whose numbers mean nothing). */
export interface CapacityParams {
  quick: boolean;
  cellSeconds: number;
  concurrencies: readonly number[];
  historyEntries: number;
  rssSignatures: number;
  walSignatures: number;
  /** Only these methods' cells (figure names: `sign_with_ecdsa`, `vetkd_derive_key`, ...). */
  methods?: readonly string[];
  /** Skip the WAL, RSS and pre-filled-history phases. */
  skipHistory?: boolean;
}

const FEE = 10_000_000_000n;
const KEY = 'test_key_1';
const Result = IDL.Variant({ ok: IDL.Vec(IDL.Nat8), err: IDL.Text });

function okBlob(reply: Uint8Array): void {
  const [v] = IDL.decode([Result], reply) as [Record<string, unknown>];
  if (!('ok' in v)) throw new Error(`canister answered err: ${String(v['err'])}`);
}
function hashOf(i: number): Uint8Array {
  const h = new Uint8Array(32).fill(7);
  new DataView(h.buffer).setUint32(0, i);
  return h;
}

/** The measured methods, by figure name. */
function specs(counter: Principal, chainKey: Principal, transportKey: Uint8Array): Record<string, CallSpec> {
  const B = IDL.Vec(IDL.Nat8);
  return {
    trivial_update: {
      canisterId: counter,
      methodName: 'inc',
      arg: () => new Uint8Array(IDL.encode([], [])),
      check: (r) => void IDL.decode([IDL.Nat], r),
    },
    sign_with_ecdsa: {
      canisterId: chainKey,
      methodName: 'signEcdsa',
      arg: (i) => new Uint8Array(IDL.encode([IDL.Text, IDL.Vec(B), B, IDL.Nat], [KEY, [], hashOf(i), FEE])),
      check: okBlob,
    },
    sign_with_schnorr_bip340: {
      canisterId: chainKey,
      methodName: 'signSchnorr',
      arg: (i) => new Uint8Array(IDL.encode([IDL.Bool, IDL.Text, IDL.Vec(B), B, IDL.Opt(B), IDL.Nat], [false, KEY, [], hashOf(i), [], FEE])),
      check: okBlob,
    },
    sign_with_schnorr_ed25519: {
      canisterId: chainKey,
      methodName: 'signSchnorr',
      arg: (i) => new Uint8Array(IDL.encode([IDL.Bool, IDL.Text, IDL.Vec(B), B, IDL.Opt(B), IDL.Nat], [true, KEY, [], hashOf(i), [], FEE])),
      check: okBlob,
    },
    vetkd_derive_key: {
      canisterId: chainKey,
      methodName: 'vetkdDeriveKey',
      arg: (i) => new Uint8Array(IDL.encode([IDL.Text, B, B, B, IDL.Nat], [KEY, new Uint8Array(), hashOf(i), transportKey, FEE])),
      check: okBlob,
    },
  };
}

async function rootKeyOf(url: string): Promise<Uint8Array> {
  const res = await fetch(new URL('/api/v2/status', url));
  const status = decode(new Uint8Array(await res.arrayBuffer())) as { root_key: Uint8Array };
  return blsPublicKeyFromDer(status.root_key);
}

/** Envelopes to pre-build for a cell: enough for this method's plausible top rate. */
function prebuiltFor(method: string, seconds: number): number {
  const perSecond = method === 'vetkd_derive_key' ? 300 : method === 'trivial_update' ? 2500 : 1500;
  return Math.min(perSecond * seconds, 20_000);
}

/** Pre-fills the ingress history of a stopped replica's state with `n` replied entries. */
function prefillHistory(stateDir: string, canisterId: Principal, n: number): void {
  const db = new Database(join(stateDir, 'state.sqlite3'));
  try {
    const ins = db.prepare(
      `INSERT INTO ingress_history (request_id, sender, canister_id, method_name, status, reply, expiry_nanos, updated_nanos)
       VALUES (?, ?, ?, 'signEcdsa', 'replied', ?, ?, ?)`,
    );
    const now = BigInt(Date.now()) * 1_000_000n;
    const expiry = now + 280n * 1_000_000_000n;
    const reply = Buffer.from(IDL.encode([Result], [{ ok: new Uint8Array(randomBytes(64)) }]));
    db.transaction(() => {
      for (let i = 0; i < n; i++) ins.run(randomBytes(32), Buffer.from([4]), Buffer.from(canisterId.toUint8Array()), reply, expiry, now);
    })();
  } finally {
    db.close();
  }
}

/**
 * Bytes appended to the WAL per call over `n` calls: checkpoint and truncate the WAL first, then
 * hold a read snapshot (so no checkpoint can reset the WAL) while the calls run.
 */
async function walBytesPer(stateDir: string, run: () => Promise<void>, n: number): Promise<number> {
  const file = join(stateDir, 'state.sqlite3');
  const db = new Database(file);
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
    const before = statSync(`${file}-wal`).size;
    db.exec('BEGIN');
    db.prepare('SELECT count(*) FROM ingress_history').get();
    await run();
    const after = statSync(`${file}-wal`).size;
    db.exec('COMMIT');
    return (after - before) / n;
  } finally {
    db.close();
  }
}

/** Runs the capacity phase; records its figures. */
export async function replicaCapacity(P: CapacityParams, dir: string): Promise<void> {
  console.log('replica capacity (light driver: anonymous pre-built envelopes, keep-alive HTTP, replica as a child process)');
  const stateDir = join(dir, 'state');
  const topology = benchTopology(dir, 1000);
  let replica: ReplicaChild = await startReplicaChild(stateDir, topology);
  let driver: LightDriver | undefined;
  try {
    const counter = Principal.fromText((await deployFixture(replica.url, 'Counter')).canisterId);
    const chainKey = Principal.fromText((await deployFixture(replica.url, 'ChainKey')).canisterId);
    const transportKey = vetkeys.TransportSecretKey.random().publicKeyBytes();
    const calls = specs(counter, chainKey, transportKey);
    driver = new LightDriver(replica.url, await rootKeyOf(replica.url));
    // Warm every path; these calls must succeed (the driver's checks are the smoke test's check).
    for (const [name, spec] of Object.entries(calls)) await warm(driver, name, spec);

    // Quick: only what the smoke test checks (a vetKD cell at c64 drains for seconds after its
    // window; vetKD is checked by its warm-up calls).
    const cells: [string, readonly number[]][] = P.quick
      ? [['trivial_update', [64]], ['sign_with_ecdsa', [1, 64]]]
      : Object.keys(calls).filter((m) => !P.methods || P.methods.includes(m)).map((m) => [m, P.concurrencies]);
    for (const [method, concurrencies] of cells) {
      for (const c of concurrencies) {
        const pid = replica.child.pid!;
        const main0 = cpuMs(pid);
        const all0 = cpuMs(pid, true);
        const r = await driver.run(calls[method]!, c, P.cellSeconds, prebuiltFor(method, P.cellSeconds));
        const mainMs = cpuMs(pid) - main0;
        const allMs = cpuMs(pid, true) - all0;
        const note = r.failed > 0 ? `${r.failed} calls failed: ${r.firstError}` : undefined;
        record(`replica_${method}_capacity_c${c}_per_s`, r.rates, 'calls/s', note);
        if (c === 1) record(`replica_${method}_p50_c1_ms`, [quantile(r.latenciesMs, 0.5)], 'ms', `p99 ${quantile(r.latenciesMs, 0.99).toFixed(2)} ms over ${r.done} calls`);
        if (c === 64) {
          record(`replica_${method}_main_thread_ms_per_call_c64`, [mainMs / Math.max(1, r.done)], 'ms', `whole process ${(allMs / Math.max(1, r.done)).toFixed(2)} ms/call; replica ${(allMs / r.wallMs).toFixed(2)} cores, driver ${(r.driverCpuMs / r.wallMs).toFixed(2)} cores`);
          if (method === 'sign_with_ecdsa') {
            const msPerSign = mainMs / Math.max(1, r.done);
            record('main_thread_ms_per_sign', [msPerSign], 'ms', 'replica main thread CPU per sign_with_ecdsa at c64');
            // The anchor in the same minute, on CPU time too: what a saturated main thread would
            // sign per second, over what one core signs with plain noble. Steadier than the wall
            // rates when other processes share the cores.
            const raw = rawSignCpuMs();
            record('raw_noble_sign_cpu_ms', [raw], 'ms', 'CPU time of one plain @noble/curves secp256k1 sign, measured right after the c64 cell');
            record('ratio_replica_ecdsa_cpu_over_raw', [raw / msPerSign], 'ratio', 'raw sign CPU ms / replica main-thread CPU ms per sign_with_ecdsa (1 / main_thread_ms_per_sign signatures per CPU-ms, over raw)');
            record('replica_cores_used_sign_with_ecdsa_c64', [allMs / r.wallMs], 'cores');
            record('driver_cores_used_sign_with_ecdsa_c64', [r.driverCpuMs / r.wallMs], 'cores', 'the light driver process (must stay well under one core)');
          }
        }
      }
    }
    alias('replica_vetkd_derive_key_capacity_c64_per_s', 'vetkd_derive_key_capacity_c64_per_s');
    if (P.skipHistory) return;

    // WAL growth per signature, then RSS after exactly the target number of signatures, in a
    // fresh process on the same state (the cells above made tens of thousands of calls at
    // today's rates; RSS after them would measure that, not 10k signatures).
    driver.close();
    await replica.stop();
    replica = await startReplicaChild(stateDir, topology);
    driver = new LightDriver(replica.url, await rootKeyOf(replica.url));
    const ecdsa = calls['sign_with_ecdsa']!;
    await warm(driver, 'sign_with_ecdsa', ecdsa);
    const rssReady = rssMb(replica.child.pid!);
    record('rss_at_ready_with_fixtures_mb', [rssReady], 'MiB', 'a fresh start on the state the cells left (two Motoko canisters installed), after three warm-up signatures');
    const wal = await walBytesPer(stateDir, async () => void (await driver!.callN(ecdsa, P.walSignatures, 64)), P.walSignatures);
    record('wal_bytes_per_signature', [wal], 'bytes', `sign_with_ecdsa at c64 over ${P.walSignatures} calls (WAL frames appended, page size 4096 + 24-byte frame headers)`);
    await driver.callN(ecdsa, Math.max(0, P.rssSignatures - P.walSignatures), 64);
    const rss = rssMb(replica.child.pid!);
    record('rss_after_10k_signatures_mb', [rss], 'MiB', `after ${Math.max(P.walSignatures, P.rssSignatures)} sign_with_ecdsa calls at c64 in a fresh process (light driver); ${(rss - rssReady).toFixed(0)} MiB over its RSS at ready`);
    driver.close();
    await replica.stop();

    // The same with a pre-filled ingress history.
    prefillHistory(stateDir, chainKey, P.historyEntries);
    replica = await startReplicaChild(stateDir, topology);
    record('ready_100k_history_ms', [replica.readyMs], 'ms', `${P.historyEntries} history entries`);
    driver = new LightDriver(replica.url, await rootKeyOf(replica.url));
    for (const method of P.quick ? ['sign_with_ecdsa'] : ['sign_with_ecdsa', 'vetkd_derive_key']) {
      await warm(driver, method, calls[method]!);
      const r = await driver.run(calls[method]!, 64, P.cellSeconds, prebuiltFor(method, P.cellSeconds));
      record(`replica_${method}_capacity_c64_100k_history_per_s`, r.rates, 'calls/s', `${P.historyEntries} entries pre-filled${r.failed > 0 ? `; ${r.failed} failed: ${r.firstError}` : ''}`);
    }
    const empty = figures['replica_sign_with_ecdsa_capacity_c64_per_s']!.median;
    const full = figures['replica_sign_with_ecdsa_capacity_c64_100k_history_per_s']!.median;
    record('ratio_ecdsa_capacity_100k_history_over_empty', [empty > 0 ? full / empty : NaN], 'ratio', 'flat history cost = 1.0');
  } finally {
    driver?.close();
    await replica.stop();
  }
}

/**
 * Three calls that must pass the driver's checks. A sync call the replica did not finish within
 * its 10 s (HTTP 202, possible on a loaded machine) is retried; any other failure throws.
 */
/** CPU milliseconds of one plain noble secp256k1 sign (prehashed), over about 0.5 s of signing. */
function rawSignCpuMs(): number {
  const key = secp256k1.utils.randomSecretKey();
  const msg = new Uint8Array(32).fill(1);
  for (let i = 0; i < 50; i++) secp256k1.sign(msg, key, { prehash: false });
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < 500) {
    msg[0] = n & 255;
    secp256k1.sign(msg, key, { prehash: false });
    n++;
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / n;
}

async function warm(driver: LightDriver, name: string, spec: CallSpec): Promise<void> {
  let ok = 0;
  for (let attempt = 0; attempt < 6 && ok < 3; attempt++) {
    const { failed, firstError } = await driver.callN(spec, 1, 1);
    if (failed === 0) ok++;
    else if (!firstError?.startsWith('HTTP 202')) throw new Error(`light driver: a warm-up call of ${name} failed: ${firstError}`);
    else console.error(`  (warm-up call of ${name} not finished within the sync-call timeout; retrying)`);
  }
  if (ok < 3) throw new Error(`light driver: warm-up calls of ${name} kept timing out`);
}

function alias(from: string, to: string): void {
  if (figures[from]) figures[to] = { ...figures[from]!, note: `= ${from}` };
}
