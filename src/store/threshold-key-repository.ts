/**
 * Threshold master keys in SQLite: the public key transcript of each key id (with the subnet that
 * holds it) and each node's secret share in its own row (`key_shares`, one row per (transcript,
 * node): no row or query ever holds two nodes' shares). The master public key never changes; a
 * reshare replaces the transcript by its next generation and erases the old shares. The
 * n-node protocol's pre-signature transcripts keep their shares in the same table.
 */
import type Database from 'better-sqlite3';
import type { KeyTranscript, SecretShare } from '../crypto/threshold/key-transcript.ts';
import type { Opening } from '../crypto/threshold/idkg/polynomial.ts';
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
  readonly #putShare: Database.Statement;
  readonly #deleteShare: Database.Statement;
  readonly #deleteShares: Database.Statement;
  readonly #setTranscript: Database.Statement;

  constructor(db: Db) {
    this.#putShare = db.prepare('INSERT OR REPLACE INTO key_shares (transcript_id, node, share) VALUES (?, ?, ?)');
    this.#deleteShare = db.prepare('DELETE FROM key_shares WHERE transcript_id = ? AND node = ?');
    this.#deleteShares = db.prepare('DELETE FROM key_shares WHERE transcript_id = ?');
    this.#setTranscript = db.prepare('UPDATE key_transcripts SET transcript = ?, subnet_id = ? WHERE key_id = ?');
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

  /** Stores a key transcript whose shares the nodes write themselves (the n-node protocol). */
  insertTranscript(keyId: string, subnetId: Uint8Array, transcript: KeyTranscript, nowNanos: bigint): void {
    this.#insert.run(keyId, subnetId, toJson(transcript), nowNanos);
  }

  /** Replaces a key's transcript by its next generation (a reshare; the public key is the same). */
  updateTranscript(keyId: string, subnetId: Uint8Array, transcript: KeyTranscript): void {
    this.#setTranscript.run(toJson(transcript), subnetId, keyId);
  }

  /**
   * Writes one node's opening of one transcript (32-byte value, or 64 bytes value ‖ mask).
   * @param node the receiver index in the transcript
   */
  putOpening(transcriptId: string, node: number, opening: Opening): void {
    const hex = opening.value.toString(16).padStart(64, '0') + (opening.mask === undefined ? '' : opening.mask.toString(16).padStart(64, '0'));
    this.#putShare.run(transcriptId, node, Buffer.from(hex, 'hex'));
  }

  /** One node's opening of one transcript, or undefined. */
  opening(transcriptId: string, node: number): Opening | undefined {
    const b = this.#share.get(transcriptId, node) as Buffer | undefined;
    if (!b) return undefined;
    const value = BigInt(`0x${b.subarray(0, 32).toString('hex')}`);
    return b.length === 64 ? { value, mask: BigInt(`0x${b.subarray(32).toString('hex')}`) } : { value };
  }

  /** Erases one node's share of one transcript. */
  deleteShare(transcriptId: string, node: number): void {
    this.#deleteShare.run(transcriptId, node);
  }

  /** Erases every node's share of one transcript (one statement; a used pre-signature's). */
  deleteTranscriptShares(transcriptId: string): void {
    this.#deleteShares.run(transcriptId);
  }

  /** Node `node`'s share of a transcript, or undefined. */
  share(transcriptId: string, node: number): SecretShare | undefined {
    const b = this.#share.get(transcriptId, node) as Buffer | undefined;
    return b ? { transcriptId, receiver: node, value: BigInt(`0x${b.toString('hex')}`) } : undefined;
  }
}
