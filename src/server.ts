/**
 * Starting and stopping a replica with its HTTP server: the programmatic API behind
 * `chainkey-replica start` and the tests.
 */
import type { Server } from 'node:http';
import { prepareFastBlsSigning } from './crypto/bls-signing.ts';
import { createRequestListener } from './http/app.ts';
import { startFrontDoorThread, type FrontDoor, type FrontDoorThread } from './http/front-door.ts';
import { statusBody } from './http/status-endpoint.ts';
import { DEFAULT_CONCURRENCY_LIMITS, type ConcurrencyLimits } from './http/load-shedding.ts';
import { osStackTooSmall, WASM_STACK_NODE_FLAGS, wasmStackFlagsInEffect } from './execution/wasm/wasm-stack.ts';
import { Replica, type ReplicaOptions } from './replica.ts';
import { loadTopologyFile, type SubnetConfig } from './routing/topology.ts';

/** Longest the status endpoint's certified height lags behind the latest certification (ms). */
const STATUS_HEIGHT_EVERY_MS = 20;

/** Options for {@link startReplica}. */
export interface StartOptions {
  /** Directory for the SQLite state (created if missing). Default `./.chainkey-replica`. */
  stateDir?: string;
  /** Interface to bind. Default `127.0.0.1`. */
  host?: string;
  /** TCP port; 0 picks a free one. Default 4943. */
  port?: number;
  /** Where canisters' `ic0.debug_print` output goes (default: stdout). */
  debugPrint?: ReplicaOptions['debugPrint'];
  /** `--seed` bytes for deterministic master keys in a new state dir. */
  seed?: Uint8Array;
  /** Path of a topology JSON file (see README); the default topology if omitted. */
  topologyFile?: string;
  /** Or the topology itself. */
  topology?: SubnetConfig[];
  /** Request log sink (one line per ingress message and per rejected request); none if omitted. */
  requestLog?: ReplicaOptions['requestLog'];
  /** Ingress pool bounds (default: the replica's 10,000 messages / 100 MB). */
  ingressPool?: ReplicaOptions['ingressPool'];
  /** Requests served at once per endpoint kind (default: http/load-shedding.ts). */
  concurrencyLimits?: Partial<ConcurrencyLimits>;
  /** Rounds only through `replica.runRound()` (tests that need messages to stay queued). */
  manualRounds?: boolean;
  /** `--cost-schedule`: `free` turns every fee off on every subnet (default `normal`). */
  costSchedule?: ReplicaOptions['costSchedule'];
  /** Storage fees (per GiB-second and base per second, at 13 nodes); see cycles/subnet-costs.ts. */
  storageFees?: ReplicaOptions['storageFees'];
  /** Where the replica's time comes from (default: the wall clock); tests move time with it. */
  clock?: ReplicaOptions['clock'];
  /** Threshold protocol: `--nodes`, `--faulty`, pool size, `--reshare-interval`, stall timeout (see ReplicaOptions). */
  threshold?: Pick<ReplicaOptions, 'nodes' | 'faulty' | 'preSignaturesPerKey' | 'reshareIntervalMs' | 'stalledRequestTimeoutMs' | 'mega'>;
  /**
   * The front door's thread, already started (`chainkey-replica start` starts it before loading
   * the replica's modules, so the thread's tens of ms of start-up overlap that); started here if
   * omitted. Taken over: terminated if the replica fails to open.
   */
  frontDoorThread?: FrontDoorThread;
}

/**
 * Pending-connection queue of the listening socket. Node's default (511) overflows when thousands
 * of clients connect at once, and the kernel then drops handshakes (clients see connect timeouts
 * and resets); the kernel caps it at net.core.somaxconn.
 */
const LISTEN_BACKLOG = 4096;

/**
 * `node:http`, taken as Node's CommonJS module. An ESM `import` of it builds a module namespace
 * that reads every export, and three of them (`WebSocket`, `CloseEvent`, `MessageEvent`) are lazy
 * getters that load undici: measured 28–40 ms of every start, against 3–4 ms this way.
 */
const { createServer } = process.getBuiltinModule('node:http') as typeof import('node:http');

let stackWarned = false;

/**
 * One line on stderr (once per process) when node runs without the Wasm stack flags (canisters
 * then overflow at about a fifth of the depth the replica allows), or when the OS stack is too
 * small for them (a deep recursion would crash the process): execution/wasm/wasm-stack.ts.
 */
function warnOnSmallWasmStack(): void {
  if (stackWarned) return;
  stackWarned = true;
  if (!wasmStackFlagsInEffect()) {
    console.error(`chainkey-replica: warning: node runs without ${WASM_STACK_NODE_FLAGS.join(' ')}; canisters get Node's default ~1 MiB Wasm stack instead of the replica's 5 MiB`);
  } else if (osStackTooSmall()) {
    console.error('chainkey-replica: warning: the OS stack limit (ulimit -s) is below the 5 MiB Wasm stack plus 1 MiB; a deep recursion in a canister may crash the replica (raise it to 8192)');
  }
}

/** A running replica. */
export interface RunningReplica {
  replica: Replica;
  /** `http://HOST:PORT` with the real port. */
  url: string;
  host: string;
  port: number;
  /** Stops the HTTP server, finishes the running round and closes the database. */
  stop(): Promise<void>;
}

/**
 * Opens the state and starts serving the IC HTTP interface.
 * @throws Error if the state or topology is unusable or the port cannot be bound.
 */
export async function startReplica(options: StartOptions = {}): Promise<RunningReplica> {
  const host = options.host ?? '127.0.0.1';
  const doorThread = options.frontDoorThread ?? startFrontDoorThread();
  let replica: Replica;
  try {
    const topology = options.topology ?? (options.topologyFile ? loadTopologyFile(options.topologyFile) : undefined);
    replica = openReplica(options, topology);
  } catch (e) {
    await doorThread.terminate();
    throw e;
  }
  // The listening socket is the front door's (its own thread); this server serves what it forwards.
  let door: FrontDoor | undefined;
  const limits = { ...DEFAULT_CONCURRENCY_LIMITS, ...options.concurrencyLimits };
  const server: Server = createServer(createRequestListener(replica, limits, (kind, atLimit) => door?.setAtLimit(kind, atLimit)));
  try {
    door = await doorThread.listen({
      host,
      port: options.port ?? 4943,
      backlog: LISTEN_BACKLOG,
      server,
      statusBody: statusBody(replica.rootKey.publicKeyDer, replica.implVersion, replica.latestCertifiedHeight),
      requestLog: options.requestLog,
    });
  } catch (e) {
    await replica.close();
    throw e;
  }
  const frontDoor = door;
  // The door's status body follows the certified height at most every STATUS_HEIGHT_EVERY_MS (the
  // latest height always reaches it): a round is certified up to hundreds of times a second, and
  // posting each new body to the door's thread cost 1-1.5% of this thread under load.
  let statusTimer: NodeJS.Timeout | null = null;
  let statusPostedAt = -Infinity;
  replica.onCertifiedHeight = () => {
    if (statusTimer) return;
    statusTimer = setTimeout(() => {
      statusTimer = null;
      statusPostedAt = performance.now();
      frontDoor.setStatusBody(statusBody(replica.rootKey.publicKeyDer, replica.implVersion, replica.latestCertifiedHeight));
    }, Math.max(0, statusPostedAt + STATUS_HEIGHT_EVERY_MS - performance.now()));
    statusTimer.unref();
  };
  server.keepAliveTimeout = 5_000;
  warnOnSmallWasmStack();
  // Certificates are signed by noble until mcl-wasm is compiled: start that now, after listening.
  setImmediate(() => void prepareFastBlsSigning());
  const port = frontDoor.port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  let stopped: Promise<void> | null = null;
  return {
    replica,
    url: `http://${shownHost}:${port}`,
    host,
    port,
    stop: () =>
      (stopped ??= (async () => {
        if (statusTimer) clearTimeout(statusTimer);
        await frontDoor.close();
        server.closeAllConnections();
        await replica.close();
      })()),
  };
}

/** Opens the replica's state with the start options (see {@link StartOptions}). */
function openReplica(options: StartOptions, topology: SubnetConfig[] | undefined): Replica {
  return Replica.open({
    stateDir: options.stateDir ?? '.chainkey-replica',
    ...(topology && { topology }),
    ...(options.debugPrint && { debugPrint: options.debugPrint }),
    ...(options.seed && { seed: options.seed }),
    ...(options.requestLog && { requestLog: options.requestLog }),
    ...(options.ingressPool && { ingressPool: options.ingressPool }),
    ...(options.manualRounds && { manualRounds: true }),
    ...(options.costSchedule && { costSchedule: options.costSchedule }),
    ...(options.storageFees && { storageFees: options.storageFees }),
    ...(options.clock && { clock: options.clock }),
    ...options.threshold,
  });
}
