/**
 * Call contexts and callbacks of one canister (interface spec §"Call contexts"; the replica's
 * `CallContextManager`). A call context is opened for every message the canister starts handling
 * (ingress, a request from another canister, a timer) and holds the cycles still available to it
 * and whether it has responded; each call the canister makes registers a callback in the context
 * it was made from. A context is closed when it has responded and no callbacks are outstanding.
 */
import { Principal } from '@icp-sdk/core/principal';
import { toJsonMemo } from '../store/execution-repository.ts';
import type { WasmClosure } from './system-api/system-state-changes.ts';

/**
 * Where a call context came from: an ingress message (its 32-byte request id and sender), a
 * canister's request (the caller and its callback id), or the system (a timer).
 */
export type CallOrigin =
  | { kind: 'ingress'; requestId: Uint8Array; sender: Principal }
  | { kind: 'canister'; caller: Principal; callbackId: number; deadlineNanos: bigint }
  | { kind: 'system' };

/** One call context. `availableCycles` are cycles attached by the caller not yet accepted. */
export interface CallContext {
  id: number;
  origin: CallOrigin;
  methodName: string;
  availableCycles: bigint;
  responded: boolean;
  /** Set when the canister was uninstalled or reinstalled: callbacks into it are dropped. */
  deleted: boolean;
  /**
   * Instructions of the executions in this context so far (the update, callbacks, cleanups):
   * what `ic0.performance_counter(1)` adds to the running execution's count. Absent in state
   * stored before it was kept (read as 0).
   */
  instructions?: bigint;
}

/** A registered callback for a call the canister made. */
export interface Callback {
  id: number;
  callContextId: number;
  /** The callee. */
  respondent: Principal;
  /** Cycles attached to the call. */
  cyclesSent: bigint;
  onReply: WasmClosure;
  onReject: WasmClosure;
  onCleanup?: WasmClosure;
  /** Best-effort deadline, nanoseconds; 0n for a guaranteed response. */
  deadlineNanos: bigint;
  /** Set once the deadline passed and a SYS_UNKNOWN reject was queued for it. */
  timedOut?: boolean;
}

/** Which stored entry rows a row is: a call context or a callback (the store's `kind` column). */
export const ENTRY_KIND = { context: 0, callback: 1 } as const;
export type EntryKind = (typeof ENTRY_KIND)[keyof typeof ENTRY_KIND];

/** What {@link CallContextManager.takeStoreChanges} asks the store to write. */
export interface StoreChanges {
  /** The manager's own row (next ids), store JSON. */
  header: string;
  /** Drop every stored entry row first. */
  replaceAll: boolean;
  /** Entries to write (new or changed), store JSON each. */
  put: { kind: EntryKind; id: number; text: string }[];
  /** Entries to delete (closed contexts, answered callbacks). */
  removed: { kind: EntryKind; id: number }[];
}

/** The call contexts and callbacks of one canister. */
export class CallContextManager {
  readonly contexts = new Map<number, CallContext>();
  readonly callbacks = new Map<number, Callback>();
  #nextContextId = 1;
  #nextCallbackId = 1;
  /** Store text of each entry (`<kind>:<id>`) as last written; null: never written. */
  #written: Map<string, string> | null = null;

  /** Opens a call context. */
  open(origin: CallOrigin, methodName: string, cycles: bigint): CallContext {
    const c: CallContext = { id: this.#nextContextId++, origin, methodName, availableCycles: cycles, responded: false, deleted: false };
    this.contexts.set(c.id, c);
    return c;
  }

  /** Registers a callback in context `callContextId` and returns it (with its new id). */
  register(cb: Omit<Callback, 'id'>): Callback {
    const full: Callback = { ...cb, id: this.#nextCallbackId++ };
    this.callbacks.set(full.id, full);
    return full;
  }

  /** Removes and returns a callback; undefined if unknown (e.g. a duplicate response). */
  take(callbackId: number): Callback | undefined {
    const cb = this.callbacks.get(callbackId);
    this.callbacks.delete(callbackId);
    return cb;
  }

  /** Number of callbacks still waiting in a context. */
  outstanding(callContextId: number): number {
    let k = 0;
    for (const cb of this.callbacks.values()) if (cb.callContextId === callContextId) k++;
    return k;
  }

  /** Closes the context if it has responded and has no outstanding callbacks. @returns whether it closed. */
  closeIfDone(callContextId: number): boolean {
    const c = this.contexts.get(callContextId);
    if (!c) return true;
    if ((c.responded || c.deleted) && this.outstanding(callContextId) === 0) {
      this.contexts.delete(callContextId);
      return true;
    }
    return false;
  }

  /** Whether any call context is open (a stopping canister stops when none is). */
  get hasOpenContexts(): boolean {
    return this.contexts.size > 0;
  }

  /** Serializable form (for the store's JSON, which keeps bigints, bytes and principals). */
  toJSON(): unknown {
    return {
      nextContextId: this.#nextContextId,
      nextCallbackId: this.#nextCallbackId,
      contexts: [...this.contexts.values()],
      callbacks: [...this.callbacks.values()],
    };
  }

  /**
   * What to write to the store since the last call: the header (the next ids, as the store's JSON)
   * and the call contexts and callbacks whose store text changed or that went away. Each entry's
   * text is encoded once while it is unchanged (a canister waiting on many calls keeps most of
   * them from round to round), and only changed entries are written: rewriting every open
   * context each round was a tenth of the main thread at 64 concurrent vetKD calls.
   * `replaceAll` is set for a manager never written (a fresh canister state, or one read from an
   * older state dir that kept every entry in the header): the stored rows must all go first.
   * Call inside the round's transaction; the next call diffs against what this one returned.
   */
  takeStoreChanges(): StoreChanges {
    const header = `{"nextContextId":${this.#nextContextId},"nextCallbackId":${this.#nextCallbackId},"rows":true}`;
    const replaceAll = this.#written === null;
    const before = this.#written ?? new Map<string, string>();
    const now = new Map<string, string>();
    const put: StoreChanges['put'] = [];
    const diff = (kind: EntryKind, entries: Iterable<CallContext | Callback>): void => {
      for (const e of entries) {
        const key = `${kind}:${e.id}`;
        const text = toJsonMemo(e);
        now.set(key, text);
        if (before.get(key) !== text) put.push({ kind, id: e.id, text });
      }
    };
    diff(ENTRY_KIND.context, this.contexts.values());
    diff(ENTRY_KIND.callback, this.callbacks.values());
    const removed: StoreChanges['removed'] = [];
    for (const key of before.keys()) {
      if (now.has(key)) continue;
      const [kind, id] = key.split(':');
      removed.push({ kind: Number(kind) as EntryKind, id: Number(id) });
    }
    this.#written = now;
    return { header, replaceAll, put, removed };
  }

  /**
   * Restores a manager from the store: the header ({@link takeStoreChanges}'s, or an older state
   * dir's full {@link toJSON} form) and the stored entry rows (parsed, in id order).
   */
  static fromStore(header: unknown, rows: readonly { kind: EntryKind; id: number; text: string; value: unknown }[]): CallContextManager {
    const h = header as { nextContextId?: number; nextCallbackId?: number; rows?: boolean } | null | undefined;
    if (!h || h.rows !== true) return CallContextManager.fromJSON(header);
    const m = CallContextManager.fromJSON({
      nextContextId: h.nextContextId,
      nextCallbackId: h.nextCallbackId,
      contexts: rows.filter((r) => r.kind === ENTRY_KIND.context).map((r) => r.value),
      callbacks: rows.filter((r) => r.kind === ENTRY_KIND.callback).map((r) => r.value),
    });
    m.#written = new Map(rows.map((r) => [`${r.kind}:${r.id}`, r.text]));
    return m;
  }

  /** Restores from {@link toJSON}'s output (after JSON revival of bigints). */
  static fromJSON(v: unknown): CallContextManager {
    const m = new CallContextManager();
    if (!v) return m;
    const o = v as { nextContextId: number; nextCallbackId: number; contexts: CallContext[]; callbacks: Callback[] };
    m.#nextContextId = o.nextContextId;
    m.#nextCallbackId = o.nextCallbackId;
    for (const c of o.contexts) m.contexts.set(c.id, { ...c, origin: reviveOrigin(c.origin) });
    for (const cb of o.callbacks) m.callbacks.set(cb.id, { ...cb, respondent: revivePrincipal(cb.respondent) });
    return m;
  }
}

/**
 * A stored principal: state dirs written before principals were kept in memory hold text, newer
 * ones a Principal (the store's JSON revives `$p`).
 */
export function revivePrincipal(v: Principal | string): Principal {
  return typeof v === 'string' ? Principal.fromText(v) : v;
}

/** A stored request id: hex text in older state dirs, bytes in newer ones. */
export function reviveRequestId(v: Uint8Array | string): Uint8Array {
  return typeof v === 'string' ? new Uint8Array(Buffer.from(v, 'hex')) : v;
}

function reviveOrigin(o: CallOrigin): CallOrigin {
  if (o.kind === 'ingress') return { kind: 'ingress', requestId: reviveRequestId(o.requestId), sender: revivePrincipal(o.sender) };
  if (o.kind === 'canister') return { ...o, caller: revivePrincipal(o.caller) };
  return o;
}
