/**
 * The execution side of canister snapshots (interface spec §"IC method take_canister_snapshot",
 * §"IC method load_canister_snapshot"): what a snapshot copies out of a canister — module, Wasm
 * memory (committed pages), mutable globals, stable memory, certified data, global timer — and
 * how loading one puts it back: a fresh instance of the snapshot's module over the snapshot's
 * memories (no start function, no init), every stored page rewritten at the next checkpoint.
 */
import type { CanisterState } from '../state/canister-state.ts';
import type { SnapshotContent } from '../state/canister-snapshots.ts';
import type { ExecutionCore } from './execution-core.ts';
import { instantiate, prepareModule } from './install-code.ts';
import type { GlobalValue } from './wasm/canister-instance.ts';
import { StableMemory } from './wasm/stable-memory.ts';

/** Copies the canister's code and memories (as of its last committed execution). */
export function captureSnapshot(core: ExecutionCore, c: CanisterState): SnapshotContent {
  const es = core.state(c);
  const inst = es.instance;
  const memory = inst ? inst.committedMemory() : { bytes: 0, pages: [] };
  return {
    module: c.module ? c.module.slice() : null,
    moduleHash: c.moduleHash ? c.moduleHash.slice() : null,
    memoryBytes: memory.bytes,
    memoryPages: memory.pages.map(([p, b]) => [p, b.slice()]),
    globals: inst ? [...inst.snapshot().globals] : [],
    stablePages: es.stable.sizePages,
    stablePageData: es.stable.pageEntries(),
    certifiedData: es.certifiedData.slice(),
    globalTimerNanos: es.globalTimerNanos,
    canisterVersion: c.version,
  };
}

/**
 * Replaces the canister's code and memories with a snapshot's. The caller rejects open call
 * contexts and bumps the version.
 * @throws IcError IC0505 if the snapshot's module no longer instantiates
 */
export function restoreSnapshot(core: ExecutionCore, c: CanisterState, s: SnapshotContent): void {
  const es = core.state(c);
  const stable = new StableMemory(s.stablePages, s.stablePageData.map(([p, b]) => [p, b.slice()]));
  stable.markAllDirty();
  let instance = null;
  if (s.module) {
    const module = prepareModule(c.canisterId, s.module, s.moduleHash ?? undefined);
    instance = instantiate(c.canisterId, module, stable, core.host);
    instance.load({ bytes: s.memoryBytes, pages: s.memoryPages.map(([p, b]) => [p, b.slice()]) }, s.globals as GlobalValue[], false);
  }
  es.instance = instance;
  es.stable = stable;
  es.replaceStablePages = true;
  es.replaceMemoryPages = true;
  es.certifiedData = s.certifiedData.slice();
  c.module = s.module ? s.module.slice() : null;
  c.moduleHash = s.moduleHash ? s.moduleHash.slice() : null;
  core.setTimer(c, es, s.globalTimerNanos);
  core.touch(c);
}
