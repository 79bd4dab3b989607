/**
 * The routing table: which subnet hosts a canister id (by the subnets' canister id ranges), and
 * lookups of subnets by id and kind. Spec §"Effective canister id": a request's effective canister
 * id must lie in the ranges of some subnet.
 */
import type { Principal } from '@icp-sdk/core/principal';
import { rangeContains, type CanisterIdRange } from './canister-id.ts';
import type { Subnet } from './topology.ts';
import { keyIdText, type MasterKeyId } from './key-id.ts';
import { principalText } from '../types/principal-text.ts';

/** Routes canister ids to subnets. */
export class RoutingTable {
  readonly subnets: readonly Subnet[];
  readonly defaultSubnet: Subnet;
  readonly #byId: Map<string, Subnet>;
  /** {@link subnetOfCanister}'s answers (null: on no subnet), held weakly by the id object. */
  readonly #ofCanister = new WeakMap<Principal, Subnet | null>();

  constructor(subnets: Subnet[]) {
    this.subnets = subnets;
    const d = subnets.find((s) => s.isDefault);
    if (!d) throw new Error('routing table: no default subnet');
    this.defaultSubnet = d;
    this.#byId = new Map(subnets.map((s) => [principalText(s.subnetId), s]));
  }

  /**
   * The subnet whose ranges contain `canisterId`, or undefined. Remembered per Principal object
   * (the ranges are fixed for the table's life): execution asks for every message it runs, with
   * the canister's own long-lived id.
   */
  subnetOfCanister(canisterId: Principal): Subnet | undefined {
    const known = this.#ofCanister.get(canisterId);
    if (known !== undefined) return known ?? undefined;
    const s = this.subnets.find((x) => x.canisterRanges.some((r) => rangeContains(r, canisterId)));
    this.#ofCanister.set(canisterId, s ?? null);
    return s;
  }

  /** The subnet with id `subnetId`, or undefined. */
  subnetById(subnetId: Principal): Subnet | undefined {
    return this.#byId.get(principalText(subnetId));
  }

  /** The subnet holding master key `keyId`, or undefined. */
  subnetOfKey(keyId: MasterKeyId): Subnet | undefined {
    const t = keyIdText(keyId);
    return this.subnets.find((s) => s.keys.some((k) => keyIdText(k) === t));
  }

  /** Every key id held by some subnet, with its subnet. */
  keys(): { keyId: MasterKeyId; subnet: Subnet }[] {
    return this.subnets.flatMap((subnet) => subnet.keys.map((keyId) => ({ keyId, subnet })));
  }

  /** Every range of every subnet, sorted by start (what the root subnet certifies). */
  allRanges(): CanisterIdRange[] {
    return this.subnets.flatMap((s) => s.canisterRanges);
  }
}
