/**
 * Threshold signing and pre-signature dealing off the main thread (src/consensus/signing-worker.ts)
 * for single-node keys:
 * - the worker deals the pools' pre-signatures and signs from them; each signature verifies with
 *   @noble/curves under the key @dfinity/ic-pub-key derives (ECDSA, BIP340, Ed25519), and equals
 *   the one this thread computes from the same job; a wrong share is refused; close rejects;
 * - in a replica (real rounds, SQLite, a WAT canister calling sign_with_ecdsa / sign_with_schnorr):
 *   requests arriving together are signed in the worker and verify (a lone one inline); a used pre-signature's record is gone once its
 *   response is committed (the worker's pre-signatures are stored with the next commit);
 *   requests in flight in the worker at a crash (the state on disk copied right after the round
 *   that handed them over) are answered once by a replica opened on that state.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Principal } from '@icp-sdk/core/principal';
import { secp256k1, schnorr } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { ecdsa as oracleEcdsa, schnorr as oracleSchnorr } from '@dfinity/ic-pub-key';
import { SigningWorker } from '../../src/consensus/signing-worker.ts';
import { ThresholdNetwork } from '../../src/consensus/idkg/threshold-network.ts';
import { publicPreSignature } from '../../src/consensus/idkg/pre-signature-record.ts';
import { signSingleNode } from '../../src/consensus/idkg/single-node-signing.ts';
import { deriveEd25519PublicKey, deriveSecp256k1PublicKey, fullDerivationPath } from '../../src/crypto/derivation/index.ts';
import { idkgGroup } from '../../src/crypto/threshold/idkg/group.ts';
import { decodeManagementReply, encodeManagementArgs } from '../../src/management/codec.ts';
import { Replica } from '../../src/replica.ts';
import { forwarderWat } from '../support/forwarder-wat.ts';
import { tempStateDir } from '../support/replica-fixture.ts';
import { compileWat } from '../support/wat.ts';

type OraclePrincipal = Parameters<typeof oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix>[0];
type Kind = 'ecdsa' | 'bip340' | 'ed25519';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const CANISTER = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
const PATH = [new Uint8Array([4, 2])];

async function until(f: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Checks a signature with noble under the key ic-pub-key derives for (canister, path). */
function verify(kind: Kind, masterKey: Uint8Array, canister: Principal, path: Uint8Array[], message: Uint8Array, sig: Uint8Array): boolean {
  const c = canister as unknown as OraclePrincipal;
  if (kind === 'ecdsa') {
    const k = oracleEcdsa.secp256k1.PublicKeyWithChainCode.fromHex({ public_key: hex(masterKey), chain_code: '00'.repeat(32) });
    const pk = k.deriveSubkeyWithChainCode(oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix(c, path)).public_key.toHex();
    return secp256k1.verify(sig, message, Buffer.from(pk, 'hex'), { prehash: false, lowS: true });
  }
  if (kind === 'bip340') {
    const k = oracleSchnorr.bip340secp256k1.PublicKeyWithChainCode.fromHex({ public_key: hex(masterKey), chain_code: '00'.repeat(32) });
    const pk = k.deriveSubkeyWithChainCode(oracleSchnorr.bip340secp256k1.DerivationPath.withCanisterPrefix(c, path)).public_key.toHex();
    return schnorr.verify(sig, message, Buffer.from(pk, 'hex').subarray(1));
  }
  const k = oracleSchnorr.ed25519.PublicKeyWithChainCode.fromHex(hex(masterKey), '00'.repeat(32));
  const pk = k.deriveSubkeyWithChainCode(oracleSchnorr.ed25519.DerivationPath.withCanisterPrefix(c, path)).public_key.toHex();
  return ed25519.verify(sig, message, Buffer.from(pk, 'hex'));
}

test('signing worker: it deals the pools and signs; signatures verify (ECDSA, BIP340, Ed25519) and match this thread', async () => {
  const keys: [Kind, string, 'ecdsa' | 'schnorr', 'secp256k1' | 'ed25519'][] = [
    ['ecdsa', 'ecdsa:Secp256k1:k', 'ecdsa', 'secp256k1'],
    ['bip340', 'schnorr:Bip340Secp256k1:k', 'schnorr', 'secp256k1'],
    ['ed25519', 'schnorr:Ed25519:k', 'schnorr', 'ed25519'],
  ];
  let signed = 0;
  const worker: SigningWorker = new SigningWorker({ onSigned: () => signed++, onDealt: (b) => net.adoptPreSignatures(b), onLost: () => net.dealerLost() });
  const net: ThresholdNetwork = new ThresholdNetwork({ subnets: [{ name: 's', nodes: 1, faults: [] }], preSignaturesPerKey: 2, dealer: worker });
  try {
    for (const [, id, kind, curve] of keys) {
      net.addKey(id, kind, curve, 's');
      net.generateKey(id);
    }
    await until(() => worker.available(), 'the worker thread');
    for (const [, id] of keys) net.noteDemand(id, 1);
    net.runRound(0n);
    await until(() => keys.every(([, id]) => net.preSignatureCount(id) >= 2), 'pre-signatures from the worker');
    assert.ok(net.status().every((s) => s.preSignaturesInCreation === 0), 'none dealt on this thread');
    const node = net.node('s/0')!;
    for (const [kind, id] of keys) {
      const t = net.keyTranscript(id)!;
      const master = idkgGroup(t.curve).encode(t.combined.points[0]!);
      const full = fullDerivationPath(CANISTER.toUint8Array(), PATH);
      const d = kind === 'ed25519' ? deriveEd25519PublicKey(master, new Uint8Array(32), full) : deriveSecp256k1PublicKey(master, new Uint8Array(32), full);
      const e = net.takePreSignature(id, { eraseLater: true })!;
      const message = new Uint8Array(randomBytes(32));
      const base = { derivationTweak: d.tweak, derivedPublicKey: d.publicKey, randomness: new Uint8Array(randomBytes(32)) };
      const pre = publicPreSignature(e);
      const job = net.singleNodeSigningJob(e, kind === 'ecdsa' ? { ...base, preSignature: pre as never, messageHash: message } : { ...base, preSignature: pre as never, message });
      const first = e.kind === 'ecdsa' ? e.transcripts.lambda : e.transcripts.blinder;
      assert.equal(node.share(first), undefined, 'the node forgot its shares of the pre-signature');
      const sig = await worker.signAsync(job);
      assert.ok(verify(kind, master, CANISTER, PATH, message, sig), `${kind}: the worker's signature verifies`);
      assert.deepEqual(sig, signSingleNode(job), `${kind}: same signature as on this thread`);
      if (job.kind === 'ecdsa') {
        const bad = { ...job, share: { ...job.share, lambda: job.share.lambda + 1n } };
        await assert.rejects(worker.signAsync(bad), /does not verify/);
      }
      net.erasePreSignature(e);
    }
    await until(() => signed >= 4, 'onSigned for each answer');
    const pending = assert.rejects(worker.signAsync({ kind: 'ecdsa', inputs: {} as never, share: {} as never }), /closed/);
    await worker.close();
    await pending;
  } finally {
    await worker.close();
  }
});

test('replica: requests signed in the worker verify; used pre-signatures are erased with the response; requests in flight at a crash are answered once after the restart', async () => {
  const dir = tempStateDir();
  const crashDir = tempStateDir();
  const ECDSA = 'ecdsa:Secp256k1:test_key_1';
  const BIP340 = 'schnorr:Bip340Secp256k1:test_key_1';
  const ED = 'schnorr:Ed25519:test_key_1';
  const mgmt = Principal.managementCanister();
  const user = Principal.fromUint8Array(new Uint8Array([...new Uint8Array(28).fill(9), 0x02]));
  const hash = new Uint8Array(32).fill(3);
  const message = new TextEncoder().encode('signed in the worker');
  const calls = [
    { callee: mgmt, method: 'sign_with_ecdsa', cycles: 10_000_000_000n, arg: encodeManagementArgs('sign_with_ecdsa', [{ message_hash: hash, derivation_path: PATH, key_id: { curve: { secp256k1: null }, name: 'test_key_1' } }]) },
    {
      callee: mgmt,
      method: 'sign_with_schnorr',
      cycles: 10_000_000_000n,
      arg: encodeManagementArgs('sign_with_schnorr', [{ message, derivation_path: PATH, key_id: { algorithm: { bip340secp256k1: null }, name: 'test_key_1' }, aux: [] }]),
    },
    { callee: mgmt, method: 'sign_with_schnorr', cycles: 10_000_000_000n, arg: encodeManagementArgs('sign_with_schnorr', [{ message, derivation_path: PATH, key_id: { algorithm: { ed25519: null }, name: 'test_key_1' }, aux: [] }]) },
  ];
  const wasm = await compileWat(forwarderWat(calls));
  let replica = Replica.open({ stateDir: dir, debugPrint: () => {} });
  const submit = async (canisterId: Principal, methodName: string, arg: Uint8Array, effective = canisterId): Promise<Uint8Array> => {
    const requestId = new Uint8Array(randomBytes(32));
    const expiryNanos = BigInt(Date.now() + 240_000) * 1_000_000n;
    assert.equal(await replica.submitCall({ requestId, sender: user, canisterId, methodName, arg, expiryNanos, effectiveCanisterId: effective }), 'accepted');
    return requestId;
  };
  const reply = async (rid: Uint8Array): Promise<Uint8Array> => {
    const r = await replica.waitForCompletion(rid, 20_000);
    assert.equal(r?.status, 'replied', `${r?.status}: ${r?.rejectMessage ?? ''}`);
    return r!.reply!;
  };
  const storedPreSignatures = (keyId: string): number => {
    const db = new Database(join(dir, 'state.sqlite3'), { readonly: true });
    try {
      return (db.prepare('SELECT COUNT(*) AS c FROM idkg_pre_signatures WHERE key_id = ?').get(keyId) as { c: number }).c;
    } finally {
      db.close();
    }
  };
  try {
    const created = await reply(
      await submit(mgmt, 'provisional_create_canister_with_cycles', encodeManagementArgs('provisional_create_canister_with_cycles', [{ amount: [], settings: [], specified_id: [], sender_canister_version: [] }]), CANISTER),
    );
    const id: Principal = decodeManagementReply('provisional_create_canister_with_cycles', created)[0].canister_id;
    await reply(await submit(mgmt, 'install_code', encodeManagementArgs('install_code', [{ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: new Uint8Array(), sender_canister_version: [] }]), id));
    const sign = async (i: number): Promise<Uint8Array> => {
      const method = calls[i]!.method as 'sign_with_ecdsa' | 'sign_with_schnorr';
      return decodeManagementReply(method, await reply(await submit(id, `go_${i}`, new Uint8Array())))[0].signature;
    };
    const master = (keyId: string) => replica.masterKeys.get(keyId)!.publicKey;
    // Requests arriving together go to the worker (a lone one with the worker idle is signed on
    // the replica's thread); the first ones start it and are signed here meanwhile.
    const three = async (): Promise<void> => {
      const [a, b, c] = await Promise.all([sign(0), sign(1), sign(2)]);
      assert.ok(verify('ecdsa', master(ECDSA), id, PATH, hash, a), 'ECDSA');
      assert.ok(verify('bip340', master(BIP340), id, PATH, message, b), 'BIP340');
      assert.ok(verify('ed25519', master(ED), id, PATH, message, c), 'Ed25519');
    };
    for (let i = 0; i < 40 && replica.chainKey.offThread.handedOver < 3; i++) {
      await three();
      await new Promise((r) => setTimeout(r, 10));
    }
    const before = replica.chainKey.offThread.handedOver;
    assert.ok(before >= 3, 'requests were handed to the worker');
    await three();
    assert.equal(replica.chainKey.offThread.handedOver, before + 3, 'all three signed in the worker');
    const alone = replica.chainKey.offThread.handedOver;
    assert.ok(verify('ecdsa', master(ECDSA), id, PATH, hash, await sign(0)));
    assert.equal(replica.chainKey.offThread.handedOver, alone, 'a lone request with the worker idle is signed inline');
    // Every stored pre-signature is one the pool still holds: the used ones left with their responses.
    await until(() => replica.chainKey.offThread.computing === 0, 'jobs to finish');
    // (Those the worker dealt since the last round are stored within 50 ms; now, for the count.)
    replica.threshold.saveDealtPreSignatures();
    for (const k of [ECDSA, BIP340, ED]) assert.equal(storedPreSignatures(k), replica.threshold.preSignatureCount(k), `${k}: stored = pooled`);

    // A crash while requests are in flight in the worker: the state on disk right after the round
    // that handed them over (copied in the same tick, before any later round could answer them).
    // Their contexts and pre-signatures are there; a replica on that state answers each once.
    replica.threshold.saveDealtPreSignatures();
    const handed = replica.chainKey.offThread.handedOver;
    const rids = await Promise.all(Array.from({ length: 16 }, () => submit(id, 'go_0', new Uint8Array())));
    while (replica.chainKey.offThread.handedOver === handed) await new Promise((r) => setImmediate(r));
    const live = new Database(join(dir, 'state.sqlite3'), { readonly: true });
    live.exec(`VACUUM INTO '${join(crashDir, 'state.sqlite3')}'`);
    live.close();
    await replica.close();
    const crashed = new Database(join(crashDir, 'state.sqlite3'), { readonly: true });
    const count = (table: string): number => (crashed.prepare(`SELECT COUNT(*) AS c FROM ${table}`).get() as { c: number }).c;
    const unanswered = count('sign_with_threshold_contexts');
    const keptPreSignatures = count(`idkg_pre_signatures WHERE key_id = '${ECDSA}'`);
    crashed.close();
    assert.ok(unanswered > 0, 'requests were in flight');
    replica = Replica.open({ stateDir: crashDir, debugPrint: () => {} });
    assert.equal(rids.filter((rid) => replica.state.ingress(rid)?.status === 'processing').length, unanswered);
    assert.ok(replica.threshold.preSignatureCount(ECDSA) >= Math.min(unanswered, keptPreSignatures), 'their pre-signatures are still stored');
    for (const rid of rids) assert.ok(verify('ecdsa', master(ECDSA), id, PATH, hash, decodeManagementReply('sign_with_ecdsa', await reply(rid))[0].signature));
    assert.equal(replica.state.subnetCallContexts.size, 0, 'answered once: no context left');
    await until(() => replica.chainKey.offThread.computing === 0, 'jobs to finish');
    replica.threshold.saveDealtPreSignatures();
    const after = new Database(join(crashDir, 'state.sqlite3'), { readonly: true });
    const stored = (after.prepare('SELECT COUNT(*) AS c FROM idkg_pre_signatures WHERE key_id = ?').get(ECDSA) as { c: number }).c;
    after.close();
    assert.equal(stored, replica.threshold.preSignatureCount(ECDSA), 'their pre-signatures erased with the answers');
  } finally {
    await replica.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(crashDir, { recursive: true, force: true });
  }
});
