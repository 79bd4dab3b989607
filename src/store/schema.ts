/**
 * The SQLite schema as an ordered list of migrations; migration i brings `user_version` from i to
 * i+1. Never edit a released migration: append a new one.
 *
 * Encodings: principals are their raw bytes (BLOB); cycles are decimal TEXT (they exceed 2^63 in
 * principle: the spec's cycles are u128); times are nanoseconds since the epoch as INTEGER (i64,
 * good until 2262); settings and controllers are JSON TEXT written by the repositories.
 */
export const migrations: readonly string[] = [
  // 1: the foundation — replica-wide secrets and metadata, canisters, ingress history.
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
  );
  CREATE TABLE canisters (
    canister_id       BLOB PRIMARY KEY,
    subnet_id         BLOB NOT NULL,
    status            TEXT NOT NULL CHECK (status IN ('running', 'stopping', 'stopped')),
    controllers       TEXT NOT NULL,
    settings          TEXT NOT NULL,
    cycles            TEXT NOT NULL,
    version           INTEGER NOT NULL,
    module            BLOB,
    module_hash       BLOB,
    created_at_nanos  INTEGER NOT NULL
  );
  CREATE INDEX canisters_by_subnet ON canisters (subnet_id);
  CREATE TABLE ingress_history (
    request_id      BLOB PRIMARY KEY,
    sender          BLOB NOT NULL,
    canister_id     BLOB NOT NULL,
    method_name     TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('received', 'processing', 'replied', 'rejected', 'done')),
    reply           BLOB,
    reject_code     INTEGER,
    reject_message  TEXT,
    error_code      TEXT,
    expiry_nanos    INTEGER NOT NULL,
    updated_nanos   INTEGER NOT NULL
  );
  CREATE INDEX ingress_by_expiry ON ingress_history (expiry_nanos);
  CREATE TABLE subnet_allocation (
    subnet_id        BLOB PRIMARY KEY,
    next_canister    BLOB NOT NULL
  );
  `,
  // 2: canister execution — Wasm and stable memory pages, globals, call contexts, timers, and the
  // queue of messages between canisters left at the end of a round.
  `
  CREATE TABLE canister_execution (
    canister_id         BLOB PRIMARY KEY,
    memory_bytes        INTEGER NOT NULL,
    stable_pages        INTEGER NOT NULL,
    globals             TEXT NOT NULL,
    global_timer_nanos  INTEGER NOT NULL,
    certified_data      BLOB NOT NULL,
    call_contexts       TEXT NOT NULL,
    stop_requests       TEXT NOT NULL
  );
  CREATE TABLE canister_pages (
    canister_id  BLOB NOT NULL,
    memory       INTEGER NOT NULL CHECK (memory IN (0, 1)),
    page         INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    PRIMARY KEY (canister_id, memory, page)
  ) WITHOUT ROWID;
  CREATE TABLE canister_messages (
    position  INTEGER PRIMARY KEY,
    message   TEXT NOT NULL
  );
  `,
  // 3: threshold master keys — one public key transcript per key id, and each node's secret share
  // of it in its own row (no row ever holds more than one node's share).
  `
  CREATE TABLE key_transcripts (
    key_id         TEXT PRIMARY KEY,
    subnet_id      BLOB NOT NULL,
    transcript     TEXT NOT NULL,
    created_nanos  INTEGER NOT NULL
  );
  CREATE TABLE key_shares (
    transcript_id  TEXT NOT NULL,
    node           INTEGER NOT NULL,
    share          BLOB NOT NULL,
    PRIMARY KEY (transcript_id, node)
  );
  `,
  // 4: chain-key requests waiting for their signature or key (the replica's
  // SubnetCallContextManager `sign_with_threshold_contexts`): accepted, paid, not yet answered.
  `
  CREATE TABLE sign_with_threshold_contexts (
    callback_id  INTEGER PRIMARY KEY,
    key_id       TEXT NOT NULL,
    context      TEXT NOT NULL
  );
  `,
  // 5 (issue 12): canister logs (debug_print and trap records, bounded per canister by
  // log_memory_limit), each canister's wasm chunk store (upload_chunk, install_chunked_code) and
  // canister snapshots (take/load/list/delete_canister_snapshot): module, metadata and pages.
  `
  CREATE TABLE canister_log_records (
    canister_id      BLOB NOT NULL,
    idx              INTEGER NOT NULL,
    timestamp_nanos  INTEGER NOT NULL,
    content          BLOB NOT NULL,
    PRIMARY KEY (canister_id, idx)
  );
  CREATE TABLE wasm_chunks (
    canister_id  BLOB NOT NULL,
    hash         BLOB NOT NULL,
    chunk        BLOB NOT NULL,
    PRIMARY KEY (canister_id, hash)
  );
  CREATE TABLE canister_snapshots (
    snapshot_id     BLOB PRIMARY KEY,
    canister_id     BLOB NOT NULL,
    taken_at_nanos  INTEGER NOT NULL,
    total_size      INTEGER NOT NULL,
    module          BLOB,
    meta            TEXT NOT NULL
  );
  CREATE INDEX canister_snapshots_by_canister ON canister_snapshots (canister_id);
  CREATE TABLE canister_snapshot_pages (
    snapshot_id  BLOB NOT NULL,
    kind         INTEGER NOT NULL,
    page         INTEGER NOT NULL,
    bytes        BLOB NOT NULL,
    PRIMARY KEY (snapshot_id, kind, page)
  );
  `,
  // 6 (issue 17): the n-node threshold protocol's finished pre-signatures (public records: transcript ids
  // and combined commitments). Each node's shares of their transcripts are rows of key_shares,
  // one per (transcript, node), like key transcript shares (32-byte value, or value ‖ mask).
  `
  CREATE TABLE idkg_pre_signatures (
    pre_signature_id  TEXT PRIMARY KEY,
    key_id            TEXT NOT NULL,
    record            TEXT NOT NULL
  );
  `,
  // 7 (issue 15): each canister's low-memory hook status (the replica's OnLowWasmMemoryHookStatus),
  // so a hook that ran does not run once more after a restart: NULL while the condition does not
  // hold, 'ready' (due) or 'executed'.
  `
  ALTER TABLE canister_execution ADD COLUMN low_wasm_memory_hook TEXT CHECK (low_wasm_memory_hook IN ('ready', 'executed'));
  `,
  // 8 (issue 13): the round time up to which each canister paid for its storage, base fee and
  // compute allocation (the replica's `time_of_last_allocation_charge`, part of its state), so
  // time the replica was down is charged at the first round after a restart. NULL for canisters
  // of older state dirs: their period starts at the first round that sees them.
  `
  ALTER TABLE canisters ADD COLUMN resources_charged_at_nanos INTEGER;
  `,
  // 9 (issue 16): a canister's call contexts and callbacks one row each (store JSON), so a round
  // writes only those it changed; canister_execution.call_contexts then holds just the next ids
  // and `"rows": true` (rows of older state dirs keep every entry there until first rewritten).
  `
  CREATE TABLE call_context_entries (
    canister_id  BLOB NOT NULL,
    kind         INTEGER NOT NULL CHECK (kind IN (0, 1)),
    id           INTEGER NOT NULL,
    entry        TEXT NOT NULL,
    PRIMARY KEY (canister_id, kind, id)
  ) WITHOUT ROWID;
  `,
  // 10 (issue 16): the ingress entries not yet finished (`received`, `processing`: what a start
  // loads) in an index of their own, so a start reads those few rows instead of scanning the whole
  // history (24 MiB at 100,000 entries, read from disk when the page cache has dropped it).
  `
  CREATE INDEX ingress_unfinished ON ingress_history (status) WHERE status IN ('received', 'processing');
  `,
  // 11 (issue 16): installed modules in a table of their own. A canister's row changes every
  // round it runs (its balance), and SQLite rebuilds a row whole on update: with the module (often
  // hundreds of KiB) in it, each save compared the module's overflow pages (0.03-0.2 ms a round).
  `
  CREATE TABLE canister_modules (
    canister_id  BLOB PRIMARY KEY,
    module       BLOB NOT NULL
  );
  INSERT INTO canister_modules (canister_id, module) SELECT canister_id, module FROM canisters WHERE module IS NOT NULL;
  UPDATE canisters SET module = NULL;
  `,
];
