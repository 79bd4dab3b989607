/**
 * The worker thread behind vetkd-worker.ts: answers vetKD jobs with the encrypted key, computed
 * on mcl-wasm (threshold/vetkd-encrypted-key-mcl.ts) — each node's share with its own fresh
 * randomness, t of them combined and checked — exactly what the main thread would compute
 * inline. Jobs that arrived while it was busy are taken together (at most {@link MAX_BATCH}):
 * their combined keys are checked at once (one final exponentiation for all) and answered in
 * one message, in arrival order.
 */
import { randomBytes } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { loadMcl } from '../crypto/mcl.ts';
import { deriveEncryptedKeysMcl } from '../crypto/threshold/vetkd-encrypted-key-mcl.ts';
import { combineEncryptedKeyShares, createEncryptedKeyShare } from '../crypto/threshold/vetkd-encrypted-key.ts';
import type { VetKdJob, VetKdResult } from './vetkd-worker.ts';

/** Jobs computed and answered together at most (the first answer waits for the whole batch). */
const MAX_BATCH = 16;

const port = parentPort;
if (!port) throw new Error('vetkd-worker-thread.ts runs as a worker thread');
const mcl = await loadMcl();

function encryptedKeys(jobs: readonly VetKdJob[]): (Uint8Array | Error)[] {
  if (mcl) return deriveEncryptedKeysMcl(mcl, jobs);
  return jobs.map(({ inputs, shares, threshold }) => {
    try {
      const keyShares = shares.map((s) => createEncryptedKeyShare(inputs, s, new Uint8Array(randomBytes(64))));
      return combineEncryptedKeyShares(inputs, keyShares.slice(0, threshold));
    } catch (e) {
      return e as Error;
    }
  });
}

const queue: VetKdJob[] = [];
let scheduled = false;

/** Computes the queued jobs (up to MAX_BATCH) and answers them; runs again while more wait. */
function drain(): void {
  scheduled = false;
  const batch = queue.splice(0, MAX_BATCH);
  let keys: (Uint8Array | Error)[];
  try {
    keys = encryptedKeys(batch);
  } catch (e) {
    keys = batch.map(() => e as Error);
  }
  const results: VetKdResult[] = keys.map((r, i) => {
    const id = batch[i]!.id;
    return r instanceof Error ? { id, ok: false, message: r.message } : { id, ok: true, bytes: r };
  });
  port!.postMessage(results);
  schedule();
}

function schedule(): void {
  if (scheduled || queue.length === 0) return;
  scheduled = true;
  // After the messages already delivered: they join this batch.
  setImmediate(drain);
}

port.on('message', (jobs: VetKdJob[]) => {
  queue.push(...jobs);
  schedule();
});
