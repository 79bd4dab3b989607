/**
 * The chain-key methods of the management canister (interface spec §"IC method ecdsa_public_key"
 * and following): routing by key id to the subnet that holds the key, with the replica's texts
 * (rs/system_api/src/routing.rs `route_chain_key_message`), and the public-key methods, which
 * derive the caller's (or `canister_id`'s) key from the master key exactly as mainnet does.
 * Public-key methods are free (attached cycles are refunded) and answered at once. Signing and
 * vetKD requests go through the replica's steps (management-api.md §2.3): routing (argument
 * decoding, key id), argument checks, the fee, the per-key queue; then they become a context
 * that the chain-key payload step answers in a later round.
 */
import type { Principal } from '@icp-sdk/core/principal';
import { deriveVetKdPublicKey, fullDerivationPath, MAX_DERIVATION_PATH_ELEMENTS } from '../crypto/derivation/index.ts';
import { isValidTransportPublicKey } from '../crypto/threshold/vetkd-encrypted-key.ts';
import { DEFAULT_MAX_QUEUE_SIZE } from '../routing/topology.ts';
import type { ThresholdArgs } from '../state/subnet-call-context-manager.ts';
import type { ThresholdMethod } from '../types/threshold-method.ts';
import { formatCycles } from '../types/units.ts';
import { keyIdFromCandid, keyIdText, sortedKeyIdTexts, type MasterKeyId } from '../routing/key-id.ts';
import { derivePathKey, type MasterKey } from '../state/master-keys.ts';
import { ErrorCode, IcError, RejectCode } from '../types/ic-error.ts';
import { encodeManagementReply } from './codec.ts';
import * as E from './errors.ts';
import type { ManagementCall, ManagementEnv } from './management-context.ts';
import type {
  EcdsaPublicKeyArgs,
  EcdsaPublicKeyResult,
  SchnorrPublicKeyArgs,
  SchnorrPublicKeyResult,
  SignWithEcdsaArgs,
  SignWithSchnorrArgs,
  VetkdDeriveKeyArgs,
  VetkdPublicKeyArgs,
  VetkdPublicKeyResult,
} from './shapes.ts';

/**
 * `Unable to route management canister request <method>: ChainKeyError("...")` (reject code 3,
 * plain text to canisters), for a key id no subnet holds.
 * @param signing true for sign/derive methods (the "unknown or disabled" wording).
 */
export function unknownKeyError(env: ManagementEnv, method: string, keyId: MasterKeyId, signing: boolean): IcError {
  const keys = `[${sortedKeyIdTexts(env.routing.keys().map((k) => k.keyId)).join(', ')}]`;
  const inner = signing
    ? `Requested unknown or disabled threshold key: ${keyIdText(keyId)}, existing enabled keys: ${keys}`
    : `Requested unknown threshold key: ${keyIdText(keyId)}, existing keys: ${keys}`;
  return new IcError(
    ErrorCode.CanisterRejectedMessage,
    `Unable to route management canister request ${method}: ChainKeyError(${JSON.stringify(inner)})`,
    RejectCode.DESTINATION_INVALID,
    { bareToCanisters: true },
  );
}

/**
 * The master key a request names, or the routing reject.
 * @throws IcError (reject code 3) when no subnet holds the key.
 */
export function masterKeyFor(env: ManagementEnv, method: string, keyId: MasterKeyId, signing: boolean): MasterKey {
  const k = env.masterKeys.get(keyIdText(keyId));
  if (!k) throw unknownKeyError(env, method, keyId, signing);
  return k;
}

/** `ecdsa_public_key`: the derived SEC1-compressed key (33 bytes) and chain code (32 bytes). */
export function ecdsaPublicKey(env: ManagementEnv, call: ManagementCall, arg: EcdsaPublicKeyArgs): EcdsaPublicKeyResult {
  checkDerivationPathLength('ecdsa_public_key', arg.derivation_path);
  const k = masterKeyFor(env, 'ecdsa_public_key', keyIdFromCandid('ecdsa', arg.key_id), false);
  const owner = arg.canister_id[0] ?? call.caller;
  const d = derivePathKey(k, fullDerivationPath(owner.toUint8Array(), arg.derivation_path));
  return { public_key: d.publicKey, chain_code: d.chainCode };
}

/**
 * `schnorr_public_key`: BIP340 keys as 33-byte SEC1 compressed points (the untweaked internal
 * key), Ed25519 keys as 32-byte points; plus the chain code.
 */
export function schnorrPublicKey(env: ManagementEnv, call: ManagementCall, arg: SchnorrPublicKeyArgs): SchnorrPublicKeyResult {
  checkDerivationPathLength('schnorr_public_key', arg.derivation_path);
  const keyId = keyIdFromCandid('schnorr', arg.key_id);
  const k = masterKeyFor(env, 'schnorr_public_key', keyId, false);
  const owner = arg.canister_id[0] ?? call.caller;
  const path = fullDerivationPath(owner.toUint8Array(), arg.derivation_path);
  const d = derivePathKey(k, path);
  return { public_key: d.publicKey, chain_code: d.chainCode };
}

/** `vetkd_public_key`: the canister's (and context's) derived G2 key, 96 bytes compressed. */
export function vetkdPublicKey(env: ManagementEnv, call: ManagementCall, arg: VetkdPublicKeyArgs): VetkdPublicKeyResult {
  const k = masterKeyFor(env, 'vetkd_public_key', keyIdFromCandid('vetkd', arg.key_id), false);
  const owner = arg.canister_id[0] ?? call.caller;
  return { public_key: deriveVetKdPublicKey(k.publicKey, owner.toUint8Array(), arg.context).publicKey };
}

// ---- signing and key derivation (answered later, by the chain-key payload step) ----------------

/**
 * The routing step's reject for an argument the replica's Candid types refuse (reject code 3):
 * `Unable to route management canister request <m>: UserError(UserError { code:
 * InvalidManagementPayload, description: "Error decoding candid: <detail>" })` (routing.rs decodes
 * with management_canister_types; `ResolveDestinationError` is printed with Debug).
 */
export function routingDecodeError(method: string, detail: string): IcError {
  return new IcError(
    ErrorCode.InvalidManagementPayload,
    `Unable to route management canister request ${method}: UserError(UserError { code: InvalidManagementPayload, description: ${JSON.stringify(`Error decoding candid: ${detail}`)} })`,
    RejectCode.DESTINATION_INVALID,
    { bareToCanisters: true },
  );
}

/**
 * `DerivationPath` is a `BoundedVec<255, ..>` in the replica's types: a longer path fails Candid
 * decoding at routing. Elements have no length limit.
 * @throws IcError (reject code 3)
 */
export function checkDerivationPathLength(method: string, path: readonly Uint8Array[]): void {
  if (path.length > MAX_DERIVATION_PATH_ELEMENTS) {
    throw routingDecodeError(method, `Deserialize error: The number of elements exceeds maximum allowed ${MAX_DERIVATION_PATH_ELEMENTS}`);
  }
}

/** A `CanisterRejectedMessage` reject (code 4), shown to the calling canister without `IC0406: `. */
function rejected(message: string): IcError {
  return new IcError(ErrorCode.CanisterRejectedMessage, message, RejectCode.CANISTER_REJECT, { bareToCanisters: true });
}

/**
 * Steps 5–7 of the replica's `sign_with_threshold` for a request that routed to `key`: the fee
 * (10B × key subnet size / 13; none for NNS callers or on a free key subnet), then the per-key queue limit; then the
 * request becomes a `SignWithThresholdContext` in the replicated state, answered by the chain-key
 * payload step in a later round (with the attached cycles minus the fee).
 * @throws IcError (reject code 4; the caller gets every attached cycle back)
 */
function acceptThresholdRequest(env: ManagementEnv, call: ManagementCall, method: ThresholdMethod, key: MasterKey, args: ThresholdArgs): void {
  const keyId = keyIdText(key.keyId);
  // The key subnet prices the request (its size, its cost schedule); NNS callers pay nothing.
  const fee = call.callerSubnet?.kind === 'nns' ? 0n : env.execution.costsOf(key.subnet).chainKeyFee(method);
  if (call.payment < fee) {
    throw rejected(`${method} request sent with ${formatCycles(call.payment)} cycles, but ${formatCycles(fee)} cycles are required.`);
  }
  if (env.state.subnetCallContexts.countForKey(keyId) >= (key.subnet.maxQueueSize ?? DEFAULT_MAX_QUEUE_SIZE)) {
    throw rejected(`${method} request failed: request queue for key ${keyId} is full.`);
  }
  // Only canisters get here (the methods are refused by ingress before decoding).
  if (!call.callback) throw E.notCallableViaIngress(method);
  env.state.subnetCallContexts.push({
    method,
    keyId,
    args,
    origin: call.callback,
    refundCycles: call.payment - fee,
    feeCycles: fee,
    batchTimeNanos: call.nowNanos,
    pseudoRandomId: env.randomBytes(32),
  });
}

/**
 * The reply to an answered chain-key request: `sign_with_ecdsa_result` / `sign_with_schnorr_result`
 * (`{ signature }`, 64 bytes) or `vetkd_derive_key_result` (`{ encrypted_key }`, 192 bytes), Candid.
 */
export function encodeChainKeyReply(method: ThresholdMethod, bytes: Uint8Array): Uint8Array {
  return method === 'vetkd_derive_key'
    ? encodeManagementReply('vetkd_derive_key', [{ encrypted_key: bytes }])
    : encodeManagementReply(method, [{ signature: bytes }]);
}

/**
 * `sign_with_ecdsa`: validated and paid here, signed by the payload step in a later round.
 * `message_hash` is `[u8; 32]` in the replica's types, so another length fails at routing.
 * @throws IcError with the replica's text (reject code 3 routing, 4 validation/fee/queue)
 */
export function signWithEcdsa(env: ManagementEnv, call: ManagementCall, arg: SignWithEcdsaArgs): void {
  const method = 'sign_with_ecdsa';
  if (arg.message_hash.length !== 32) {
    throw routingDecodeError(method, `Deserialize error: invalid length ${arg.message_hash.length}, expected an array of length 32`);
  }
  checkDerivationPathLength(method, arg.derivation_path);
  const key = masterKeyFor(env, method, keyIdFromCandid('ecdsa', arg.key_id), true);
  acceptThresholdRequest(env, call, method, key, { kind: 'ecdsa', messageHash: arg.message_hash, derivationPath: arg.derivation_path });
}

/**
 * `sign_with_schnorr`: BIP340 (optionally BIP341-tweaked by `aux`) or Ed25519, any message length.
 * @throws IcError with the replica's text (aux checks come before the fee)
 */
export function signWithSchnorr(env: ManagementEnv, call: ManagementCall, arg: SignWithSchnorrArgs): void {
  const method = 'sign_with_schnorr';
  checkDerivationPathLength(method, arg.derivation_path);
  const key = masterKeyFor(env, method, keyIdFromCandid('schnorr', arg.key_id), true);
  const aux = arg.aux[0];
  let taprootMerkleRoot: Uint8Array | undefined;
  if (aux) {
    if (key.transcript.curve === 'ed25519') throw rejected('Schnorr algorithm Ed25519 does not support aux input');
    const root = aux.bip341.merkle_root_hash;
    if (root.length !== 0 && root.length !== 32) throw rejected('Invalid aux field for Bip340Secp256k1');
    taprootMerkleRoot = root;
  }
  acceptThresholdRequest(env, call, method, key, {
    kind: 'schnorr',
    message: arg.message,
    derivationPath: arg.derivation_path,
    ...(taprootMerkleRoot ? { taprootMerkleRoot } : {}),
  });
}

/**
 * `vetkd_derive_key`: the caller's vetKey for `input` under (canister, `context`), encrypted to
 * `transport_public_key` (compressed G1, 48 bytes).
 * @throws IcError with the replica's text (an invalid transport key comes before the fee)
 */
export function vetkdDeriveKey(env: ManagementEnv, call: ManagementCall, arg: VetkdDeriveKeyArgs): void {
  const method = 'vetkd_derive_key';
  const key = masterKeyFor(env, method, keyIdFromCandid('vetkd', arg.key_id), true);
  if (!isValidTransportPublicKey(arg.transport_public_key)) throw rejected('The provided transport public key is invalid.');
  acceptThresholdRequest(env, call, method, key, {
    kind: 'vetkd',
    input: arg.input,
    context: arg.context,
    transportPublicKey: arg.transport_public_key,
  });
}
