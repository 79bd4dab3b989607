/**
 * A PocketIC instance's subnets from the `subnet_config_set` of `POST /instances` (PocketIC server
 * v14 as PicJS 0.23 drives it; reference/pocketic-api.md §6.5, §7):
 *
 * - named subnets (nns, sns, ii, fiduciary, bitcoin) get their mainnet subnet ids and mainnet
 *   canister ranges; every requested subnet also gets an allocation range of 2^20 canister ids from
 *   the top of the id space, handed out in creation order (nns, sns, ii, fiduciary, bitcoin, then
 *   system, application, verified_application), so the first canister of the default config is
 *   `lxzze-o7777-77777-aaaaa-cai`;
 * - other subnets' ids are self-authenticating ids of their seed, except the default subnet's:
 *   the replica gives it the root key's (what agents assume of certificates without delegation);
 * - sizes: NNS 40, SNS / II / fiduciary 34, the rest 13;
 * - `key_1` (ECDSA, Schnorr BIP340 and Ed25519, vetKD) on the fiduciary subnet, or on II when
 *   there is no fiduciary subnet; `test_key_1` and `dfx_test_key` on a 13-node test-keys subnet
 *   (PocketIC 14's TestThresholdKeys: mainnet id and range) that every instance has but
 *   `/_/topology` does not list (PicJS throws on kinds it does not know);
 * - the named subnets the instance did not ask for exist too, with their mainnet ranges only, so
 *   a canister can be created at a specified mainnet id (e.g. the ICP ledger's) as PocketIC
 *   allows; they are listed once they host a canister;
 * - a per-subnet seed: SHA-256 over the subnet's mainnet ranges (named subnets: the same whatever
 *   else the instance holds) or its allocation range; master keys are derived from it, so derived
 *   addresses are the same on every run.
 */
import { createHash } from 'node:crypto';
import { Principal } from '@icp-sdk/core/principal';
import { canisterIdFromIndex, type CanisterIdRange } from '../routing/canister-id.ts';
import { allAlgorithms, type MasterKeyId } from '../routing/key-id.ts';
import type { SubnetConfig, SubnetKind } from '../routing/topology.ts';
import { PocketIcError } from './wire.ts';

/** PocketIC's `subnet_kind` names in `/_/topology`, by our kinds. */
export const POCKET_IC_KIND_NAMES: Record<SubnetKind, string> = {
  nns: 'NNS',
  sns: 'SNS',
  ii: 'II',
  fiduciary: 'Fiduciary',
  bitcoin: 'Bitcoin',
  test_keys: 'TestThresholdKeys',
  application: 'Application',
  verified_application: 'VerifiedApplication',
  system: 'System',
};

interface NamedSubnet {
  kind: SubnetKind;
  size: number;
  subnetId: string;
  ranges: [string, string][];
}

/** Mainnet ids and ranges of the named subnets (mainnet routing table, PocketIC 14). */
const NAMED: Record<'nns' | 'sns' | 'ii' | 'fiduciary' | 'bitcoin' | 'test_keys', NamedSubnet> = {
  nns: {
    kind: 'nns',
    size: 40,
    subnetId: 'tdb26-jop6k-aogll-7ltgs-eruif-6kk7m-qpktf-gdiqx-mxtrf-vb5e6-eqe',
    ranges: [
      ['rwlgt-iiaaa-aaaaa-aaaaa-cai', 'renrk-eyaaa-aaaaa-aaada-cai'],
      ['qoctq-giaaa-aaaaa-aaaea-cai', 'n5n4y-3aaaa-aaaaa-p777q-cai'],
    ],
  },
  sns: {
    kind: 'sns',
    size: 34,
    subnetId: 'x33ed-h457x-bsgyx-oqxqf-6pzwv-wkhzr-rm2j3-npodi-purzm-n66cg-gae',
    ranges: [['ybpmr-kqaaa-aaaaq-aaaaa-cai', 'ekjw2-zyaaa-aaaaq-p777q-cai']],
  },
  ii: {
    kind: 'ii',
    size: 34,
    subnetId: 'uzr34-akd3s-xrdag-3ql62-ocgoh-ld2ao-tamcv-54e7j-krwgb-2gm4z-oqe',
    ranges: [
      ['rdmx6-jaaaa-aaaaa-aaadq-cai', 'rdmx6-jaaaa-aaaaa-aaadq-cai'],
      ['uc7f6-kaaaa-aaaaq-qaaaa-cai', 'ijz7v-ziaaa-aaaaq-7777q-cai'],
    ],
  },
  fiduciary: {
    kind: 'fiduciary',
    size: 34,
    subnetId: 'pzp6e-ekpqk-3c5x7-2h6so-njoeq-mt45d-h3h6c-q3mxf-vpeq5-fk5o7-yae',
    ranges: [['mf7xa-laaaa-aaaar-qaaaa-cai', 'qoznl-yiaaa-aaaar-7777q-cai']],
  },
  bitcoin: {
    kind: 'bitcoin',
    size: 13,
    subnetId: 'w4rem-dv5e3-widiz-wbpea-kbttk-mnzfm-tzrc7-svcj3-kbxyb-zamch-hqe',
    ranges: [['g3wsl-eqaaa-aaaan-aaaaa-cai', '2qqia-xyaaa-aaaan-p777q-cai']],
  },
  test_keys: {
    kind: 'test_keys',
    size: 13,
    subnetId: 'fuqsr-in2lc-zbcjj-ydmcw-pzq7h-4xm2z-pto4i-dcyee-5z4rz-x63ji-nae',
    ranges: [['z474k-xiaaa-aaaao-qaaaa-cai', 'fxzgb-eaaaa-aaaao-7777q-cai']],
  },
};

/** Ids per allocation range (2^20) and the first range's start (2^64 − 2^21). */
const ALLOCATION_RANGE_SIZE = 1n << 20n;
const FIRST_ALLOCATION_START = (1n << 64n) - (1n << 21n);

/** The i-th (0-based) allocation range PocketIC hands out. */
function allocationRange(i: number): CanisterIdRange {
  const start = FIRST_ALLOCATION_START - BigInt(i) * ALLOCATION_RANGE_SIZE;
  return { start: canisterIdFromIndex(start), end: canisterIdFromIndex(start + ALLOCATION_RANGE_SIZE - 1n) };
}

/**
 * When `/_/topology` lists a subnet: `requested` ones always; a named subnet the instance did not
 * ask for once a canister was created on it at a specified id in its mainnet range (PocketIC then
 * adds that subnet); the test-keys subnet never (PicJS 0.23 does not know its kind).
 */
export type SubnetListing = 'requested' | 'once_used' | 'never';

/** One subnet of an instance: the replica's config plus what PocketIC reports about it. */
export interface PocketIcSubnet {
  config: SubnetConfig;
  listing: SubnetListing;
  /** SHA-256 seed (32 bytes) master keys are derived from. */
  seed: Uint8Array;
}

/** An instance's subnets and its default effective canister id. */
export interface PocketIcTopology {
  subnets: PocketIcSubnet[];
  /** Start of the first application subnet's allocation range (else verified app., system, first). */
  defaultEffectiveCanisterId: Principal;
}

const sha256 = (b: Uint8Array | string): Uint8Array => new Uint8Array(createHash('sha256').update(b).digest());

function rangesSeed(ranges: CanisterIdRange[]): Uint8Array {
  const h = createHash('sha256');
  for (const r of ranges) h.update(r.start.toUint8Array()).update(r.end.toUint8Array());
  return new Uint8Array(h.digest());
}

function isSpec(v: unknown): boolean {
  return v !== null && typeof v === 'object';
}

function checkSpec(v: unknown, where: string): void {
  if (!isSpec(v)) throw new PocketIcError(`Failed to parse request: ${where} must be a SubnetSpec object`);
  const state = (v as { state_config?: unknown }).state_config;
  if (state !== undefined && state !== 'New') {
    throw new PocketIcError(`chainkey-replica: ${where}: only state_config "New" is supported (no PocketIC state directories)`);
  }
}

/** A SubnetSpec's `cost_schedule` (`"Normal"` by default; `"Free"`: PocketIC's free schedule, nothing charged). */
function costScheduleOf(spec: unknown): { costSchedule?: 'free' } {
  return (spec as { cost_schedule?: unknown } | null | undefined)?.cost_schedule === 'Free' ? { costSchedule: 'free' } : {};
}

/**
 * Builds an instance's subnets from `subnet_config_set`.
 * @throws PocketIcError for a malformed set, a `FromPath` state, or a set with no subnet.
 */
export function subnetsFromConfigSet(set: unknown): PocketIcTopology {
  if (!isSpec(set)) throw new PocketIcError('Failed to parse request: subnet_config_set must be an object');
  const s = set as Record<string, unknown>;
  const out: PocketIcSubnet[] = [];
  let allocations = 0;
  const keysOf = (kind: SubnetKind): MasterKeyId[] => {
    if (kind === 'fiduciary') return allAlgorithms('key_1');
    if (kind === 'ii' && !isSpec(s['fiduciary'])) return allAlgorithms('key_1');
    if (kind === 'test_keys') return [...allAlgorithms('test_key_1'), ...allAlgorithms('dfx_test_key')];
    return [];
  };
  const unrequested: PocketIcSubnet[] = [];
  for (const name of ['nns', 'sns', 'ii', 'fiduciary', 'bitcoin'] as const) {
    const spec = s[name];
    const requested = spec !== undefined && spec !== null;
    if (requested) checkSpec(spec, name);
    const n = NAMED[name];
    const mainnet = n.ranges.map(([a, b]) => ({ start: Principal.fromText(a), end: Principal.fromText(b) }));
    (requested ? out : unrequested).push({
      listing: requested ? 'requested' : 'once_used',
      seed: rangesSeed(mainnet),
      config: {
        name,
        kind: n.kind,
        size: n.size,
        // The allocation range first: canisters created without a specified id come from it.
        // A subnet nobody asked for gets none (the id allocation stays PocketIC's).
        canisterRanges: requested ? [allocationRange(allocations++), ...mainnet] : mainnet,
        isDefault: false,
        keys: requested ? keysOf(n.kind) : [],
        subnetId: Principal.fromText(n.subnetId),
        ...costScheduleOf(spec),
      },
    });
  }
  for (const [field, kind] of [
    ['system', 'system'],
    ['application', 'application'],
    ['verified_application', 'verified_application'],
  ] as const) {
    const list = s[field] ?? [];
    if (!Array.isArray(list)) throw new PocketIcError(`Failed to parse request: ${field} must be an array of SubnetSpec`);
    list.forEach((spec, i) => {
      checkSpec(spec, `${field}[${i}]`);
      const range = allocationRange(allocations++);
      const seed = rangesSeed([range]);
      out.push({
        listing: 'requested',
        seed,
        config: {
          name: `${field}-${i}`,
          kind,
          size: 13,
          canisterRanges: [range],
          isDefault: false,
          keys: [],
          subnetId: Principal.selfAuthenticating(sha256(seed)),
          ...costScheduleOf(spec),
        },
      });
    });
  }
  const cloud = s['cloud_engine'];
  if (Array.isArray(cloud) && cloud.length > 0) {
    throw new PocketIcError('chainkey-replica: cloud_engine subnets are not supported');
  }
  if (out.length === 0) throw new PocketIcError('Failed to create instance: the subnet config set has no subnet');
  const def =
    out.find((x) => x.config.kind === 'application') ??
    out.find((x) => x.config.kind === 'verified_application') ??
    out.find((x) => x.config.kind === 'system') ??
    out[0]!;
  def.config.isDefault = true;
  // The default subnet's id is the self-authenticating id of the root key (assigned by the
  // replica), which is what agents assume for certificates without delegation (live mode).
  if (def.config.kind === 'application' || def.config.kind === 'system' || def.config.kind === 'verified_application') delete def.config.subnetId;
  const t = NAMED.test_keys;
  const testRanges = t.ranges.map(([a, b]) => ({ start: Principal.fromText(a), end: Principal.fromText(b) }));
  out.push(...unrequested);
  out.push({
    listing: 'never',
    seed: rangesSeed(testRanges),
    config: {
      name: 'test-keys',
      kind: 'test_keys',
      size: t.size,
      canisterRanges: testRanges,
      isDefault: false,
      keys: keysOf('test_keys'),
      subnetId: Principal.fromText(t.subnetId),
    },
  });
  return { subnets: out, defaultEffectiveCanisterId: def.config.canisterRanges[0]!.start };
}
