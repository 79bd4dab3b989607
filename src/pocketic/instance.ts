/**
 * One PocketIC instance: its own replica (in-memory state, the subnets of its `subnet_config_set`,
 * manual rounds) under a virtual clock, and the operations of PocketIC's instance routes
 * (reference/pocketic-api.md §4, §6):
 *
 * - nothing runs until asked: `submit` only enqueues (after the ingress filter and
 *   `canister_inspect_message`), `tick` runs exactly one round, `await` runs rounds until the
 *   message is done (at most 100);
 * - time starts at PocketIC's genesis (2021-05-06T19:17:10Z); a round runs at the instance time,
 *   or 1 ns after the previous round if the time did not move; `set_time` refuses the past; queries
 *   see the latest round's time (or the time `set_certified_time` gave);
 * - calls are unsigned: the sender is whatever principal the client names (this router only; the
 *   IC HTTP interface keeps its signature checks).
 *
 * Operations of one instance are serialised (PocketIC runs them one at a time per instance).
 * Live mode (`auto_progress`, PicJS `makeLive`) runs a round every few milliseconds at the wall
 * clock's time, so agents talking to the instance through its HTTP gateway see it progress.
 */
import { createHash } from 'node:crypto';
import { Principal } from '@icp-sdk/core/principal';
import type { MessageOutcome } from '../execution/message-outcome.ts';
import { effectiveCanisterIdOf, noEffectiveCanisterIdError } from '../management/effective-canister-id.ts';
import type { RootKeyPair } from '../crypto/certificate.ts';
import type { Replica, ReplicaClock, ReplicaOptions } from '../replica.ts';
import type { Subnet } from '../routing/topology.ts';
import { IcError, errorCodeText } from '../types/ic-error.ts';
import { uintField } from './json.ts';
import { PendingHttpOutcalls } from './http-outcalls.ts';
import type { PocketIcTopology } from './subnet-config-set.ts';
import { POCKET_IC_KIND_NAMES } from './subnet-config-set.ts';
import { bytesField, callResult, principalField, principalToB64, PocketIcError, rejectResponse, toB64 } from './wire.ts';

/** PocketIC's genesis time: 2021-05-06T19:17:10Z, nanoseconds since the epoch. */
export const POCKET_IC_GENESIS_NANOS = 1_620_328_630_000_000_000n;
/** Rounds `await_ingress_message` runs at most before giving up (PocketIC: 100). */
export const MAX_AWAIT_ROUNDS = 100;
/**
 * `ingress_expiry` of an unsigned PocketIC message: far in the future (2116), so a test that moves
 * the clock by days never sees its messages expire or leave the history before they are awaited.
 */
const UNSIGNED_INGRESS_EXPIRY_NANOS = 1n << 62n;
/** Shortest pause between two rounds in live mode (ms): an idle live instance costs ~1% of a core. */
const LIVE_ROUND_INTERVAL_MS = 10;

/** The instance's clock: moved only by `set_time`, `set_certified_time` and rounds. */
export class VirtualClock implements ReplicaClock {
  /** The instance time (`get_time`): the next round runs at max(this, last round + 1 ns). */
  timeNanos = POCKET_IC_GENESIS_NANOS;
  /** Set by `set_certified_time` until the next round: what queries see. */
  certifiedNanos: bigint | null = null;
  /** The latest round's time (wired to the replica once it is open). */
  lastRoundNanos: () => bigint = () => POCKET_IC_GENESIS_NANOS;

  nowNanos(): bigint {
    return this.timeNanos;
  }

  queryNanos(): bigint {
    return this.certifiedNanos ?? this.lastRoundNanos();
  }
}

type EffectivePrincipal = 'None' | { SubnetId: string } | { CanisterId: string };

const MANAGEMENT = Principal.managementCanister();

/** A PocketIC instance over one replica. */
export class PocketIcInstance {
  readonly replica: Replica;
  readonly topology: PocketIcTopology;
  readonly clock: VirtualClock;
  /** Canister HTTPS outcalls waiting for a mocked response. */
  readonly outcalls: PendingHttpOutcalls;
  #lock: Promise<unknown> = Promise.resolve();
  #messages = 0;
  #closed = false;
  #live: NodeJS.Timeout | null = null;

  private constructor(replica: Replica, topology: PocketIcTopology, clock: VirtualClock, outcalls: PendingHttpOutcalls) {
    this.replica = replica;
    this.topology = topology;
    this.clock = clock;
    this.outcalls = outcalls;
  }

  /**
   * Opens an instance's replica: in-memory state, manual rounds, the virtual clock, master keys
   * from each subnet's seed.
   * @param open `Replica.open` (passed in by the wiring layer).
   * @param debugPrint where canister logs go (the server: stderr).
   * @param rootKey the server's root key (shared by its instances); generated when absent.
   */
  static create(
    topology: PocketIcTopology,
    open: (o: ReplicaOptions) => Replica,
    debugPrint: (canisterId: Principal, text: string) => void,
    rootKey?: RootKeyPair,
  ): PocketIcInstance {
    const clock = new VirtualClock();
    const outcalls = new PendingHttpOutcalls();
    const seeds = new Map(topology.subnets.map((s) => [s.config.name, s.seed]));
    const replica = open({
      stateDir: ':memory:',
      systemCanisters: false,
      topology: topology.subnets.map((s) => s.config),
      seed: (subnet: Subnet) => seeds.get(subnet.name)!,
      clock,
      manualRounds: true,
      debugPrint,
      httpRequests: outcalls,
      ...(rootKey ? { rootKey } : {}),
    });
    clock.lastRoundNanos = () => replica.lastRoundNanos;
    return new PocketIcInstance(replica, topology, clock, outcalls);
  }

  /** Runs `fn` after every earlier operation of this instance has finished. */
  serialize<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.#lock.then(() => {
      if (this.#closed) throw new PocketIcError('Instance was deleted', 404);
      return fn();
    });
    this.#lock = run.catch(() => undefined);
    return run;
  }

  /** Closes the replica (after the running operation). */
  async close(): Promise<void> {
    this.stopLive();
    await this.serialize(async () => {
      this.#closed = true;
      await this.replica.close();
    }).catch(() => undefined);
  }

  // ---- rounds and time -----------------------------------------------------------------------

  /** One round on every subnet (`tick`). */
  async tick(): Promise<void> {
    await this.replica.runRound();
    this.clock.timeNanos = this.replica.lastRoundNanos;
    this.clock.certifiedNanos = null;
  }

  /** `get_time`: the instance time, nanoseconds since the epoch. */
  getTime(): bigint {
    return this.clock.timeNanos;
  }

  /**
   * `set_time` (`certified`: `set_certified_time`, which queries see at once).
   * @throws PocketIcError `SettingTimeIntoPast((current, new))` for a time before the current one.
   */
  setTime(body: unknown, certified: boolean): void {
    const t = uintField(body, 'nanos_since_epoch');
    const cur = this.clock.timeNanos;
    if (t < cur) throw new PocketIcError(`SettingTimeIntoPast((${cur}, ${t}))`);
    this.clock.timeNanos = t;
    if (certified) this.clock.certifiedNanos = t;
  }

  /** Whether live mode is on (`GET auto_progress`). */
  get live(): boolean {
    return this.#live !== null;
  }

  /**
   * `auto_progress`: from now on a round runs every `artificial_delay_ms` (at least 10 ms) at the
   * wall clock's time (never going back).
   * @throws PocketIcError when live mode is already on.
   */
  startLive(body: unknown): null {
    if (this.#live) throw new PocketIcError('Auto progress mode has already been enabled.');
    const d = (body as { artificial_delay_ms?: unknown } | null)?.artificial_delay_ms;
    const delay = Math.max(typeof d === 'number' ? d : typeof d === 'bigint' ? Number(d) : 0, LIVE_ROUND_INTERVAL_MS);
    const step = (): void => {
      this.#live = setTimeout(() => {
        void this.serialize(async () => {
          const wall = BigInt(Date.now()) * 1_000_000n;
          if (wall > this.clock.timeNanos) this.clock.timeNanos = wall;
          await this.tick();
        })
          .catch(() => undefined)
          .finally(() => {
            if (this.#live) step();
          });
      }, delay);
      this.#live.unref();
    };
    step();
    return null;
  }

  /** `stop_progress`: back to manual rounds. */
  stopLive(): null {
    if (this.#live) clearTimeout(this.#live);
    this.#live = null;
    return null;
  }

  // ---- ingress and queries -------------------------------------------------------------------

  #effectivePrincipal(v: unknown): { subnet?: Subnet; canister?: Principal } {
    const ep = (v ?? 'None') as EffectivePrincipal;
    if (ep === 'None') return {};
    if (typeof ep === 'object' && 'SubnetId' in ep) {
      const id = principalField(ep, 'SubnetId');
      const subnet = this.replica.routing.subnetById(id);
      if (!subnet) throw new PocketIcError(`SubnetNotFound(${id.toText()})`);
      return { subnet };
    }
    if (typeof ep === 'object' && 'CanisterId' in ep) return { canister: principalField(ep, 'CanisterId') };
    throw new PocketIcError('Failed to parse request: effective_principal must be "None", {"SubnetId": b64} or {"CanisterId": b64}');
  }

  /** The effective canister id of a call (PocketIC's `route_call`, reference §6.4). */
  #effectiveCanisterId(canisterId: Principal, method: string, payload: Uint8Array, ep: { subnet?: Subnet; canister?: Principal }): Principal {
    if (canisterId.compareTo(MANAGEMENT) !== 'eq') return canisterId;
    const rule = effectiveCanisterIdOf(method, payload);
    if (rule === undefined) throw noEffectiveCanisterIdError(method);
    if (rule !== 'any') return rule;
    if (ep.subnet) return ep.subnet.canisterRanges[0]!.start;
    return ep.canister ?? this.topology.defaultEffectiveCanisterId;
  }

  /** `submit_ingress_message`: checks and enqueues an unsigned call; runs nothing. */
  async submit(body: unknown): Promise<unknown> {
    const sender = principalField(body, 'sender');
    const canisterId = principalField(body, 'canister_id');
    const method = (body as { method?: unknown }).method;
    if (typeof method !== 'string') throw new PocketIcError('Failed to parse request: field "method" must be a string');
    const payload = bytesField(body, 'payload');
    const ep = this.#effectivePrincipal((body as { effective_principal?: unknown }).effective_principal);
    const requestId = new Uint8Array(
      createHash('sha256')
        .update(`pocket-ic message ${this.#messages++}\0${method}\0`)
        .update(sender.toUint8Array())
        .update(canisterId.toUint8Array())
        .update(payload)
        .digest(),
    );
    let ecid: Principal;
    try {
      ecid = this.#effectiveCanisterId(canisterId, method, payload, ep);
      await this.replica.submitCall({
        requestId,
        sender,
        canisterId,
        methodName: method,
        arg: payload,
        expiryNanos: UNSIGNED_INGRESS_EXPIRY_NANOS,
        effectiveCanisterId: ecid,
      });
    } catch (e) {
      if (!(e instanceof IcError)) throw e;
      return { Err: rejectResponse(e.rejectCode, e.message, errorCodeText(e.code), false) };
    }
    const subnet = this.replica.routing.subnetOfCanister(ecid) ?? this.replica.routing.defaultSubnet;
    return { Ok: { effective_principal: { SubnetId: principalToB64(subnet.subnetId) }, message_id: toB64(requestId) } };
  }

  /**
   * `await_ingress_message`: runs rounds until the message is replied or rejected.
   * @throws PocketIcError `BadIngressMessage(…)` for an unknown id or after 100 rounds.
   */
  async await(body: unknown): Promise<unknown> {
    const requestId = bytesField(body, 'message_id');
    const hex = Buffer.from(requestId).toString('hex');
    if (!this.replica.state.ingress(requestId)) throw new PocketIcError(`BadIngressMessage("Unknown ingress message ${hex}")`);
    for (let round = 0; ; round++) {
      const done = this.#result(requestId);
      if (done) return done;
      const r = this.replica.state.ingress(requestId);
      if (!r || r.status === 'done') throw new PocketIcError(`BadIngressMessage("Ingress message ${hex} is no longer in the history")`);
      if (round === MAX_AWAIT_ROUNDS) throw new PocketIcError(`BadIngressMessage("Failed to answer to ingress ${hex} after ${MAX_AWAIT_ROUNDS} rounds.")`);
      await this.tick();
    }
  }

  /** `ingress_status`: the result if the message is done, else null. */
  ingressStatus(body: unknown): unknown {
    const raw = (body as { raw_message_id?: unknown }).raw_message_id;
    return this.#result(bytesField(raw, 'message_id')) ?? null;
  }

  /** The `Ok` / `Err` result of a finished message (certified), or undefined. */
  #result(requestId: Uint8Array): unknown {
    const r = this.replica.state.ingress(requestId);
    if (r?.status === 'replied') return callResult({ kind: 'replied', reply: r.reply ?? new Uint8Array() }, true);
    if (r?.status === 'rejected') {
      return callResult({ kind: 'rejected', rejectCode: r.rejectCode ?? 5, rejectMessage: r.rejectMessage ?? '', errorCode: r.errorCode ?? '' }, true);
    }
    return undefined;
  }

  /** `query`: a non-replicated call at the latest round's time. */
  async query(body: unknown): Promise<unknown> {
    const sender = principalField(body, 'sender');
    const canisterId = principalField(body, 'canister_id');
    const method = (body as { method?: unknown }).method;
    if (typeof method !== 'string') throw new PocketIcError('Failed to parse request: field "method" must be a string');
    const outcome: MessageOutcome = await this.replica.query(sender, canisterId, method, bytesField(body, 'payload'));
    return callResult(outcome, false);
  }

  // ---- canisters ------------------------------------------------------------------------------

  #canister(body: unknown): NonNullable<ReturnType<Replica['state']['canister']>> {
    const id = principalField(body, 'canister_id');
    const c = this.replica.state.canister(id);
    if (!c) throw new PocketIcError(`CanisterNotFound(CanisterId(${id.toText()}))`);
    return c;
  }

  /** `get_cycles`. */
  getCycles(body: unknown): { cycles: bigint } {
    return { cycles: this.#canister(body).cycles };
  }

  /** `add_cycles`: mints cycles to a canister; returns the new balance. */
  addCycles(body: unknown): { cycles: bigint } {
    const c = this.#canister(body);
    c.cycles += uintField(body, 'amount');
    this.replica.state.markCanisterDirty(c.canisterId);
    return { cycles: c.cycles };
  }

  /** `get_subnet`: the canister's subnet, or null if there is no such canister. */
  getSubnet(body: unknown): { subnet_id: string } | null {
    const id = principalField(body, 'canister_id');
    if (!this.replica.state.canister(id)) return null;
    const s = this.replica.routing.subnetOfCanister(id);
    return s ? { subnet_id: principalToB64(s.subnetId) } : null;
  }

  /** `get_controllers`. */
  getControllers(body: unknown): { principal_id: string }[] {
    return this.#canister(body).controllers.map((p) => ({ principal_id: principalToB64(p) }));
  }

  /**
   * `get_stable_memory`: the canister's whole stable memory.
   * @throws PocketIcError `CanisterNotFound(…)` / `CanisterIsEmpty(…)`.
   */
  getStableMemory(body: unknown): { blob: string } {
    const c = this.#nonEmptyCanister(body);
    return { blob: toB64(this.replica.execution.stableMemory(c)) };
  }

  /**
   * `set_stable_memory`: replaces the canister's stable memory with a stored blob.
   * @throws PocketIcError `CanisterNotFound(…)` / `CanisterIsEmpty(…)`.
   */
  setStableMemory(body: unknown, blob: Uint8Array): null {
    const c = this.#nonEmptyCanister(body);
    this.replica.execution.setStableMemory(c, blob);
    return null;
  }

  #nonEmptyCanister(body: unknown): NonNullable<ReturnType<Replica['state']['canister']>> {
    const c = this.#canister(body);
    if (!c.module) throw new PocketIcError(`CanisterIsEmpty(CanisterId(${c.canisterId.toText()}))`);
    return c;
  }

  /** `pub_key`: the subnet's public key (DER, BLS12-381 G2, 133 bytes) as a JSON array of numbers. */
  pubKey(body: unknown): number[] {
    const id = principalField(body, 'subnet_id');
    if (!this.replica.routing.subnetById(id)) throw new PocketIcError(`SubnetNotFound(${id.toText()})`);
    return [...this.replica.rootKey.publicKeyDer];
  }

  /** `/_/topology`: the subnets PicJS asked for (PocketIC's `Topology` JSON). */
  topologyJson(): unknown {
    const subnetConfigs: Record<string, unknown> = {};
    const used = new Set<string>();
    for (const c of this.replica.state.canisters()) {
      const sub = this.replica.routing.subnetOfCanister(c.canisterId);
      if (sub) used.add(sub.name);
    }
    for (const s of this.topology.subnets) {
      if (s.listing === 'never' || (s.listing === 'once_used' && !used.has(s.config.name))) continue;
      const sub = this.replica.routing.subnets.find((x) => x.name === s.config.name)!;
      subnetConfigs[sub.subnetId.toText()] = {
        subnet_kind: POCKET_IC_KIND_NAMES[sub.kind],
        subnet_seed: [...s.seed],
        node_ids: [],
        size: sub.size,
        canister_ranges: sub.canisterRanges.map((r) => ({
          start: { canister_id: principalToB64(r.start) },
          end: { canister_id: principalToB64(r.end) },
        })),
        instruction_config: 'Production',
      };
    }
    return {
      subnet_configs: subnetConfigs,
      default_effective_canister_id: { canister_id: principalToB64(this.topology.defaultEffectiveCanisterId) },
    };
  }
}
