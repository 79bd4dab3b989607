/**
 * Test-only client: re-exports @dfinity/agent 3.x and its identities, resolved from this
 * workspace's own node_modules (with @noble/hashes 1.x), apart from the product's noble 2.x;
 * and @dfinity/vetkeys (built on agent 3), the independent check of vetkd_derive_key.
 */
export * as agent3 from '@dfinity/agent';
export * as identity3 from '@dfinity/identity';
export { Secp256k1KeyIdentity as Secp256k1KeyIdentity3 } from '@dfinity/identity-secp256k1';
export { Principal as Principal3 } from '@dfinity/principal';
export { IDL as IDL3 } from '@dfinity/candid';
export * as vetkeys from '@dfinity/vetkeys';
