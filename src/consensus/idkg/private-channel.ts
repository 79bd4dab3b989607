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
import type { Opening } from '../../crypto/threshold/idkg/polynomial.ts';

/** An opening sent privately by a dealer to one receiver. */
export interface ShareMessage {
  transcriptId: string;
  dealerIndex: number;
  receiverIndex: number;
  /** Sender and receiver node ids (recorded by the channel). */
  from: string;
  to: string;
  opening: Opening;
}

/** Per-node private inboxes. */
export class PrivateChannel {
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
