/**
 * The emulated network's subnets: kind, declared size (number of nodes, used by fee scaling) and
 * canister id ranges. Loaded from a JSON file (`--topology FILE`) or the default below, which
 * mirrors a mainnet-like local network (PocketIC ≥ 14 / icp-cli): an NNS subnet, a 34-node
 * fiduciary subnet, a 13-node subnet for test threshold keys and a 13-node application subnet where
 * user canisters are created by default.
 *
 * Subnet ids: the default application subnet's id is the self-authenticating principal of the
 * root key's DER (what agents assume for a certificate without delegation); every other subnet's
 * id is the self-authenticating principal of `root key DER ‖ "subnet:" ‖ name`, so ids are stable
 * for a state dir and differ between state dirs, as root keys do.
 */
import { readFileSync } from 'node:fs';
import { Principal } from '@icp-sdk/core/principal';
import { canisterIndexOf, isCanisterIdShape, type CanisterIdRange } from './canister-id.ts';
import { allAlgorithms, keyIdText, parseKeyId, type MasterKeyId } from './key-id.ts';
import type { CostSchedule } from '../cycles/subnet-costs.ts';

/** Subnet kinds (PocketIC's names). */
export const SubnetKind = {
  nns: 'nns',
  sns: 'sns',
  ii: 'ii',
  fiduciary: 'fiduciary',
  bitcoin: 'bitcoin',
  test_keys: 'test_keys',
  application: 'application',
  verified_application: 'verified_application',
  system: 'system',
} as const;
export type SubnetKind = (typeof SubnetKind)[keyof typeof SubnetKind];

/** A subnet as configured (before ids are assigned). */
export interface SubnetConfig {
  /** Unique name, e.g. `fiduciary`. */
  name: string;
  kind: SubnetKind;
  /** Declared number of nodes; fees scale by size / 13. */
  size: number;
  canisterRanges: CanisterIdRange[];
  /** Where canisters go when a creation names no subnet; exactly one subnet has it. */
  isDefault: boolean;
  /** Threshold master keys this subnet holds (each key id on exactly one subnet). */
  keys: MasterKeyId[];
  /**
   * Chain-key requests in flight per key before new ones are refused (registry `KeyConfig`
   * `max_queue_size`); {@link DEFAULT_MAX_QUEUE_SIZE} when absent.
   */
  maxQueueSize?: number;
  /** A given subnet id (PocketIC: mainnet ids); assigned from the root key when absent. */
  subnetId?: Principal;
  /** `normal` (mainnet's fees, the default) or `free` (PocketIC's `Free` schedule: nothing charged). */
  costSchedule?: CostSchedule;
  /**
   * Simulated nodes running the threshold protocol for this subnet's keys (n); `--nodes` when
   * absent, else 1. The declared `size` keeps setting the fees.
   */
  nodes?: number;
  /** Faulty nodes among them (`--faulty` when absent). */
  faulty?: FaultSpec[];
}

/** Kinds of simulated node faults (see consensus/idkg/faults.ts). */
export type FaultKind = 'crashed' | 'slow' | 'byzantine';

/** `K` faulty nodes of one kind. */
export interface FaultSpec {
  count: number;
  kind: FaultKind;
}

/**
 * Parses `K` or `K:crashed|slow|byzantine` (default kind: crashed).
 * @throws Error naming the expected shape
 */
export function parseFaultSpec(text: string): FaultSpec {
  const m = /^(\d+)(?::(crashed|slow|byzantine))?$/.exec(String(text).trim());
  if (!m) throw new Error(`invalid fault spec '${text}': expected K or K:crashed|slow|byzantine`);
  return { count: Number(m[1]), kind: (m[2] ?? 'crashed') as FaultKind };
}

/** The replica's default per-key queue size (`DEFAULT_ECDSA_MAX_QUEUE_SIZE`, subnet_features). */
export const DEFAULT_MAX_QUEUE_SIZE = 20;

/** A subnet of the running network. */
export interface Subnet extends SubnetConfig {
  subnetId: Principal;
}

/** JSON shape of a topology file (see README). */
export interface TopologyFile {
  subnets: {
    name: string;
    kind: SubnetKind;
    size: number;
    /** Inclusive [first, last] canister ids in text form. */
    canister_ranges: [string, string][];
    default?: boolean;
    /** Key ids held, e.g. `ecdsa:Secp256k1:key_1`; default: see {@link defaultKeysOf}. */
    keys?: string[];
    /** Per-key queue size for the keys of this subnet (default 20). */
    max_queue_size?: number;
    /** `normal` (default) or `free`. */
    cost_schedule?: 'normal' | 'free';
    /** Simulated nodes running the threshold protocol (default: `--nodes`, else 1). */
    nodes?: number;
    /** Faulty nodes: `"K:crashed|slow|byzantine"` or a list of such. */
    faulty?: string | string[];
  }[];
}

/**
 * Keys a subnet holds when its topology entry lists none: `key_1` on the fiduciary subnet and
 * `test_key_1` + `dfx_test_key` on the test-keys subnet, for all four algorithms (as PocketIC ≥ 14
 * and the icp-cli network launcher lay them out).
 */
export function defaultKeysOf(kind: SubnetKind): MasterKeyId[] {
  if (kind === 'fiduciary') return allAlgorithms('key_1');
  if (kind === 'test_keys') return [...allAlgorithms('test_key_1'), ...allAlgorithms('dfx_test_key')];
  return [];
}

/** The default topology (README shows it as JSON). */
export const DEFAULT_TOPOLOGY: TopologyFile = {
  subnets: [
    { name: 'nns', kind: 'nns', size: 40, canister_ranges: [['rwlgt-iiaaa-aaaaa-aaaaa-cai', 'n5n4y-3aaaa-aaaaa-p777q-cai']] },
    { name: 'fiduciary', kind: 'fiduciary', size: 34, canister_ranges: [['uc7f6-kaaaa-aaaaq-qaaaa-cai', 'ijz7v-ziaaa-aaaaq-7777q-cai']] },
    { name: 'test-keys', kind: 'test_keys', size: 13, canister_ranges: [['mf7xa-laaaa-aaaar-qaaaa-cai', 'qoznl-yiaaa-aaaar-7777q-cai']] },
    { name: 'application', kind: 'application', size: 13, default: true, canister_ranges: [['bnz7o-iuaaa-aaaaa-qaaaa-cai', '5g7ff-34aaa-aaaaa-7777q-cai']] },
  ],
};

/**
 * Parses and checks a topology: names unique, sizes positive integers, ranges well-formed canister
 * ids with start ≤ end and no overlap between subnets, exactly one default subnet.
 * @throws Error naming the offending subnet and field.
 */
export function parseTopology(file: unknown): SubnetConfig[] {
  const f = file as TopologyFile;
  if (!f || typeof f !== 'object' || !Array.isArray(f.subnets) || f.subnets.length === 0) {
    throw new Error('topology: expected an object with a non-empty "subnets" array');
  }
  const kinds = Object.values(SubnetKind) as string[];
  const names = new Set<string>();
  const subnets = f.subnets.map((s, i): SubnetConfig => {
    const where = `topology: subnets[${i}]`;
    if (typeof s?.name !== 'string' || s.name === '') throw new Error(`${where}.name must be a non-empty string`);
    if (names.has(s.name)) throw new Error(`${where}.name "${s.name}" is used twice`);
    names.add(s.name);
    if (!kinds.includes(s.kind)) throw new Error(`${where}.kind must be one of ${kinds.join(', ')}`);
    if (!Number.isInteger(s.size) || s.size < 1) throw new Error(`${where}.size must be a positive integer`);
    if (!Array.isArray(s.canister_ranges) || s.canister_ranges.length === 0) {
      throw new Error(`${where}.canister_ranges must be a non-empty array of [first, last] canister ids`);
    }
    const canisterRanges = s.canister_ranges.map((r, j) => {
      const at = `${where}.canister_ranges[${j}]`;
      if (!Array.isArray(r) || r.length !== 2) throw new Error(`${at} must be [first, last]`);
      const [start, end] = r.map((t) => {
        let p: Principal;
        try {
          p = Principal.fromText(String(t));
        } catch {
          throw new Error(`${at}: "${t}" is not a principal`);
        }
        if (!isCanisterIdShape(p)) throw new Error(`${at}: ${t} is not a canister id`);
        return p;
      }) as [Principal, Principal];
      if (canisterIndexOf(start) > canisterIndexOf(end)) throw new Error(`${at}: first is after last`);
      return { start, end };
    });
    let keys: MasterKeyId[];
    if (s.keys === undefined) keys = defaultKeysOf(s.kind);
    else {
      if (!Array.isArray(s.keys)) throw new Error(`${where}.keys must be an array of key ids`);
      keys = s.keys.map((k, j) => {
        try {
          return parseKeyId(String(k));
        } catch (e) {
          throw new Error(`${where}.keys[${j}]: ${(e as Error).message}`);
        }
      });
    }
    if (s.max_queue_size !== undefined && (!Number.isInteger(s.max_queue_size) || s.max_queue_size < 1)) {
      throw new Error(`${where}.max_queue_size must be a positive integer`);
    }
    if (s.nodes !== undefined && (!Number.isInteger(s.nodes) || s.nodes < 1 || s.nodes > 100)) {
      throw new Error(`${where}.nodes must be an integer 1..100`);
    }
    let faulty: FaultSpec[] | undefined;
    if (s.faulty !== undefined) {
      try {
        faulty = (Array.isArray(s.faulty) ? s.faulty : [s.faulty]).map(parseFaultSpec);
      } catch (e) {
        throw new Error(`${where}.faulty: ${(e as Error).message}`);
      }
    }
    if (s.cost_schedule !== undefined && s.cost_schedule !== 'normal' && s.cost_schedule !== 'free') {
      throw new Error(`${where}.cost_schedule must be "normal" or "free"`);
    }
    return {
      name: s.name,
      kind: s.kind,
      size: s.size,
      canisterRanges,
      isDefault: s.default === true,
      keys,
      ...(s.max_queue_size !== undefined ? { maxQueueSize: s.max_queue_size } : {}),
      ...(s.cost_schedule !== undefined ? { costSchedule: s.cost_schedule } : {}),
      ...(s.nodes !== undefined ? { nodes: s.nodes } : {}),
      ...(faulty ? { faulty } : {}),
    };
  });
  const keyHolders = new Map<string, string>();
  for (const s of subnets) {
    for (const k of s.keys) {
      const t = keyIdText(k);
      const other = keyHolders.get(t);
      if (other) throw new Error(`topology: key ${t} is held by both ${other} and ${s.name}; each key id lives on one subnet`);
      keyHolders.set(t, s.name);
    }
  }
  const defaults = subnets.filter((s) => s.isDefault);
  if (defaults.length !== 1) throw new Error(`topology: exactly one subnet must have "default": true (found ${defaults.length})`);
  const all = subnets.flatMap((s) => s.canisterRanges.map((r) => ({ s, a: canisterIndexOf(r.start), b: canisterIndexOf(r.end) })));
  all.sort((x, y) => (x.a < y.a ? -1 : x.a > y.a ? 1 : 0));
  for (let i = 1; i < all.length; i++) {
    if (all[i]!.a <= all[i - 1]!.b) {
      throw new Error(`topology: canister ranges of "${all[i - 1]!.s.name}" and "${all[i]!.s.name}" overlap`);
    }
  }
  return subnets;
}

/**
 * Reads a topology JSON file.
 * @throws Error if the file cannot be read, is not JSON, or fails {@link parseTopology}.
 */
export function loadTopologyFile(path: string): SubnetConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`topology: cannot read ${path}: ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`topology: ${path} is not valid JSON: ${(e as Error).message}`);
  }
  return parseTopology(json);
}

/**
 * Assigns subnet ids (see the module comment).
 * @param rootKeyDer the 133-byte DER of the BLS root public key.
 */
export function assignSubnetIds(configs: SubnetConfig[], rootKeyDer: Uint8Array): Subnet[] {
  const enc = new TextEncoder();
  return configs.map((c) => ({
    ...c,
    subnetId: c.subnetId
      ? c.subnetId
      : c.isDefault
      ? Principal.selfAuthenticating(rootKeyDer)
      : Principal.selfAuthenticating(new Uint8Array([...rootKeyDer, ...enc.encode(`subnet:${c.name}`)])),
  }));
}
