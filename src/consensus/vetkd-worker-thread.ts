/**
 * The worker thread behind vetkd-worker.ts: answers vetKD jobs with the encrypted key, computed
 * on mcl-wasm (threshold/vetkd-encrypted-key-mcl.ts) — each node's share with its own fresh
 * randomness, t of them combined and checked — exactly what the main thread would compute
 * inline. One job at a time, in arrival order.
 */
import { randomBytes } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { loadMcl } from '../crypto/mcl.ts';
import type { SecretShare } from '../crypto/threshold/key-transcript.ts';
import { combineEncryptedKeySharesMcl, createEncryptedKeyShareMcl } from '../crypto/threshold/vetkd-encrypted-key-mcl.ts';
import { combineEncryptedKeyShares, createEncryptedKeyShare, type VetKdDerivationInputs } from '../crypto/threshold/vetkd-encrypted-key.ts';
import type { VetKdJob, VetKdResult } from './vetkd-worker.ts';

const port = parentPort;
if (!port) throw new Error('vetkd-worker-thread.ts runs as a worker thread');
const mcl = await loadMcl();

function encryptedKey(inputs: VetKdDerivationInputs, shares: readonly SecretShare[], threshold: number): Uint8Array {
  const r = () => new Uint8Array(randomBytes(64));
  if (mcl) return combineEncryptedKeySharesMcl(mcl, inputs, shares.map((s) => createEncryptedKeyShareMcl(mcl, inputs, s, r())).slice(0, threshold));
  return combineEncryptedKeyShares(inputs, shares.map((s) => createEncryptedKeyShare(inputs, s, r())).slice(0, threshold));
}

port.on('message', (job: VetKdJob) => {
  let result: VetKdResult;
  try {
    result = { id: job.id, ok: true, bytes: encryptedKey(job.inputs, job.shares, job.threshold) };
  } catch (e) {
    result = { id: job.id, ok: false, message: (e as Error).message };
  }
  port.postMessage(result);
});
