/**
 * The `chainkey-replica` command line (commander):
 *   start   — run the replica (`npm start`), printing one line `listening on http://HOST:PORT`
 *   status  — print a running replica's /api/v2/status
 */
import { Command, InvalidArgumentError } from 'commander';
import { decode } from '@dfinity/cbor';
import { startReplica } from './server.ts';
import { IMPL_VERSION } from './version.ts';

function parsePort(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('expected a port number 0..65535');
  return n;
}

const program = new Command();
program.name('chainkey-replica').description('A local Internet Computer replica').version(IMPL_VERSION);

program
  .command('start')
  .description('start the replica and serve the IC HTTP interface')
  .option('--host <host>', 'interface to bind', '127.0.0.1')
  .option('--port <port>', 'TCP port (0 = any free port)', parsePort, 4943)
  .option('--state-dir <dir>', 'directory for the SQLite state', './.chainkey-replica')
  .option('--topology <file>', 'subnet topology JSON file (default: built-in, see README)')
  .action(async (opts: { host: string; port: number; stateDir: string; topology?: string }) => {
    const running = await startReplica({
      host: opts.host,
      port: opts.port,
      stateDir: opts.stateDir,
      ...(opts.topology && { topologyFile: opts.topology }),
    });
    process.stdout.write(`listening on ${running.url}\n`);
    let stopping = false;
    const shutdown = (): void => {
      if (stopping) return;
      stopping = true;
      running.stop().then(
        () => process.exit(process.exitCode ?? 0),
        (e) => {
          console.error(e);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', shutdown);
    process.on('SIGTERM', shutdown);
  });

program
  .command('status')
  .description("print a running replica's /api/v2/status")
  .requiredOption('--url <url>', 'replica URL, e.g. http://127.0.0.1:4943')
  .action(async (opts: { url: string }) => {
    const res = await fetch(new URL('/api/v2/status', opts.url));
    if (!res.ok) throw new Error(`status request failed: HTTP ${res.status} ${await res.text()}`);
    const status = decode(new Uint8Array(await res.arrayBuffer())) as Record<string, unknown>;
    const shown = Object.fromEntries(
      Object.entries(status).map(([k, v]) => [
        k,
        v instanceof Uint8Array ? Buffer.from(v).toString('hex') : typeof v === 'bigint' ? v.toString() : v,
      ]),
    );
    process.stdout.write(JSON.stringify(shown, null, 2) + '\n');
  });

program.parseAsync(process.argv).catch((e: unknown) => {
  console.error(`chainkey-replica: ${(e as Error).message ?? e}`);
  process.exit(1);
});
