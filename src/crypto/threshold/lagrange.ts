/**
 * Lagrange interpolation at x = 0 over a prime-order scalar field: the weights that turn t
 * shares of a degree t-1 polynomial (at points x_i = receiver + 1) into its constant term,
 * Σ λ_i·share_i = f(0). Used to combine signature shares and encrypted key shares without
 * ever recombining the secret itself (ia.cr/2021/1330 §3, "Lagrange interpolation in the
 * exponent"). With one receiver (the single-replica default) the weight is 1.
 */
import { invert, mod } from '@noble/curves/abstract/modular.js';

/**
 * Lagrange weights at zero for the given receivers.
 * @param receivers distinct 0-based receiver indices (evaluation points receiver + 1)
 * @param order the prime field order (a curve's group order)
 * @returns one weight per receiver, in the same order
 * @throws Error if receivers repeat or the list is empty
 */
export function lagrangeWeightsAtZero(receivers: readonly number[], order: bigint): bigint[] {
  // λ_i(0) = Π_{j≠i} x_j / (x_j − x_i): the general weights at x = 0.
  return lagrangeWeightsAt(receivers, 0n, order);
}

/**
 * Lagrange weights at an arbitrary point x for the given receivers: λ_i(x) = Π_{j≠i} (x − x_j) / (x_i − x_j).
 * Used by the complaint path to rebuild one receiver's opening of one dealing at its own x_j
 * (reference idkg.md §2.7; never at 0 there).
 * @param x the evaluation point (a field element, e.g. BigInt(receiver + 1))
 * @throws Error if receivers repeat or the list is empty
 */
export function lagrangeWeightsAt(receivers: readonly number[], x: bigint, order: bigint): bigint[] {
  if (receivers.length === 0) throw new Error('lagrangeWeightsAt: no receivers');
  if (new Set(receivers).size !== receivers.length) throw new Error('lagrangeWeightsAt: repeated receiver');
  const xs = receivers.map((r) => BigInt(r + 1));
  return xs.map((xi, i) => {
    let num = 1n;
    let den = 1n;
    xs.forEach((xj, j) => {
      if (j === i) return;
      num = mod(num * (x - xj), order);
      den = mod(den * (xi - xj), order);
    });
    return mod(num * invert(den, order), order);
  });
}

/**
 * Σ weight_i · value_i mod order: interpolates scalar shares at zero.
 * @param shares `[receiver, value]` pairs, one per contributing receiver
 */
export function interpolateScalarsAtZero(shares: readonly (readonly [number, bigint])[], order: bigint): bigint {
  const w = lagrangeWeightsAtZero(
    shares.map(([r]) => r),
    order,
  );
  return shares.reduce((acc, [, v], i) => mod(acc + w[i]! * v, order), 0n);
}
