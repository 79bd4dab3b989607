/**
 * Non-replicated executions (interface spec §"Query call", §"Ingress message inspection"): a
 * query call runs on the live instance and every change is discarded; `canister_inspect_message`
 * runs before an ingress message is accepted. Neither opens a call context. Both run sliced
 * (execution-core.ts `runNonReplicated`): a query looping to its 5 B limit, or an inspect_message
 * to its 200 M, does not stop the replica meanwhile; so does every step of a composite query.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { CanisterState } from '../state/canister-state.ts';
import { canisterDidNotReply, canisterFrozenForQueries, canisterNotFound, canisterNotRunning, canisterRejected } from '../types/ic-error.ts';
import { CompositeQuery } from './composite-query.ts';
import type { ExecutionCore } from './execution-core.ts';
import { messageRejected, methodNotFound, userErrorOf, wasmModuleNotFound } from './hypervisor-error.ts';
import { rejected } from './message-delivery.ts';
import type { MessageOutcome } from './message-outcome.ts';
import type { ApiType } from './system-api/api-type.ts';

/** Runs queries and inspect_message; see the module comment. */
export class QueryExecution {
  readonly #core: ExecutionCore;

  constructor(core: ExecutionCore) {
    this.#core = core;
  }

  /**
   * Runs a query call (non-replicated; every state change is discarded).
   * @param timeNanos the time the query sees (the latest certified time)
   * @returns the outcome; never throws for canister faults.
   */
  async query(sender: Principal, canisterId: Principal, method: string, arg: Uint8Array, timeNanos: bigint): Promise<MessageOutcome> {
    const core = this.#core;
    const c = core.deps.state.canister(canisterId);
    if (!c) return rejected(canisterNotFound(canisterId));
    const notRunning = canisterNotRunning(canisterId, c.status);
    if (notRunning) return rejected(notRunning);
    const es = core.state(c);
    const inst = es.instance;
    if (!inst) return rejected(userErrorOf(canisterId, wasmModuleNotFound()));
    // A frozen canister (balance below its freezing threshold) answers no queries.
    if (core.costs(c).charging && c.cycles < core.freezingThreshold(c)) return rejected(canisterFrozenForQueries(canisterId));
    let exportName: string;
    let apiType: ApiType;
    if (inst.module.queryMethods.has(method)) {
      exportName = `canister_query ${method}`;
      apiType = 'non_replicated_query';
    } else if (inst.module.compositeQueryMethods.has(method)) {
      exportName = `canister_composite_query ${method}`;
      apiType = 'composite_query';
    } else return rejected(userErrorOf(canisterId, methodNotFound('query', method)));
    const cert = core.deps.dataCertificate(canisterId);
    if (apiType === 'composite_query') {
      const answer = await new CompositeQuery(core).run(c, es, method, sender, arg, timeNanos, cert);
      return answer.kind === 'reply' ? { kind: 'replied', reply: answer.data } : rejected(answer.error);
    }
    // The query's time goes in its context (rounds may run while it is suspended).
    const extra = { caller: sender, arg, timeNanos, ...(cert ? { dataCertificate: cert } : {}) };
    const result = await core.runNonReplicated(c, es, apiType, extra, (i) => i.callExportSliced(exportName));
    if (!result.ok) return rejected(userErrorOf(canisterId, result.error));
    const r = result.changes.response;
    if (!r) return rejected(canisterDidNotReply(canisterId));
    return r.kind === 'reply' ? { kind: 'replied', reply: r.data } : rejected(canisterRejected(r.message));
  }

  /**
   * Runs `canister_inspect_message` for an ingress message, if the canister exports it.
   * @returns null when it does not (nothing to wait for: the caller accepts the message at once),
   *   else the running inspection.
   * @throws IcError when the canister does not accept the message or traps (IC0406 / the trap).
   */
  inspectMessage(sender: Principal, c: CanisterState, method: string, arg: Uint8Array, timeNanos: bigint): Promise<void> | null {
    const es = this.#core.state(c);
    if (!es.instance?.hasExport('canister_inspect_message')) return null;
    return this.#inspect(sender, c, method, arg, timeNanos);
  }

  async #inspect(sender: Principal, c: CanisterState, method: string, arg: Uint8Array, timeNanos: bigint): Promise<void> {
    const core = this.#core;
    const es = core.state(c);
    const extra = { caller: sender, arg, methodName: method, timeNanos };
    const result = await core.runNonReplicated(c, es, 'inspect_message', extra, (i) => i.callExportSliced('canister_inspect_message'));
    if (!result.ok) throw userErrorOf(c.canisterId, result.error);
    if (!result.changes.messageAccepted) throw userErrorOf(c.canisterId, messageRejected());
  }
}
