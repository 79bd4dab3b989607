/**
 * One running replica: the state dir's SQLite store, the BLS root key and the node key (created on
 * first start, never changed afterwards), the topology and routing table, the replicated state,
 * the round scheduler and the latest certified state. The HTTP layer and the CLI talk to this.
 *
 * Size (~700 lines): the wiring grew with manual rounds (PocketIC), the threshold network and the
 * ingress pool bound; certification (#certify, certificateFor, data certificates)
 * is the piece to move into a file of its own next.
 */
import { DEFAULT_STORAGE_FEES, type CostSchedule, type StorageFees } from './cycles/subnet-costs.ts';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Principal } from '@icp-sdk/core/principal';
import { generateRootKey, rootKeyFromSecretKey, rootKeyFromStored, signStateRoot, encodeCertificate, type RootKeyPair } from './crypto/certificate.ts';
import { reconstruct, toBytes, type HashTree, type Path } from './crypto/hash-tree.ts';
import { buildHashTree, witness, withLabeledSubtree } from './crypto/labeled-tree.ts';
import { nodeKeyFromSeed, type NodeKey } from './crypto/node-key.ts';
import { ChainKeyPayloadBuilder } from './consensus/chain-key-payload.ts';
import { createThresholdNetwork } from './consensus/idkg/replica-network.ts';
import type { ThresholdNetwork } from './consensus/idkg/threshold-network.ts';
import { PhaseProfile } from './phase-profile.ts';
import { IMPL_VERSION } from './version.ts';
import type { SecretShare } from './crypto/threshold/key-transcript.ts';
import { ExecutionEnvironment } from './execution/execution-environment.ts';
import { rejectOutcome, type MessageOutcome } from './execution/message-outcome.ts';
import type { IngressMessage } from './execution/ingress-message.ts';
import { Scheduler } from './execution/scheduler.ts';
import { StateTreeBuilder } from './execution/state-tree.ts';
import { VetKdWorker } from './consensus/vetkd-worker.ts';
import { SigningWorker } from './consensus/signing-worker.ts';
import * as management from './management/management-canister.ts';
import type { ManagementEnv } from './management/management-context.ts';
import { RoutingTable } from './routing/routing-table.ts';
import { assignSubnetIds, parseTopology, DEFAULT_TOPOLOGY, type FaultSpec, type Subnet, type SubnetConfig } from './routing/topology.ts';
import { ReplicatedState } from './state/replicated-state.ts';
import { ensureMasterKeys, type MasterKey } from './state/master-keys.ts';
import type { SignWithThresholdContext } from './state/subnet-call-context-manager.ts';
import { StateStore } from './store/state-store.ts';
import { IN_MEMORY, STATE_FILE } from './store/database.ts';
import { ensureSystemCanisters } from './system-canisters/system-canisters.ts';
import { messageLine, type RequestLogSink } from './http/request-log.ts';
import type { IngressRecord } from './store/ingress-repository.ts';
import { canisterNotFound, canisterNotRunning, errorCodeText, IcError, requestedCanisterHasNoWasmModule } from './types/ic-error.ts';
import { IngressPoolFull } from './types/ingress-pool-full.ts';
import { nanos, nowNanos, type Nanos } from './types/units.ts';
import type { CanisterHttpRequests } from './management/management-context.ts';
import { dashboardState, RecentChainKeyRequests } from './dashboard.ts';
import type { DashboardState } from './http/dashboard-state.ts';

/** Options for {@link Replica.open}. */
export interface ReplicaOptions {
  /** Directory holding `state.sqlite3`; created if missing. */
  stateDir: string;
  /** Subnets; the default topology when omitted. */
  topology?: SubnetConfig[];
  /** SQLite durability (see store/database.ts). */
  synchronous?: 'normal' | 'full';
  /** Where canisters' `ic0.debug_print` output goes; default: stdout as `[Canister <id>] <text>`. */
  debugPrint?: (canisterId: Principal, text: string) => void;
  /**
   * `--seed`: master keys created in this (new) state dir are derived from it instead of a CSPRNG;
   * or a seed per subnet (PocketIC: keys follow the subnet, whatever else the topology holds).
   */
  seed?: Uint8Array | ((subnet: Subnet) => Uint8Array);
  /** Where time comes from (default: the wall clock). */
  clock?: ReplicaClock;
  /**
   * Manual rounds (PocketIC's `tick`): nothing runs until {@link Replica.runRound} is called; no
   * round is scheduled by a submission, a queued message, a chain-key request or a timer.
   */
  manualRounds?: boolean;
  /**
   * The root key for a new state (PocketIC: one per server, shared by its instances, so an
   * instance costs no BLS key generation); a state that has one keeps it.
   */
  rootKey?: RootKeyPair;
  /** Bounds of the ingress pool (see {@link INGRESS_POOL_MAX_COUNT}); the replica's defaults when omitted. */
  ingressPool?: { maxCount?: number; maxBytes?: number };
  /**
   * `--nodes N`: simulated nodes of every key-holding subnet running the threshold protocol (a
   * subnet's topology `nodes` wins). Default 1: the single-replica key, at today's speed.
   */
  nodes?: number;
  /** `--faulty K[:crashed|slow|byzantine]` for every key-holding subnet (topology `faulty` wins). */
  faulty?: FaultSpec;
  /** Pre-signatures kept ready per ECDSA / Schnorr key. Default 20. */
  preSignaturesPerKey?: number;
  /** `--reshare-interval`: periodic resharing of every key, milliseconds; 0 (default): never. */
  reshareIntervalMs?: number;
  /** `--mega`: shares MEGa-encrypted in the dealings, DLEQ complaints (a test mode, ≤ 13 nodes per subnet). */
  mega?: boolean;
  /**
   * How long a signature request waits for a pre-signature while its subnet is stalled (f + 1
   * nodes down) before it is rejected with `Signature request expired` (ms). Default 10 000.
   */
  stalledRequestTimeoutMs?: number;
  /**
   * Open for inspection (`chainkey-replica keys`, possibly next to a running replica): no
   * threshold protocol rounds run, so nothing is reshared or made in the background.
   */
  passive?: boolean;
  /** Whoever answers canisters' `http_request` outcalls (PocketIC instances); not served when absent. */
  httpRequests?: CanisterHttpRequests;
  /** Where request log lines go (http/request-log.ts); no request log when omitted. */
  requestLog?: RequestLogSink;
  /**
   * Install the ICP ledger, CMC and cycles ledger at first start (system-canisters/); default
   * true. PocketIC instances start empty, as PocketIC's do.
   */
  systemCanisters?: boolean;
  /** `free` overrides every subnet's cost schedule (nothing is charged); default: each subnet's own. */
  costSchedule?: CostSchedule;
  /** Storage fees at 13 nodes (default {@link DEFAULT_STORAGE_FEES}). */
  storageFees?: StorageFees;
}

/**
 * Most messages waiting for a round before new calls are refused: the replica's
 * `ingress_pool_max_count` (10,000 in its node configuration; the HTTP layer then answers
 * 503 "Service is overloaded, try again later.", as the replica's call handler does).
 */
export const INGRESS_POOL_MAX_COUNT = 10_000;
/** Most bytes of waiting messages: the replica's `ingress_pool_max_bytes` (100 MB). */
export const INGRESS_POOL_MAX_BYTES = 100_000_000;

/** Where a replica's time comes from: the wall clock, or a virtual clock under a test's control. */
export interface ReplicaClock {
  /** Now, nanoseconds since the epoch; a round runs at max(now, previous round + 1 ns). */
  nowNanos(): bigint;
  /** The time queries and `inspect_message` see; default: a fresh round time. */
  queryNanos?(): bigint;
}

/** The wall clock (millisecond resolution). */
const WALL_CLOCK: ReplicaClock = { nowNanos };

/** The latest certification: the full hash tree, its BLS signature and the certified time. */
interface CertifiedState {
  tree: HashTree;
  signature: Uint8Array;
  timeNanos: bigint;
}

/** Ingress history entries are kept this long past their expiry (nanoseconds). */
const INGRESS_RETENTION_AFTER_EXPIRY_NANOS = 60n * 1_000_000_000n;
/**
 * Wall-clock budget of a round's chain-key step (ms): a batch of vetKD derivations (~50 ms each
 * in pure JS) must not keep the HTTP interface from answering for seconds.
 */
const CHAIN_KEY_BUDGET_MS = 100;
/**
 * How long a round waits, after executing its messages, for the signatures the worker is still
 * making (ms): answered in this round rather than the next, their callers wait one round less.
 */
const SIGNATURE_WAIT_MS = 20;
/** Pre-signatures from the signing worker are stored at the latest this long after they arrive (ms). */
const SAVE_DEALT_MS = 50;
/** Wall-clock slice of threshold protocol rounds between other work (ms). */
const THRESHOLD_SLICE_MS = 20;
/** Size of the random pool's draws from node:crypto (bytes; see `pooledRandomBytes`). */
const RANDOM_POOL_BYTES = 4096;
/** A read_state or sync-call answer re-certifies first when the certified time is older (ms). */
const MAX_CERTIFICATE_AGE_MS = 1000;

/** Whether a path label (string or UTF-8 bytes) is `name`. */
function labelIs(label: Uint8Array | string, name: string): boolean {
  return typeof label === 'string' ? label === name : Buffer.from(label).toString('latin1') === name;
}

/**
 * The root key pair of a state dir: the public key is derived from the secret once and stored
 * next to it (`root_key_public`), so later starts skip the G2 multiplication.
 */
function storedRootKey(store: StateStore, secretKey: Uint8Array): RootKeyPair {
  const stored = store.meta.get('root_key_public');
  if (stored?.length === 96) return rootKeyFromStored(secretKey, stored);
  const pair = rootKeyFromSecretKey(secretKey);
  store.meta.getOrCreate('root_key_public', () => pair.publicKey);
  return pair;
}

/** A replica over one state dir. */
export class Replica {
  readonly store: StateStore;
  readonly rootKey: RootKeyPair;
  readonly nodeKey: NodeKey;
  readonly routing: RoutingTable;
  /** The subnet certificates are attributed to (self-authenticating id of the root key). */
  readonly rootSubnet: Subnet;
  readonly state: ReplicatedState;
  readonly scheduler: Scheduler;
  readonly execution: ExecutionEnvironment;
  /** Threshold master keys by key id text (`ecdsa:Secp256k1:key_1`, ...). */
  readonly masterKeys: Map<string, MasterKey>;
  /** Answers chain-key requests (signatures, vetKD keys) from the pre-signature pools and shares. */
  readonly chainKey: ChainKeyPayloadBuilder;
  /** The n-node threshold protocol suite of the key-holding subnets (consensus/idkg). */
  readonly threshold: ThresholdNetwork;
  /** Wall time per phase (off unless enabled; used by `npm run bench`). */
  readonly profile = new PhaseProfile();
  /** `chainkey-replica <version>` (`/api/v2/status` `impl_version`). */
  readonly implVersion = IMPL_VERSION;
  /** Chain-key requests answered recently (in memory, for `/_/dashboard`). */
  readonly recentChainKeyRequests = new RecentChainKeyRequests();
  readonly #treeBuilder = new StateTreeBuilder();
  readonly #env: ManagementEnv;
  #certified: CertifiedState | null = null;
  /** Time of the latest round when its state is not certified yet (certification is lazy). */
  #uncertifiedRoundNanos: bigint | null = null;
  #lastTimeNanos = 0n;
  #height = 0;
  #closed = false;
  readonly #reshareIntervalMs: number;
  readonly #passive: boolean;
  #timerWakeup: NodeJS.Timeout | null = null;
  #thresholdScheduled = false;
  #thresholdWakeup: NodeJS.Timeout | null = null;
  #saveDealt: NodeJS.Timeout | null = null;
  readonly #clock: ReplicaClock;
  readonly #manualRounds: boolean;
  readonly #vetKdWorker: VetKdWorker | undefined;
  readonly #signingWorker: SigningWorker | undefined;
  readonly #poolMaxCount: number;
  readonly #poolMaxBytes: number;
  /** Request log sink, if enabled. */
  readonly requestLog: RequestLogSink | undefined;
  /** Ingress messages accepted and not yet logged with their outcome: request id hex → message. */
  readonly #unloggedIngress = new Map<string, IngressMessage>();
  /** Request ids (hex) whose canister_inspect_message is running (it runs sliced). */
  readonly #inInspection = new Set<string>();

  private constructor(store: StateStore, topology: SubnetConfig[], options: ReplicaOptions) {
    this.store = store;
    this.#reshareIntervalMs = options.reshareIntervalMs ?? 0;
    this.#passive = options.passive === true;
    this.requestLog = options.requestLog;
    this.#clock = options.clock ?? WALL_CLOCK;
    this.#manualRounds = options.manualRounds ?? false;
    this.#poolMaxCount = options.ingressPool?.maxCount ?? INGRESS_POOL_MAX_COUNT;
    this.#poolMaxBytes = options.ingressPool?.maxBytes ?? INGRESS_POOL_MAX_BYTES;
    const given = options.rootKey;
    const rootSecret = store.meta.getOrCreate('root_key_secret', () => given?.secretKey ?? generateRootKey().secretKey);
    this.rootKey = given && Buffer.from(given.secretKey).equals(Buffer.from(rootSecret)) ? given : storedRootKey(store, rootSecret);
    this.nodeKey = nodeKeyFromSeed(store.meta.getOrCreate('node_key_seed', () => new Uint8Array(randomBytes(32))));
    const subnets = assignSubnetIds(topology, this.rootKey.publicKeyDer);
    this.routing = new RoutingTable(subnets);
    this.rootSubnet = this.routing.defaultSubnet;
    this.state = ReplicatedState.load(store);
    // Manual rounds (PocketIC) make pre-signatures on demand unless a pool size is given.
    // Signing and pre-signature dealing of single-node keys run on a worker thread (not with
    // manual rounds, where a round must answer what it can by itself).
    this.#signingWorker =
      this.#manualRounds || this.#passive
        ? undefined
        : new SigningWorker({
            onSigned: () => {
              if (!this.#closed) this.scheduler.requestRound();
            },
            onDealt: (batch) => {
              if (this.#closed) return;
              this.threshold.adoptPreSignatures(batch);
              // Stored with the next round's commit, or within SAVE_DEALT_MS when no round runs.
              this.#saveDealt ??= setTimeout(() => {
                this.#saveDealt = null;
                if (!this.#closed) this.threshold.saveDealtPreSignatures();
              }, SAVE_DEALT_MS);
              const contexts = this.state.subnetCallContexts;
              if (contexts.size > 0 && this.chainKey.canAnswer(contexts.answerable(), this.#clock.nowNanos())) this.scheduler.requestRound();
            },
            onLost: () => this.threshold.dealerLost(),
          });
    const thresholdOptions = {
      ...options,
      ...(options.manualRounds && options.preSignaturesPerKey === undefined ? { preSignaturesPerKey: 0 } : {}),
      ...(this.#signingWorker ? { dealer: this.#signingWorker } : {}),
    };
    const made = createThresholdNetwork(store, this.routing, thresholdOptions, (keyId, t) => {
      const k = this.masterKeys.get(keyId);
      if (!k) return;
      k.transcript = t;
      store.thresholdKeys.updateTranscript(keyId, k.subnet.subnetId.toUint8Array(), t);
    });
    this.threshold = made.network;
    this.masterKeys = ensureMasterKeys(store, this.routing, options.seed, made.generate);
    made.start(this.masterKeys);
    for (const c of this.state.canisters()) {
      const s = this.routing.subnetOfCanister(c.canisterId);
      if (!s) {
        throw new Error(
          `canister ${c.canisterId.toText()} in this state dir lies outside every subnet's canister ranges ` +
            'of the given topology; start with the topology the state was created with',
        );
      }
      if (s.subnetId.compareTo(c.subnetId) !== 'eq') {
        c.subnetId = s.subnetId;
        this.state.markCanisterDirty(c.canisterId);
      }
    }
    this.execution = new ExecutionEnvironment({
      state: this.state,
      routing: this.routing,
      store: this.store,
      rootKeyDer: this.rootKey.publicKeyDer,
      randomBytes: pooledRandomBytes(),
      debugPrint: options.debugPrint ?? ((id, text) => console.log(`[Canister ${id.toText()}] ${text}`)),
      dataCertificate: (id) => this.#dataCertificate(id),
      masterKeys: this.masterKeys,
      ...(options.httpRequests ? { httpRequests: options.httpRequests } : {}),
      ...(options.costSchedule ? { costSchedule: options.costSchedule } : {}),
      storageFees: options.storageFees ?? DEFAULT_STORAGE_FEES,
      requestRound: () => {
        if (!this.#closed) this.scheduler.requestRound();
      },
    });
    this.#env = this.execution.managementEnv;
    const shares = new Map<string, SecretShare[]>();
    const vetKdShares = (key: MasterKey): SecretShare[] => {
      const t = key.transcript;
      let s = shares.get(t.transcriptId);
      if (!s) {
        s = Array.from({ length: t.receivers }, (_, node) => {
          const share = store.thresholdKeys.share(t.transcriptId, node);
          if (!share) throw new Error(`the state dir lacks node ${node}'s share of ${t.transcriptId}`);
          return share;
        });
        shares.set(t.transcriptId, s);
      }
      return s;
    };
    // vetKD's pairing work runs on a worker thread while rounds go on (not with manual rounds,
    // where a round must answer what it can by itself).
    this.#vetKdWorker = this.#manualRounds ? undefined : new VetKdWorker(() => {
      if (!this.#closed) this.scheduler.requestRound();
    });
    this.chainKey = new ChainKeyPayloadBuilder(
      this.masterKeys,
      vetKdShares,
      this.threshold,
      BigInt(options.stalledRequestTimeoutMs ?? 10_000) * 1_000_000n,
      this.#vetKdWorker,
      this.#signingWorker,
    );
    this.scheduler = new Scheduler(
      { executeRound: (m) => this.#executeRound(m), ingressStatus: (rid) => this.state.ingress(rid) },
      (e) => {
        console.error('chainkey-replica: a round failed to commit; stopping. State on disk is the last committed round.', e);
        process.exitCode = 1;
      },
      { manual: this.#manualRounds },
    );
  }

  /**
   * Opens (or creates) a replica's state and certifies it once.
   * @throws Error for an unusable state dir, a bad topology, or canisters outside the topology.
   */
  static open(options: ReplicaOptions): Replica {
    // A passive open of an existing state (`chainkey-replica keys`, possibly next to a running
    // replica) reads it through a read-only connection without the state dir's lock, and writes
    // nothing; every other open takes the lock (one replica per state dir).
    const readOnly = options.passive === true && options.stateDir !== IN_MEMORY && existsSync(join(options.stateDir, STATE_FILE));
    const store = readOnly ? StateStore.openReadOnly(options.stateDir) : StateStore.open(options.stateDir, options.synchronous ? { synchronous: options.synchronous } : {});
    try {
      const r = new Replica(store, options.topology ?? parseTopology(DEFAULT_TOPOLOGY), options);
      const t = r.#nextTime();
      r.execution.beginRound(t);
      if (options.systemCanisters ?? true) ensureSystemCanisters({ state: r.state, routing: r.routing, execution: r.execution, nowNanos: t });
      if (!readOnly) {
        r.store.transaction(() => {
          r.state.writeChanges(r.store);
          r.execution.writeChanges();
        });
      }
      r.state.clearChanges();
      r.execution.clearChanges();
      // Certified when a certificate is first needed, as after any round (a large ingress
      // history is hashed then, not before listening).
      r.#uncertifiedRoundNanos = r.#nextTime();
      r.#scheduleFollowUp();
      return r;
    } catch (e) {
      store.close();
      throw e;
    }
  }

  // ---- ingress ---------------------------------------------------------------------------

  /**
   * Whether the ingress pool (messages accepted and not yet taken into a round) is at its bound:
   * the replica's `IngressPoolThrottler::exceeds_threshold`, checked before a call is even parsed.
   */
  ingressPoolIsFull(): boolean {
    return this.scheduler.queuedCount >= this.#poolMaxCount || this.scheduler.queuedBytes >= this.#poolMaxBytes;
  }

  /**
   * Accepts a validated call for the next round (spec §"Request: Call"), after the ingress filter.
   * @returns `known` if the request id is already in the ingress history (a resubmission).
   * @throws IcError when the ingress filter refuses the message (a non-replicated rejection);
   *   IngressPoolFull when the pool reached its bound while the call waited to enter it.
   */
  async submitCall(msg: IngressMessage): Promise<'accepted' | 'known'> {
    // canister_inspect_message cannot run while the canister is in a sliced execution. Checked
    // again after each wait, right before the call goes on: calls waiting for the same execution
    // resume together, and the first of them may have started a sliced inspection meanwhile.
    while (this.execution.isBusy(msg.canisterId)) await this.execution.idle(msg.canisterId);
    try {
      return await this.#submitCall(msg);
    } catch (e) {
      if (this.requestLog && e instanceof IcError) {
        this.requestLog(
          messageLine('call', msg.canisterId, msg.methodName, msg.sender, {
            kind: 'rejected',
            rejectCode: e.rejectCode,
            errorCode: errorCodeText(e.code),
            message: e.message,
          }),
        );
      }
      throw e;
    }
  }

  async #submitCall(msg: IngressMessage): Promise<'accepted' | 'known'> {
    // HTTP checks the ingress pool's bound before a call is parsed (http/app.ts); it is checked
    // again where the call enters the pool, since waiting for a busy canister or for
    // canister_inspect_message lets other calls in meanwhile.
    const key = Buffer.from(msg.requestId).toString('hex');
    if (this.state.ingress(msg.requestId) || this.#inInspection.has(key)) return 'known';
    if (msg.canisterId.toUint8Array().length === 0) {
      management.acceptIngress(this.#env, msg.sender, msg.methodName, msg.arg);
      const unpaid = this.execution.chargeIngress(msg, false);
      if (unpaid) throw unpaid;
    } else {
      const c = this.state.canister(msg.canisterId);
      if (!c) throw canisterNotFound(msg.canisterId);
      const notRunning = canisterNotRunning(msg.canisterId, c.status);
      if (notRunning) throw notRunning;
      if (!c.module) throw requestedCanisterHasNoWasmModule();
      // The ingress fee must be payable before canister_inspect_message runs.
      const unpaid = this.execution.chargeIngress(msg, false);
      if (unpaid) throw unpaid;
      // canister_inspect_message runs sliced: the same request submitted meanwhile is `known`.
      const inspection = this.execution.inspectMessage(msg.sender, c, msg.methodName, msg.arg, this.#queryTime());
      if (inspection) {
        this.#inInspection.add(key);
        try {
          await inspection;
        } finally {
          this.#inInspection.delete(key);
        }
      }
    }
    if (this.ingressPoolIsFull()) throw new IngressPoolFull();
    this.state.putIngress({
      requestId: msg.requestId,
      sender: msg.sender.toUint8Array(),
      canisterId: msg.canisterId.toUint8Array(),
      methodName: msg.methodName,
      status: 'received',
      expiryNanos: msg.expiryNanos,
      updatedNanos: this.#clock.nowNanos(),
    }, true); // checked above: not in the history (and not in inspection)
    if (this.requestLog) this.#unloggedIngress.set(Buffer.from(msg.requestId).toString('hex'), msg);
    this.scheduler.submit(msg);
    return 'accepted';
  }

  /** Waits up to `timeoutMs` for a request to finish; undefined on timeout. */
  waitForCompletion(requestId: Uint8Array, timeoutMs: number): Promise<IngressRecord | undefined> {
    return this.scheduler.waitForCompletion(requestId, timeoutMs);
  }

  /**
   * Runs a query (non-replicated, state discarded) and returns its outcome. Queries to the
   * management canister are not served.
   */
  async query(sender: Principal, canisterId: Principal, methodName: string, arg: Uint8Array): Promise<MessageOutcome> {
    // A query runs on the canister's instance: not while a sliced execution is in flight there.
    if (this.execution.isBusy(canisterId)) await this.execution.idle(canisterId);
    const outcome =
      canisterId.toUint8Array().length === 0
        ? this.#managementQuery(sender, methodName, arg)
        : await this.execution.query(sender, canisterId, methodName, arg, this.#queryTime());
    if (this.requestLog && outcome.kind === 'rejected') {
      const { rejectCode, errorCode, rejectMessage: message } = outcome;
      this.requestLog(messageLine('query', canisterId, methodName, sender, { kind: 'rejected', rejectCode, errorCode, message }));
    }
    return outcome;
  }

  #managementQuery(sender: Principal, methodName: string, arg: Uint8Array): MessageOutcome {
    try {
      return { kind: 'replied', reply: management.query(this.#env, sender, methodName, arg, this.#queryTime()) };
    } catch (e) {
      if (e instanceof IcError) return rejectOutcome(e);
      throw e;
    }
  }

  /** Logs the ingress messages whose outcome became known (request log only). */
  #logCompletedIngress(): void {
    const log = this.requestLog;
    if (!log) return;
    for (const [k, msg] of this.#unloggedIngress) {
      const r = this.state.ingress(msg.requestId);
      if (r && r.status !== 'replied' && r.status !== 'rejected' && r.status !== 'done') continue;
      this.#unloggedIngress.delete(k);
      if (!r || r.status === 'done') continue;
      log(
        messageLine(
          'call',
          msg.canisterId,
          msg.methodName,
          msg.sender,
          r.status === 'replied'
            ? { kind: 'replied' }
            : { kind: 'rejected', rejectCode: r.rejectCode ?? 0, errorCode: r.errorCode, message: r.rejectMessage ?? '' },
        ),
      );
    }
  }

  /**
   * Runs one round now with the messages submitted since the last one (manual rounds: PocketIC's
   * `tick`); resolves once it is committed.
   */
  runRound(): Promise<void> {
    return this.scheduler.runEmptyRound();
  }

  /**
   * The replica's time now, nanoseconds since the epoch: its clock's reading (the wall clock, or
   * the virtual clock a test or PocketIC's set_time/advance_time controls). The HTTP layer checks
   * `ingress_expiry` (and delegation expiry) against it, as PocketIC's ingress validator does with
   * its subnet's time source (dfinity/ic rs/pocket_ic_server `IngressValidatorBuilder::
   * with_time_source`), so an agent that synced its clock to the certified `/time` is accepted.
   */
  timeNanos(): Nanos {
    return nanos(this.#clock.nowNanos());
  }

  /** Time of the latest round (nanoseconds since the epoch; 0 before the first). */
  get lastRoundNanos(): bigint {
    return this.#lastTimeNanos;
  }

  // ---- certification ---------------------------------------------------------------------

  /** Number of certifications since this process started, certifying the latest round first. */
  get certifiedHeight(): number {
    this.#ensureCertified();
    return this.#height;
  }

  /**
   * Number of certifications so far, without certifying anything: the status endpoint's height.
   * A status probe must stay cheap under load (a certification hashes the state tree and signs).
   */
  get latestCertifiedHeight(): number {
    return this.#height;
  }

  /** Time of the latest certification, nanoseconds. */
  get certifiedTimeNanos(): bigint {
    this.#ensureCertified();
    return this.#certified!.timeNanos;
  }

  /**
   * Certifies the latest round's state if that has not happened yet. Rounds are certified when a
   * certificate of them is first needed (a completed sync call, read_state, a query's data
   * certificate, the status height), so a round nobody asks about — e.g. the first round of a
   * signing call, which only queues the request — costs no BLS signature. What a client sees is
   * the same: every certificate covers the latest committed state at that round's time.
   */
  #ensureCertified(): void {
    const t = this.#uncertifiedRoundNanos;
    if (t === null) return;
    this.#uncertifiedRoundNanos = null;
    this.profile.time('certification', () => this.#certify(t));
  }

  /** What `/_/dashboard` shows: subnets and nodes, keys and pools, canisters, recent chain-key requests. */
  dashboardState(): DashboardState {
    return dashboardState({
      implVersion: this.implVersion,
      certifiedHeight: this.certifiedHeight,
      lastRoundNanos: this.lastRoundNanos,
      routing: this.routing,
      threshold: this.threshold,
      masterKeys: this.masterKeys,
      state: this.state,
      recentRequests: this.recentChainKeyRequests,
    });
  }

  /**
   * A certificate revealing `paths` (and `/time`) of the latest certified state; re-certifies
   * first if that state is older than a second, so agents' freshness checks pass.
   */
  async certificateFor(paths: readonly Path[]): Promise<Uint8Array> {
    this.#ensureCertified();
    const ageMs = Number((this.#clock.nowNanos() - this.#certified!.timeNanos) / 1_000_000n);
    if (ageMs > MAX_CERTIFICATE_AGE_MS && !this.#manualRounds) {
      await this.scheduler.runEmptyRound();
      this.#ensureCertified();
    }
    const c = this.#certified!;
    // `/request_status` is certified as its root hash; reveal the asked-for entries first.
    const requestIds = paths.filter((p) => p.length >= 2 && labelIs(p[0]!, 'request_status')).map((p) => toBytes(p[1]!));
    const tree = requestIds.length === 0 ? c.tree : withLabeledSubtree(c.tree, 'request_status', this.#treeBuilder.requestStatusWitness(requestIds, (id) => this.state.ingressAsCertified(id)));
    return encodeCertificate({ tree: witness(tree, [['time'], ...paths]), signature: c.signature });
  }

  #queryTime(): bigint {
    return this.#clock.queryNanos?.() ?? this.#nextTime();
  }

  #nextTime(): bigint {
    const now = this.#clock.nowNanos();
    this.#lastTimeNanos = now > this.#lastTimeNanos ? now : this.#lastTimeNanos + 1n;
    return this.#lastTimeNanos;
  }

  async #executeRound(messages: IngressMessage[]): Promise<number> {
    const t = this.#nextTime();
    const ex = this.execution;
    ex.beginRound(t);
    // Chain-key requests accepted in earlier rounds are answered first (consensus delivers them
    // with the block), so their callbacks run in this round.
    const pending = this.state.subnetCallContexts.answerable();
    if (pending.length > 0 && this.#manualRounds) this.#runThresholdForRequests(pending, t);
    if (pending.length > 0) {
      const answers = this.profile.time('chain_key_signing', () => this.chainKey.build(pending, t, CHAIN_KEY_BUDGET_MS));
      this.recentChainKeyRequests.record(answers, t);
      ex.deliverChainKeyResponses(answers);
    }
    const t0 = performance.now();
    let ingressMs = await ex.executeRound(messages);
    // Signatures the worker finished while this round executed are answered in it too; the
    // round waits a little for the rest (they were handed over when the last round ended).
    if (this.#signingWorker && this.chainKey.offThread.computing > 0) await this.#signingWorker.settled(SIGNATURE_WAIT_MS);
    const finished = this.#signingWorker ? this.chainKey.buildFinished(this.state.subnetCallContexts.answerable()) : [];
    if (finished.length > 0) {
      this.recentChainKeyRequests.record(finished, t);
      ex.deliverChainKeyResponses(finished);
      await ex.drainQueue();
      ingressMs = performance.now() - t0;
    }
    this.profile.add('execution', performance.now() - t0);
    for (const m of messages) ex.markProcessing(m);
    // This round's chain-key requests become answerable now; with the signing worker they are
    // handed over at once, so their signatures are made while this round commits.
    this.state.subnetCallContexts.endRound();
    if (this.#signingWorker && this.state.subnetCallContexts.size > 0) this.chainKey.handOver(this.state.subnetCallContexts.answerable(), t);
    const pruneBefore = t - INGRESS_RETENTION_AFTER_EXPIRY_NANOS;
    this.state.pruneIngress(pruneBefore);
    this.profile.time('sqlite_commit', () =>
      this.store.transaction(() => {
        // Pre-signatures used by this round's answers are erased with them (never reused).
        this.threshold.commitTaken();
        this.state.writeChanges(this.store);
        ex.writeChanges();
      }),
    );
    this.state.clearChanges();
    ex.clearChanges();
    this.#uncertifiedRoundNanos = t;
    this.#logCompletedIngress();
    this.#scheduleFollowUp();
    return ingressMs;
  }

  /**
   * Asks for another round when messages or answerable chain-key requests are waiting, or at the
   * next global timer; keeps the threshold protocol running in the background.
   */
  #scheduleFollowUp(): void {
    if (this.#closed) return;
    if (this.#manualRounds) return;
    this.#wakeThreshold();
    const waiting = this.state.subnetCallContexts.size > 0;
    if (waiting && this.chainKey.canAnswer(this.state.subnetCallContexts.answerable(), this.#clock.nowNanos())) {
      setImmediate(() => {
        if (!this.#closed) this.scheduler.requestRound();
      });
    }
    if (this.execution.hasQueuedMessages || this.execution.hasPendingWork) {
      this.scheduler.requestRound();
      return;
    }
    const next = this.execution.nextTimerNanos;
    if (this.#timerWakeup) clearTimeout(this.#timerWakeup);
    this.#timerWakeup = null;
    if (next === undefined) return;
    const ms = Math.max(0, Math.min(Number((next - nowNanos()) / 1_000_000n) + 1, 2 ** 31 - 1));
    this.#timerWakeup = setTimeout(() => {
      this.#timerWakeup = null;
      if (!this.#closed) this.scheduler.requestRound();
    }, ms);
    this.#timerWakeup.unref();
  }

  /**
   * Manual rounds (PocketIC's `tick`): no protocol runs in the background, so a round that has
   * signature requests waiting first runs the protocol rounds that make their pre-signatures
   * (pools are made on demand there: n = 1 costs a few milliseconds per pre-signature).
   */
  #runThresholdForRequests(pending: readonly SignWithThresholdContext[], t: bigint): void {
    this.store.transaction(() => {
      for (let i = 0; i < 100 && !this.chainKey.canAnswerAll(pending, t); i++) {
        if (!this.threshold.hasWork(t)) break;
        this.threshold.runRound(t);
      }
    });
  }

  /**
   * Runs threshold protocol rounds in slices of about {@link THRESHOLD_SLICE_MS} between other
   * work while there is any (pools below target, transcripts in creation, a reshare due); asks
   * for an execution round when waiting chain-key requests can be answered.
   */
  #wakeThreshold(): void {
    if (this.#closed || this.#thresholdScheduled || this.#passive) return;
    this.#thresholdScheduled = true;
    setImmediate(() => {
      this.#thresholdScheduled = false;
      if (this.#closed) return;
      const until = performance.now() + THRESHOLD_SLICE_MS;
      const now = this.#clock.nowNanos();
      try {
        this.store.transaction(() => {
          while (this.threshold.hasWork(now) && performance.now() < until) this.threshold.runRound(now);
        });
      } catch (e) {
        console.error('chainkey-replica: a threshold protocol round failed:', e);
      }
      const contexts = this.state.subnetCallContexts;
      if (contexts.size > 0 && this.chainKey.canAnswer(contexts.answerable(), this.#clock.nowNanos())) this.scheduler.requestRound();
      if (this.threshold.hasWork(this.#clock.nowNanos())) this.#wakeThreshold();
      else if (!this.#thresholdWakeup && (contexts.size > 0 || this.#reshareIntervalMs > 0)) {
        // Idle: look again later (a periodic reshare falls due; a stalled request times out).
        this.#thresholdWakeup = setTimeout(() => {
          this.#thresholdWakeup = null;
          if (this.state.subnetCallContexts.size > 0 && this.chainKey.canAnswer(this.state.subnetCallContexts.answerable(), this.#clock.nowNanos())) this.scheduler.requestRound();
          this.#wakeThreshold();
        }, contexts.size > 0 ? 250 : Math.min(this.#reshareIntervalMs, 60_000));
        this.#thresholdWakeup.unref();
      }
    });
  }

  /** A certificate for a canister's certified data (for `ic0.data_certificate_copy` in queries). */
  #dataCertificate(canisterId: Principal): Uint8Array | undefined {
    this.#ensureCertified();
    const c = this.#certified;
    if (!c) return undefined;
    return encodeCertificate({
      tree: witness(c.tree, [['time'], ['canister', canisterId.toUint8Array(), 'certified_data']]),
      signature: c.signature,
    });
  }

  #certify(timeNanos: bigint): void {
    // The hash tree and its root hash, timed together: hashing happens in `reconstruct`, for the
    // nodes this round created (unchanged subtrees keep their cached hashes).
    const [tree, root] = this.profile.time('certification_hash_tree', () => {
      const labeledTree = this.#treeBuilder.build({
        timeNanos,
        subnets: this.routing.subnets,
        rootSubnet: this.rootSubnet,
        rootKeyDer: this.rootKey.publicKeyDer,
        nodeId: Principal.fromUint8Array(this.nodeKey.nodeId),
        nodeKeyDer: this.nodeKey.publicKeyDer,
        canisters: this.state.canisters(),
        certifiedData: (c) => this.execution.certifiedData(c),
        ingressChanges: this.state.takeIngressTreeChanges(),
      });
      const t = buildHashTree(labeledTree);
      return [t, reconstruct(t)] as const;
    });
    const signature = this.profile.time('certification_bls_sign', () => signStateRoot(this.rootKey.secretKey, root));
    this.#certified = { tree, signature, timeNanos };
    this.#height++;
    this.onCertifiedHeight?.(this.#height);
  }

  /** Called with the new height after each certification (the front door's status height). */
  onCertifiedHeight: ((height: number) => void) | undefined;

  /** Metadata sections of a canister's module (for read_state authorization). */
  canisterMetadata(canisterId: Principal): ReturnType<StateTreeBuilder['metadataOf']> | undefined {
    const c = this.state.canister(canisterId);
    return c?.module ? this.#treeBuilder.metadataOf(c.module) : undefined;
  }

  /** Stops taking rounds, waits for the running one, closes the database. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timerWakeup) clearTimeout(this.#timerWakeup);
    if (this.#thresholdWakeup) clearTimeout(this.#thresholdWakeup);
    await this.execution.abortSlicedExecutions();
    await this.scheduler.stop();
    await this.#vetKdWorker?.close();
    await this.#signingWorker?.close();
    if (this.#saveDealt) clearTimeout(this.#saveDealt);
    this.threshold.saveDealtPreSignatures();
    this.store.close();
  }
}

/**
 * Random bytes from node:crypto's CSPRNG (raw_rand, chain-key requests' pseudo-random ids), drawn
 * 4 KiB at a time: one call into OpenSSL per 128 requests instead of one per request.
 * @returns a function giving `n` fresh bytes (larger requests are drawn directly).
 */
function pooledRandomBytes(): (n: number) => Uint8Array {
  let pool = new Uint8Array();
  let at = 0;
  return (n) => {
    if (n > RANDOM_POOL_BYTES / 4) return new Uint8Array(randomBytes(n));
    if (at + n > pool.length) {
      pool = new Uint8Array(randomBytes(RANDOM_POOL_BYTES));
      at = 0;
    }
    at += n;
    return pool.slice(at - n, at);
  };
}
