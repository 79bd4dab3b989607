/**
 * The system canisters icp-cli calls, present from a replica's first start at their mainnet ids:
 * the ICP ledger (`ryjl3-tyaaa-aaaaa-aaaba-cai`) and the cycles minting canister
 * (`rkp4c-7iaaa-aaaaa-aaaca-cai`) in the NNS subnet's range, the cycles ledger
 * (`um5iw-rqaaa-aaaaq-qaaba-cai`) in the range mainnet gives it (the fiduciary subnet's in the
 * default topology). Each is this project's own TypeScript canister (this folder), installed
 * through the same code path as any canister, serving the real Candid interface from `candid/`
 * (plus `chainkey_replica_mint` on the two ledgers). They are controlled by the NNS root
 * canister id, so nobody can change them; their state is canister state like any other (durable).
 *
 * First start also funds the anonymous principal's default accounts (see {@link PREFUND}).
 * A replica whose topology has no subnet for one of these ids simply has no such canister.
 */
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { sha224 } from '@noble/hashes/sha2.js';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { candidInterfaceFromText } from '../candid/candid-text.ts';
import type { ExecutionEnvironment } from '../execution/execution-environment.ts';
import { encodeTsCanisterModule } from '../execution/typescript/ts-module.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import { defaultCanisterSettings, newCanister } from '../state/canister-state.ts';
import type { ReplicatedState } from '../state/replicated-state.ts';
import type { SystemConfig } from './ledger-core.ts';

/** Mainnet ids of the system canisters (text). */
export const SYSTEM_CANISTER_IDS = {
  icpLedger: 'ryjl3-tyaaa-aaaaa-aaaba-cai',
  cmc: 'rkp4c-7iaaa-aaaaa-aaaca-cai',
  cyclesLedger: 'um5iw-rqaaa-aaaaq-qaaba-cai',
  governance: 'rrkah-fqaaa-aaaaa-aaaaq-cai',
  root: 'r7inp-6aaaa-aaaaa-aaabq-cai',
} as const;

/** What the anonymous principal's default accounts hold after the first start. */
export const PREFUND = {
  /** ICP, e8s (1,000,000 ICP). */
  icpE8s: 100_000_000_000_000n,
  /** Cycles on the cycles ledger (1,000T). */
  cycles: 1_000_000_000_000_000n,
} as const;

/**
 * Cycles the cycles ledger holds beyond its accounts' balances, for the fees its own executions
 * pay on a non-system subnet (100T).
 */
export const CYCLES_LEDGER_OPERATING_RESERVE = 100_000_000_000_000n;

/** The CMC's fixed ICP price: 10,000ths of an XDR per ICP (so 1 ICP = 3.5T cycles). */
export const XDR_PERMYRIAD_PER_ICP = 35_000;

/** The extension both ledgers serve besides their real interface (README "System canisters"). */
const MINT_EXTENSION = '  chainkey_replica_mint : (record { to : Account; amount : nat }) -> (nat);\n';

const HERE = new URL('./', import.meta.url);
const CANDID_DIR = new URL('../../candid/', import.meta.url);

/** A .did file of candid/, optionally with the mint extension at the head of the service. */
function serviceText(file: string, withMint: boolean): string {
  const did = readFileSync(new URL(file, CANDID_DIR), 'utf8');
  if (!withMint) return did;
  const service = did.lastIndexOf('\nservice ');
  const open = did.indexOf('{', service);
  return `${did.slice(0, open + 1)}\n${MINT_EXTENSION}${did.slice(open + 1)}`;
}

/** The module source: the SYSTEM constant, ledger-core.ts inlined, then the canister's own file. */
function moduleSource(file: string, system: SystemConfig): string {
  const core = readFileSync(new URL('ledger-core.ts', HERE), 'utf8')
    .replace(/^import type[^;]*;\n/gm, '')
    .replace(/^export /gm, '');
  const own = readFileSync(new URL(file, HERE), 'utf8').replace(/import\s*\{[^}]*\}\s*from\s*'\.\/ledger-core\.ts';\n/, '');
  return `const SYSTEM = ${JSON.stringify(system)};\n${core}\n${own}`;
}

/** Candid-encodes init arguments for a .did service's init types. */
function encodeInit(did: string, values: unknown[]): Uint8Array {
  const types = candidInterfaceFromText(did).init({ IDL }) as IDL.Type[];
  return new Uint8Array(IDL.encode(types, values));
}

/** What installation needs from the replica. */
export interface SystemCanisterDeps {
  state: ReplicatedState;
  routing: RoutingTable;
  execution: ExecutionEnvironment;
  /** Time of the install, nanoseconds; execution's round must be at this time. */
  nowNanos: bigint;
}

/**
 * The ICP ledger's account identifier of an owner's default account, as hex (64 digits):
 * CRC-32 (big-endian) ‖ SHA-224(0x0A ‖ "account-id" ‖ owner ‖ 32 zero bytes).
 */
export function defaultAccountIdHex(owner: Principal): string {
  const hash = sha224(new Uint8Array([...new TextEncoder().encode('\x0Aaccount-id'), ...owner.toUint8Array(), ...new Uint8Array(32)]));
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(hash) >>> 0);
  return Buffer.concat([crc, hash]).toString('hex');
}

/**
 * Creates and installs each system canister that is missing and whose id lies in a subnet's
 * range. Runs inside the replica's first round-less start-up; the caller commits the changes.
 * @throws IcError if a module fails to install (a bug in this folder)
 */
export function ensureSystemCanisters(deps: SystemCanisterDeps): void {
  const { state, routing, execution, nowNanos } = deps;
  const ids = SYSTEM_CANISTER_IDS;
  const subnets = routing.subnets;
  const defaultSubnet = routing.defaultSubnet;
  const typed = new Map<string, string[]>();
  for (const s of subnets) {
    if (s === defaultSubnet || s.kind === 'nns') continue;
    const list = typed.get(s.kind) ?? [];
    list.push(s.subnetId.toText());
    typed.set(s.kind, list);
  }
  const base: Omit<SystemConfig, 'candid'> = {
    cmc: ids.cmc,
    icpLedger: ids.icpLedger,
    cyclesLedger: ids.cyclesLedger,
    governance: ids.governance,
    defaultSubnets: [defaultSubnet.subnetId.toText()],
    subnetTypes: [...typed.entries()],
    subnets: subnets.map((s) => s.subnetId.toText()),
    xdrPermyriadPerIcp: XDR_PERMYRIAD_PER_ICP,
  };
  const anonymous = Principal.anonymous();
  const install = (id: string, file: string, did: string, withMint: boolean, init: unknown[], cycles: bigint): void => {
    const canisterId = Principal.fromText(id);
    if (state.canister(canisterId)) return;
    const subnet = routing.subnetOfCanister(canisterId);
    if (!subnet) return;
    const candid = serviceText(did, withMint);
    const c = newCanister({
      canisterId,
      subnetId: subnet.subnetId,
      controllers: [Principal.fromText(ids.root)],
      settings: defaultCanisterSettings(),
      cycles,
      nowNanos,
    });
    state.putCanister(c);
    const module = encodeTsCanisterModule(moduleSource(file, { ...base, candid }));
    execution.lifecycle.installCodeNow(c, { install: null }, module, encodeInit(candid, init), Principal.fromText(ids.root));
  };
  install('ryjl3-tyaaa-aaaaa-aaaba-cai', 'icp-ledger.ts', 'ledger.did', true, [
    {
      Init: {
        minting_account: defaultAccountIdHex(Principal.fromText(ids.governance)),
        icrc1_minting_account: [{ owner: Principal.fromText(ids.governance), subaccount: [] }],
        initial_values: [[defaultAccountIdHex(anonymous), { e8s: PREFUND.icpE8s }]],
        max_message_size_bytes: [],
        transaction_window: [],
        archive_options: [],
        send_whitelist: [],
        transfer_fee: [{ e8s: 10_000n }],
        token_symbol: [],
        token_name: [],
        feature_flags: [{ icrc2: true }],
      },
    },
  ], 0n);
  install('rkp4c-7iaaa-aaaaa-aaaca-cai', 'cycles-minting-canister.ts', 'cmc.did', false, [[]], 0n);
  install('um5iw-rqaaa-aaaaq-qaaba-cai', 'cycles-ledger.ts', 'cycles-ledger.did', true, [
    { Init: { max_blocks_per_request: 1000n, index_id: [], initial_balances: [[[{ owner: anonymous, subaccount: [] }, PREFUND.cycles]]] } },
  ], PREFUND.cycles + CYCLES_LEDGER_OPERATING_RESERVE);
}
