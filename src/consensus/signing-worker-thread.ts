/**
 * The worker thread behind signing-worker.ts: signs the jobs it is sent (first, in arrival
 * order: a request waits on them) and, while none wait, deals the
 * pre-signatures it was ordered (single-node-dealer.ts), sending them back in batches.
 * Dealing goes one pre-signature at a time between checks for new messages, so a signing job
 * waits at most one dealing (~0.2 ms).
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { SingleNodeDealer } from './idkg/single-node-dealer.ts';
import { signSingleNode, type DealtPreSignature, type SingleNodeSigningJob } from './idkg/single-node-signing.ts';
import { ANNOUNCE_EVERY_MS, type SigningResult, type SigningWorkerReply, type SigningWorkerRequest } from './signing-worker.ts';

const port = parentPort;
if (!port) throw new Error('signing-worker-thread.ts runs as a worker thread');
const results = (workerData as { results: MessagePort }).results;
const reply = (m: SigningWorkerReply) => results.postMessage(m);

const queue: { id: number; job: SingleNodeSigningJob }[] = [];
const dealer = new SingleNodeDealer();
/** Pre-signatures dealt and not sent yet, and when the last batch went. */
let dealt: DealtPreSignature[] = [];
let dealtSince = performance.now();
/** While orders go on, dealt pre-signatures are sent at least this often (ms). */
const DEALT_EVERY_MS = 5;
let scheduled = false;

function schedule(): void {
  if (scheduled) return;
  scheduled = true;
  setImmediate(pump);
}

function pump(): void {
  scheduled = false;
  if (queue.length > 0) {
    let results: SigningResult[] = [];
    let last = performance.now();
    while (queue.length > 0) {
      const { id, job } = queue.shift()!;
      try {
        results.push({ id, ok: true, bytes: signSingleNode(job) });
      } catch (e) {
        results.push({ id, ok: false, message: (e as Error).message });
      }
      if (queue.length > 0 && performance.now() - last >= ANNOUNCE_EVERY_MS) {
        reply({ type: 'signed', results });
        results = [];
        last = performance.now();
      }
    }
    reply({ type: 'signed', results });
  } else if (dealer.busy) {
    dealt.push(...dealer.step());
    // Sent together: when the orders are done, or every DEALT_EVERY_MS while they go on.
    if (dealt.length > 0 && (!dealer.busy || performance.now() - dealtSince >= DEALT_EVERY_MS)) {
      reply({ type: 'dealt', preSignatures: dealt });
      dealt = [];
      dealtSince = performance.now();
    }
  }
  if (queue.length > 0 || dealer.busy) schedule();
}

port.on('message', (m: SigningWorkerRequest) => {
  if (m.type === 'sign') queue.push(...m.jobs);
  else dealer.order(m.key, m.count);
  schedule();
});
reply({ type: 'ready' });
