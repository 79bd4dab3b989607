/**
 * The authenticated in-process channel that stands in for MEGa encryption (reference idkg.md
 * §5.2): a dealer's opening for receiver j goes straight into j's private inbox, and the
 * simulated network keeps its own record of every message it delivered (sender, receiver,
 * transcript, dealer, opening) where no node can write, so node code cannot forge who sent
 * what. A complaint reveals the delivered message; anyone can check it against the channel's
 * record (through the channel) and that the opening fails the dealing's commitment. In one
 * process MEGa would add no secrecy (every key is in the same heap); the record keeps the
 * accountability it buys. (It replaces an HMAC stamp per message: the same guarantee inside one
 * process — both rest on a private field — without a MAC per share.)
 */
import type { IdkgCurve } from '../../crypto/threshold/idkg/group.ts';
import type { MegaCiphertext, MegaComplaint, MegaKeyPair } from '../../crypto/threshold/idkg/mega.ts';
import type { Opening, RandomSource } from '../../crypto/threshold/idkg/polynomial.ts';

/** An opening sent privately by a dealer to one receiver. */
export interface ShareMessage {
  transcriptId: string;
  dealerIndex: number;
  receiverIndex: number;
  /** Sender and receiver node ids (recorded by the channel). */
  from: string;
  to: string;
  opening: Opening;
  /** `--mega`: a complaint's evidence (shared secret and DLEQ proof, idkg.md §2.7). */
  evidence?: MegaComplaint;
}

/** What a dealer's messages are bound to (the transcript's associated data and curve). */
export interface DealingContext {
  ad: Uint8Array;
  curve: IdkgCurve;
}

/**
 * How dealers' openings reach receivers: the authenticated in-process channel (default, this
 * file) or MEGa encryption (`--mega`, mega-channel.ts).
 */
export interface ShareChannel {
  /**
   * Sends one dealing's openings (one message per receiver).
   * @returns the MEGa ciphertext the dealing must carry (public), or undefined for the plain channel
   */
  sendDealing(ctx: DealingContext, messages: readonly ShareMessage[], random: RandomSource): MegaCiphertext | undefined;
  /** Takes everything waiting for a node (with MEGa: decrypted with the node's own key). */
  drain(nodeId: string, key?: MegaKeyPair): ShareMessage[];
  /** The message a complaint reveals (with MEGa: with the complainer's evidence attached). */
  complaint(m: ShareMessage, key: MegaKeyPair | undefined, random: RandomSource): ShareMessage;
  /** Whether a revealed message really is what the dealer sent its receiver. */
  wasDelivered(m: ShareMessage): boolean;
  /** Forgets finished transcripts. */
  purge(transcriptIds: ReadonlySet<string>): void;
}

/** Per-node private inboxes. */
export class PrivateChannel implements ShareChannel {
  readonly #inboxes = new Map<string, ShareMessage[]>();
  /** Transcript id → `dealer|receiver|from|to` → a copy of the opening delivered. */
  readonly #delivered = new Map<string, Map<string, Opening>>();

  /** Sends an opening; the channel records what it delivered. */
  send(m: ShareMessage): void {
    let box = this.#inboxes.get(m.to);
    if (!box) {
      box = [];
      this.#inboxes.set(m.to, box);
    }
    let record = this.#delivered.get(m.transcriptId);
    if (!record) {
      record = new Map();
      this.#delivered.set(m.transcriptId, record);
    }
    const copy: Opening = m.opening.mask === undefined ? { value: m.opening.value } : { value: m.opening.value, mask: m.opening.mask };
    record.set(`${m.dealerIndex}|${m.receiverIndex}|${m.from}|${m.to}`, copy);
    box.push({ ...m });
  }

  /** Sends each message; no ciphertext. */
  sendDealing(_ctx: DealingContext, messages: readonly ShareMessage[]): undefined {
    for (const m of messages) this.send(m);
    return undefined;
  }

  /** The revealed message itself (the record is the evidence). */
  complaint(m: ShareMessage): ShareMessage {
    return m;
  }

  /** Takes everything waiting for a node (a crashed node never takes its mail). */
  drain(nodeId: string): ShareMessage[] {
    const box = this.#inboxes.get(nodeId);
    if (!box || box.length === 0) return [];
    this.#inboxes.set(nodeId, []);
    return box;
  }

  /** Whether a revealed message really came through the channel unchanged. */
  wasDelivered(m: ShareMessage): boolean {
    const o = this.#delivered.get(m.transcriptId)?.get(`${m.dealerIndex}|${m.receiverIndex}|${m.from}|${m.to}`);
    return o !== undefined && o.value === m.opening.value && o.mask === m.opening.mask;
  }

  /** Drops undelivered mail and the delivery records of finished transcripts. */
  purge(transcriptIds: ReadonlySet<string>): void {
    for (const [id, box] of this.#inboxes) this.#inboxes.set(id, box.filter((m) => !transcriptIds.has(m.transcriptId)));
    for (const id of transcriptIds) this.#delivered.delete(id);
  }
}
