/**
 * The PocketIC REST API (the routes PicJS 0.23 calls; reference/pocketic-api.md §4) over
 * chainkey-replica instances: `POST/DELETE /instances`, the instance routes under
 * `/instances/{id}/…`, and the server-level `/blobstore`. Every answer is the final one (200/201,
 * never 202 + `/read_graph`); PicJS reads bodies, not status codes, so errors are
 * `{"message": …}` (with 400, or 404 for an unknown instance). Trailing slashes are accepted.
 * Bodies are JSON read losslessly (u64/u128 as bigints) whatever the content type says.
 */
import { createHash } from 'node:crypto';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Principal } from '@icp-sdk/core/principal';
import type { RootKeyPair } from '../crypto/certificate.ts';
import type { Replica, ReplicaOptions } from '../replica.ts';
import { PocketIcInstance } from './instance.ts';
import { parseJson, stringifyJson } from './json.ts';
import { subnetsFromConfigSet } from './subnet-config-set.ts';
import { bytesField, PocketIcError } from './wire.ts';

/** Largest request body (a chunk upload or an install_code of 1.85 MB, base64 in JSON, fits). */
export const MAX_POCKET_IC_BODY_BYTES = 256 * 1024 * 1024;

/** What the server needs from the wiring layer. */
export interface PocketIcDeps {
  /** Opens a replica (`Replica.open`). */
  openReplica(options: ReplicaOptions): Replica;
  /** Where canister logs go (the server: stderr, as PocketIC). */
  debugPrint(canisterId: Principal, text: string): void;
  /** The root key every instance of this server uses (one BLS key generation per server). */
  rootKey(): RootKeyPair;
  /** Serves the IC HTTP interface of a replica on a new port (PocketIC's HTTP gateway). */
  startGateway(replica: Replica): Promise<{ port: number; stop(): Promise<void> }>;
}

/** The server's instances and blobs. */
export class PocketIcServerState {
  readonly #deps: PocketIcDeps;
  readonly #instances = new Map<number, PocketIcInstance>();
  readonly #blobs = new Map<string, Uint8Array>();
  readonly #gateways = new Map<number, { instance: PocketIcInstance; stop(): Promise<void> }>();
  #nextId = 0;
  #nextGatewayId = 0;

  constructor(deps: PocketIcDeps) {
    this.#deps = deps;
  }

  /** Creates an instance from a `POST /instances` body; returns its id. */
  create(body: unknown): { id: number; instance: PocketIcInstance } {
    const set = (body as { subnet_config_set?: unknown } | null)?.subnet_config_set;
    const topology = subnetsFromConfigSet(set);
    const instance = PocketIcInstance.create(topology, this.#deps.openReplica, this.#deps.debugPrint, this.#deps.rootKey());
    const id = this.#nextId++;
    this.#instances.set(id, instance);
    return { id, instance };
  }

  /**
   * The instance with id `id`.
   * @throws PocketIcError (404) for an unknown or deleted instance.
   */
  instance(id: string): PocketIcInstance {
    const i = /^\d+$/.test(id) ? this.#instances.get(Number(id)) : undefined;
    if (!i) throw new PocketIcError(`Instance ${id} not found`, 404);
    return i;
  }

  /** Deletes an instance (closing its replica); unknown ids are ignored. */
  async delete(id: string): Promise<void> {
    const i = /^\d+$/.test(id) ? this.#instances.get(Number(id)) : undefined;
    if (!i) return;
    this.#instances.delete(Number(id));
    for (const [gid, g] of this.#gateways) {
      if (g.instance !== i) continue;
      this.#gateways.delete(gid);
      await g.stop();
    }
    await i.close();
  }

  /** Instance states as PocketIC lists them (`"Available"` per live id). */
  list(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.#nextId; i++) out.push(this.#instances.has(i) ? 'Available' : 'Deleted');
    return out;
  }

  /** Stores a blob; returns its id (hex SHA-256). */
  putBlob(bytes: Uint8Array): string {
    const id = createHash('sha256').update(bytes).digest('hex');
    this.#blobs.set(id, bytes);
    return id;
  }

  /** A stored blob by raw id bytes (SHA-256), or undefined. */
  blob(id: Uint8Array): Uint8Array | undefined {
    return this.#blobs.get(Buffer.from(id).toString('hex'));
  }

  /**
   * Starts an HTTP gateway for the instance a `POST /http_gateway` body forwards to.
   * @throws PocketIcError for a body without `forward_to.PocketIcInstance` or an unknown instance.
   */
  async startGateway(body: unknown): Promise<{ instance_id: number; port: number }> {
    const id = (body as { forward_to?: { PocketIcInstance?: unknown } } | null)?.forward_to?.PocketIcInstance;
    if (typeof id !== 'number') throw new PocketIcError('chainkey-replica: the HTTP gateway forwards to PocketIC instances only ({"forward_to":{"PocketIcInstance":N}})');
    const instance = this.instance(String(id));
    const g = await this.#deps.startGateway(instance.replica);
    const gid = this.#nextGatewayId++;
    this.#gateways.set(gid, { instance, stop: g.stop });
    return { instance_id: gid, port: g.port };
  }

  /** Stops an HTTP gateway (unknown ids are ignored). */
  async stopGateway(id: string): Promise<void> {
    const g = /^\d+$/.test(id) ? this.#gateways.get(Number(id)) : undefined;
    if (!g) return;
    this.#gateways.delete(Number(id));
    await g.stop();
  }

  /** Closes every gateway and instance. */
  async closeAll(): Promise<void> {
    const gateways = [...this.#gateways.values()];
    this.#gateways.clear();
    await Promise.all(gateways.map((g) => g.stop()));
    const all = [...this.#instances.values()];
    this.#instances.clear();
    await Promise.all(all.map((i) => i.close()));
  }
}

function sendJson(res: Response, status: number, value: unknown): void {
  res.status(status).type('application/json').send(stringifyJson(value));
}

function bodyJson(req: Request): unknown {
  const b = req.body as Buffer | undefined;
  if (!Buffer.isBuffer(b) || b.length === 0) return {};
  try {
    return parseJson(b.toString('utf8'));
  } catch (e) {
    throw new PocketIcError(`Failed to parse the request body as JSON: ${(e as Error).message}`);
  }
}

type InstanceOp = (i: PocketIcInstance, body: unknown, req: Request) => unknown;

/**
 * Builds the express app.
 * @param onActivity called at the start and end of every request (the server's `--ttl`).
 */
export function createPocketIcApp(state: PocketIcServerState, onActivity: (delta: 1 | -1) => void = () => {}): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use((_req, res, next) => {
    onActivity(1);
    res.once('close', () => onActivity(-1));
    next();
  });
  const raw = express.raw({ type: () => true, limit: MAX_POCKET_IC_BODY_BYTES });
  const wrap =
    (handler: (req: Request, res: Response) => unknown): express.RequestHandler =>
    (req, res, next) => {
      Promise.resolve()
        .then(() => handler(req, res))
        .catch(next);
    };

  app.get('/', (_req, res) => sendJson(res, 200, null));
  app.get('/status', (_req, res) => res.status(200).end());
  app.get('/instances', (_req, res) => sendJson(res, 200, state.list()));
  app.post(
    '/instances',
    raw,
    wrap((req, res) => {
      let created: ReturnType<PocketIcServerState['create']>;
      try {
        created = state.create(bodyJson(req));
      } catch (e) {
        // PocketIC's CreateInstanceResponse::Error (PicJS throws its message).
        if (e instanceof PocketIcError) return sendJson(res, 400, { Error: { message: e.message } });
        throw e;
      }
      sendJson(res, 201, { Created: { instance_id: created.id, topology: created.instance.topologyJson(), http_gateway_info: null } });
    }),
  );
  app.delete(
    '/instances/:id',
    wrap(async (req, res) => {
      await state.delete(String(req.params['id']));
      res.status(200).end();
    }),
  );
  app.post(
    '/blobstore',
    raw,
    wrap((req, res) => {
      const b = Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array();
      res.status(200).type('text/plain').send(state.putBlob(b));
    }),
  );
  app.post(
    '/http_gateway',
    raw,
    wrap(async (req, res) => {
      sendJson(res, 201, { Created: await state.startGateway(bodyJson(req)) });
    }),
  );
  app.post(
    '/http_gateway/:id/stop',
    raw,
    wrap(async (req, res) => {
      await state.stopGateway(String(req.params['id']));
      sendJson(res, 200, null);
    }),
  );
  app.get(
    '/blobstore/:id',
    wrap((req, res) => {
      const blob = state.blob(new Uint8Array(Buffer.from(String(req.params['id']), 'hex')));
      if (!blob) throw new PocketIcError('blob not found', 404);
      res.status(200).type('application/octet-stream').send(Buffer.from(blob));
    }),
  );

  const route = (method: 'get' | 'post', path: string, op: InstanceOp): void => {
    app[method](
      `/instances/:id/${path}`,
      raw,
      wrap(async (req, res) => {
        const instance = state.instance(String(req.params['id']));
        const body = method === 'post' ? bodyJson(req) : undefined;
        const out = await instance.serialize(() => op(instance, body, req));
        sendJson(res, 200, out ?? null);
      }),
    );
  };
  route('post', 'update/submit_ingress_message', (i, b) => i.submit(b));
  route('post', 'update/await_ingress_message', (i, b) => i.await(b));
  route('post', 'update/execute_ingress_message', async (i, b) => {
    const s = (await i.submit(b)) as { Ok?: { message_id: string; effective_principal: unknown } };
    return s.Ok ? i.await(s.Ok) : s;
  });
  route('post', 'read/ingress_status', (i, b) => i.ingressStatus(b));
  route('post', 'read/query', (i, b) => i.query(b));
  route('get', 'read/get_time', (i) => ({ nanos_since_epoch: i.getTime() }));
  route('post', 'update/set_time', (i, b) => i.setTime(b, false));
  route('post', 'update/set_certified_time', (i, b) => i.setTime(b, true));
  route('post', 'update/tick', (i) => i.tick());
  route('post', 'read/get_cycles', (i, b) => i.getCycles(b));
  route('post', 'update/add_cycles', (i, b) => i.addCycles(b));
  route('post', 'read/get_subnet', (i, b) => i.getSubnet(b));
  route('post', 'read/get_controllers', (i, b) => i.getControllers(b));
  route('post', 'read/pub_key', (i, b) => i.pubKey(b));
  route('get', '_/topology', (i) => i.topologyJson());
  route('get', 'auto_progress', (i) => i.live);
  route('get', 'read/get_canister_http', (i) => i.outcalls.list());
  route('post', 'update/mock_canister_http', (i, b) => i.outcalls.mock(b, i.replica));
  // Live mode must not wait behind the instance's queue of operations: it only flips a timer.
  app.post('/instances/:id/auto_progress', raw, wrap((req, res) => sendJson(res, 200, state.instance(String(req.params['id'])).startLive(bodyJson(req)))));
  app.post('/instances/:id/stop_progress', raw, wrap((req, res) => sendJson(res, 200, state.instance(String(req.params['id'])).stopLive())));
  route('post', 'update/set_stable_memory', (i, b) => {
    const blob = state.blob(bytesField(b, 'blob_id'));
    if (!blob) throw new PocketIcError('BlobNotFound');
    return i.setStableMemory(b, blob);
  });
  route('post', 'read/get_stable_memory', (i, b) => i.getStableMemory(b));

  app.use((_req, res) => res.status(404).send(''));
  // Error middleware: express needs the four-argument signature to recognise it.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    if (err instanceof PocketIcError) {
      sendJson(res, err.status, { message: err.message });
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.too.large') {
      sendJson(res, 413, { message: 'length limit exceeded' });
      return;
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      sendJson(res, e.status, { message: `Failed to read the request body: ${e.message ?? 'bad request'}` });
      return;
    }
    console.error('chainkey-replica pocket-ic: internal error', err);
    sendJson(res, 500, { message: `internal error: ${(err as Error)?.message ?? String(err)}` });
  });
  return app;
}
