/**
 * The network's threshold master keys: one per key id of the topology, held by the subnet the
 * topology names. Each is generated at first start — ECDSA and Schnorr keys by the n-node
 * protocol on the subnet's simulated nodes (consensus/idkg; n = 1 by default), vetKD keys as the
 * single-replica key transcript and node 0's share — from a CSPRNG or, with `--seed`, from
 * HKDF(seed, key id), and stored. The master public key never changes; reshares replace the
 * transcript by its next generation. A key id the topology no longer lists stays stored
 * (unused); one moved to another subnet keeps its key (reshared to that subnet's nodes).
 */
import { randomBytes } from 'node:crypto';
import { deriveEd25519PublicKey, deriveSecp256k1PublicKey } from '../crypto/derivation/index.ts';
import { dealSingleNodeKey, masterPublicKey, seededBytes, type KeyTranscript } from '../crypto/threshold/key-transcript.ts';
import { keyIdText, type MasterKeyId } from '../types/key-id.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import type { Subnet } from '../routing/topology.ts';
import type { StateStore } from '../store/state-store.ts';
import { nowNanos } from '../types/units.ts';

/** A master key as execution uses it. */
export interface MasterKey {
  keyId: MasterKeyId;
  subnet: Subnet;
  transcript: KeyTranscript;
  /** The master public key (commitment constant term), compressed. */
  publicKey: Uint8Array;
  /** The master chain code: 32 zero bytes on the IC (derivation.md §4.1). */
  chainCode: Uint8Array;
}

/**
 * The public key a full derivation path (principal first) gives under a secp256k1 (ECDSA,
 * BIP340) or Ed25519 master key, with its chain code and tweak (derivation.md §4.1, §4.2).
 * @throws Error for a vetKD key (its derivation takes a canister id and a context instead)
 */
export function derivePathKey(key: MasterKey, fullPath: readonly Uint8Array[]): { publicKey: Uint8Array; chainCode: Uint8Array; tweak: bigint } {
  if (key.transcript.curve === 'ed25519') return deriveEd25519PublicKey(key.publicKey, key.chainCode, fullPath);
  if (key.transcript.curve === 'secp256k1') return deriveSecp256k1PublicKey(key.publicKey, key.chainCode, fullPath);
  throw new Error(`derivePathKey: ${key.transcript.transcriptId} is not a path-derived key`);
}

/** The master chain code the IC uses for every key (32 zero bytes). */
export const MASTER_CHAIN_CODE = new Uint8Array(32);

/**
 * Seeded keys dealt in this process, by key id and seed: a process that opens many short-lived
 * replicas with the same seeds (PocketIC instances, one per test) deals each key once. Holds
 * secret shares, so only seeded (reproducible, hence not secret from the seed's holder) keys.
 */
const seededDeals = new Map<string, ReturnType<typeof dealSingleNodeKey>>();

/**
 * Generates a key on its subnet's nodes and returns its transcript (the nodes store their own
 * shares), or undefined for a key the n-node protocol does not cover (vetKD).
 */
export type KeyGenerator = (keyId: MasterKeyId, subnet: Subnet, seed: Uint8Array | undefined) => KeyTranscript | undefined;

/**
 * Creates the keys the topology lists but the store lacks, and returns every key the topology lists.
 * @param seed `--seed` bytes for deterministic keys in a new state dir, or a seed per subnet (each
 *   key derived from its holding subnet's seed); CSPRNG when absent.
 * @param generate the n-node key generation (consensus/idkg); keys it does not cover, and every
 *   key without it, are dealt as the single-replica transcript (n = 1) directly.
 */
export function ensureMasterKeys(
  store: StateStore,
  routing: RoutingTable,
  seed?: Uint8Array | ((subnet: Subnet) => Uint8Array),
  generate?: KeyGenerator,
): Map<string, MasterKey> {
  const stored = new Map(store.thresholdKeys.all().map((k) => [k.keyId, k]));
  const out = new Map<string, MasterKey>();
  store.transaction(() => {
    for (const { keyId, subnet } of routing.keys()) {
      const text = keyIdText(keyId);
      let transcript = stored.get(text)?.transcript;
      if (!transcript) {
        const subnetSeed = typeof seed === 'function' ? seed(subnet) : seed;
        const generated = generate?.(keyId, subnet, subnetSeed);
        if (generated) {
          store.thresholdKeys.insertTranscript(text, subnet.subnetId.toUint8Array(), generated, nowNanos());
          out.set(text, { keyId, subnet, transcript: generated, publicKey: masterPublicKey(generated), chainCode: MASTER_CHAIN_CODE });
          continue;
        }
        let dealt: ReturnType<typeof dealSingleNodeKey>;
        if (subnetSeed) {
          const random = seededBytes(subnetSeed, `master key ${text}`);
          const memo = `${text}|${Buffer.from(random).toString('hex')}`;
          dealt = seededDeals.get(memo) ?? dealSingleNodeKey(keyId, random);
          seededDeals.set(memo, dealt);
        } else {
          dealt = dealSingleNodeKey(keyId, new Uint8Array(randomBytes(64)));
        }
        store.thresholdKeys.insert(text, subnet.subnetId.toUint8Array(), dealt.transcript, [dealt.share], nowNanos());
        transcript = dealt.transcript;
      } else if (Buffer.compare(Buffer.from(stored.get(text)!.subnetId), Buffer.from(subnet.subnetId.toUint8Array())) !== 0) {
        store.thresholdKeys.moveToSubnet(text, subnet.subnetId.toUint8Array());
      }
      out.set(text, { keyId, subnet, transcript, publicKey: masterPublicKey(transcript), chainCode: MASTER_CHAIN_CODE });
    }
  });
  return out;
}
