/**
 * Small helpers the three derivations share: argument length checks and base-point
 * multiplication that accepts a zero scalar (noble's `multiply` rejects 0; a zero offset is
 * possible in principle and must give the identity).
 */

/** @throws Error `<name>: expected <length> bytes, got <n>` for a wrong-length argument. */
export function expectLength(name: string, bytes: Uint8Array, length: number): void {
  if (bytes.length !== length) {
    throw new Error(`${name}: expected ${length} bytes, got ${bytes.length}`);
  }
}

/** A noble point class: its base point and identity. */
interface PointGroup<P> {
  readonly BASE: { multiply(k: bigint): P };
  readonly ZERO: P;
}

/** k times the group's base point, with 0 giving the identity. */
export function mulBase<P>(group: PointGroup<P>, k: bigint): P {
  return k === 0n ? group.ZERO : group.BASE.multiply(k);
}
