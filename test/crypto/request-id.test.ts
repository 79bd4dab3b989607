/**
 * Request ids and representation-independent hashing: the spec's worked example (field by
 * field), LEB128 examples of the spec, and agreement with `@icp-sdk/core/agent`'s `requestIdOf`
 * on random contents decoded from CBOR, as the HTTP layer sees them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { decode } from '@dfinity/cbor';
import { Cbor, requestIdOf as agentRequestIdOf, hashOfMap as agentHashOfMap } from '@icp-sdk/core/agent';
import { Principal } from '@icp-sdk/core/principal';
import { hashOfMap, hashValue, requestIdOf, type HashableMap } from '../../src/crypto/request-id.ts';
import { decodeUleb128, encodeSleb128, encodeUleb128 } from '../../src/crypto/leb128.ts';

const spec = JSON.parse(readFileSync(new URL('../vectors/interface-spec.json', import.meta.url), 'utf8'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

function specValue(v: { text?: string; hex?: string; nat?: string }): Uint8Array | string | bigint {
  if (v.text !== undefined) return v.text;
  if (v.hex !== undefined) return unhex(v.hex);
  return BigInt(v.nat!);
}

const specContent: Record<string, Uint8Array | string | bigint> = Object.fromEntries(
  Object.entries(spec.requestId.content as Record<string, { text?: string; hex?: string; nat?: string }>).map(
    ([k, v]) => [k, specValue(v)],
  ),
);

test('spec worked example: request id 1d1091…b101', () => {
  assert.equal(hex(requestIdOf(specContent)), spec.requestId.requestId);
});

test('spec worked example: each H(key) · H(value) pair', () => {
  for (const [key, [hk, hv]] of Object.entries(spec.requestId.fieldHashes as Record<string, [string, string]>)) {
    assert.equal(hex(sha256(new TextEncoder().encode(key))), hk, key);
    assert.equal(hex(hashValue(specContent[key]!)), hv, key);
  }
});

test('the same map as a Map and with an undefined field hashes the same', () => {
  const asMap = new Map<string, unknown>(Object.entries(specContent));
  asMap.set('nonce', undefined);
  assert.equal(hex(hashOfMap(asMap as HashableMap)), spec.requestId.requestId);
});

test('number and bigint nats hash alike; negative ints use SLEB128', () => {
  assert.equal(hex(hashValue(5)), hex(hashValue(5n)));
  assert.equal(hex(hashValue(-123456)), hex(sha256(unhex('c0bb78'))));
});

test('LEB128 examples of the spec', () => {
  for (const [n, h] of spec.leb128.uleb as [string, string][]) {
    assert.equal(hex(encodeUleb128(BigInt(n))), h);
    assert.equal(decodeUleb128(unhex(h)), BigInt(n));
  }
  for (const [n, h] of spec.leb128.sleb as [string, string][]) assert.equal(hex(encodeSleb128(BigInt(n))), h);
  assert.throws(() => encodeUleb128(-1), RangeError);
  assert.throws(() => decodeUleb128(unhex('80')), RangeError);
});

test('unhashable values are refused', () => {
  assert.throws(() => hashValue(1.5), RangeError);
  assert.throws(() => hashValue(true as never), TypeError);
  assert.throws(() => hashValue(null as never), TypeError);
});

test('nested maps: the spec example hash_of_map({reply: {arg}}) matches the agent', () => {
  const arg = unhex('4449444c0000');
  assert.equal(hex(hashOfMap({ reply: { arg } })), hex(agentHashOfMap({ reply: { arg } })));
});

test('agrees with @icp-sdk/core requestIdOf on random contents after a CBOR round trip', () => {
  const bytes = (max: number) => fc.uint8Array({ minLength: 0, maxLength: max });
  const content = fc.record(
    {
      request_type: fc.constantFrom('call', 'query', 'read_state'),
      sender: bytes(29),
      canister_id: bytes(29),
      method_name: fc.string({ maxLength: 40 }),
      arg: bytes(200),
      ingress_expiry: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      nonce: bytes(32),
      paths: fc.array(fc.array(bytes(40), { maxLength: 5 }), { maxLength: 5 }),
      small: fc.nat(),
      nested: fc.record({ info: bytes(10), count: fc.nat({ max: 1000 }) }),
    },
    { requiredKeys: ['request_type', 'sender', 'ingress_expiry'] },
  );
  fc.assert(
    fc.property(content, (c) => {
      const decoded = decode(Cbor.encode(c)) as HashableMap;
      assert.equal(hex(requestIdOf(decoded)), hex(agentRequestIdOf(c)));
    }),
    { numRuns: 300 },
  );
});

test('agrees with the agent on an agent-built content with Principals', () => {
  const c = {
    request_type: 'call',
    canister_id: Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai'),
    method_name: 'greet',
    arg: unhex('4449444c0001710568656c6c6f'),
    sender: Principal.anonymous(),
    ingress_expiry: 1_700_000_000_000_000_000n,
  };
  const decoded = decode(Cbor.encode(c)) as HashableMap;
  assert.equal(hex(requestIdOf(decoded)), hex(agentRequestIdOf(c)));
});
