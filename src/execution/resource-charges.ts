/**
 * Resource charges on the replica's clock, as the replica's scheduler makes them at the end of a
 * round (dfinity/ic scheduler.rs `charge_canisters_for_resource_allocation_and_usage`, cycles
 * account manager `charge_canister_for_resource_allocation_and_usage`): storage, the base fee
 * and compute allocation, at most every 10 s of round time, down to zero regardless of the
 * freezing threshold; a canister that cannot pay is uninstalled. Assumes the round's time is set
 * (`ExecutionCore.time`) and no canister is charged while a sliced execution of it is suspended.
 */
import { SECONDS_BETWEEN_ALLOCATION_CHARGES, SECONDS_PER_DAY } from '../cycles/subnet-costs.ts';
import type { CanisterState } from '../state/canister-state.ts';
import type { ExecutionCore } from './execution-core.ts';
import type { LifecycleHooks } from './lifecycle-hooks.ts';

/**
 * Charges every canister due a charge its idle burn rate (cycles per day: storage + base fee +
 * compute allocation) for the time since its last charge, in nanoseconds of round time, rounded
 * down. A canister's charge period starts at its creation; the time it was paid up to is kept
 * with the canister (`resourcesChargedAtNanos`, the replica's `time_of_last_allocation_charge`),
 * so time the replica was down is charged at the first round after a restart, as a replica with
 * persisted state would. (Canisters of state dirs from before that was kept start their period at
 * the first round that sees them.) Canisters on a free schedule or a system subnet pay nothing.
 * @param lifecycle uninstalls a canister that cannot pay (see {@link uninstallOutOfCycles}).
 */
export function chargeForResources(core: ExecutionCore, lifecycle: LifecycleHooks): void {
  const now = core.time;
  const every = SECONDS_BETWEEN_ALLOCATION_CHARGES * 1_000_000_000n;
  const state = core.deps.state;
  for (const c of state.canisters()) {
    const last = c.resourcesChargedAtNanos;
    if (last === undefined) {
      c.resourcesChargedAtNanos = now;
      state.markCanisterDirty(c.canisterId);
      continue;
    }
    if (now - last < every || core.isBusy(c.canisterId)) continue;
    c.resourcesChargedAtNanos = now;
    state.markCanisterDirty(c.canisterId);
    const costs = core.costs(c);
    if (!costs.charging) continue;
    const charge = (core.idleCyclesBurnedPerDay(c) * (now - last)) / (SECONDS_PER_DAY * 1_000_000_000n);
    if (charge === 0n) continue;
    core.touch(c);
    if (charge <= c.cycles) {
      c.cycles -= charge;
      continue;
    }
    uninstallOutOfCycles(core, lifecycle, c);
  }
}

/**
 * A canister that cannot pay for its resources, as the replica's scheduler treats it: its code
 * and memories go (open calls rejected), its compute and memory allocations are reset, its
 * remaining balance is burned (`burn_remaining_balance_for_uninstall`), and its snapshots,
 * chunk store and log are deleted. Controllers, settings otherwise and status stay.
 */
function uninstallOutOfCycles(core: ExecutionCore, lifecycle: LifecycleHooks, c: CanisterState): void {
  c.cycles = 0n;
  c.settings.compute_allocation = 0n;
  c.settings.memory_allocation = 0n;
  if (c.module) lifecycle.uninstallCode(c);
  const state = core.deps.state;
  state.snapshots.deleteAll(c.canisterId);
  state.chunks.clear(c.canisterId);
  state.logs.clear(c.canisterId);
}
