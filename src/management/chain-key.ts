/**
 * The chain-key methods of the management canister (interface spec §"IC method ecdsa_public_key"
 * and following): routing by key id to the subnet that holds the key, with the replica's texts
 * (rs/system_api/src/routing.rs `route_chain_key_message`), and the public-key methods, which
 * derive the caller's (or `canister_id`'s) key from the master key exactly as mainnet does.
 * Public-key methods are free: attached cycles are refunded.
 */
import type { Principal } from '@icp-sdk/core/principal';
import { deriveEd25519PublicKey, deriveSecp256k1PublicKey, deriveVetKdPublicKey, fullDerivationPath } from '../crypto/derivation/index.ts';
import { keyIdFromCandid, keyIdText, sortedKeyIdTexts, type MasterKeyId } from '../routing/key-id.ts';
import type { MasterKey } from '../state/master-keys.ts';
import { ErrorCode, IcError, RejectCode } from '../types/ic-error.ts';
import type { ManagementCall, ManagementEnv } from './management-context.ts';

type Opt<T> = [] | [T];

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
export function ecdsaPublicKey(
  env: ManagementEnv,
  call: ManagementCall,
  arg: { canister_id: Opt<Principal>; derivation_path: Uint8Array[]; key_id: { curve: Record<string, null>; name: string } },
): { public_key: Uint8Array; chain_code: Uint8Array } {
  const k = masterKeyFor(env, 'ecdsa_public_key', keyIdFromCandid('ecdsa', arg.key_id), false);
  const owner = arg.canister_id[0] ?? call.caller;
  const d = deriveSecp256k1PublicKey(k.publicKey, k.chainCode, fullDerivationPath(owner.toUint8Array(), arg.derivation_path));
  return { public_key: d.publicKey, chain_code: d.chainCode };
}

/**
 * `schnorr_public_key`: BIP340 keys as 33-byte SEC1 compressed points (the untweaked internal
 * key), Ed25519 keys as 32-byte points; plus the chain code.
 */
export function schnorrPublicKey(
  env: ManagementEnv,
  call: ManagementCall,
  arg: { canister_id: Opt<Principal>; derivation_path: Uint8Array[]; key_id: { algorithm: Record<string, null>; name: string } },
): { public_key: Uint8Array; chain_code: Uint8Array } {
  const keyId = keyIdFromCandid('schnorr', arg.key_id);
  const k = masterKeyFor(env, 'schnorr_public_key', keyId, false);
  const owner = arg.canister_id[0] ?? call.caller;
  const path = fullDerivationPath(owner.toUint8Array(), arg.derivation_path);
  const d = k.transcript.curve === 'ed25519' ? deriveEd25519PublicKey(k.publicKey, k.chainCode, path) : deriveSecp256k1PublicKey(k.publicKey, k.chainCode, path);
  return { public_key: d.publicKey, chain_code: d.chainCode };
}

/** `vetkd_public_key`: the canister's (and context's) derived G2 key, 96 bytes compressed. */
export function vetkdPublicKey(
  env: ManagementEnv,
  call: ManagementCall,
  arg: { canister_id: Opt<Principal>; context: Uint8Array; key_id: { curve: Record<string, null>; name: string } },
): { public_key: Uint8Array } {
  const k = masterKeyFor(env, 'vetkd_public_key', keyIdFromCandid('vetkd', arg.key_id), false);
  const owner = arg.canister_id[0] ?? call.caller;
  return { public_key: deriveVetKdPublicKey(k.publicKey, owner.toUint8Array(), arg.context).publicKey };
}
