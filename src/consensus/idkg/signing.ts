/**
 * Signing from a pre-signature over the simulated nodes (reference idkg.md §3, §5.4 step 7):
 * every live holder makes its signature share from its own shares; the combiner takes t of them
 * (honest-looking nodes first), combines and verifies the signature (optimistic combine, §5.2);
 * only if that fails does it check each share against the transcripts' commitments, drop the
 * bad ones (remembering their senders) and combine t good ones. Same fault tolerance as the
 * IC's check-every-share-first, at a fraction of the cost. Byzantine nodes send bad shares.
 */
import { mod } from '@noble/curves/abstract/modular.js';
import {
  combineEcdsaSignatureShares,
  createEcdsaSignatureShare,
  verifyEcdsaSignatureShare,
  type EcdsaSignatureShare,
  type EcdsaSigningInputs,
} from '../../crypto/threshold/ecdsa-signing.ts';
import { idkgGroup } from '../../crypto/threshold/idkg/group.ts';
import { transcriptShareImage, type Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import {
  combineSchnorrSignatureShares,
  createSchnorrSignatureShare,
  verifySchnorrSignatureShare,
  type SchnorrSignatureShare,
  type SchnorrSigningInputs,
} from '../../crypto/threshold/schnorr-signing.ts';
import type { ArtifactPool } from './artifact-pool.ts';
import { FaultBehaviour } from './faults.ts';
import type { IdkgNode } from './node.ts';

/** The transcripts of an ECDSA pre-signature. */
export interface EcdsaPreSignatureTranscripts {
  kappa: Transcript;
  lambda: Transcript;
  kappaTimesLambda: Transcript;
  keyTimesLambda: Transcript;
}

/** Combines shares optimistically, falling back to per-share checks. */
function combineWithFallback<S extends { receiver: number }>(
  shares: { node: IdkgNode; share: S }[],
  threshold: number,
  suspects: Set<string>,
  combine: (s: S[]) => Uint8Array,
  verify: (s: S) => boolean,
  pool: ArtifactPool,
  transcriptId: string,
): Uint8Array {
  if (shares.length < threshold) throw new Error(`only ${shares.length} of ${threshold} signature shares`);
  const ordered = [...shares].sort((a, b) => Number(suspects.has(a.node.id)) - Number(suspects.has(b.node.id)));
  try {
    return combine(ordered.slice(0, threshold).map((s) => s.share));
  } catch {
    const good = ordered.filter((s) => {
      if (verify(s.share)) return true;
      suspects.add(s.node.id);
      pool.log({ transcriptId, kind: 'signature-share-rejected', node: s.node.id });
      return false;
    });
    if (good.length < threshold) throw new Error(`only ${good.length} of ${threshold} valid signature shares`);
    return combine(good.slice(0, threshold).map((s) => s.share));
  }
}

/**
 * An ECDSA signature from a pre-signature.
 * @param holders the subnet's nodes that act now (live)
 * @throws Error with fewer than t valid shares
 */
export function signEcdsa(
  holders: readonly IdkgNode[],
  pre: EcdsaPreSignatureTranscripts,
  inputs: EcdsaSigningInputs,
  suspects: Set<string>,
  pool: ArtifactPool,
): Uint8Array {
  const n = idkgGroup('secp256k1').order;
  const shares: { node: IdkgNode; share: EcdsaSignatureShare }[] = [];
  for (const node of holders) {
    const receiver = pre.lambda.receivers.indexOf(node.id);
    const l = node.share(pre.lambda);
    const kk = node.share(pre.kappaTimesLambda);
    const kx = node.share(pre.keyTimesLambda);
    if (receiver < 0 || !l || !kk || !kx) continue;
    const share = createEcdsaSignatureShare(inputs, {
      receiver,
      lambda: l.value,
      kappaTimesLambda: kk.value,
      keyTimesLambda: kx.value,
      masks: { lambda: l.mask!, kappaTimesLambda: kk.mask!, keyTimesLambda: kx.mask! },
    });
    if (node.behaviours.has(FaultBehaviour.badSignatureShare)) share.nominator = mod(share.nominator + 1n, n);
    shares.push({ node, share });
  }
  return combineWithFallback(
    shares,
    pre.lambda.threshold,
    suspects,
    (s) => combineEcdsaSignatureShares(inputs, s),
    (s) =>
      verifyEcdsaSignatureShare(inputs, s, {
        lambda: transcriptShareImage(pre.lambda, s.receiver),
        kappaTimesLambda: transcriptShareImage(pre.kappaTimesLambda, s.receiver),
        keyTimesLambda: transcriptShareImage(pre.keyTimesLambda, s.receiver),
      }),
    pool,
    pre.kappa.transcriptId,
  );
}

/**
 * A BIP340 / Ed25519 signature from a pre-signature (blinder transcript) and the key transcript.
 * @throws Error with fewer than t valid shares
 */
export function signSchnorr(
  holders: readonly IdkgNode[],
  key: Transcript,
  blinder: Transcript,
  inputs: SchnorrSigningInputs,
  suspects: Set<string>,
  pool: ArtifactPool,
): Uint8Array {
  const order = idkgGroup(blinder.curve).order;
  const shares: { node: IdkgNode; share: SchnorrSignatureShare }[] = [];
  for (const node of holders) {
    const receiver = blinder.receivers.indexOf(node.id);
    const k = node.share(key);
    const b = node.share(blinder);
    if (receiver < 0 || !k || !b || key.receivers[receiver] !== node.id) continue;
    const share = createSchnorrSignatureShare(inputs, { transcriptId: key.transcriptId, receiver, value: k.value }, { receiver, blinder: b.value });
    if (node.behaviours.has(FaultBehaviour.badSignatureShare)) share.value = mod(share.value + 1n, order);
    shares.push({ node, share });
  }
  return combineWithFallback(
    shares,
    blinder.threshold,
    suspects,
    (s) => combineSchnorrSignatureShares(inputs, s),
    (s) => verifySchnorrSignatureShare(inputs, s, transcriptShareImage(key, s.receiver), transcriptShareImage(blinder, s.receiver)),
    pool,
    blinder.transcriptId,
  );
}
