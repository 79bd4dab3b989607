/**
 * Chain-key signing under PicJS (issue 14): a Motoko canister signs through `aaaaa-aa` with
 * `key_1` (on the fiduciary subnet, 34 nodes, fee 26_153_846_153) and with `dfx_test_key` /
 * `test_key_1` (on the test-keys subnet every instance has, 13 nodes, fee 10_000_000_000), driven
 * only through PicJS's public API against bin/pocket-ic. Oracles: @noble/curves verifies each
 * signature under the canister's own `ecdsa_public_key` / `schnorr_public_key`; master keys come
 * from the subnets' seeds, so a second instance derives the same public keys.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { secp256k1, schnorr } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { PocketIc, SubnetStateType } from '@dfinity/pic';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { compileMotokoFixture, type MotokoOutput } from '../support/motoko.ts';
import { startPicServer, type PicServer } from '../support/pocket-ic.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const FEE_13 = 10_000_000_000n;
const FEE_34 = 26_153_846_153n;
const NEW = { state: { type: SubnetStateType.New } } as const;

describe('PicJS: chain-key signing', () => {
  let server: PicServer;
  let chainKey: MotokoOutput;
  let pic: PocketIc;
  let actor: any;
  const path = [new Uint8Array([1, 2, 3])];

  before(async () => {
    [server, chainKey] = await Promise.all([startPicServer(), compileMotokoFixture('ChainKey')]);
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    pic = await PocketIc.create(server.url, { nns: NEW, fiduciary: NEW });
    ({ actor } = await pic.setupCanister({ idlFactory: idlFactoryFromCandid(chainKey.candid), wasm: chainKey.wasm }));
  });
  afterEach(async () => {
    await pic.tearDown();
  });

  async function charged(f: () => Promise<unknown>): Promise<bigint> {
    const before = (await actor.balance()) as bigint;
    await f();
    return before - ((await actor.balance()) as bigint);
  }

  for (const [name, fee] of [['key_1', FEE_34], ['dfx_test_key', FEE_13], ['test_key_1', FEE_13]] as const) {
    it(`sign_with_ecdsa with ${name}: verifies under the canister's ecdsa_public_key; charges ${fee}`, async () => {
      const hash = sha256(new TextEncoder().encode(`PicJS ${name}`));
      let res: any;
      const paid = await charged(async () => {
        res = await actor.signEcdsa(name, path, hash, fee + 1_000n);
      });
      assert.ok('ok' in res, JSON.stringify(res));
      const pk = await actor.ecdsaPublicKey(name, path);
      assert.ok('ok' in pk, JSON.stringify(pk));
      assert.ok(secp256k1.verify(res.ok, hash, pk.ok[0], { prehash: false }));
      // The signature fee, plus what PocketIC's Normal schedule charges for the update, the call to
      // aaaaa-aa and its callback (execution, transmission, ingress: a few million cycles here).
      assert.ok(paid >= fee && paid - fee < 100_000_000n, `paid ${paid} for a fee of ${fee}`);
    });
  }

  it('sign_with_schnorr BIP340 with dfx_test_key verifies', async () => {
    const message = new TextEncoder().encode('PicJS BIP340');
    const res = await actor.signSchnorr(false, 'dfx_test_key', path, message, [], FEE_13);
    assert.ok('ok' in res, JSON.stringify(res));
    const pk = await actor.schnorrPublicKey(false, 'dfx_test_key', path);
    assert.ok(schnorr.verify(res.ok, message, (pk.ok[0] as Uint8Array).subarray(1)));
  });

  it('the fiduciary subnet is listed with 34 nodes; the test-keys subnet is not listed', async () => {
    const fiduciary = await pic.getFiduciarySubnet();
    assert.equal(fiduciary?.id.toText(), 'pzp6e-ekpqk-3c5x7-2h6so-njoeq-mt45d-h3h6c-q3mxf-vpeq5-fk5o7-yae');
    assert.equal(fiduciary?.size, 34);
    const topology = await pic.getTopology();
    assert.equal(topology.length, 3, 'nns, fiduciary and one application subnet');
  });

  it('master keys follow the subnet seeds: a second instance derives the same keys for the same canister', async () => {
    const first = await Promise.all([actor.ecdsaPublicKey('key_1', path), actor.schnorrPublicKey(true, 'dfx_test_key', path)]);
    const other = await PocketIc.create(server.url, { nns: NEW, fiduciary: NEW });
    try {
      const { actor: a2 } = await other.setupCanister({ idlFactory: idlFactoryFromCandid(chainKey.candid), wasm: chainKey.wasm });
      const again = await Promise.all([(a2 as any).ecdsaPublicKey('key_1', path), (a2 as any).schnorrPublicKey(true, 'dfx_test_key', path)]);
      assert.ok([...first, ...again].every((r: any) => 'ok' in r));
      assert.deepEqual(again.map((r: any) => hex(r.ok[0])), first.map((r: any) => hex(r.ok[0])));
      assert.notEqual(hex(first[0].ok[0]), hex((await actor.ecdsaPublicKey('dfx_test_key', path)).ok[0]));
    } finally {
      await other.tearDown();
    }
  });

  it('without a fiduciary or II subnet there is no key_1 (as in PocketIC), but dfx_test_key still signs', async () => {
    const plain = await PocketIc.create(server.url);
    try {
      const { actor: a } = await plain.setupCanister({ idlFactory: idlFactoryFromCandid(chainKey.candid), wasm: chainKey.wasm });
      const missing = await (a as any).ecdsaPublicKey('key_1', path);
      assert.ok('err' in missing && /key_1/.test(missing.err), JSON.stringify(missing));
      const ok = await (a as any).signEcdsa('dfx_test_key', path, new Uint8Array(32).fill(7), FEE_13);
      assert.ok('ok' in ok, JSON.stringify(ok));
    } finally {
      await plain.tearDown();
    }
  });
});
