/**
 * The visibility settings (`log_visibility`, `snapshot_visibility`, `status_visibility`): one
 * variant shape — `controllers` (the default), `public`, or `allowed_viewers` (who, besides the
 * controllers, may see).
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { CanisterState } from '../state/canister-state.ts';
import type { LogVisibility } from '../store/canister-repository.ts';

/** Whether `caller` may see what `visibility` guards on canister `c` (controllers always may). */
export function visibleTo(visibility: LogVisibility, c: CanisterState, caller: Principal): boolean {
  if ('public' in visibility) return true;
  if (c.controllers.some((p) => p.compareTo(caller) === 'eq')) return true;
  return 'allowed_viewers' in visibility && visibility.allowed_viewers.some((p) => p.compareTo(caller) === 'eq');
}
