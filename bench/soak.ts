/**
 * `npm run soak`: the reliability scenarios of issue 15 against real replica processes, bounded
 * (about 3-6 minutes on 2 cores; hard stop at 10), loopback only. Prints one table and writes
 * `bench/soak.json`:
 *
 * - fuzzed envelopes: mutated valid envelopes to every endpoint; count, 5xx, hangs (no answer in 10 s);
 * - kill -9 runs: concurrent sign_with_ecdsa calls (Motoko ChainKey canister) and counter
 *   updates, SIGKILL mid-load, restart; acknowledged vs found, and the balance charged one whole
 *   signature fee per signature (acknowledged ≤ charged ≤ sent; the other fees are the remainder,
 *   under half a signature fee);
 * - overload: a burst of sync calls each on its own connection; served, refused by status and
 *   text, TCP errors (target 0), status p99 measured from another thread;
 * - auth attacks: forged, foreign, expired and mis-targeted envelopes; refused, nothing changed;
 * - operator mistakes: the CLI run wrongly; one clear line on stderr and exit 1.
 *
 * Options: `--quick` (smaller counts). The machine is usually shared: figures are for comparison
 * within one run, not absolute.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { idlFactoryFromCandid } from '../src/candid/candid-text.ts';
import { deployTypeScriptCanister } from '../src/canister-sdk/deploy.ts';
import { compileMotokoFixture } from '../test/support/motoko.ts';
import { managementIdlFactory, tempStateDir } from '../test/support/replica-fixture.ts';
import { spawnReplica } from '../test/support/replica-process.ts';
import { overload } from '../test/support/load.ts';
import { attackEnvelopes, fuzzEnvelopes } from './soak-envelopes.ts';

const ROOT = new URL('..', import.meta.url).pathname;
const QUICK = process.argv.includes('--quick');
const HARD_STOP = setTimeout(() => {
  console.error('soak: 10-minute limit reached; stopping');
  process.exit(2);
}, 10 * 60_000);
HARD_STOP.unref();

const COUNTER = readFileSync(join(ROOT, 'test/fixtures/typescript/counter.ts'), 'utf8');
const COUNTER_CANDID = /candid: `([\s\S]*?)`/.exec(COUNTER)![1]!;
const FEE = 10_000_000_000n;

async function stop(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill(signal);
  await once(child, 'exit');
}

/** The soak's one user: controller of the canisters it creates. */
const USER = Ed25519KeyIdentity.generate();

async function agentFor(url: string): Promise<HttpAgent> {
  return HttpAgent.create({ host: url, identity: USER, shouldFetchRootKey: true });
}

// ---- fuzzed envelopes ----------------------------------------------------------------------

async function fuzz(count: number): Promise<Record<string, number | string>> {
  const dir = tempStateDir('ckr-soak-fuzz-');
  const p = await spawnReplica(dir);
  try {
    const { canisterId } = await deployTypeScriptCanister({ url: p.url, source: COUNTER });
    const r = await fuzzEnvelopes(p.url, canisterId, count, 10_000);
    const alive = (await fetch(new URL('/api/v2/status', p.url))).status === 200;
    return { ...r, alive_after: alive ? 'yes' : 'NO' };
  } finally {
    await stop(p.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- kill -9 ------------------------------------------------------------------------------

async function killRuns(runs: number, concurrency: number, loadMs: number): Promise<Record<string, number | string>> {
  const wasm = await compileMotokoFixture('ChainKey');
  const dir = tempStateDir('ckr-soak-kill-');
  let totals = { sign_sent: 0, sign_acked: 0, sign_charged: 0, inc_acked: 0, inc_found: 0, lost: 0, cycles_inconsistent: 0 };
  let p = await spawnReplica(dir);
  try {
    const agent = await agentFor(p.url);
    const mgmt = (ecid: Principal) => Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: ecid }) as any;
    const { canister_id: signer } = await mgmt(Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai')).provisional_create_canister_with_cycles({ amount: [10n ** 18n], settings: [], specified_id: [], sender_canister_version: [] });
    await mgmt(signer).install_code({ mode: { install: null }, canister_id: signer, wasm_module: wasm.wasm, arg: new Uint8Array(IDL.encode([], [])), sender_canister_version: [] });
    const counterId = (await deployTypeScriptCanister({ url: p.url, source: COUNTER })).canisterId;
    const balance = async (url: string): Promise<bigint> =>
      ((await (Actor.createActor(managementIdlFactory, { agent: await agentFor(url), canisterId: 'aaaaa-aa', effectiveCanisterId: signer }) as any).canister_status({ canister_id: signer })).cycles as bigint);
    let before = await balance(p.url);
    for (let run = 0; run < runs; run++) {
      const a = await agentFor(p.url);
      const chainKey = Actor.createActor(idlFactoryFromCandid(wasm.candid), { agent: a, canisterId: signer }) as any;
      const counter = Actor.createActor(idlFactoryFromCandid(COUNTER_CANDID), { agent: a, canisterId: counterId }) as any;
      const incBefore = (await counter.get()) as bigint;
      let sent = 0;
      let acked = 0;
      let incAcked = 0;
      let stopAt = Date.now() + loadMs;
      const worker = async (i: number): Promise<void> => {
        while (Date.now() < stopAt) {
          try {
            if (i % 2 === 0) {
              sent++;
              const r = await chainKey.signEcdsa('test_key_1', [], new Uint8Array(32).fill(i), FEE);
              if ('ok' in r) acked++;
            } else {
              await counter.inc();
              incAcked++;
            }
          } catch {
            // the kill: replies not received are not acknowledged
          }
        }
      };
      const load = Promise.all(Array.from({ length: concurrency }, (_, i) => worker(i)));
      await new Promise((r) => setTimeout(r, loadMs * (0.4 + 0.4 * Math.random())));
      p.child.kill('SIGKILL');
      stopAt = 0;
      await once(p.child, 'exit');
      await load;
      p = await spawnReplica(dir);
      // Requests in flight at the kill are answered after the restart: wait until the balance settles.
      let after = await balance(p.url);
      for (let i = 0; i < 50; i++) {
        await new Promise((r) => setTimeout(r, 200));
        const b = await balance(p.url);
        if (b === after) break;
        after = b;
      }
      // Execution, message and storage fees are charged too: they are the remainder below one
      // signature fee (hundreds of calls cost far less than one 10B-cycle fee).
      const charged = before - after;
      const counterNow = Actor.createActor(idlFactoryFromCandid(COUNTER_CANDID), { agent: await agentFor(p.url), canisterId: counterId }) as any;
      const incFound = Number(((await counterNow.get()) as bigint) - incBefore);
      const signaturesCharged = Number(charged / FEE);
      totals.sign_sent += sent;
      totals.sign_acked += acked;
      totals.sign_charged += signaturesCharged;
      totals.inc_acked += incAcked;
      totals.inc_found += incFound;
      if (incFound < incAcked) totals.lost += incAcked - incFound;
      if (charged < 0n || charged % FEE > FEE / 2n || signaturesCharged < acked || signaturesCharged > sent) totals.cycles_inconsistent++;
      before = after;
    }
  } finally {
    await stop(p.child);
    rmSync(dir, { recursive: true, force: true });
  }
  return { runs, ...totals };
}

// ---- overload -----------------------------------------------------------------------------

async function overloadRun(calls: number): Promise<Record<string, unknown>> {
  const dir = tempStateDir('ckr-soak-load-');
  const p = await spawnReplica(dir);
  try {
    const { canisterId } = await deployTypeScriptCanister({ url: p.url, source: COUNTER });
    return { ...(await overload({ url: p.url, canisterId, method: 'inc', queryMethod: 'get', calls, version: 3, timeoutMs: 60_000 })) };
  } finally {
    await stop(p.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- auth attacks -------------------------------------------------------------------------

async function auth(): Promise<Record<string, number | string>> {
  const dir = tempStateDir('ckr-soak-auth-');
  const p = await spawnReplica(dir);
  try {
    const { canisterId } = await deployTypeScriptCanister({ url: p.url, source: COUNTER });
    const counter = Actor.createActor(idlFactoryFromCandid(COUNTER_CANDID), { agent: await agentFor(p.url), canisterId }) as any;
    const before = (await counter.get()) as bigint;
    const r = await attackEnvelopes(p.url, canisterId);
    await new Promise((res) => setTimeout(res, 500));
    const after = (await counter.get()) as bigint;
    return { ...r, state_changed: after === before ? 'no' : `YES (${before} -> ${after})` };
  } finally {
    await stop(p.child);
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- operator mistakes ----------------------------------------------------------------------

async function operatorMistakes(): Promise<{ total: number; clear: number; failures: string[] }> {
  const base = tempStateDir('ckr-soak-ops-');
  const cli = (args: string[], cwd = ROOT) => spawnSync(process.execPath, [join(ROOT, 'src/cli.ts'), ...args], { cwd, encoding: 'utf8', timeout: 20_000 });
  const d = (name: string): string => {
    const p = join(base, name);
    mkdirSync(p, { recursive: true });
    return p;
  };
  const failures: string[] = [];
  const cases: [string, () => ReturnType<typeof cli>][] = [];
  const start = (dir: string, ...more: string[]) => cli(['start', '--port', '0', '--state-dir', dir, ...more]);
  writeFileSync(join(base, 'bad-topology.json'), '{"subnets": [{"name": "x"}]}');
  cases.push(['bad topology', () => start(d('t'), '--topology', join(base, 'bad-topology.json'))]);
  cases.push(['bad seed', () => start(d('s'), '--seed', 'xyz')]);
  const blocker = createServer().listen(0, '127.0.0.1');
  await once(blocker, 'listening');
  const busyPort = String((blocker.address() as { port: number }).port);
  cases.push(['port in use', () => cli(['start', '--port', busyPort, '--state-dir', d('p')])]);
  writeFileSync(join(base, 'a-file'), 'x');
  cases.push(['state dir below a file', () => start(join(base, 'a-file', 'state'))]);
  cases.push(['state dir under /proc', () => start(`/proc/ckr-soak-${process.pid}/state`)]);
  writeFileSync(join(d('empty'), 'state.sqlite3'), '');
  cases.push(['0-byte state file', () => start(join(base, 'empty'))]);
  const good = d('good');
  spawnSync(process.execPath, [join(ROOT, 'src/cli.ts'), 'keys', '--state-dir', good], { encoding: 'utf8' });
  const full = readFileSync(join(good, 'state.sqlite3'));
  writeFileSync(join(d('truncated'), 'state.sqlite3'), full.subarray(0, 1000));
  cases.push(['truncated state file', () => start(join(base, 'truncated'))]);
  const corrupt = Buffer.from(full);
  corrupt.fill(0xa5, 4096 * 3, 4096 * 4);
  writeFileSync(join(d('corrupt'), 'state.sqlite3'), corrupt);
  cases.push(['state file with a page overwritten', () => start(join(base, 'corrupt'))]);
  writeFileSync(join(base, 'bad.ts'), "export default defineCanister({ candid: 'service : {}', methods: { ) });\n");
  const running = await spawnReplica(d('running'));
  cases.push(['second replica on one state dir', () => start(join(base, 'running'))]);
  cases.push(['deploy of a file with a syntax error', () => cli(['deploy', join(base, 'bad.ts'), '--url', running.url])]);
  const ro = spawnSync('unshare', ['-rm', 'true']);
  if (ro.status === 0) {
    cases.push(['state dir on a read-only file system', () =>
      spawnSync('unshare', ['-rm', 'sh', '-c', `mount -t tmpfs -o ro tmpfs ${d('ro')} && exec "${process.execPath}" ${join(ROOT, 'src/cli.ts')} start --port 0 --state-dir ${join(base, 'ro', 'x')}`], { encoding: 'utf8', timeout: 20_000 })]);
  }
  let clear = 0;
  try {
    for (const [name, run] of cases) {
      const r = run();
      const lines = (r.stderr ?? '').trimEnd().split('\n');
      if (r.status === 1 && lines.length === 1 && lines[0]!.length > 0 && r.stdout === '') clear++;
      else failures.push(`${name}: status ${r.status}, stderr ${JSON.stringify(r.stderr?.slice(0, 300))}`);
    }
  } finally {
    blocker.close();
    await stop(running.child);
    rmSync(base, { recursive: true, force: true });
  }
  return { total: cases.length, clear, failures };
}

// ---- run ------------------------------------------------------------------------------------

const t0 = Date.now();
const results: Record<string, unknown> = {};
const timed = async <T>(name: string, f: () => Promise<T>): Promise<T> => {
  const s = Date.now();
  const r = await f();
  results[name] = { ...(r as object), seconds: Math.round((Date.now() - s) / 100) / 10 };
  process.stderr.write(`soak: ${name} done in ${((Date.now() - s) / 1000).toFixed(1)} s\n`);
  return r;
};
const fz = await timed('fuzz', () => fuzz(QUICK ? 2_000 : 20_000));
const kr = await timed('kill9', () => killRuns(QUICK ? 2 : 5, QUICK ? 16 : 64, QUICK ? 2_000 : 4_000));
const ov = await timed('overload', () => overloadRun(QUICK ? 1_000 : 5_000));
const au = await timed('auth', () => auth());
const op = await timed('operator', () => operatorMistakes());

const o = ov as unknown as Awaited<ReturnType<typeof overload>>;
const refused = Object.entries(o.refused).map(([k, v]) => `${v} × ${k}`).join('; ') || 'none';
const tcp = Object.entries(o.tcpErrors).map(([k, v]) => `${v} × ${k}`).join('; ') || '0';
const rows: [string, string][] = [
  ['fuzzed envelopes', `${fz['count']} sent; 5xx ${fz['http_5xx']}; hangs ${fz['hangs']}; replica alive after: ${fz['alive_after']}`],
  ['kill -9 runs', `${kr['runs']} runs; signatures acknowledged ${kr['sign_acked']}, charged after restart ${kr['sign_charged']} (sent ${kr['sign_sent']}); counter updates acknowledged ${kr['inc_acked']}, found ${kr['inc_found']}; lost ${kr['lost']}; cycles inconsistent in ${kr['cycles_inconsistent']} runs`],
  ['overload', `${o.calls} sync calls at once: served ${o.served}; refused ${refused}; TCP errors ${tcp}; status p99 ${o.statusP99Ms} ms (${o.statusProbes} probes, ${o.statusFailures} failed); queries ${o.queriesOk}/${o.queries}`],
  ['auth attacks', `${au['attacks']} sent; refused ${au['refused']} (${au['statuses']}); state changed: ${au['state_changed']}`],
  ['operator mistakes', `${op.total} tried; one clear line and exit 1: ${op.clear}${op.failures.length ? `; NOT: ${op.failures.join(' | ')}` : ''}`],
];
const table = ['| scenario | result |', '|---|---|', ...rows.map(([a, b]) => `| ${a} | ${b} |`)].join('\n');
process.stdout.write(`${table}\n`);
writeFileSync(
  join(ROOT, 'bench/soak.json'),
  JSON.stringify({ date: new Date().toISOString(), node: process.version, quick: QUICK, seconds: Math.round((Date.now() - t0) / 1000), table: rows, results }, null, 2) + '\n',
);
clearTimeout(HARD_STOP);
process.exit(0);
