/**
 * Test support for PicJS suites: starts `bin/pocket-ic` the way PicJS's documented global setups
 * do (`PocketIcServer.start()` with `POCKET_IC_BIN` set), with a private TMPDIR so that test files
 * running in parallel (same parent pid, hence the same PicJS port-file name) get their own server.
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

/** Starts our server through PicJS's `PocketIcServer.start()`. */
export async function startPicServer(options: { showCanisterLogs?: boolean } = {}): Promise<PicServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ckr-pic-'));
  const savedTmp = process.env['TMPDIR'];
  process.env['TMPDIR'] = dir;
  process.env['POCKET_IC_BIN'] = POCKET_IC_BIN;
  let server: PocketIcServer;
  try {
    server = await PocketIcServer.start({ showCanisterLogs: options.showCanisterLogs ?? false });
  } finally {
    if (savedTmp === undefined) delete process.env['TMPDIR'];
    else process.env['TMPDIR'] = savedTmp;
  }
  return {
    url: server.getUrl(),
    stop: async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
