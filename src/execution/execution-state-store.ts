/**
 * Loading and checkpointing a canister's {@link ExecutionState}: the instance is rebuilt from the
 * stored module (compiled once per process, cached by hash) and its stored pages and globals —
 * the start function does not run again, since the stored memory already reflects it.
 */
import type { CanisterState } from '../state/canister-state.ts';
import type { StateStore } from '../store/state-store.ts';
import { EncodedJson, MemoryKind } from '../store/execution-repository.ts';
import { CallContextManager, revivePrincipal, reviveRequestId } from './call-context.ts';
import type { ExecutionState, StopRequest } from './execution-state.ts';
import { instantiate, prepareModule } from './install-code.ts';
import type { SystemApiHost } from './system-api/execution-context.ts';
import { isAllZero, type GlobalValue } from './wasm/canister-instance.ts';
import { StableMemory } from './wasm/stable-memory.ts';

/** The execution state of a canister with nothing installed and nothing stored. */
export function newExecutionState(): ExecutionState {
  return {
    instance: null,
    stable: new StableMemory(),
    callContexts: new CallContextManager(),
    globalTimerNanos: 0n,
    certifiedData: new Uint8Array(),
    stopRequests: [],
    replaceStablePages: false,
    replaceMemoryPages: false,
  };
}

/**
 * Loads a canister's execution state from the store.
 * @returns undefined when nothing is stored and no module is installed.
 * @throws Error if the stored module no longer validates (a corrupt state dir).
 */
export function loadExecutionState(store: StateStore, c: CanisterState, host: SystemApiHost): ExecutionState | undefined {
  const id = c.canisterId.toUint8Array();
  const row = store.execution.load(id);
  if (!row && !c.module) return undefined;
  const es = newExecutionState();
  if (row) {
    es.stable = new StableMemory(row.stablePages, store.execution.pages(id, MemoryKind.stable).map(([p, b]) => [p, b.slice()]));
    es.callContexts = CallContextManager.fromStore(row.callContexts, store.execution.callContextEntries(id));
    es.globalTimerNanos = row.globalTimerNanos;
    es.certifiedData = row.certifiedData;
    if (row.lowWasmMemoryHook) es.lowWasmMemoryHook = row.lowWasmMemoryHook;
    es.stopRequests = (row.stopRequests as StopRequest[]).map((r) =>
      r.kind === 'ingress' ? { kind: 'ingress', requestId: reviveRequestId(r.requestId) } : { ...r, caller: revivePrincipal(r.caller) },
    );
  }
  if (c.module) {
    const module = prepareModule(c.canisterId, c.module, c.moduleHash ?? undefined);
    const inst = instantiate(c.canisterId, module, es.stable, host);
    if (row) inst.load({ bytes: row.memoryBytes, pages: store.execution.pages(id, MemoryKind.wasm) }, row.globals as GlobalValue[], true);
    es.instance = inst;
  }
  return es;
}

/** Writes a canister's execution row and its changed pages. Call inside the round's transaction. */
export function saveExecutionState(store: StateStore, canisterId: Uint8Array, es: ExecutionState): void {
  const snap = es.instance?.snapshot();
  if (es.replaceMemoryPages) store.execution.clearPages(canisterId, MemoryKind.wasm);
  if (es.instance) {
    const dirty = es.instance.takeDirtyPages();
    if (dirty.replaceAll) store.execution.clearPages(canisterId, MemoryKind.wasm);
    for (const [p, bytes] of dirty.pages) store.execution.putPage(canisterId, MemoryKind.wasm, p, bytes);
  }
  if (es.replaceStablePages) store.execution.clearPages(canisterId, MemoryKind.stable);
  for (const [p, bytes] of es.stable.takeDirtyPages()) {
    store.execution.putPage(canisterId, MemoryKind.stable, p, bytes && !isAllZero(bytes) ? bytes : undefined);
  }
  es.replaceMemoryPages = false;
  es.replaceStablePages = false;
  const contexts = es.callContexts.takeStoreChanges();
  if (contexts.replaceAll) store.execution.clearCallContextEntries(canisterId);
  for (const r of contexts.removed) store.execution.deleteCallContextEntry(canisterId, r.kind, r.id);
  for (const r of contexts.put) store.execution.putCallContextEntry(canisterId, r.kind, r.id, r.text);
  store.execution.save(canisterId, {
    memoryBytes: snap?.memoryBytes ?? 0,
    stablePages: es.stable.sizePages,
    globals: snap?.globals ?? [],
    globalTimerNanos: es.globalTimerNanos,
    certifiedData: es.certifiedData,
    callContexts: new EncodedJson(contexts.header),
    stopRequests: es.stopRequests,
    lowWasmMemoryHook: es.lowWasmMemoryHook,
  });
}
