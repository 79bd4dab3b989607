/**
 * Threshold master keys in SQLite: the public key transcript of each key id (with the subnet that
 * holds it) and each node's secret share in its own row. Written once at first start; a key never
 * changes afterwards (a reshare would add a new transcript generation, not replace the key).
 */
import type Database from 'better-sqlite3';
import type { KeyTranscript, SecretShare } from '../crypto/threshold/key-transcript.ts';
import type { Db } from './database.ts';
import { fromJson, toJson } from './execution-repository.ts';

/** A stored key: its transcript and holding subnet. */
export interface StoredKey {
  keyId: string;
  subnetId: Uint8Array;
  transcript: KeyTranscript;
}

/** Reads and writes key transcripts and shares. */
export class ThresholdKeyRepository {
  readonly #all: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #setSubnet: Database.Statement;
  readonly #share: Database.Statement;
  readonly #insertShare: Database.Statement;

  constructor(db: Db) {
    this.#all = db.prepare('SELECT key_id, subnet_id, transcript FROM key_transcripts ORDER BY key_id');
    this.#insert = db.prepare('INSERT INTO key_transcripts (key_id, subnet_id, transcript, created_nanos) VALUES (?, ?, ?, ?)');
    this.#setSubnet = db.prepare('UPDATE key_transcripts SET subnet_id = ? WHERE key_id = ?');
    this.#share = db.prepare('SELECT share FROM key_shares WHERE transcript_id = ? AND node = ?').pluck();
    this.#insertShare = db.prepare('INSERT INTO key_shares (transcript_id, node, share) VALUES (?, ?, ?)');
  }

  /** Every stored key, by key id text. */
  all(): StoredKey[] {
    return (this.#all.all() as { key_id: string; subnet_id: Buffer; transcript: string }[]).map((r) => ({
      keyId: r.key_id,
      subnetId: new Uint8Array(r.subnet_id),
      transcript: fromJson(r.transcript) as KeyTranscript,
    }));
  }

  /** Stores a new key's transcript and shares (call in a transaction). @throws if the key exists. */
  insert(keyId: string, subnetId: Uint8Array, transcript: KeyTranscript, shares: SecretShare[], nowNanos: bigint): void {
    this.#insert.run(keyId, subnetId, toJson(transcript), nowNanos);
    for (const s of shares) this.#insertShare.run(s.transcriptId, s.receiver, Buffer.from(s.value.toString(16).padStart(64, '0'), 'hex'));
  }

  /** Records that a key is now held by another subnet (topology changed); the key stays. */
  moveToSubnet(keyId: string, subnetId: Uint8Array): void {
    this.#setSubnet.run(subnetId, keyId);
  }

  /** Node `node`'s share of a transcript, or undefined. */
  share(transcriptId: string, node: number): SecretShare | undefined {
    const b = this.#share.get(transcriptId, node) as Buffer | undefined;
    return b ? { transcriptId, receiver: node, value: BigInt(`0x${b.toString('hex')}`) } : undefined;
  }
}
