/**
 * A small deterministic PRNG for seeded tests and the soak run, so a failing seed replays exactly.
 * Not for keys or anything secret.
 */

/**
 * mulberry32 (Tommy Ettinger's 32-bit generator).
 * @param seed any number; its low 32 bits seed the state
 * @returns a function giving the next value in [0, 1)
 */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
