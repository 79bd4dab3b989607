/**
 * Starting and stopping a PocketIC-compatible server (src/pocketic): the programmatic API behind
 * `bin/pocket-ic` and the tests. Each instance it creates is its own in-memory replica.
 */
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { Principal } from '@icp-sdk/core/principal';
import { createPocketIcApp, PocketIcServerState } from './pocketic/app.ts';
import { generateRootKey, type RootKeyPair } from './crypto/certificate.ts';
import { createApp } from './http/app.ts';
import { Replica } from './replica.ts';

/** Options for {@link startPocketIcServer}. */
export interface PocketIcServerOptions {
  /** Interface to bind; default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Where canister logs go; default stderr as `[Canister <id>] <text>` (as PocketIC). */
  debugPrint?: (canisterId: Principal, text: string) => void;
  /** Called at the start (+1) and end (−1) of each request (for `--ttl`). */
  onActivity?: (delta: 1 | -1) => void;
}

/** A running server. */
export interface RunningPocketIcServer {
  /** `http://HOST:PORT`. */
  url: string;
  port: number;
  state: PocketIcServerState;
  /** Stops listening and closes every instance. */
  stop(): Promise<void>;
}

/**
 * Starts serving the PocketIC REST API.
 * @throws Error if the port cannot be bound.
 */
export async function startPocketIcServer(options: PocketIcServerOptions = {}): Promise<RunningPocketIcServer> {
  const host = options.host ?? '127.0.0.1';
  // Generated when the first instance is created: the server is listening ~0.1 s sooner.
  let rootKey: RootKeyPair | undefined;
  const state = new PocketIcServerState({
    openReplica: (o) => Replica.open(o),
    debugPrint: options.debugPrint ?? ((id, text) => process.stderr.write(`[Canister ${id.toText()}] ${text}\n`)),
    rootKey: () => (rootKey ??= generateRootKey()),
    startGateway: async (replica) => {
      const s = createServer(createApp(replica));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(0, host, () => resolve());
      });
      return {
        port: (s.address() as AddressInfo).port,
        stop: () =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      };
    },
  });
  const app = createPocketIcApp(state, options.onActivity);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(options.port ?? 0, host, (err?: Error) => (err ? reject(err) : resolve(s)));
    s.once('error', reject);
  });
  server.keepAliveTimeout = 5_000;
  const port = (server.address() as AddressInfo).port;
  let stopped: Promise<void> | null = null;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    state,
    stop: () =>
      (stopped ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        await state.closeAll();
      })()),
  };
}
