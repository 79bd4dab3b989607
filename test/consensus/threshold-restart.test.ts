/**
 * The protocol suite inside a replica (n = 4): keys generated at first start, pools filled in
 * the background and persisted one share row per (transcript, node) — no row holds two nodes'
 * shares, no transcript has more rows than receivers — and after a restart the pools resume
 * (signatures from restored pre-signatures verify, and their records and share rows are erased
 * when committed) and the key is the same. Restarting with
 * more nodes reshares the key to them (public key unchanged).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Replica } from '../../src/replica.ts';
import { DEFAULT_TOPOLOGY, parseTopology } from '../../src/routing/topology.ts';
import { tempStateDir } from '../support/replica-fixture.ts';
import { masterKeyOf, runUntil, signAndVerify } from './idkg-support.ts';

const ECDSA = 'ecdsa:Secp256k1:test_key_1';
const ED = 'schnorr:Ed25519:test_key_1';

function topology() {
  const t = structuredClone(DEFAULT_TOPOLOGY);
  for (const s of t.subnets) s.keys = s.kind === 'test_keys' ? [ECDSA, ED] : [];
  return parseTopology(t);
}

async function until(f: () => boolean, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('replica at n = 4: pools persisted one share per row; a restart resumes them; more nodes reshare the same key', async () => {
  const dir = tempStateDir();
  try {
    let r = Replica.open({ stateDir: dir, topology: topology(), nodes: 4, preSignaturesPerKey: 2, debugPrint: () => {} });
    const pk = masterKeyOf(r.threshold, ECDSA);
    assert.equal(r.masterKeys.get(ECDSA)!.transcript.threshold, 2);
    await until(() => r.threshold.preSignatureCount(ECDSA) === 2 && r.threshold.preSignatureCount(ED) === 2 && !r.threshold.hasWork(0n));
    await r.close();

    const db = new Database(join(dir, 'state.sqlite3'), { readonly: true });
    const rows = db.prepare('SELECT transcript_id, node, length(share) AS len FROM key_shares').all() as { transcript_id: string; node: number; len: number }[];
    const byTranscript = new Map<string, number[]>();
    for (const row of rows) byTranscript.set(row.transcript_id, [...(byTranscript.get(row.transcript_id) ?? []), row.node]);
    assert.ok(rows.every((x) => x.len === 32 || x.len === 64), 'each row is one scalar (or value ‖ mask) of one node');
    for (const [tid, nodes] of byTranscript) {
      if (tid.startsWith('vetkd')) continue;
      assert.ok(nodes.length <= 4 && new Set(nodes).size === nodes.length, `${tid}: one row per node`);
    }
    // Stored: two key transcripts' shares, 2 ECDSA pre-signatures × 3 transcripts, 2 blinders.
    assert.equal([...byTranscript.keys()].filter((t) => t.includes('/pre-')).length, 2 * 3 + 2);
    assert.equal((db.prepare('SELECT COUNT(*) AS c FROM idkg_pre_signatures').get() as { c: number }).c, 4);
    db.close();

    r = Replica.open({ stateDir: dir, topology: topology(), nodes: 4, preSignaturesPerKey: 2, debugPrint: () => {} });
    assert.equal(r.threshold.preSignatureCount(ECDSA), 2, 'pool resumed');
    assert.equal(masterKeyOf(r.threshold, ECDSA), pk);
    signAndVerify(r.threshold, ECDSA, 2);
    signAndVerify(r.threshold, ED, 1);
    // The replica erases used pre-signatures (record and every node's share rows) in the round's transaction.
    r.store.transaction(() => r.threshold.commitTaken());
    const after = new Database(join(dir, 'state.sqlite3'), { readonly: true });
    const left = after.prepare("SELECT COUNT(DISTINCT transcript_id) AS c FROM key_shares WHERE transcript_id LIKE '%/pre-%'").get() as { c: number };
    assert.equal(left.c, 1, 'only the unused blinder keeps share rows');
    assert.equal((after.prepare('SELECT COUNT(*) AS c FROM idkg_pre_signatures').get() as { c: number }).c, 1);
    after.close();
    await r.close();

    r = Replica.open({ stateDir: dir, topology: topology(), nodes: 7, preSignaturesPerKey: 1, debugPrint: () => {} });
    runUntil(r.threshold, () => r.threshold.keyTranscript(ECDSA)!.receivers.length === 7);
    assert.equal(masterKeyOf(r.threshold, ECDSA), pk, 'same key on 7 nodes');
    assert.equal(r.masterKeys.get(ECDSA)!.transcript.threshold, 3);
    signAndVerify(r.threshold, ECDSA, 1);
    await r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('XNet via a topology change: a key moved from test-keys (4 nodes) to fiduciary (7 nodes) is reshared across, same public key', async () => {
  const dir = tempStateDir();
  const moved = (): ReturnType<typeof topology> => {
    const t = structuredClone(DEFAULT_TOPOLOGY);
    for (const s of t.subnets) {
      if (s.kind === 'test_keys') Object.assign(s, { keys: [ED], nodes: 4 });
      else if (s.kind === 'fiduciary') Object.assign(s, { keys: [ECDSA], nodes: 7 });
      else s.keys = [];
    }
    return parseTopology(t);
  };
  try {
    let r = Replica.open({ stateDir: dir, topology: topology(), nodes: 4, preSignaturesPerKey: 1, debugPrint: () => {} });
    const pk = masterKeyOf(r.threshold, ECDSA);
    await r.close();
    r = Replica.open({ stateDir: dir, topology: moved(), preSignaturesPerKey: 1, debugPrint: () => {} });
    runUntil(r.threshold, () => r.threshold.keyTranscript(ECDSA)!.receivers[0] === 'fiduciary/0');
    const t = r.threshold.keyTranscript(ECDSA)!;
    assert.deepEqual([t.receivers.length, t.threshold], [7, 3]);
    assert.equal(masterKeyOf(r.threshold, ECDSA), pk, 'same key on the other subnet');
    assert.equal(r.masterKeys.get(ECDSA)!.transcript.nodes![0], 'fiduciary/0', 'the stored transcript follows');
    signAndVerify(r.threshold, ECDSA, 1);
    await r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
