/**
 * Snapshot download and upload (interface spec §"IC method read_canister_snapshot_metadata" and
 * the three methods after it): a snapshot's metadata and its regions — the Wasm module, Wasm
 * memory and stable memory, by byte offset — read out in pieces of at most 2 MB; and a new
 * snapshot created from uploaded metadata, whose regions are then written in pieces. Only
 * uploaded snapshots can be written to. The chunk store is not part of this replica's snapshots
 * (`wasm_chunk_store` is empty, `wasm_chunk` regions are refused).
 */
import type { Principal } from '@icp-sdk/core/principal';
import { sha256 } from '@noble/hashes/sha2.js';
import { MAX_SNAPSHOTS_PER_CANISTER, snapshotSize, type SnapshotContent } from '../state/canister-snapshots.ts';
import type { CanisterState } from '../state/canister-state.ts';
import { ErrorCode, IcError } from '../types/ic-error.ts';
import { canisterOrNotFound, requireController } from './canister-lifecycle.ts';
import { chargeSnapshotOperation, ownSnapshot, SNAPSHOT_BASELINE_INSTRUCTIONS, SNAPSHOT_DATA_BASELINE_INSTRUCTIONS, storeSnapshot } from './canister-snapshots.ts';
import type { ManagementCall, ManagementEnv } from './management-context.ts';
import type { ReadCanisterSnapshotMetadataResponse } from './shapes.ts';

type Opt<T> = [] | [T];
/** A global as the snapshot interface carries it. */
type GlobalVariant = { i32: number } | { i64: bigint } | { f32: number } | { f64: number } | { v128: bigint };
type Region = { wasm_module: Range } | { wasm_memory: Range } | { stable_memory: Range } | { wasm_chunk: { hash: Uint8Array } };
type Range = { offset: bigint; size: bigint };

/** Largest piece read or written at once, bytes (the replica's `MAX_SLICE_SIZE_BYTES`: 2 MB). */
export const MAX_SLICE_BYTES = 2_000_000n;
const WASM_PAGE = 4096;
const STABLE_PAGE = 65_536;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const floatBits = new DataView(new ArrayBuffer(8));

function toVariant(v: number | string | null): Opt<GlobalVariant> {
  if (v === null) return [];
  if (typeof v === 'number') return [{ i32: v }];
  if (v.startsWith('f64:')) {
    floatBits.setBigUint64(0, BigInt(`0x${v.slice(4)}`));
    return [{ f64: floatBits.getFloat64(0) }];
  }
  if (v.startsWith('f32:')) {
    floatBits.setUint32(0, Number.parseInt(v.slice(4), 16));
    return [{ f32: floatBits.getFloat32(0) }];
  }
  return [{ i64: BigInt(v) }];
}

function fromVariant(g: GlobalVariant): number | string | null {
  if ('i32' in g) return g.i32;
  if ('i64' in g) return g.i64.toString();
  if ('f64' in g) {
    floatBits.setFloat64(0, g.f64);
    return `f64:${floatBits.getBigUint64(0).toString(16)}`;
  }
  if ('f32' in g) {
    floatBits.setFloat32(0, g.f32);
    return `f32:${floatBits.getUint32(0).toString(16)}`;
  }
  return null;
}

function controlled(env: ManagementEnv, call: ManagementCall, id: Principal): CanisterState {
  const c = canisterOrNotFound(env, id);
  requireController(c, call.caller);
  return c;
}

/** Bytes [offset, offset+size) of sparse pages of `pageSize` bytes (absent pages are zero). */
function readSparse(pages: [number, Uint8Array][], pageSize: number, offset: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  for (const [p, bytes] of pages) {
    const start = p * pageSize;
    const from = Math.max(start, offset);
    const to = Math.min(start + bytes.length, offset + size);
    if (from < to) out.set(bytes.subarray(from - start, to - start), from - offset);
  }
  return out;
}

/** Writes `data` at `offset` into sparse pages of `pageSize` bytes; returns the new page list. */
function writeSparse(pages: [number, Uint8Array][], pageSize: number, offset: number, data: Uint8Array): [number, Uint8Array][] {
  const byIndex = new Map(pages);
  for (let at = 0; at < data.length; ) {
    const p = Math.floor((offset + at) / pageSize);
    const within = (offset + at) % pageSize;
    const n = Math.min(pageSize - within, data.length - at);
    const page = byIndex.get(p) ?? new Uint8Array(pageSize);
    page.set(data.subarray(at, at + n), within);
    byIndex.set(p, page);
    at += n;
  }
  return [...byIndex.entries()].sort((a, b) => a[0] - b[0]);
}

/** Checks a region's bounds and piece size. @throws IcError IC0504-class for a bad range */
function checkRange(offset: bigint, size: bigint, total: number): void {
  if (size > MAX_SLICE_BYTES) {
    throw new IcError(ErrorCode.CanisterContractViolation, `Invalid snapshot data slice: size ${size} exceeds the maximum of ${MAX_SLICE_BYTES} bytes.`);
  }
  if (offset + size > BigInt(total)) {
    throw new IcError(ErrorCode.CanisterContractViolation, `Invalid snapshot data slice: offset ${offset} + size ${size} exceeds the region's ${total} bytes.`);
  }
}

/** `read_canister_snapshot_metadata` (controllers). */
export function readCanisterSnapshotMetadata(
  env: ManagementEnv,
  call: ManagementCall,
  arg: { canister_id: Principal; snapshot_id: Uint8Array },
): ReadCanisterSnapshotMetadataResponse {
  const c = controlled(env, call, arg.canister_id);
  const s = ownSnapshot(env, c, arg.snapshot_id);
  const x = s.content;
  return {
    source: [x.source === 'uploaded' ? { metadata_upload: null } : { taken_from_canister: null }],
    taken_at_timestamp: s.takenAtNanos,
    wasm_module_size: BigInt(x.module?.length ?? 0),
    globals: x.globals.map(toVariant),
    wasm_memory_size: BigInt(x.memoryBytes),
    stable_memory_size: x.stablePages * BigInt(STABLE_PAGE),
    wasm_chunk_store: [],
    canister_version: x.canisterVersion,
    certified_data: x.certifiedData,
    global_timer: [x.globalTimerNanos === 0n ? { inactive: null } : { active: x.globalTimerNanos }],
    on_low_wasm_memory_hook_status: [{ condition_not_satisfied: null }],
  };
}

/**
 * `read_canister_snapshot_data` (controllers): one piece of a region; the canister is charged 5 M
 * + one management-canister instruction per byte read.
 * @throws IcError for a bad region or range, IC0207 when the canister cannot pay
 */
export function readCanisterSnapshotData(
  env: ManagementEnv,
  call: ManagementCall,
  arg: { canister_id: Principal; snapshot_id: Uint8Array; kind: Region },
): { chunk: Uint8Array } {
  const c = controlled(env, call, arg.canister_id);
  const x = ownSnapshot(env, c, arg.snapshot_id).content;
  const out = readRegion(x, arg.kind);
  chargeSnapshotOperation(env, c, SNAPSHOT_DATA_BASELINE_INSTRUCTIONS + BigInt(out.chunk.length), call.caller);
  return out;
}

/** The bytes of one piece of a snapshot region. @throws IcError for a bad region or range */
function readRegion(x: SnapshotContent, k: Region): { chunk: Uint8Array } {
  if ('wasm_chunk' in k) {
    throw new IcError(ErrorCode.CanisterContractViolation, `The snapshot holds no chunk store: chunk ${hex(k.wasm_chunk.hash)} not found.`);
  }
  if ('wasm_module' in k) {
    const module = x.module ?? new Uint8Array();
    checkRange(k.wasm_module.offset, k.wasm_module.size, module.length);
    const o = Number(k.wasm_module.offset);
    return { chunk: module.slice(o, o + Number(k.wasm_module.size)) };
  }
  if ('wasm_memory' in k) {
    checkRange(k.wasm_memory.offset, k.wasm_memory.size, x.memoryBytes);
    return { chunk: readSparse(x.memoryPages, WASM_PAGE, Number(k.wasm_memory.offset), Number(k.wasm_memory.size)) };
  }
  checkRange(k.stable_memory.offset, k.stable_memory.size, Number(x.stablePages) * STABLE_PAGE);
  return { chunk: readSparse(x.stablePageData, STABLE_PAGE, Number(k.stable_memory.offset), Number(k.stable_memory.size)) };
}

/**
 * `upload_canister_snapshot_metadata` (controllers): a new, empty snapshot of the given sizes,
 * charged as taking one of that size (2 B + one instruction per byte).
 * @throws IcError for a bad size, a full snapshot list, IC0207 when the canister cannot pay
 */
export function uploadCanisterSnapshotMetadata(
  env: ManagementEnv,
  call: ManagementCall,
  arg: {
    canister_id: Principal;
    replace_snapshot: Opt<Uint8Array>;
    wasm_module_size: bigint;
    globals: GlobalVariant[];
    wasm_memory_size: bigint;
    stable_memory_size: bigint;
    certified_data: Uint8Array;
    global_timer: Opt<{ inactive: null } | { active: bigint }>;
  },
): { snapshot_id: Uint8Array } {
  const c = controlled(env, call, arg.canister_id);
  const replace = arg.replace_snapshot[0];
  if (replace) ownSnapshot(env, c, replace);
  else if (env.state.snapshots.list(c.canisterId).length >= MAX_SNAPSHOTS_PER_CANISTER) {
    throw new IcError(ErrorCode.CanisterRejectedMessage, `Canister ${c.canisterId.toText()} has reached the maximum number of snapshots allowed: ${MAX_SNAPSHOTS_PER_CANISTER}.`);
  }
  if (arg.wasm_memory_size % BigInt(STABLE_PAGE) !== 0n || arg.stable_memory_size % BigInt(STABLE_PAGE) !== 0n) {
    throw new IcError(ErrorCode.CanisterContractViolation, 'Invalid snapshot metadata: memory sizes must be multiples of 64 KiB.');
  }
  const timer = arg.global_timer[0];
  const content: SnapshotContent = {
    module: new Uint8Array(Number(arg.wasm_module_size)),
    moduleHash: null,
    memoryBytes: Number(arg.wasm_memory_size),
    memoryPages: [],
    globals: arg.globals.map(fromVariant),
    stablePages: arg.stable_memory_size / BigInt(STABLE_PAGE),
    stablePageData: [],
    certifiedData: arg.certified_data,
    globalTimerNanos: timer && 'active' in timer ? timer.active : 0n,
    canisterVersion: c.version,
    source: 'uploaded',
  };
  // Creating it costs what taking one of that size does (`create_snapshot_from_metadata`).
  chargeSnapshotOperation(env, c, SNAPSHOT_BASELINE_INSTRUCTIONS + snapshotSize(content), call.caller);
  return { snapshot_id: storeSnapshot(env, c, call.nowNanos, content, replace).id };
}

/**
 * `upload_canister_snapshot_data` (controllers): writes one piece of an uploaded snapshot's
 * region; the canister is charged one management-canister instruction per byte written.
 * @throws IcError for a snapshot taken from a canister, a bad region or range, IC0207 when the
 *   canister cannot pay
 */
export function uploadCanisterSnapshotData(
  env: ManagementEnv,
  call: ManagementCall,
  arg: {
    canister_id: Principal;
    snapshot_id: Uint8Array;
    kind: { wasm_module: { offset: bigint } } | { wasm_memory: { offset: bigint } } | { stable_memory: { offset: bigint } } | { wasm_chunk: null };
    chunk: Uint8Array;
  },
): void {
  const c = controlled(env, call, arg.canister_id);
  const s = ownSnapshot(env, c, arg.snapshot_id);
  const x = { ...s.content };
  if (x.source !== 'uploaded') {
    throw new IcError(ErrorCode.CanisterSnapshotImmutable, 'Only snapshots created by metadata uploads can be mutated.');
  }
  const k = arg.kind;
  const size = BigInt(arg.chunk.length);
  if ('wasm_chunk' in k) {
    throw new IcError(ErrorCode.CanisterContractViolation, 'This replica keeps no chunk store in snapshots: wasm_chunk uploads are not accepted.');
  } else if ('wasm_module' in k) {
    const module = (x.module ?? new Uint8Array()).slice();
    checkRange(k.wasm_module.offset, size, module.length);
    module.set(arg.chunk, Number(k.wasm_module.offset));
    x.module = module;
    x.moduleHash = sha256(module);
  } else if ('wasm_memory' in k) {
    checkRange(k.wasm_memory.offset, size, x.memoryBytes);
    x.memoryPages = writeSparse(x.memoryPages, WASM_PAGE, Number(k.wasm_memory.offset), arg.chunk);
  } else {
    checkRange(k.stable_memory.offset, size, Number(x.stablePages) * STABLE_PAGE);
    x.stablePageData = writeSparse(x.stablePageData, STABLE_PAGE, Number(k.stable_memory.offset), arg.chunk);
  }
  // The replica charges the bytes written (`write_snapshot_data`), no baseline.
  chargeSnapshotOperation(env, c, size, call.caller);
  env.state.snapshots.put({ ...s, content: x, totalSize: snapshotSize(x) });
}
