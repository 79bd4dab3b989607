/**
 * The ingress induction fee (dfinity/ic cycles_account_manager.rs `ingress_induction_cost`,
 * execution_environment.rs `should_accept_ingress_message`, messaging `valid_set_rule.rs`):
 * checked when a call is submitted, before `canister_inspect_message`, and charged when it is
 * inducted; paid by the receiving canister, or for the management canister by the effective
 * canister. `provisional_*` calls are free, and a small `update_settings` pays after its settings
 * apply (`is_delayed_ingress_induction_cost`), so a canister frozen by too high a freezing
 * threshold can be unfrozen.
 */
import { canisterOutOfCycles, type IcError } from '../types/ic-error.ts';
import type { ExecutionCore } from './execution-core.ts';
import type { IngressMessage } from './ingress-message.ts';

/** Largest `update_settings` argument whose ingress fee is charged after the settings are applied (`MAX_DELAYED_INGRESS_COST_PAYLOAD_SIZE`), bytes. */
export const MAX_DELAYED_INGRESS_COST_PAYLOAD_BYTES = 366;

/** A management ingress whose fee is charged after it runs (`is_delayed_ingress_induction_cost`): a small `update_settings`. */
export function isDelayedIngressCost(msg: IngressMessage): boolean {
  return msg.methodName === 'update_settings' && msg.arg.length <= MAX_DELAYED_INGRESS_COST_PAYLOAD_BYTES;
}

/**
 * The ingress fee of `msg`: the subnet's base fee + its per-byte fee × the bytes of the whole
 * signed envelope (the HTTP body; method name + argument for a message without one).
 * @param charge false: only check that it could be paid (`should_accept_ingress_message`).
 * @returns the IC0207 error (the top-up amount only for a controller sender) if the payer cannot
 *   pay above its freezing threshold, else undefined (also when nothing is owed).
 */
export function chargeIngressFee(core: ExecutionCore, msg: IngressMessage, charge: boolean): IcError | undefined {
  const toManagement = msg.canisterId.toUint8Array().length === 0;
  if (toManagement && msg.methodName.startsWith('provisional_')) return undefined;
  if (toManagement && isDelayedIngressCost(msg)) return undefined;
  const c = core.deps.state.canister(toManagement ? msg.effectiveCanisterId : msg.canisterId);
  if (!c) return undefined;
  const bytes = BigInt(msg.envelopeBytes ?? Buffer.byteLength(msg.methodName) + msg.arg.length);
  const fee = core.costs(c).ingressFee(bytes);
  if (fee === 0n) return undefined;
  const threshold = core.freezingThreshold(c);
  if (c.cycles < fee + threshold) {
    return canisterOutOfCycles(c.canisterId, c.cycles, fee, threshold, c.controllers.some((p) => p.compareTo(msg.sender) === 'eq'));
  }
  if (charge) {
    c.cycles -= fee;
    core.touch(c);
  }
  return undefined;
}

/**
 * The ingress fee of a small `update_settings`, charged after the settings were applied, for the
 * argument and method name bytes, above the new freezing threshold; a canister that cannot pay
 * is not charged (the replica ignores that error).
 */
export function chargeDelayedIngressFee(core: ExecutionCore, msg: IngressMessage): void {
  const c = core.deps.state.canister(msg.effectiveCanisterId);
  if (!c) return;
  const fee = core.costs(c).ingressFee(BigInt(msg.arg.length + Buffer.byteLength(msg.methodName)));
  if (fee === 0n || c.cycles < fee + core.freezingThreshold(c)) return;
  c.cycles -= fee;
  core.touch(c);
}
