/**
 * Debian's headless Chromium for the browser checks (the gateway page, `/_/dashboard`).
 * `.ci/run` installs it, so under CI (`CI=true`) a missing binary fails those checks; elsewhere
 * they are skipped with the reason, never silently passed.
 */
import { existsSync } from 'node:fs';

/** The chromium binary (`CHROMIUM=<path>` first), or undefined where none is installed. */
export const CHROMIUM = [process.env['CHROMIUM'], '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => !!p && existsSync(p),
);

/** node:test `skip` option for a browser check: the reason where it may be skipped, else false. */
export const SKIP_WITHOUT_CHROMIUM: string | false =
  !CHROMIUM && process.env['CI'] !== 'true' ? 'no chromium binary (Debian: apt-get install chromium)' : false;
