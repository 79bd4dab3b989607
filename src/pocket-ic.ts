/**
 * The `pocket-ic` executable (bin/pocket-ic, which runs `chainkey-replica pocket-ic`; this module
 * reads its options from process.argv when imported): a drop-in for the PocketIC server binary as
 * PicJS starts it (`PocketIcServer.start()` with `POCKET_IC_BIN` or `binPath`):
 *
 * - `--port-file F`: F is created exclusively at start (if it exists, another server owns it and
 *   this one exits quietly with status 0, as PocketIC); `<port>\n` is written once listening;
 *   F is deleted on exit;
 * - `--port/-p P` (default 0: a free port), `--ip-addr A` (default 127.0.0.1);
 * - `--ttl S` (default 60): exit after S seconds with no request in flight; `--hard-ttl S`: exit
 *   after S seconds whatever happens;
 * - canister logs go to stderr; SIGTERM / SIGINT stop the server cleanly.
 * Other PocketIC options (`--log-levels`, `--mainnet-routing-table`) are accepted and ignored.
 */
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startPocketIcServer } from './pocket-ic-server.ts';

const { values } = parseArgs({
  options: {
    'port-file': { type: 'string' },
    port: { type: 'string', short: 'p' },
    'ip-addr': { type: 'string' },
    ttl: { type: 'string' },
    'hard-ttl': { type: 'string' },
    'log-levels': { type: 'string' },
    'mainnet-routing-table': { type: 'string' },
  },
  strict: false,
  allowPositionals: true,
});

const seconds = (v: unknown, name: string, dflt: number | undefined): number | undefined => {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) {
    process.stderr.write(`pocket-ic: --${name} must be a number of seconds\n`);
    process.exit(2);
  }
  return n;
};
const ttl = seconds(values.ttl, 'ttl', 60)!;
const hardTtl = seconds(values['hard-ttl'], 'hard-ttl', undefined);
const portFile = typeof values['port-file'] === 'string' ? values['port-file'] : undefined;

let portFd: number | undefined;
if (portFile) {
  try {
    portFd = openSync(portFile, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') process.exit(0);
    throw e;
  }
}

let inFlight = 0;
let idleTimer: NodeJS.Timeout | undefined;
const armIdle = (): void => {
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => void shutdown(0), ttl * 1000);
};

const server = await startPocketIcServer({
  host: typeof values['ip-addr'] === 'string' ? values['ip-addr'] : '127.0.0.1',
  port: values.port === undefined ? 0 : Number(values.port),
  onActivity: (d) => {
    inFlight += d;
    if (inFlight > 0) {
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = undefined;
    } else armIdle();
  },
});

let shuttingDown = false;
async function shutdown(code: number): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  if (portFile) {
    try {
      unlinkSync(portFile);
    } catch {
      // already gone
    }
  }
  await server.stop().catch(() => undefined);
  process.exit(code);
}
process.on('exit', () => {
  if (!portFile) return;
  try {
    unlinkSync(portFile);
  } catch {
    // already gone
  }
});
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

if (portFd !== undefined) {
  writeSync(portFd, `${server.port}\n`);
  closeSync(portFd);
}
armIdle();
if (hardTtl !== undefined) setTimeout(() => void shutdown(0), hardTtl * 1000).unref();
