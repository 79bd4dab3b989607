/**
 * The wasm chunk store methods (interface spec §"IC method upload_chunk" and following):
 * `upload_chunk` (≤ 1 MiB, returns its SHA-256), `stored_chunks`, `clear_chunk_store`, and
 * `install_chunked_code`, which concatenates the listed chunks of the store canister (the target
 * itself by default; both on one subnet, the caller controlling both), checks the module's
 * SHA-256 and installs it as install_code does. This is how icp-cli and PicJS install modules
 * larger than an ingress message.
 */
import type { Principal } from '@icp-sdk/core/principal';
import { sha256 } from '@noble/hashes/sha2.js';
import { MAX_CHUNKS_PER_CANISTER } from '../state/wasm-chunk-store.ts';
import { ErrorCode, IcError } from '../types/ic-error.ts';
import { canisterOrNotFound, installCode, requireController } from './canister-lifecycle.ts';
import type { InstallMode, ManagementCall, ManagementEnv, SlicedExecution } from './management-context.ts';

/** Instructions charged per `upload_chunk` (subnet_config.rs `DEFAULT_UPLOAD_CHUNK_INSTRUCTIONS`). */
export const UPLOAD_CHUNK_INSTRUCTIONS = 200_000_000n;

/** Largest chunk, bytes (1 MiB). */
export const MAX_CHUNK_BYTES = 1024 * 1024;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/**
 * `upload_chunk` (controllers): stores the chunk under its hash.
 * @throws IcError IC0505-class CanisterContractViolation for a chunk over 1 MiB or a full store
 */
export function uploadChunk(env: ManagementEnv, call: ManagementCall, arg: { canister_id: Principal; chunk: Uint8Array }): { hash: Uint8Array } {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller, true);
  if (arg.chunk.length > MAX_CHUNK_BYTES) {
    throw new IcError(ErrorCode.CanisterContractViolation, `Wasm chunk store error: Chunk size ${arg.chunk.length} exceeds the maximum of ${MAX_CHUNK_BYTES} bytes.`);
  }
  const hash = sha256(arg.chunk);
  const store = env.state.chunks.chunks(c.canisterId);
  if (!store.has(hex(hash)) && store.size >= MAX_CHUNKS_PER_CANISTER) {
    throw new IcError(ErrorCode.CanisterContractViolation, `Wasm chunk store error: Wasm chunk store is already full (${MAX_CHUNKS_PER_CANISTER} chunks).`);
  }
  // The replica charges each upload as management-canister instructions (DEFAULT_UPLOAD_CHUNK_INSTRUCTIONS).
  env.execution.chargeManagementInstructions(c, UPLOAD_CHUNK_INSTRUCTIONS, call.caller);
  env.state.chunks.put(c.canisterId, hash, arg.chunk);
  return { hash };
}

/** `stored_chunks` (controllers): the hashes of the stored chunks. */
export function storedChunks(env: ManagementEnv, call: ManagementCall, arg: { canister_id: Principal }): { hash: Uint8Array }[] {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller, true);
  return [...env.state.chunks.chunks(c.canisterId).keys()].sort().map((h) => ({ hash: new Uint8Array(Buffer.from(h, 'hex')) }));
}

/** `clear_chunk_store` (controllers). */
export function clearChunkStore(env: ManagementEnv, call: ManagementCall, arg: { canister_id: Principal }): void {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller, true);
  env.state.chunks.clear(c.canisterId);
}

/**
 * `install_chunked_code` (controllers of the target and of the store canister).
 * @throws IcError for a missing chunk, a hash mismatch, a store on another subnet, or anything
 * install_code refuses
 */
export function installChunkedCode(
  env: ManagementEnv,
  call: ManagementCall,
  arg: {
    mode: InstallMode;
    target_canister: Principal;
    store_canister: [] | [Principal];
    chunk_hashes_list: { hash: Uint8Array }[];
    wasm_module_hash: Uint8Array;
    arg: Uint8Array;
    sender_canister_version: [] | [bigint];
  },
): SlicedExecution {
  const target = canisterOrNotFound(env, arg.target_canister);
  const storeCanister = canisterOrNotFound(env, arg.store_canister[0] ?? arg.target_canister);
  requireController(target, call.caller);
  requireController(storeCanister, call.caller, true);
  if (storeCanister.subnetId.compareTo(target.subnetId) !== 'eq') {
    throw new IcError(
      ErrorCode.CanisterContractViolation,
      `InstallChunkedCode Error: Store canister ${storeCanister.canisterId.toText()} is not on the same subnet as target canister ${target.canisterId.toText()}`,
    );
  }
  const chunks = env.state.chunks.chunks(storeCanister.canisterId);
  const parts: Uint8Array[] = [];
  for (const { hash } of arg.chunk_hashes_list) {
    const chunk = chunks.get(hex(hash));
    if (!chunk) throw new IcError(ErrorCode.CanisterContractViolation, `Error from Wasm chunk store: Chunk with hash ${hex(hash)} not found in the store`);
    parts.push(chunk);
  }
  const wasm = new Uint8Array(Buffer.concat(parts));
  const actual = sha256(wasm);
  if (hex(actual) !== hex(arg.wasm_module_hash)) {
    throw new IcError(
      ErrorCode.CanisterContractViolation,
      `Error from Wasm chunk store: Wasm module hash ${hex(actual)} does not match given hash ${hex(arg.wasm_module_hash)}`,
    );
  }
  // Assembling counts one instruction per byte of a full-size chunk per listed hash
  // (`WasmSource::instructions_to_assemble`), charged with the install's instructions.
  const assembly = BigInt(arg.chunk_hashes_list.length * MAX_CHUNK_BYTES);
  return installCode(env, call, { mode: arg.mode, canister_id: target.canisterId, wasm_module: wasm, arg: arg.arg, sender_canister_version: arg.sender_canister_version }, assembly);
}
