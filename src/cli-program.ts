/**
 * The `chainkey-replica` command line (commander; entered through bin/chainkey-replica.mjs or
 * cli.ts, which turn on the compile caches first):
 *   start   — run the replica (`npm start`), printing one line `listening on http://HOST:PORT`
 *   status  — print a running replica's /api/v2/status
 *   keys    — print the threshold master keys (key id, subnet, public key, chain code)
 *   deploy  — create or upgrade a TypeScript canister on a running replica
 *   call    — call a canister method with JSON arguments (Candid read from the canister)
 *   mint    — credit a principal's default account on the cycles ledger and/or the ICP ledger
 *   pocket-ic — a PocketIC server for PicJS suites (bin/pocket-ic; its options are PocketIC's)
 */
import { Command, InvalidArgumentError } from 'commander';
import { startFrontDoorThread } from './http/front-door.ts';
import { parseFaultSpec, type FaultSpec } from './routing/topology.ts';
import { IMPL_VERSION } from './version.ts';

// Each command loads what it needs when it runs (dynamic imports below): `start` starts the front
// door's thread first, so that the thread boots while the replica's modules load.

function parseSchedule(v: string): 'normal' | 'free' {
  if (v !== 'normal' && v !== 'free') throw new InvalidArgumentError('expected normal or free');
  return v;
}

function parseCycles(v: string): bigint {
  if (!/^[0-9_]+$/.test(v)) throw new InvalidArgumentError('expected a whole number of cycles');
  return BigInt(v.replaceAll('_', ''));
}

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

function parseSeed(v: string): Uint8Array {
  if (!/^([0-9a-fA-F]{2}){16,}$/.test(v)) throw new InvalidArgumentError('expected at least 32 hex digits');
  return new Uint8Array(Buffer.from(v, 'hex'));
}

function parseNodes(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 100) throw new InvalidArgumentError('expected a node count 1..100');
  return n;
}

function parseFaulty(v: string): FaultSpec {
  try {
    return parseFaultSpec(v);
  } catch (e) {
    throw new InvalidArgumentError((e as Error).message);
  }
}

function parseNonNegative(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a non-negative number');
  return n;
}

/** Threshold protocol options shared by `start` and `keys`. */
interface ThresholdCliOptions {
  nodes?: number;
  faulty?: FaultSpec;
  preSignatures?: number;
  reshareInterval?: number;
  mega?: boolean;
}

function thresholdOptions(o: ThresholdCliOptions) {
  return {
    ...(o.nodes !== undefined && { nodes: o.nodes }),
    ...(o.faulty && { faulty: o.faulty }),
    ...(o.preSignatures !== undefined && { preSignaturesPerKey: o.preSignatures }),
    ...(o.reshareInterval !== undefined && { reshareIntervalMs: o.reshareInterval * 1000 }),
    ...(o.mega && { mega: true }),
  };
}

const program = new Command();
program.name('chainkey-replica').description('A local Internet Computer replica').version(IMPL_VERSION);

program
  .command('start')
  .description('start the replica and serve the IC HTTP interface')
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--port <port>', 'TCP port (0 = any free port)', parsePort, 4943)
  .option('--state-dir <dir>', 'directory for the SQLite state', './.chainkey-replica')
  .option('--topology <file>', 'subnet topology JSON file (default: built-in, see README)')
  .option('--seed <hex>', 'derive master keys created in a new state dir from this seed (reproducible tests)', parseSeed)
  .option('--no-request-log', 'do not print a line per ingress message and per rejected request')
  .option('--cost-schedule <schedule>', 'normal (mainnet fees, default) or free (nothing charged, PocketIC Free)', parseSchedule)
  .option('--storage-fee <cycles>', 'cycles per GiB per second at 13 nodes (default 127000)', parseCycles)
  .option('--base-fee <cycles>', 'cycles per second per canister using memory, at 13 nodes (default 0)', parseCycles)
  .option('--nodes <n>', 'simulated nodes of every key-holding subnet running the threshold protocol (default 1)', parseNodes)
  .option('--faulty <spec>', 'faulty nodes per key-holding subnet: K[:crashed|slow|byzantine] (default kind crashed)', parseFaulty)
  .option('--pre-signatures <n>', 'pre-signatures kept ready per ECDSA / Schnorr key (default 20)', parseNodes)
  .option('--reshare-interval <seconds>', 'reshare every key this often (default 0: never)', parseNonNegative)
  .option('--mega', 'test mode: shares MEGa-encrypted in the dealings, complaints with DLEQ proofs (at most 13 nodes per subnet)')
  .action(async (opts: { host: string; port: number; stateDir: string; topology?: string; seed?: Uint8Array; requestLog: boolean; costSchedule?: 'normal' | 'free'; storageFee?: bigint; baseFee?: bigint } & ThresholdCliOptions) => {
    const doorThread = startFrontDoorThread();
    const [{ startReplica }, { DEFAULT_STORAGE_FEES }] = await Promise.all([import('./server.ts'), import('./cycles/subnet-costs.ts')]);
    const running = await startReplica({
      frontDoorThread: doorThread,
      host: opts.host,
      port: opts.port,
      stateDir: opts.stateDir,
      ...(opts.topology && { topologyFile: opts.topology }),
      ...(opts.seed && { seed: opts.seed }),
      ...(opts.requestLog && { requestLog: (line: string) => process.stdout.write(`${line}\n`) }),
      ...(opts.costSchedule && { costSchedule: opts.costSchedule }),
      ...((opts.storageFee !== undefined || opts.baseFee !== undefined) && {
        storageFees: { gibStoragePerSecond: opts.storageFee ?? DEFAULT_STORAGE_FEES.gibStoragePerSecond, basePerSecond: opts.baseFee ?? DEFAULT_STORAGE_FEES.basePerSecond },
      }),
      threshold: thresholdOptions(opts),
    });
    process.stdout.write(`listening on ${running.url}\n`);
    let stopping = false;
    const shutdown = (): void => {
      if (stopping) return;
      stopping = true;
      running.stop().then(
        () => process.exit(process.exitCode ?? 0),
        (e) => {
          console.error(e);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });

program
  .command('status')
  .description("print a running replica's /api/v2/status")
  .requiredOption('--url <url>', 'replica URL, e.g. http://127.0.0.1:4943')
  .action(async (opts: { url: string }) => {
    const { decode } = await import('@dfinity/cbor');
    const res = await fetch(new URL('/api/v2/status', opts.url));
    if (!res.ok) throw new Error(`status request failed: HTTP ${res.status} ${await res.text()}`);
    const status = decode(new Uint8Array(await res.arrayBuffer())) as Record<string, unknown>;
    const shown = Object.fromEntries(
      Object.entries(status).map(([k, v]) => [
        k,
        v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? v.toString() : v,
      ]),
    );
    process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
  });

program
  .command('keys')
  .description('print the threshold master keys (works whether or not the replica is running)')
  .option('--state-dir <dir>', 'directory for the SQLite state', './.chainkey-replica')
  .option('--topology <file>', 'subnet topology JSON file (default: built-in, see README)')
  .option('--seed <hex>', 'as for start: seed for keys not created yet', parseSeed)
  .option('--nodes <n>', 'as for start: nodes for keys not created yet', parseNodes)
  .option('--faulty <spec>', 'as for start', parseFaulty)
  .option('--json', 'print a JSON array of {key_id, subnet_id, public_key, chain_code, nodes, threshold, ...}')
  .action(async (opts: { stateDir: string; topology?: string; seed?: Uint8Array; json?: boolean } & ThresholdCliOptions) => {
    const [{ Replica }, { loadTopologyFile }] = await Promise.all([import('./replica.ts'), import('./routing/topology.ts')]);
    const replica = Replica.open({
      stateDir: opts.stateDir,
      ...(opts.topology && { topology: loadTopologyFile(opts.topology) }),
      ...(opts.seed && { seed: opts.seed }),
      ...thresholdOptions(opts),
      // Reading keys starts no protocol work (a replica may be running on the same state dir).
      passive: true,
    });
    try {
      const status = new Map(replica.threshold.status().map((s) => [s.keyId, s]));
      const pool = new Map(replica.store.preSignatures.all().map((r) => (r as { keyId: string }).keyId).reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<string, number>()));
      const keys = [...replica.masterKeys.entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([keyId, k]) => ({
          key_id: keyId,
          subnet_id: k.subnet.subnetId.toText(),
          public_key: Buffer.from(k.publicKey).toString('hex'),
          chain_code: Buffer.from(k.chainCode).toString('hex'),
          nodes: k.transcript.receivers,
          threshold: k.transcript.threshold,
          transcript_id: k.transcript.transcriptId,
          pre_signatures: status.has(keyId) ? (pool.get(keyId) ?? 0) : null,
          last_reshare_nanos: k.transcript.resharedAtNanos?.toString() ?? null,
        }));
      if (opts.json) process.stdout.write(JSON.stringify(keys, null, 2) + '\n');
      else {
        for (const k of keys) {
          const pre = k.pre_signatures === null ? 'no pre-signatures (vetKD)' : `${k.pre_signatures} pre-signatures stored`;
          const reshared = k.last_reshare_nanos ? new Date(Number(BigInt(k.last_reshare_nanos) / 1_000_000n)).toISOString() : 'never';
          process.stdout.write(
            `${k.key_id}  subnet ${k.subnet_id}\n  public key ${k.public_key}\n  chain code ${k.chain_code}\n` +
              `  n = ${k.nodes}, threshold ${k.threshold}, transcript ${k.transcript_id}, ${pre}, last reshare ${reshared}\n`,
          );
        }
      }
    } finally {
      await replica.close();
    }
  });

program
  .command('deploy')
  .description('create (or upgrade) a TypeScript canister on a running replica; prints its id last')
  .argument('<file>', 'the canister module, e.g. examples/signer.ts')
  .requiredOption('--url <url>', 'replica URL, e.g. http://127.0.0.1:4943')
  .option('--canister-id <id>', 'deploy to this canister id (created if missing, upgraded if it has code)')
  .option('--cycles <n>', 'cycles for a new canister', (v: string) => BigInt(v.replaceAll('_', '')))
  .option('--init-args <json>', 'init arguments as a JSON array, principals as text, e.g. \'["ryjl3-tyaaa-aaaaa-aaaba-cai", true]\'')
  .action(async (file: string, opts: { url: string; canisterId?: string; cycles?: bigint; initArgs?: string }) => {
    const { deployTypeScriptCanister } = await import('./canister-sdk/deploy.ts'); // not loaded by `start`
    const r = await deployTypeScriptCanister({
      url: opts.url,
      file,
      ...(opts.initArgs !== undefined && { initArgs: JSON.parse(opts.initArgs) as unknown[] }),
      ...(opts.canisterId && { canisterId: opts.canisterId }),
      ...(opts.cycles !== undefined && { cycles: opts.cycles }),
    });
    process.stdout.write(`${r.mode === 'upgrade' ? 'upgraded' : 'installed'} ${file} (module hash ${Buffer.from(r.moduleHash).toString('hex')})\n`);
    process.stdout.write(`${r.canisterId.toText()}\n`);
  });

program
  .command('call')
  .description('call a canister method (Candid from its candid:service metadata); prints the reply as JSON')
  .argument('<canister-id>')
  .argument('<method>')
  .argument('[args]', 'arguments as a JSON array, e.g. \'["00ff…"]\' (principals as text, blobs as hex)', '[]')
  .requiredOption('--url <url>', 'replica URL, e.g. http://127.0.0.1:4943')
  .action(async (canisterId: string, method: string, args: string, opts: { url: string }) => {
    const { callCanister } = await import('./canister-sdk/call-canister.ts'); // not loaded by `start`
    process.stdout.write(`${await callCanister({ url: opts.url, canisterId, method, args: JSON.parse(args) as unknown[] })}\n`);
  });

const parseAmount = (v: string): bigint => {
  if (!/^[0-9_]+$/.test(v)) throw new InvalidArgumentError('expected a whole number, e.g. 5_000_000_000_000');
  return BigInt(v.replaceAll('_', ''));
};

program
  .command('mint')
  .description("credit a principal's default account: cycles on the cycles ledger and/or ICP (e8s) on the ICP ledger")
  .requiredOption('--to <principal>', 'the account owner')
  .option('--cycles <n>', 'cycles to credit on the cycles ledger', parseAmount)
  .option('--icp <e8s>', 'ICP to credit on the ICP ledger, in e8s (10^-8 ICP)', parseAmount)
  .requiredOption('--url <url>', 'replica URL, e.g. http://127.0.0.1:4943')
  .action(async (opts: { to: string; cycles?: bigint; icp?: bigint; url: string }) => {
    if (opts.cycles === undefined && opts.icp === undefined) throw new Error('mint: give --cycles and/or --icp');
    const { SYSTEM_CANISTER_IDS } = await import('./system-canisters/system-canisters.ts');
    const to = { owner: opts.to, subaccount: [] };
    const mint = async (canisterId: string, amount: bigint, unit: string): Promise<void> => {
      const { callCanister } = await import('./canister-sdk/call-canister.ts'); // not loaded by `start`
      const out = await callCanister({ url: opts.url, canisterId, method: 'chainkey_replica_mint', args: [{ to, amount: amount.toString() }] });
      const balance = (JSON.parse(out) as string[])[0];
      process.stdout.write(`minted ${amount} ${unit} to ${opts.to}; balance ${balance} ${unit}\n`);
    };
    if (opts.cycles !== undefined) await mint(SYSTEM_CANISTER_IDS.cyclesLedger, opts.cycles, 'cycles');
    if (opts.icp !== undefined) await mint(SYSTEM_CANISTER_IDS.icpLedger, opts.icp, 'e8s');
  });

program
  .command('pocket-ic')
  .description('run a PocketIC server for PicJS test suites (what bin/pocket-ic runs): --port-file F, --port P, --ttl S, --hard-ttl S')
  .allowUnknownOption()
  .allowExcessArguments()
  .helpOption(false)
  .action(async () => {
    await import('./pocket-ic.ts'); // reads its PocketIC-style options from process.argv itself
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  // A canister source error is `FILE:LINE:COL: MESSAGE`, as compilers print it.
  if ((e as Error).name === 'CanisterSourceError') console.error((e as Error).message);
  else console.error(`chainkey-replica: ${(e as Error).message ?? e}`);
  process.exit(1);
});
