/**
 * The management canister's (`aaaaa-aa`) Candid interface as `IDL` values: every type and every
 * method of `candid/ic.did` (the interface spec's ic.did: dfinity/portal at 0484f2cf merged with
 * the 2026 spec and icp-cli's settings fields; see the file's header), so any management call can be decoded (shapes.ts has the TypeScript values of the
 * methods this replica serves, codec.ts the encoding).
 *
 * Over 500 lines on purpose: it mirrors ic.did type by type, in file order, and is checked
 * against it as a whole (test/management/interface.test.ts); splitting it would split the file it
 * mirrors.
 *
 * `derivation_path` is decoded as an unbounded `vec blob`: the replica's 255-element bound
 * (`DerivationPath = BoundedVec<255, …>` in dfinity/ic `rs/types/management_canister_types`) is a
 * separate check, not a decoding rule here.
 */
import { IDL } from '@icp-sdk/core/candid';
import type { GenericIdlFuncArgs, GenericIdlFuncRets } from '@icp-sdk/core/candid';

// ---------------------------------------------------------------------------------------------
// IDL types, one per `type … = …;` line of ic.did, in file order, named verbatim.
// ---------------------------------------------------------------------------------------------

const blob = IDL.Vec(IDL.Nat8);

const canister_id = IDL.Principal;
const wasm_module = blob;
const snapshot_id = blob;

const log_visibility = IDL.Variant({
  controllers: IDL.Null,
  public: IDL.Null,
  allowed_viewers: IDL.Vec(IDL.Principal),
});

const snapshot_visibility = IDL.Variant({
  controllers: IDL.Null,
  public: IDL.Null,
  allowed_viewers: IDL.Vec(IDL.Principal),
});

const status_visibility = IDL.Variant({
  controllers: IDL.Null,
  public: IDL.Null,
  allowed_viewers: IDL.Vec(IDL.Principal),
});

const environment_variable = IDL.Record({ name: IDL.Text, value: IDL.Text });

const canister_settings = IDL.Record({
  controllers: IDL.Opt(IDL.Vec(IDL.Principal)),
  compute_allocation: IDL.Opt(IDL.Nat),
  memory_allocation: IDL.Opt(IDL.Nat),
  freezing_threshold: IDL.Opt(IDL.Nat),
  reserved_cycles_limit: IDL.Opt(IDL.Nat),
  log_visibility: IDL.Opt(log_visibility),
  log_memory_limit: IDL.Opt(IDL.Nat),
  snapshot_visibility: IDL.Opt(snapshot_visibility),
  status_visibility: IDL.Opt(status_visibility),
  minimum_incoming_canister_call_cycles: IDL.Opt(IDL.Nat),
  wasm_memory_limit: IDL.Opt(IDL.Nat),
  wasm_memory_threshold: IDL.Opt(IDL.Nat),
  environment_variables: IDL.Opt(IDL.Vec(environment_variable)),
});

const definite_canister_settings = IDL.Record({
  controllers: IDL.Vec(IDL.Principal),
  compute_allocation: IDL.Nat,
  memory_allocation: IDL.Nat,
  freezing_threshold: IDL.Nat,
  reserved_cycles_limit: IDL.Nat,
  log_visibility: log_visibility,
  log_memory_limit: IDL.Nat,
  snapshot_visibility: snapshot_visibility,
  status_visibility: status_visibility,
  minimum_incoming_canister_call_cycles: IDL.Nat,
  wasm_memory_limit: IDL.Nat,
  wasm_memory_threshold: IDL.Nat,
  environment_variables: IDL.Vec(environment_variable),
});

const change_origin = IDL.Variant({
  from_user: IDL.Record({ user_id: IDL.Principal }),
  from_canister: IDL.Record({ canister_id: IDL.Principal, canister_version: IDL.Opt(IDL.Nat64) }),
});

const change_details = IDL.Variant({
  creation: IDL.Record({
    controllers: IDL.Vec(IDL.Principal),
    environment_variables_hash: IDL.Opt(blob),
  }),
  code_uninstall: IDL.Null,
  code_deployment: IDL.Record({
    mode: IDL.Variant({ install: IDL.Null, reinstall: IDL.Null, upgrade: IDL.Null }),
    module_hash: blob,
  }),
  load_snapshot: IDL.Record({
    from_canister_id: IDL.Opt(IDL.Principal),
    canister_version: IDL.Nat64,
    snapshot_id: snapshot_id,
    taken_at_timestamp: IDL.Nat64,
    source: IDL.Variant({ taken_from_canister: IDL.Reserved, metadata_upload: IDL.Reserved }),
  }),
  controllers_change: IDL.Record({ controllers: IDL.Vec(IDL.Principal) }),
  rename_canister: IDL.Record({
    canister_id: IDL.Principal,
    total_num_changes: IDL.Nat64,
    rename_to: IDL.Record({ canister_id: IDL.Principal, version: IDL.Nat64, total_num_changes: IDL.Nat64 }),
    requested_by: IDL.Principal,
  }),
});

const change = IDL.Record({
  timestamp_nanos: IDL.Nat64,
  canister_version: IDL.Nat64,
  origin: change_origin,
  details: IDL.Opt(change_details),
});

const chunk_hash = IDL.Record({ hash: blob });

const http_header = IDL.Record({ name: IDL.Text, value: IDL.Text });

const http_request_result = IDL.Record({
  status: IDL.Nat,
  headers: IDL.Vec(http_header),
  body: blob,
});

const usage = IDL.Opt(IDL.Variant({ used: IDL.Nat64, exceeded: IDL.Reserved }));
const http_request_resource_report = IDL.Record({
  downloaded_bytes: usage,
  request_time_ms: usage,
  transform_instructions: usage,
  transformed_response_size: usage,
});

const flexible_http_request_err = IDL.Record({
  cause: IDL.Opt(
    IDL.Variant({
      global_err: IDL.Opt(
        IDL.Variant({
          invalid_parameters: IDL.Reserved,
          timeout: IDL.Reserved,
          out_of_cycles: IDL.Reserved,
          responses_too_large: IDL.Reserved,
        }),
      ),
      local_errs: IDL.Vec(
        IDL.Record({
          node: IDL.Principal,
          cause: IDL.Opt(
            IDL.Variant({
              limit_exceeded: IDL.Opt(
                IDL.Variant({
                  request_time: IDL.Reserved,
                  response_bytes: IDL.Reserved,
                  transform_instructions: IDL.Reserved,
                  transformed_response_bytes: IDL.Reserved,
                }),
              ),
              out_of_cycles: IDL.Reserved,
            }),
          ),
        }),
      ),
    }),
  ),
  resource_reports: IDL.Vec(IDL.Record({ node: IDL.Principal, report: http_request_resource_report })),
  message: IDL.Text,
});

const flexible_http_request_result = IDL.Record({
  ok: IDL.Vec(http_request_result),
  err: flexible_http_request_err,
});

const ecdsa_curve = IDL.Variant({ secp256k1: IDL.Null });
const vetkd_curve = IDL.Variant({ bls12_381_g2: IDL.Null });
const schnorr_algorithm = IDL.Variant({ bip340secp256k1: IDL.Null, ed25519: IDL.Null });

const satoshi = IDL.Nat64;
const bitcoin_network = IDL.Variant({ mainnet: IDL.Null, testnet: IDL.Null });
const bitcoin_address = IDL.Text;
const bitcoin_block_hash = blob;
const bitcoin_block_header = blob;
const millisatoshi_per_byte = IDL.Nat64;
const bitcoin_block_height = IDL.Nat32;

const outpoint = IDL.Record({ txid: blob, vout: IDL.Nat32 });
const utxo = IDL.Record({ outpoint: outpoint, value: satoshi, height: IDL.Nat32 });

const bitcoin_get_utxos_args = IDL.Record({
  address: bitcoin_address,
  network: bitcoin_network,
  filter: IDL.Opt(IDL.Variant({ min_confirmations: IDL.Nat32, page: blob })),
});
const bitcoin_get_utxos_result = IDL.Record({
  utxos: IDL.Vec(utxo),
  tip_block_hash: bitcoin_block_hash,
  tip_height: bitcoin_block_height,
  next_page: IDL.Opt(blob),
});
const bitcoin_get_balance_args = IDL.Record({
  address: bitcoin_address,
  network: bitcoin_network,
  min_confirmations: IDL.Opt(IDL.Nat32),
});
const bitcoin_get_balance_result = satoshi;
const bitcoin_get_current_fee_percentiles_args = IDL.Record({ network: bitcoin_network });
const bitcoin_get_current_fee_percentiles_result = IDL.Vec(millisatoshi_per_byte);
const bitcoin_send_transaction_args = IDL.Record({ transaction: blob, network: bitcoin_network });
const bitcoin_get_block_headers_args = IDL.Record({
  start_height: bitcoin_block_height,
  end_height: IDL.Opt(bitcoin_block_height),
  network: bitcoin_network,
});
const bitcoin_get_block_headers_result = IDL.Record({
  tip_height: bitcoin_block_height,
  block_headers: IDL.Vec(bitcoin_block_header),
});

const node_metrics = IDL.Record({
  node_id: IDL.Principal,
  num_blocks_proposed_total: IDL.Nat64,
  num_block_failures_total: IDL.Nat64,
});

const create_canister_args = IDL.Record({
  settings: IDL.Opt(canister_settings),
  sender_canister_version: IDL.Opt(IDL.Nat64),
});
const create_canister_result = IDL.Record({ canister_id: canister_id });

const update_settings_args = IDL.Record({
  canister_id: IDL.Principal,
  settings: canister_settings,
  sender_canister_version: IDL.Opt(IDL.Nat64),
});

const upload_chunk_args = IDL.Record({ canister_id: IDL.Principal, chunk: blob });
const clear_chunk_store_args = IDL.Record({ canister_id: canister_id });
const stored_chunks_args = IDL.Record({ canister_id: canister_id });

const canister_install_mode = IDL.Variant({
  install: IDL.Null,
  reinstall: IDL.Null,
  upgrade: IDL.Opt(
    IDL.Record({
      skip_pre_upgrade: IDL.Opt(IDL.Bool),
      wasm_memory_persistence: IDL.Opt(IDL.Variant({ keep: IDL.Null, replace: IDL.Null })),
    }),
  ),
});

const install_code_args = IDL.Record({
  mode: canister_install_mode,
  canister_id: canister_id,
  wasm_module: wasm_module,
  arg: blob,
  sender_canister_version: IDL.Opt(IDL.Nat64),
});

const install_chunked_code_args = IDL.Record({
  mode: canister_install_mode,
  target_canister: canister_id,
  store_canister: IDL.Opt(canister_id),
  chunk_hashes_list: IDL.Vec(chunk_hash),
  wasm_module_hash: blob,
  arg: blob,
  sender_canister_version: IDL.Opt(IDL.Nat64),
});

const uninstall_code_args = IDL.Record({
  canister_id: canister_id,
  sender_canister_version: IDL.Opt(IDL.Nat64),
});
const start_canister_args = IDL.Record({ canister_id: canister_id });
const stop_canister_args = IDL.Record({ canister_id: canister_id });
const canister_status_args = IDL.Record({ canister_id: canister_id });

const canister_status_result = IDL.Record({
  status: IDL.Variant({ running: IDL.Null, stopping: IDL.Null, stopped: IDL.Null }),
  ready_for_migration: IDL.Bool,
  version: IDL.Nat64,
  settings: definite_canister_settings,
  module_hash: IDL.Opt(blob),
  memory_size: IDL.Nat,
  memory_metrics: IDL.Record({
    wasm_memory_size: IDL.Nat,
    stable_memory_size: IDL.Nat,
    global_memory_size: IDL.Nat,
    wasm_binary_size: IDL.Nat,
    custom_sections_size: IDL.Nat,
    canister_history_size: IDL.Nat,
    wasm_chunk_store_size: IDL.Nat,
    snapshots_size: IDL.Nat,
    log_memory_store_size: IDL.Nat,
  }),
  cycles: IDL.Nat,
  reserved_cycles: IDL.Nat,
  idle_cycles_burned_per_day: IDL.Nat,
  query_stats: IDL.Record({
    num_calls_total: IDL.Nat,
    num_instructions_total: IDL.Nat,
    request_payload_bytes_total: IDL.Nat,
    response_payload_bytes_total: IDL.Nat,
  }),
});

const canister_info_args = IDL.Record({
  canister_id: canister_id,
  num_requested_changes: IDL.Opt(IDL.Nat64),
});
const canister_info_result = IDL.Record({
  total_num_changes: IDL.Nat64,
  recent_changes: IDL.Vec(change),
  module_hash: IDL.Opt(blob),
  controllers: IDL.Vec(IDL.Principal),
});

const canister_metadata_args = IDL.Record({ canister_id: canister_id, name: IDL.Text });
const canister_metadata_result = IDL.Record({ value: blob });

const delete_canister_args = IDL.Record({ canister_id: canister_id });
const deposit_cycles_args = IDL.Record({ canister_id: canister_id });

const http_method = IDL.Variant({ get: IDL.Null, head: IDL.Null, post: IDL.Null });
const http_transform = IDL.Opt(
  IDL.Record({
    function: IDL.Func(
      [IDL.Record({ response: http_request_result, context: blob })],
      [http_request_result],
      ['query'],
    ),
    context: blob,
  }),
);

const http_request_args = IDL.Record({
  url: IDL.Text,
  max_response_bytes: IDL.Opt(IDL.Nat64),
  method: http_method,
  headers: IDL.Vec(http_header),
  body: IDL.Opt(blob),
  transform: http_transform,
  is_replicated: IDL.Opt(IDL.Bool),
  pricing_version: IDL.Opt(IDL.Nat32),
});

const flexible_http_request_args = IDL.Record({
  url: IDL.Text,
  method: http_method,
  headers: IDL.Vec(http_header),
  body: IDL.Opt(blob),
  transform: http_transform,
  node_counts: IDL.Opt(
    IDL.Record({
      min_responses: IDL.Nat64,
      max_responses: IDL.Nat64,
      total_requests: IDL.Nat64,
    }),
  ),
});

const ecdsa_key_id = IDL.Record({ curve: ecdsa_curve, name: IDL.Text });
const schnorr_key_id = IDL.Record({ algorithm: schnorr_algorithm, name: IDL.Text });
const vetkd_key_id = IDL.Record({ curve: vetkd_curve, name: IDL.Text });

const ecdsa_public_key_args = IDL.Record({
  canister_id: IDL.Opt(canister_id),
  derivation_path: IDL.Vec(blob),
  key_id: ecdsa_key_id,
});
const ecdsa_public_key_result = IDL.Record({ public_key: blob, chain_code: blob });

const sign_with_ecdsa_args = IDL.Record({
  message_hash: blob,
  derivation_path: IDL.Vec(blob),
  key_id: ecdsa_key_id,
});
const sign_with_ecdsa_result = IDL.Record({ signature: blob });

const schnorr_public_key_args = IDL.Record({
  canister_id: IDL.Opt(canister_id),
  derivation_path: IDL.Vec(blob),
  key_id: schnorr_key_id,
});
const schnorr_public_key_result = IDL.Record({ public_key: blob, chain_code: blob });

const schnorr_aux = IDL.Variant({ bip341: IDL.Record({ merkle_root_hash: blob }) });

const sign_with_schnorr_args = IDL.Record({
  message: blob,
  derivation_path: IDL.Vec(blob),
  key_id: schnorr_key_id,
  aux: IDL.Opt(schnorr_aux),
});
const sign_with_schnorr_result = IDL.Record({ signature: blob });

const vetkd_public_key_args = IDL.Record({
  canister_id: IDL.Opt(canister_id),
  context: blob,
  key_id: vetkd_key_id,
});
const vetkd_public_key_result = IDL.Record({ public_key: blob });

const vetkd_derive_key_args = IDL.Record({
  input: blob,
  context: blob,
  transport_public_key: blob,
  key_id: vetkd_key_id,
});
const vetkd_derive_key_result = IDL.Record({ encrypted_key: blob });

const node_metrics_history_args = IDL.Record({
  subnet_id: IDL.Principal,
  start_at_timestamp_nanos: IDL.Nat64,
});
const node_metrics_history_result = IDL.Vec(
  IDL.Record({ timestamp_nanos: IDL.Nat64, node_metrics: IDL.Vec(node_metrics) }),
);

const subnet_info_args = IDL.Record({ subnet_id: IDL.Principal });
const subnet_info_result = IDL.Record({ replica_version: IDL.Text, registry_version: IDL.Nat64 });

const provisional_create_canister_with_cycles_args = IDL.Record({
  amount: IDL.Opt(IDL.Nat),
  settings: IDL.Opt(canister_settings),
  specified_id: IDL.Opt(canister_id),
  sender_canister_version: IDL.Opt(IDL.Nat64),
});
const provisional_create_canister_with_cycles_result = IDL.Record({ canister_id: canister_id });
const provisional_top_up_canister_args = IDL.Record({ canister_id: canister_id, amount: IDL.Nat });

const raw_rand_result = blob;
const stored_chunks_result = IDL.Vec(chunk_hash);
const upload_chunk_result = chunk_hash;

const snapshot = IDL.Record({
  id: snapshot_id,
  taken_at_timestamp: IDL.Nat64,
  total_size: IDL.Nat64,
});
const take_canister_snapshot_args = IDL.Record({
  canister_id: canister_id,
  replace_snapshot: IDL.Opt(snapshot_id),
  uninstall_code: IDL.Opt(IDL.Bool),
  sender_canister_version: IDL.Opt(IDL.Nat64),
});
const take_canister_snapshot_result = snapshot;
const load_canister_snapshot_args = IDL.Record({
  canister_id: canister_id,
  snapshot_id: snapshot_id,
  sender_canister_version: IDL.Opt(IDL.Nat64),
});
const list_canister_snapshots_args = IDL.Record({ canister_id: canister_id });
const list_canister_snapshots_result = IDL.Vec(snapshot);
const delete_canister_snapshot_args = IDL.Record({
  canister_id: canister_id,
  snapshot_id: snapshot_id,
});

const fetch_canister_logs_args = IDL.Record({
  canister_id: canister_id,
  filter: IDL.Opt(
    IDL.Variant({
      by_idx: IDL.Record({ start: IDL.Nat64, end: IDL.Nat64 }),
      by_timestamp_nanos: IDL.Record({ start: IDL.Nat64, end: IDL.Nat64 }),
    }),
  ),
});
const canister_log_record = IDL.Record({
  idx: IDL.Nat64,
  timestamp_nanos: IDL.Nat64,
  content: blob,
});
const fetch_canister_logs_result = IDL.Record({ canister_log_records: IDL.Vec(canister_log_record) });

const read_canister_snapshot_metadata_args = IDL.Record({
  canister_id: canister_id,
  snapshot_id: snapshot_id,
});

const snapshot_globals = IDL.Vec(
  IDL.Opt(
    IDL.Variant({
      i32: IDL.Int32,
      i64: IDL.Int64,
      f32: IDL.Float32,
      f64: IDL.Float64,
      v128: IDL.Nat,
    }),
  ),
);
const snapshot_globals_upload = IDL.Vec(
  IDL.Variant({
    i32: IDL.Int32,
    i64: IDL.Int64,
    f32: IDL.Float32,
    f64: IDL.Float64,
    v128: IDL.Nat,
  }),
);
const snapshot_global_timer = IDL.Opt(IDL.Variant({ inactive: IDL.Null, active: IDL.Nat64 }));
const snapshot_low_wasm_memory_hook_status = IDL.Opt(
  IDL.Variant({ condition_not_satisfied: IDL.Null, ready: IDL.Null, executed: IDL.Null }),
);

const read_canister_snapshot_metadata_response = IDL.Record({
  source: IDL.Opt(IDL.Variant({ taken_from_canister: IDL.Reserved, metadata_upload: IDL.Reserved })),
  taken_at_timestamp: IDL.Nat64,
  wasm_module_size: IDL.Nat64,
  globals: snapshot_globals,
  wasm_memory_size: IDL.Nat64,
  stable_memory_size: IDL.Nat64,
  wasm_chunk_store: IDL.Vec(IDL.Record({ hash: blob })),
  canister_version: IDL.Nat64,
  certified_data: blob,
  global_timer: snapshot_global_timer,
  on_low_wasm_memory_hook_status: snapshot_low_wasm_memory_hook_status,
});

const read_canister_snapshot_data_args = IDL.Record({
  canister_id: canister_id,
  snapshot_id: snapshot_id,
  kind: IDL.Variant({
    wasm_module: IDL.Record({ offset: IDL.Nat64, size: IDL.Nat64 }),
    wasm_memory: IDL.Record({ offset: IDL.Nat64, size: IDL.Nat64 }),
    stable_memory: IDL.Record({ offset: IDL.Nat64, size: IDL.Nat64 }),
    wasm_chunk: IDL.Record({ hash: blob }),
  }),
});
const read_canister_snapshot_data_response = IDL.Record({ chunk: blob });

const upload_canister_snapshot_metadata_args = IDL.Record({
  canister_id: canister_id,
  replace_snapshot: IDL.Opt(snapshot_id),
  wasm_module_size: IDL.Nat64,
  globals: snapshot_globals_upload,
  wasm_memory_size: IDL.Nat64,
  stable_memory_size: IDL.Nat64,
  certified_data: blob,
  global_timer: snapshot_global_timer,
  on_low_wasm_memory_hook_status: snapshot_low_wasm_memory_hook_status,
});
const upload_canister_snapshot_metadata_response = IDL.Record({ snapshot_id: snapshot_id });

const upload_canister_snapshot_data_args = IDL.Record({
  canister_id: canister_id,
  snapshot_id: snapshot_id,
  kind: IDL.Variant({
    wasm_module: IDL.Record({ offset: IDL.Nat64 }),
    wasm_memory: IDL.Record({ offset: IDL.Nat64 }),
    stable_memory: IDL.Record({ offset: IDL.Nat64 }),
    wasm_chunk: IDL.Null,
  }),
  chunk: blob,
});

/**
 * Every named type of ic.did, keyed by its name in ic.did (verbatim), as an `IDL.Type`.
 * Anonymous helpers above (`blob`, key ids, snapshot globals) are inlined in ic.did.
 */
export const managementTypes = {
  canister_id, wasm_module, snapshot_id, log_visibility, snapshot_visibility, status_visibility,
  environment_variable, canister_settings,
  definite_canister_settings, change_origin, change_details, change, chunk_hash, http_header,
  http_request_result, http_request_resource_report, flexible_http_request_err,
  flexible_http_request_result, ecdsa_curve, vetkd_curve, schnorr_algorithm, satoshi,
  bitcoin_network, bitcoin_address, bitcoin_block_hash, bitcoin_block_header,
  millisatoshi_per_byte, bitcoin_block_height, outpoint, utxo, bitcoin_get_utxos_args,
  bitcoin_get_utxos_result, bitcoin_get_balance_args, bitcoin_get_balance_result,
  bitcoin_get_current_fee_percentiles_args, bitcoin_get_current_fee_percentiles_result,
  bitcoin_send_transaction_args, bitcoin_get_block_headers_args, bitcoin_get_block_headers_result,
  node_metrics, create_canister_args, create_canister_result, update_settings_args,
  upload_chunk_args, clear_chunk_store_args, stored_chunks_args, canister_install_mode,
  install_code_args, install_chunked_code_args, uninstall_code_args, start_canister_args,
  stop_canister_args, canister_status_args, canister_status_result, canister_info_args,
  canister_info_result, canister_metadata_args, canister_metadata_result, delete_canister_args, deposit_cycles_args, http_request_args,
  flexible_http_request_args, ecdsa_public_key_args, ecdsa_public_key_result,
  sign_with_ecdsa_args, sign_with_ecdsa_result, schnorr_public_key_args,
  schnorr_public_key_result, schnorr_aux, sign_with_schnorr_args, sign_with_schnorr_result,
  vetkd_public_key_args, vetkd_public_key_result, vetkd_derive_key_args, vetkd_derive_key_result,
  node_metrics_history_args, node_metrics_history_result, subnet_info_args, subnet_info_result,
  provisional_create_canister_with_cycles_args, provisional_create_canister_with_cycles_result,
  provisional_top_up_canister_args, raw_rand_result, stored_chunks_result, upload_chunk_result,
  snapshot, take_canister_snapshot_args, take_canister_snapshot_result,
  load_canister_snapshot_args, list_canister_snapshots_args, list_canister_snapshots_result,
  delete_canister_snapshot_args, fetch_canister_logs_args, canister_log_record,
  fetch_canister_logs_result, read_canister_snapshot_metadata_args,
  read_canister_snapshot_metadata_response, read_canister_snapshot_data_args,
  read_canister_snapshot_data_response, upload_canister_snapshot_metadata_args,
  upload_canister_snapshot_metadata_response, upload_canister_snapshot_data_args,
} as const satisfies Record<string, IDL.Type>;

// ---------------------------------------------------------------------------------------------
// Methods: the `service ic : { … }` block of ic.did.
// ---------------------------------------------------------------------------------------------

/** One management method: its Candid argument and result types and whether it is a query. */
export interface ManagementMethod {
  /** Argument types, in order (`()` is `[]`). */
  readonly argTypes: readonly IDL.Type[];
  /** Result types, in order (`()` is `[]`). */
  readonly retTypes: readonly IDL.Type[];
  /** True for methods annotated `query` in ic.did (`canister_status`, `fetch_canister_logs`). */
  readonly query: boolean;
}

function update(arg: IDL.Type | null, ret: IDL.Type | null): ManagementMethod {
  return { argTypes: arg ? [arg] : [], retTypes: ret ? [ret] : [], query: false };
}

/**
 * Every method of ic.did's `service ic`, keyed by its wire name, in ic.did order.
 * Source: candid/ic.did (see its header).
 */
export const managementMethods = {
  create_canister: update(create_canister_args, create_canister_result),
  update_settings: update(update_settings_args, null),
  upload_chunk: update(upload_chunk_args, upload_chunk_result),
  clear_chunk_store: update(clear_chunk_store_args, null),
  stored_chunks: update(stored_chunks_args, stored_chunks_result),
  install_code: update(install_code_args, null),
  install_chunked_code: update(install_chunked_code_args, null),
  uninstall_code: update(uninstall_code_args, null),
  start_canister: update(start_canister_args, null),
  stop_canister: update(stop_canister_args, null),
  canister_status: { argTypes: [canister_status_args], retTypes: [canister_status_result], query: true },
  canister_info: update(canister_info_args, canister_info_result),
  canister_metadata: update(canister_metadata_args, canister_metadata_result),
  delete_canister: update(delete_canister_args, null),
  deposit_cycles: update(deposit_cycles_args, null),
  raw_rand: update(null, raw_rand_result),
  http_request: update(http_request_args, http_request_result),
  flexible_http_request: update(flexible_http_request_args, flexible_http_request_result),
  ecdsa_public_key: update(ecdsa_public_key_args, ecdsa_public_key_result),
  sign_with_ecdsa: update(sign_with_ecdsa_args, sign_with_ecdsa_result),
  schnorr_public_key: update(schnorr_public_key_args, schnorr_public_key_result),
  sign_with_schnorr: update(sign_with_schnorr_args, sign_with_schnorr_result),
  vetkd_public_key: update(vetkd_public_key_args, vetkd_public_key_result),
  vetkd_derive_key: update(vetkd_derive_key_args, vetkd_derive_key_result),
  bitcoin_get_balance: update(bitcoin_get_balance_args, bitcoin_get_balance_result),
  bitcoin_get_utxos: update(bitcoin_get_utxos_args, bitcoin_get_utxos_result),
  bitcoin_send_transaction: update(bitcoin_send_transaction_args, null),
  bitcoin_get_current_fee_percentiles: update(
    bitcoin_get_current_fee_percentiles_args,
    bitcoin_get_current_fee_percentiles_result,
  ),
  bitcoin_get_block_headers: update(bitcoin_get_block_headers_args, bitcoin_get_block_headers_result),
  node_metrics_history: update(node_metrics_history_args, node_metrics_history_result),
  subnet_info: update(subnet_info_args, subnet_info_result),
  provisional_create_canister_with_cycles: update(
    provisional_create_canister_with_cycles_args,
    provisional_create_canister_with_cycles_result,
  ),
  provisional_top_up_canister: update(provisional_top_up_canister_args, null),
  take_canister_snapshot: update(take_canister_snapshot_args, take_canister_snapshot_result),
  load_canister_snapshot: update(load_canister_snapshot_args, null),
  read_canister_snapshot_metadata: update(
    read_canister_snapshot_metadata_args,
    read_canister_snapshot_metadata_response,
  ),
  read_canister_snapshot_data: update(
    read_canister_snapshot_data_args,
    read_canister_snapshot_data_response,
  ),
  upload_canister_snapshot_metadata: update(
    upload_canister_snapshot_metadata_args,
    upload_canister_snapshot_metadata_response,
  ),
  upload_canister_snapshot_data: update(upload_canister_snapshot_data_args, null),
  list_canister_snapshots: update(list_canister_snapshots_args, list_canister_snapshots_result),
  delete_canister_snapshot: update(delete_canister_snapshot_args, null),
  fetch_canister_logs: {
    argTypes: [fetch_canister_logs_args],
    retTypes: [fetch_canister_logs_result],
    query: true,
  },
} as const satisfies Record<string, ManagementMethod>;

/** A management method's wire name, e.g. `'sign_with_ecdsa'`. */
export type ManagementMethodName = keyof typeof managementMethods;

/** True iff `name` is a method of ic.did's `service ic` (own properties only). */
export function isManagementMethod(name: string): name is ManagementMethodName {
  return Object.prototype.hasOwnProperty.call(managementMethods, name);
}

/** The whole interface as an `IDL.Service` (e.g. for `Actor.createActor` in tests). */
export const managementService = IDL.Service(
  Object.fromEntries(
    Object.entries(managementMethods).map(([name, m]) => [
      name,
      IDL.Func(
        [...m.argTypes] as GenericIdlFuncArgs,
        [...m.retTypes] as GenericIdlFuncRets,
        m.query ? ['query'] : [],
      ),
    ]),
  ),
);
