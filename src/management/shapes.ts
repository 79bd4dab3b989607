/**
 * TypeScript shapes of the arguments and replies of the management methods this replica serves,
 * as `@icp-sdk/core/candid` gives them for the IDL types of ic-did.ts: `opt T` is `[] | [T]`,
 * `nat`/`int`/`nat64`/`int64` are bigint, `nat32`/`int32` and floats are number, `blob` decodes
 * to a Uint8Array, `principal` is a `Principal`, variants are single-key objects
 * (`{ install: null }`), `null`/`reserved` fields are `null`. Methods without shapes here decode
 * to `unknown[]`.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { CanisterSettings as StoredCanisterSettings, LogVisibility } from '../types/canister-settings.ts';
import type { ManagementMethodName } from './ic-did.ts';

/** Candid `opt T`: `[]` for null, `[v]` for a value. */
export type Opt<T> = [] | [T];
/** Candid `blob` (`vec nat8`). */
export type Blob = Uint8Array;

/** `log_visibility`. */
export type { LogVisibility } from '../types/canister-settings.ts';

/** `environment_variable`. */
export interface EnvironmentVariable { name: string; value: string }

/** `canister_settings`: every field optional; `[]` keeps the current value. */
export interface CanisterSettings {
  controllers: Opt<Principal[]>;
  compute_allocation: Opt<bigint>;
  memory_allocation: Opt<bigint>;
  freezing_threshold: Opt<bigint>;
  reserved_cycles_limit: Opt<bigint>;
  log_visibility: Opt<LogVisibility>;
  log_memory_limit: Opt<bigint>;
  snapshot_visibility: Opt<LogVisibility>;
  status_visibility: Opt<LogVisibility>;
  minimum_incoming_canister_call_cycles: Opt<bigint>;
  wasm_memory_limit: Opt<bigint>;
  wasm_memory_threshold: Opt<bigint>;
  environment_variables: Opt<EnvironmentVariable[]>;
}

/**
 * `definite_canister_settings` (as reported by canister_status): the stored settings
 * (store/canister-repository.ts, the one definition of their shape) plus the controllers.
 */
export interface DefiniteCanisterSettings extends StoredCanisterSettings {
  controllers: Principal[];
}

/** `canister_install_mode`. */
export type CanisterInstallMode =
  | { install: null }
  | { reinstall: null }
  | {
      upgrade: Opt<{
        skip_pre_upgrade: Opt<boolean>;
        wasm_memory_persistence: Opt<{ keep: null } | { replace: null }>;
      }>;
    };

/** A record with just `canister_id` (start/stop/status/delete/deposit args, create results). */
export interface CanisterIdRecord { canister_id: Principal }

/** `create_canister_args`. */
export interface CreateCanisterArgs {
  settings: Opt<CanisterSettings>;
  sender_canister_version: Opt<bigint>;
}

/** `update_settings_args`. */
export interface UpdateSettingsArgs {
  canister_id: Principal;
  settings: CanisterSettings;
  sender_canister_version: Opt<bigint>;
}

/** `install_code_args`. */
export interface InstallCodeArgs {
  mode: CanisterInstallMode;
  canister_id: Principal;
  wasm_module: Blob;
  arg: Blob;
  sender_canister_version: Opt<bigint>;
}

/** `uninstall_code_args`. */
export interface UninstallCodeArgs { canister_id: Principal; sender_canister_version: Opt<bigint> }

/** `canister_status_result.status`. */
export type CanisterStatusType = { running: null } | { stopping: null } | { stopped: null };

/** `canister_status_result`. */
export interface CanisterStatusResult {
  status: CanisterStatusType;
  ready_for_migration: boolean;
  version: bigint;
  settings: DefiniteCanisterSettings;
  module_hash: Opt<Blob>;
  memory_size: bigint;
  memory_metrics: {
    wasm_memory_size: bigint;
    stable_memory_size: bigint;
    global_memory_size: bigint;
    wasm_binary_size: bigint;
    custom_sections_size: bigint;
    canister_history_size: bigint;
    wasm_chunk_store_size: bigint;
    snapshots_size: bigint;
    log_memory_store_size: bigint;
  };
  cycles: bigint;
  reserved_cycles: bigint;
  idle_cycles_burned_per_day: bigint;
  query_stats: {
    num_calls_total: bigint;
    num_instructions_total: bigint;
    request_payload_bytes_total: bigint;
    response_payload_bytes_total: bigint;
  };
}

/** `provisional_create_canister_with_cycles_args`. */
export interface ProvisionalCreateCanisterWithCyclesArgs {
  amount: Opt<bigint>;
  settings: Opt<CanisterSettings>;
  specified_id: Opt<Principal>;
  sender_canister_version: Opt<bigint>;
}

/** `provisional_top_up_canister_args`. */
export interface ProvisionalTopUpCanisterArgs { canister_id: Principal; amount: bigint }

/** `ecdsa_curve`. */
export type EcdsaCurve = { secp256k1: null };
/** `schnorr_algorithm`. */
export type SchnorrAlgorithm = { bip340secp256k1: null } | { ed25519: null };
/** `vetkd_curve`. */
export type VetkdCurve = { bls12_381_g2: null };

/** ECDSA `key_id` record. */
export interface EcdsaKeyId { curve: EcdsaCurve; name: string }
/** Schnorr `key_id` record. */
export interface SchnorrKeyId { algorithm: SchnorrAlgorithm; name: string }
/** vetKD `key_id` record. */
export interface VetkdKeyId { curve: VetkdCurve; name: string }

/** `ecdsa_public_key_args`; `canister_id` defaults to the caller. */
export interface EcdsaPublicKeyArgs {
  canister_id: Opt<Principal>;
  derivation_path: Blob[];
  key_id: EcdsaKeyId;
}
/** `ecdsa_public_key_result`: SEC1 compressed key (33 bytes) and chain code (32 bytes). */
export interface EcdsaPublicKeyResult { public_key: Blob; chain_code: Blob }
/** `sign_with_ecdsa_args`; `message_hash` must be 32 bytes (checked by the handler). */
export interface SignWithEcdsaArgs {
  message_hash: Blob;
  derivation_path: Blob[];
  key_id: EcdsaKeyId;
}
/** `sign_with_ecdsa_result`: r‖s, 64 bytes. */
export interface SignWithEcdsaResult { signature: Blob }

/** `schnorr_public_key_args`; `canister_id` defaults to the caller. */
export interface SchnorrPublicKeyArgs {
  canister_id: Opt<Principal>;
  derivation_path: Blob[];
  key_id: SchnorrKeyId;
}
/** `schnorr_public_key_result`. */
export interface SchnorrPublicKeyResult { public_key: Blob; chain_code: Blob }
/** `schnorr_aux`. */
export type SchnorrAux = { bip341: { merkle_root_hash: Blob } };
/** `sign_with_schnorr_args`. */
export interface SignWithSchnorrArgs {
  message: Blob;
  derivation_path: Blob[];
  key_id: SchnorrKeyId;
  aux: Opt<SchnorrAux>;
}
/** `sign_with_schnorr_result`: 64-byte BIP340 or Ed25519 signature. */
export interface SignWithSchnorrResult { signature: Blob }

/** `vetkd_public_key_args`; `canister_id` defaults to the caller. */
export interface VetkdPublicKeyArgs {
  canister_id: Opt<Principal>;
  context: Blob;
  key_id: VetkdKeyId;
}
/** `vetkd_public_key_result`: G2 compressed, 96 bytes. */
export interface VetkdPublicKeyResult { public_key: Blob }
/** `vetkd_derive_key_args`; `transport_public_key` is G1 compressed (48 bytes). */
export interface VetkdDeriveKeyArgs {
  input: Blob;
  context: Blob;
  transport_public_key: Blob;
  key_id: VetkdKeyId;
}
/** `vetkd_derive_key_result`: E1‖E2‖E3, 192 bytes. */
export interface VetkdDeriveKeyResult { encrypted_key: Blob }

/** `chunk_hash`: SHA-256 of a chunk in the wasm chunk store (32 bytes). */
export interface ChunkHash { hash: Blob }

/** `upload_chunk_args`. */
export interface UploadChunkArgs { canister_id: Principal; chunk: Blob }

/** `install_chunked_code_args`. */
export interface InstallChunkedCodeArgs {
  mode: CanisterInstallMode;
  target_canister: Principal;
  store_canister: Opt<Principal>;
  chunk_hashes_list: ChunkHash[];
  wasm_module_hash: Blob;
  arg: Blob;
  sender_canister_version: Opt<bigint>;
}

/** `fetch_canister_logs_args`. */
export interface FetchCanisterLogsArgs {
  canister_id: Principal;
  filter: Opt<{ by_idx: { start: bigint; end: bigint } } | { by_timestamp_nanos: { start: bigint; end: bigint } }>;
}

/** `canister_log_record`. */
export interface CanisterLogRecord { idx: bigint; timestamp_nanos: bigint; content: Blob }

/** `snapshot`. */
export interface Snapshot { id: Blob; taken_at_timestamp: bigint; total_size: bigint }

/** `take_canister_snapshot_args`. */
export interface TakeCanisterSnapshotArgs {
  canister_id: Principal;
  replace_snapshot: Opt<Blob>;
  uninstall_code: Opt<boolean>;
  sender_canister_version: Opt<bigint>;
}

/** `load_canister_snapshot_args`. */
export interface LoadCanisterSnapshotArgs { canister_id: Principal; snapshot_id: Blob; sender_canister_version: Opt<bigint> }

/** `delete_canister_snapshot_args`. */
export interface DeleteCanisterSnapshotArgs { canister_id: Principal; snapshot_id: Blob }

/** A global in snapshot metadata. */
export type SnapshotGlobal = { i32: number } | { i64: bigint } | { f32: number } | { f64: number } | { v128: bigint };
/** A byte range of a snapshot region. */
export interface SnapshotRange { offset: bigint; size: bigint }

/** `read_canister_snapshot_metadata_args`, `read_canister_snapshot_data_args`. */
export interface ReadCanisterSnapshotDataArgs {
  canister_id: Principal;
  snapshot_id: Blob;
  kind: { wasm_module: SnapshotRange } | { wasm_memory: SnapshotRange } | { stable_memory: SnapshotRange } | { wasm_chunk: { hash: Blob } };
}

/** `read_canister_snapshot_metadata_response`. */
export interface ReadCanisterSnapshotMetadataResponse {
  source: Opt<{ taken_from_canister: null } | { metadata_upload: null }>;
  taken_at_timestamp: bigint;
  wasm_module_size: bigint;
  globals: Opt<SnapshotGlobal>[];
  wasm_memory_size: bigint;
  stable_memory_size: bigint;
  wasm_chunk_store: ChunkHash[];
  canister_version: bigint;
  certified_data: Blob;
  global_timer: Opt<{ inactive: null } | { active: bigint }>;
  on_low_wasm_memory_hook_status: Opt<{ condition_not_satisfied: null } | { ready: null } | { executed: null }>;
}

/** `upload_canister_snapshot_metadata_args`. */
export interface UploadCanisterSnapshotMetadataArgs {
  canister_id: Principal;
  replace_snapshot: Opt<Blob>;
  wasm_module_size: bigint;
  globals: SnapshotGlobal[];
  wasm_memory_size: bigint;
  stable_memory_size: bigint;
  certified_data: Blob;
  global_timer: Opt<{ inactive: null } | { active: bigint }>;
  on_low_wasm_memory_hook_status: Opt<{ condition_not_satisfied: null } | { ready: null } | { executed: null }>;
}

/** `upload_canister_snapshot_data_args`. */
export interface UploadCanisterSnapshotDataArgs {
  canister_id: Principal;
  snapshot_id: Blob;
  kind: { wasm_module: { offset: bigint } } | { wasm_memory: { offset: bigint } } | { stable_memory: { offset: bigint } } | { wasm_chunk: null };
  chunk: Blob;
}

/** Argument tuples of the methods this replica serves. */
export interface ImplementedManagementArgs {
  provisional_create_canister_with_cycles: [ProvisionalCreateCanisterWithCyclesArgs];
  provisional_top_up_canister: [ProvisionalTopUpCanisterArgs];
  create_canister: [CreateCanisterArgs];
  install_code: [InstallCodeArgs];
  uninstall_code: [UninstallCodeArgs];
  update_settings: [UpdateSettingsArgs];
  start_canister: [CanisterIdRecord];
  stop_canister: [CanisterIdRecord];
  canister_status: [CanisterIdRecord];
  delete_canister: [CanisterIdRecord];
  deposit_cycles: [CanisterIdRecord];
  raw_rand: [];
  ecdsa_public_key: [EcdsaPublicKeyArgs];
  sign_with_ecdsa: [SignWithEcdsaArgs];
  schnorr_public_key: [SchnorrPublicKeyArgs];
  sign_with_schnorr: [SignWithSchnorrArgs];
  vetkd_public_key: [VetkdPublicKeyArgs];
  vetkd_derive_key: [VetkdDeriveKeyArgs];
  upload_chunk: [UploadChunkArgs];
  stored_chunks: [CanisterIdRecord];
  clear_chunk_store: [CanisterIdRecord];
  install_chunked_code: [InstallChunkedCodeArgs];
  fetch_canister_logs: [FetchCanisterLogsArgs];
  take_canister_snapshot: [TakeCanisterSnapshotArgs];
  load_canister_snapshot: [LoadCanisterSnapshotArgs];
  list_canister_snapshots: [CanisterIdRecord];
  delete_canister_snapshot: [DeleteCanisterSnapshotArgs];
  read_canister_snapshot_metadata: [{ canister_id: Principal; snapshot_id: Blob }];
  read_canister_snapshot_data: [ReadCanisterSnapshotDataArgs];
  upload_canister_snapshot_metadata: [UploadCanisterSnapshotMetadataArgs];
  upload_canister_snapshot_data: [UploadCanisterSnapshotDataArgs];
}

/** Result tuples of the methods this replica serves (`()` is `[]`). */
export interface ImplementedManagementReplies {
  provisional_create_canister_with_cycles: [CanisterIdRecord];
  provisional_top_up_canister: [];
  create_canister: [CanisterIdRecord];
  install_code: [];
  uninstall_code: [];
  update_settings: [];
  start_canister: [];
  stop_canister: [];
  canister_status: [CanisterStatusResult];
  delete_canister: [];
  deposit_cycles: [];
  raw_rand: [Blob];
  ecdsa_public_key: [EcdsaPublicKeyResult];
  sign_with_ecdsa: [SignWithEcdsaResult];
  schnorr_public_key: [SchnorrPublicKeyResult];
  sign_with_schnorr: [SignWithSchnorrResult];
  vetkd_public_key: [VetkdPublicKeyResult];
  vetkd_derive_key: [VetkdDeriveKeyResult];
  upload_chunk: [ChunkHash];
  stored_chunks: [ChunkHash[]];
  clear_chunk_store: [];
  install_chunked_code: [];
  fetch_canister_logs: [{ canister_log_records: CanisterLogRecord[] }];
  take_canister_snapshot: [Snapshot];
  load_canister_snapshot: [];
  list_canister_snapshots: [Snapshot[]];
  delete_canister_snapshot: [];
  read_canister_snapshot_metadata: [ReadCanisterSnapshotMetadataResponse];
  read_canister_snapshot_data: [{ chunk: Blob }];
  upload_canister_snapshot_metadata: [{ snapshot_id: Blob }];
  upload_canister_snapshot_data: [];
}

/** Wire name of a method with TypeScript shapes above. */
export type ImplementedManagementMethod = keyof ImplementedManagementArgs &
  ManagementMethodName;

/** Decoded argument tuple of method `M` (`unknown[]` for methods without shapes yet). */
export type ManagementArgs<M extends ManagementMethodName> =
  M extends keyof ImplementedManagementArgs ? ImplementedManagementArgs[M] : unknown[];

/** Result tuple of method `M` (`unknown[]` for methods without shapes yet). */
export type ManagementResult<M extends ManagementMethodName> =
  M extends keyof ImplementedManagementReplies ? ImplementedManagementReplies[M] : unknown[];
