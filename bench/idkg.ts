/**
 * Threshold protocol figures for `npm run bench` (issue 17), in process on the simulated nodes
 * of consensus/idkg (no replica, no HTTP), at n = 13 and n = 34 (`--quick`: n = 4 only):
 *
 * - `idkg_keygen_ms_n<N>`: generating one ECDSA key (Random → ReshareOfMasked);
 * - `idkg_ecdsa_presig_ms_n<N>`: CPU per ECDSA pre-signature (κ, λ, κ·λ, x·λ) in steady state;
 * - `idkg_ecdsa_sustained_sig_per_s_n<N>`: signatures per second when every signature needs a
 *   new pre-signature (the pool is empty: production rate + signing);
 * - `idkg_ecdsa_burst_sig_per_s_n<N>`: signatures per second from a full pool of 20;
 * - `idkg_schnorr_sustained_sig_per_s_n<N>`: as sustained, BIP340 (one blinder per signature);
 * - `idkg_xnet_reshare_ms`: an ECDSA key resharing from 13 nodes to 34 (public key unchanged);
 * - `idkg_raw_noble_sign_per_s`: the anchor, plain @noble/curves secp256k1 signing in the same
 *   run; compare the others as ratios to it (machines and load differ).
 *
 * One thread does all nodes' work (the replica runs the protocol on its event loop). Times are
 * this process's CPU time (user + system), not wall time, anchor included: on a shared, loaded
 * machine wall time mostly measures the neighbours; per CPU-second the ratios hold.
 * Runs alone as `node bench/idkg.ts [--quick]` or from bench/run.ts.
 */
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { deriveSecp256k1PublicKey } from '../src/crypto/derivation/index.ts';
import { publicPreSignature } from '../src/consensus/idkg/pre-signature-record.ts';
import { ThresholdNetwork } from '../src/consensus/idkg/threshold-network.ts';
import { idkgGroup } from '../src/crypto/threshold/idkg/group.ts';

type Record = (name: string, samples: number[], unit: string, note?: string) => void;

/** This process's CPU time so far, ms. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
const ECDSA = 'ecdsa:Secp256k1:bench';
const BIP340 = 'schnorr:Bip340Secp256k1:bench';

function network(n: number, pool: number, extra: { name: string; nodes: number }[] = []): ThresholdNetwork {
  const net = new ThresholdNetwork({ subnets: [{ name: 's', nodes: n, faults: [] }, ...extra.map((e) => ({ ...e, faults: [] }))], preSignaturesPerKey: pool, maxInFlightPerKey: 4 });
  net.addKey(ECDSA, 'ecdsa', 'secp256k1', 's');
  net.addKey(BIP340, 'schnorr', 'secp256k1', 's');
  return net;
}

function sign(net: ThresholdNetwork, keyId: string): void {
  const e = net.takePreSignature(keyId)!;
  const t = net.keyTranscript(keyId)!;
  const d = deriveSecp256k1PublicKey(idkgGroup('secp256k1').encode(t.combined.points[0]!), new Uint8Array(32), [new Uint8Array([1])]);
  const randomness = new Uint8Array(randomBytes(32));
  const pre = publicPreSignature(e);
  if (e.kind === 'ecdsa') net.sign(e, { derivationTweak: d.tweak, derivedPublicKey: d.publicKey, messageHash: new Uint8Array(randomBytes(32)), randomness }, pre);
  else net.sign(e, { derivationTweak: d.tweak, derivedPublicKey: d.publicKey, message: new Uint8Array(randomBytes(32)), randomness }, pre);
}

/** Signatures per second when each one waits for a new pre-signature (pool target 0, on demand). */
function sustained(net: ThresholdNetwork, keyId: string, signatures: number): number {
  const t0 = cpuMs();
  for (let i = 0; i < signatures; i++) {
    net.noteDemand(keyId, 1);
    while (net.preSignatureCount(keyId) === 0) net.runRound(0n);
    sign(net, keyId);
  }
  net.noteDemand(keyId, 0);
  return signatures / ((cpuMs() - t0) / 1000);
}

/** Measures the figures and hands each to `record`. */
export function benchIdkg(record: Record, quick: boolean): void {
  // Anchor in the same run.
  const priv = secp256k1.utils.randomSecretKey();
  const raw: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t = cpuMs();
    for (let i = 0; i < 200; i++) secp256k1.sign(new Uint8Array(randomBytes(32)), priv, { prehash: false });
    raw.push(200 / ((cpuMs() - t) / 1000));
  }
  record('idkg_raw_noble_sign_per_s', raw, 'signatures/CPU-s', 'anchor: plain noble secp256k1 signing');
  for (const n of quick ? [4] : [13, 34]) {
    const reps = quick ? 1 : n === 34 ? 2 : 3;
    const keygen: number[] = [];
    for (let i = 0; i < reps; i++) {
      const net = network(n, 0);
      const t = cpuMs();
      net.generateKey(ECDSA);
      keygen.push(cpuMs() - t);
    }
    record(`idkg_keygen_ms_n${n}`, keygen, 'CPU-ms');
    // Steady-state pre-signature production and burst signing from a full pool.
    const pool = quick ? 2 : n === 34 ? 6 : 20;
    const net = network(n, pool);
    net.generateKey(ECDSA);
    net.generateKey(BIP340);
    let t = cpuMs();
    while (net.preSignatureCount(ECDSA) < pool) net.runRound(0n);
    const presigMs = (cpuMs() - t) / pool;
    record(`idkg_ecdsa_presig_ms_n${n}`, [presigMs], 'CPU-ms', `${pool} pre-signatures, 4 in creation at once`);
    t = cpuMs();
    for (let i = 0; i < pool; i++) sign(net, ECDSA);
    record(`idkg_ecdsa_burst_sig_per_s_n${n}`, [pool / ((cpuMs() - t) / 1000)], 'signatures/CPU-s', `from a full pool of ${pool}`);
    const lean = network(n, 0);
    lean.generateKey(ECDSA);
    lean.generateKey(BIP340);
    record(`idkg_ecdsa_sustained_sig_per_s_n${n}`, [sustained(lean, ECDSA, quick ? 1 : n === 34 ? 3 : 10)], 'signatures/CPU-s', 'each signature waits for a new pre-signature');
    record(`idkg_schnorr_sustained_sig_per_s_n${n}`, [sustained(lean, BIP340, quick ? 2 : n === 34 ? 10 : 40)], 'signatures/CPU-s', 'BIP340, each waits for a new blinder');
  }
  if (!quick) {
    const xs: number[] = [];
    for (let i = 0; i < 2; i++) {
      const net = network(13, 0, [{ name: 'target', nodes: 34 }]);
      net.generateKey(ECDSA);
      const t = cpuMs();
      net.reshare(ECDSA, 'target');
      while (net.keyTranscript(ECDSA)!.receivers.length !== 34) net.runRound(0n);
      xs.push(cpuMs() - t);
    }
    record('idkg_xnet_reshare_ms', xs, 'CPU-ms', 'ECDSA key, 13 → 34 nodes');
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const q = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  benchIdkg((name, samples, unit) => console.log(`  ${name.padEnd(42)} median ${q(samples).toFixed(2).padStart(10)}  ${unit}`), process.argv.includes('--quick'));
}
