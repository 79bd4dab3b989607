/**
 * Test support for PicJS suites: starts `bin/pocket-ic` the way PicJS's documented global setups
 * do (`PocketIcServer.start()` with `POCKET_IC_BIN` set), with a private TMPDIR so that test files
 * running in parallel (same parent pid, hence the same PicJS port-file name) get their own server.
 *
 * The server gets a TTL of an hour rather than PocketIC's 60 s default: suites start it while they
 * compile their Motoko fixtures, which on a cold cache and a loaded 2-core machine can take longer
 * than a minute, and a server that timed out meanwhile fails every test with ECONNREFUSED.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PocketIcServer } from '@dfinity/pic';

/** `bin/pocket-ic` of this checkout. */
export const POCKET_IC_BIN = fileURLToPath(new URL('../../bin/pocket-ic', import.meta.url));

/** A server started by PicJS, and its URL (what suites pass to `PocketIc.create`). */
export interface PicServer {
  url: string;
  stop(): Promise<void>;
}

/** How long `stop()` waits for the server to exit (ms) before giving up on it. */
const STOP_TIMEOUT_MS = 10_000;

/** Starts our server through PicJS's `PocketIcServer.start()` (TTL 3,600 s). */
export async function startPicServer(options: { showCanisterLogs?: boolean } = {}): Promise<PicServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ckr-pic-'));
  const savedTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  process.env['POCKET_IC_BIN'] = POCKET_IC_BIN;
  let server: PocketIcServer;
  try {
    server = await PocketIcServer.start({ showCanisterLogs: options.showCanisterLogs ?? false, ttl: 3600 });
  } finally {
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
  }
  return {
    url: server.getUrl(),
    stop: async () => {
      // PicJS's stop() waits for an 'exit' event, which never comes if the server already exited
      // (a crash, or its TTL): bound the wait so that a failed suite still ends.
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, STOP_TIMEOUT_MS);
      });
      await Promise.race([server.stop(), timeout]);
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
