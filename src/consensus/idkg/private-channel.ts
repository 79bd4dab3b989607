/**
 * The authenticated in-process channel that stands in for MEGa encryption (reference idkg.md
 * §5.2): a dealer's opening for receiver j goes straight into j's private inbox, stamped by the
 * simulated network with an HMAC under a key no node holds, so node code cannot forge who sent
 * what. A complaint reveals the stamped message; anyone can check the stamp (through the
 * channel) and that the opening fails the dealing's commitment. In one process MEGa would add
 * no secrecy (every key is in the same heap); the stamp keeps the accountability it buys.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Opening } from '../../crypto/threshold/idkg/polynomial.ts';

/** An opening sent privately by a dealer to one receiver. */
export interface ShareMessage {
  transcriptId: string;
  dealerIndex: number;
  receiverIndex: number;
  /** Sender and receiver node ids (stamped). */
  from: string;
  to: string;
  opening: Opening;
  /** HMAC-SHA256 of the fields above under the channel's key, hex. */
  stamp: string;
}

/** Per-node private inboxes. */
export class PrivateChannel {
  readonly #key = randomBytes(32);
  readonly #inboxes = new Map<string, ShareMessage[]>();

  #mac(m: Omit<ShareMessage, 'stamp'>): string {
    const body = `${m.transcriptId}|${m.dealerIndex}|${m.receiverIndex}|${m.from}|${m.to}|${m.opening.value.toString(16)}|${m.opening.mask?.toString(16) ?? ''}`;
    return createHmac('sha256', this.#key).update(body).digest('hex');
  }

  /** Sends an opening; the channel stamps the real sender. */
  send(m: Omit<ShareMessage, 'stamp'>): void {
    let box = this.#inboxes.get(m.to);
    if (!box) {
      box = [];
      this.#inboxes.set(m.to, box);
    }
    box.push({ ...m, stamp: this.#mac(m) });
  }

  /** Takes everything waiting for a node (a crashed node never takes its mail). */
  drain(nodeId: string): ShareMessage[] {
    const box = this.#inboxes.get(nodeId);
    if (!box || box.length === 0) return [];
    this.#inboxes.set(nodeId, []);
    return box;
  }

  /** Whether a revealed message really came through the channel unchanged. */
  verifyStamp(m: ShareMessage): boolean {
    const { stamp, ...rest } = m;
    return stamp === this.#mac(rest);
  }

  /** Drops undelivered mail of finished transcripts. */
  purge(transcriptIds: ReadonlySet<string>): void {
    for (const [id, box] of this.#inboxes) this.#inboxes.set(id, box.filter((m) => !transcriptIds.has(m.transcriptId)));
  }
}
