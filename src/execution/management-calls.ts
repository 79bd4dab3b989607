/**
 * Calls to the management canister `aaaaa-aa` (interface spec §"The IC management canister"),
 * from users (ingress) and from canisters: the management canister runs the method at once and
 * its reply or reject goes back like any response; a `stop_canister` that must wait is deferred
 * until the canister stops; a paid chain-key request becomes (in management) a
 * `SignWithThresholdContext` that the chain-key payload step (consensus/) answers in a later
 * round; this module delivers that answer, encoded by management, to the calling canister.
 */
import type { Subnet } from '../routing/topology.ts';
import { Principal } from '@icp-sdk/core/principal';
import { encodeChainKeyReply } from '../management/chain-key.ts';
import * as management from '../management/management-canister.ts';
import type { ManagementEnv } from '../management/management-context.ts';
import type { ChainKeyResponse } from '../state/subnet-call-context-manager.ts';
import { IcError } from '../types/ic-error.ts';
import type { CallOrigin } from './call-context.ts';
import type { ExecutionCore } from './execution-core.ts';
import type { MessageDelivery, Response } from './message-delivery.ts';
import type { StopRequests } from './stop-requests.ts';

/** The management canister's id (aaaaa-aa), made once: every execution context names it. */
const MANAGEMENT = Principal.managementCanister();

/** Dispatch to `aaaaa-aa` and delivery of its deferred answers; see the module comment. */
export class ManagementCalls {
  readonly #core: ExecutionCore;
  readonly #out: MessageDelivery;
  readonly #stops: StopRequests;
  readonly #env: ManagementEnv;

  constructor(core: ExecutionCore, out: MessageDelivery, stops: StopRequests, env: ManagementEnv) {
    this.#core = core;
    this.#out = out;
    this.#stops = stops;
    this.#env = env;
  }

  /**
   * A call to the management canister from a user (ingress) or a canister.
   * @param payment cycles attached by a calling canister (0 for ingress)
   * @param effectiveCanisterId the ingress message's effective canister id (ingress only)
   * @param destinationSubnet the subnet whose id the call was addressed to (instead of `aaaaa-aa`)
   * @returns settles when the call is answered, or (a sliced install_code) once it first yielded.
   */
  async execute(
    origin: CallOrigin,
    caller: Principal,
    method: string,
    arg: Uint8Array,
    payment: bigint,
    effectiveCanisterId: Principal | undefined,
    destinationSubnet?: Subnet,
  ): Promise<void> {
    const state = this.#core.deps.state;
    const callerCanister = origin.kind === 'canister' ? state.canister(caller) : undefined;
    try {
      const r = management.execute(this.#env, {
        caller,
        callerIsCanister: origin.kind === 'canister',
        ...(callerCanister ? { callerSubnet: this.#core.subnetOf(callerCanister) } : {}),
        ...(destinationSubnet ? { destinationSubnet } : {}),
        method,
        arg,
        payment,
        nowNanos: this.#core.time,
        ...(effectiveCanisterId ? { effectiveCanisterId } : {}),
        ...(origin.kind === 'canister' ? { callback: { caller: origin.caller, callbackId: origin.callbackId, deadlineNanos: origin.deadlineNanos } } : {}),
      });
      // Paid and queued as a chain-key request: the payload step answers it in a later round.
      if (r.answeredLater) return;
      // install_code: its hooks run sliced; answered when they end (in this round or a later one).
      if (r.running) {
        r.running.onEnd((error) => {
          if (error) this.#out.deliver(origin, MANAGEMENT, { kind: 'error', error }, payment);
          else this.#out.deliver(origin, MANAGEMENT, { kind: 'reply', data: r.reply }, r.refund);
        });
        await r.running.started;
        return;
      }
      if (r.deferredUntilStopped) {
        this.#stops.defer(state.canister(r.deferredUntilStopped)!, origin, r.refund);
        return;
      }
      this.#out.deliver(origin, MANAGEMENT, { kind: 'reply', data: r.reply }, r.refund);
    } catch (e) {
      if (!(e instanceof IcError)) throw e;
      this.#out.deliver(origin, MANAGEMENT, { kind: 'error', error: e }, payment);
    }
  }

  /**
   * Delivers answers to chain-key requests (from the chain-key payload step) to the calling
   * canisters, with the cycles left after the fee, and retires their contexts.
   */
  deliverChainKeyResponses(responses: readonly ChainKeyResponse[]): void {
    for (const { context, result } of responses) {
      this.#core.deps.state.subnetCallContexts.remove(context.callbackId);
      const response: Response =
        result.kind === 'signature' ? { kind: 'reply', data: encodeChainKeyReply(context.method, result.bytes) } : { kind: 'reject', reject: result.reject };
      this.#out.deliver({ kind: 'canister', ...context.origin }, MANAGEMENT, response, context.refundCycles);
    }
  }
}
