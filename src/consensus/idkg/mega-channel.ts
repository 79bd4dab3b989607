/**
 * The `--mega` test mode's share channel (reference idkg.md §5.2: keep a mode that runs the real
 * MEGa + DLEQ complaint path): a dealer encrypts all its openings of one dealing to the
 * receivers' K256 keys (crypto/threshold/idkg/mega.ts) and the ciphertext travels publicly in
 * the dealing, whose public verification checks its proof of possession. Receivers decrypt
 * their entry with their own secret key; the channel keeps no record of what was delivered,
 * only public data (each node's public key, each dealing's ciphertext). A complaint carries the
 * complainer's shared secret with a DLEQ proof: anyone decrypts the entry with it and checks
 * that the opening it reveals is the one complained about (and fails the commitment).
 * Costs several scalar multiplications per dealing and receiver: a test mode for n ≤ 13.
 */
import { megaComplain, megaDecrypt, megaEncrypt, megaOpenComplaint, type MegaCiphertext, type MegaKeyPair } from '../../crypto/threshold/idkg/mega.ts';
import type { RandomSource } from '../../crypto/threshold/idkg/polynomial.ts';
import type { DealingContext, ShareChannel, ShareMessage } from './private-channel.ts';

/** A message in flight: who sent what to whom, the opening still encrypted in `ct`. */
interface Envelope {
  m: Omit<ShareMessage, 'opening'>;
  ctx: DealingContext;
  ct: MegaCiphertext;
}

/** MEGa-encrypted share delivery. */
export class MegaChannel implements ShareChannel {
  /** Node id → MEGa public key (public, like the IC's registry). */
  readonly #publicKeys = new Map<string, Uint8Array>();
  readonly #inboxes = new Map<string, Envelope[]>();
  /** Transcript id → dealer index → its ciphertext and context (public). */
  readonly #dealings = new Map<string, Map<number, { ctx: DealingContext; ct: MegaCiphertext }>>();

  /** Registers a node's public key. */
  register(nodeId: string, publicKey: Uint8Array): void {
    this.#publicKeys.set(nodeId, publicKey);
  }

  /**
   * Encrypts the openings with one ephemeral key and queues an envelope per receiver.
   * @throws Error if a receiver has no registered key
   */
  sendDealing(ctx: DealingContext, messages: readonly ShareMessage[], random: RandomSource): MegaCiphertext | undefined {
    if (messages.length === 0) return undefined;
    const pks = messages.map((m) => {
      const pk = this.#publicKeys.get(m.to);
      if (!pk) throw new Error(`no MEGa key for node ${m.to}`);
      return pk;
    });
    const first = messages[0]!;
    const ct = megaEncrypt(ctx.curve, ctx.ad, first.dealerIndex, pks, messages.map((m) => m.opening), random);
    let byDealer = this.#dealings.get(first.transcriptId);
    if (!byDealer) {
      byDealer = new Map();
      this.#dealings.set(first.transcriptId, byDealer);
    }
    byDealer.set(first.dealerIndex, { ctx, ct });
    for (const { opening: _, ...m } of messages) {
      let box = this.#inboxes.get(m.to);
      if (!box) {
        box = [];
        this.#inboxes.set(m.to, box);
      }
      box.push({ m, ctx, ct });
    }
    return ct;
  }

  /** Decrypts the node's waiting entries with its key (without a key it receives nothing). */
  drain(nodeId: string, key?: MegaKeyPair): ShareMessage[] {
    const box = this.#inboxes.get(nodeId);
    if (!box || box.length === 0 || !key) return [];
    this.#inboxes.set(nodeId, []);
    return box.map(({ m, ctx, ct }) => ({ ...m, opening: megaDecrypt(ctx.curve, ctx.ad, m.dealerIndex, m.receiverIndex, key, ct) }));
  }

  /** Attaches the complainer's evidence: ub = sk·V and its DLEQ proof. */
  complaint(m: ShareMessage, key: MegaKeyPair | undefined, random: RandomSource): ShareMessage {
    const d = this.#dealings.get(m.transcriptId)?.get(m.dealerIndex);
    if (!d || !key) return m;
    return { ...m, evidence: megaComplain(d.ctx.ad, m.dealerIndex, m.receiverIndex, key, d.ct, random) };
  }

  /** Checks the evidence against the public ciphertext and the receiver's public key. */
  wasDelivered(m: ShareMessage): boolean {
    const d = this.#dealings.get(m.transcriptId)?.get(m.dealerIndex);
    const pk = this.#publicKeys.get(m.to);
    if (!d || !pk || !m.evidence) return false;
    const o = megaOpenComplaint(d.ctx.curve, d.ctx.ad, m.dealerIndex, m.receiverIndex, pk, d.ct, m.evidence);
    return o !== null && o.value === m.opening.value && o.mask === m.opening.mask;
  }

  /** Drops undelivered envelopes and the ciphertexts of finished transcripts. */
  purge(transcriptIds: ReadonlySet<string>): void {
    for (const [id, box] of this.#inboxes) this.#inboxes.set(id, box.filter((e) => !transcriptIds.has(e.m.transcriptId)));
    for (const id of transcriptIds) this.#dealings.delete(id);
  }
}
