/**
 * Issue 4 (master keys): every key id of the topology gets a master key at first start, held as
 * the single-replica key transcript (commitment [a₀·G], node 0's share a₀); it never changes
 * across restarts; `--seed` gives the same keys in a new state dir; `chainkey-replica keys --json`
 * prints them with the replica's key-id display.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { Replica } from '../../src/replica.ts';
import { parseTopology, DEFAULT_TOPOLOGY } from '../../src/routing/topology.ts';
import { publicPoint } from '../../src/crypto/threshold/key-transcript.ts';
import { tempStateDir } from '../support/replica-fixture.ts';

const EXPECTED_KEY_IDS = ['dfx_test_key', 'key_1', 'test_key_1'].flatMap((n) =>
  ['ecdsa:Secp256k1', 'schnorr:Bip340Secp256k1', 'schnorr:Ed25519', 'vetkd:Bls12_381_G2'].map((a) => `${a}:${n}`),
);

const keysOf = (r: Replica) =>
  Object.fromEntries([...r.masterKeys].map(([id, k]) => [id, Buffer.from(k.publicKey).toString('hex')]));

test('default topology: 12 keys; key_1 on the 34-node fiduciary subnet, test keys on the 13-node test-keys subnet', async () => {
  const dir = tempStateDir();
  try {
    const r = Replica.open({ stateDir: dir });
    assert.deepEqual([...r.masterKeys.keys()].sort(), [...EXPECTED_KEY_IDS].sort());
    for (const [id, k] of r.masterKeys) {
      assert.equal(k.subnet.name, id.endsWith(':key_1') ? 'fiduciary' : 'test-keys');
      assert.equal(k.subnet.size, id.endsWith(':key_1') ? 34 : 13);
      assert.equal(k.transcript.threshold, 1);
      assert.equal(k.transcript.receivers, 1);
      assert.deepEqual([...k.chainCode], new Array(32).fill(0));
      // The stored share is the secret behind the commitment's constant term.
      const share = r.store.thresholdKeys.share(k.transcript.transcriptId, 0)!;
      assert.deepEqual([...publicPoint(k.transcript.curve, share.value)], [...k.publicKey]);
      // Public keys are valid points of their groups.
      if (k.transcript.curve === 'secp256k1') secp256k1.Point.fromBytes(k.publicKey).assertValidity();
      else if (k.transcript.curve === 'ed25519') ed25519.Point.fromBytes(k.publicKey).assertValidity();
      else bls12_381.G2.Point.fromBytes(k.publicKey).assertValidity();
    }
    await r.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('keys survive restarts unchanged; a seed reproduces them in a new state dir; no seed differs', async () => {
  const seed = new Uint8Array(Buffer.from('00112233445566778899aabbccddeeff', 'hex'));
  const [a, b, c] = [tempStateDir(), tempStateDir(), tempStateDir()];
  try {
    let r = Replica.open({ stateDir: a, seed });
    const first = keysOf(r);
    await r.close();
    r = Replica.open({ stateDir: a });
    assert.deepEqual(keysOf(r), first, 'same keys after a restart (the seed is not needed again)');
    await r.close();
    r = Replica.open({ stateDir: b, seed });
    assert.deepEqual(keysOf(r), first, 'same seed, same keys');
    await r.close();
    r = Replica.open({ stateDir: c });
    const random = keysOf(r);
    await r.close();
    for (const id of EXPECTED_KEY_IDS) assert.notEqual(random[id], first[id]);
  } finally {
    for (const d of [a, b, c]) rmSync(d, { recursive: true, force: true });
  }
});

test('`chainkey-replica keys --json` prints key id, subnet id, public key and chain code', () => {
  const dir = tempStateDir();
  try {
    const run = () =>
      JSON.parse(
        execFileSync(process.execPath, ['src/cli.ts', 'keys', '--json', '--state-dir', dir], { cwd: new URL('../..', import.meta.url).pathname }).toString(),
      ) as { key_id: string; subnet_id: string; public_key: string; chain_code: string }[];
    const out = run();
    assert.deepEqual(out.map((k) => k.key_id), [...EXPECTED_KEY_IDS].sort());
    const ecdsa = out.find((k) => k.key_id === 'ecdsa:Secp256k1:test_key_1')!;
    assert.match(ecdsa.public_key, /^0[23][0-9a-f]{64}$/);
    assert.equal(ecdsa.chain_code, '0'.repeat(64));
    assert.match(out.find((k) => k.key_id === 'vetkd:Bls12_381_G2:key_1')!.public_key, /^[0-9a-f]{192}$/);
    assert.deepEqual(run(), out, 'the same keys on the next run');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a topology holding one key id on two subnets is refused', () => {
  const t = structuredClone(DEFAULT_TOPOLOGY);
  t.subnets[0]!.keys = ['ecdsa:Secp256k1:key_1'];
  assert.throws(() => parseTopology(t), /key ecdsa:Secp256k1:key_1 is held by both nns and fiduciary/);
  t.subnets[0]!.keys = ['ecdsa:Nope:key_1'];
  assert.throws(() => parseTopology(t), /subnets\[0\]\.keys\[0\]: invalid key id 'ecdsa:Nope:key_1'/);
});
