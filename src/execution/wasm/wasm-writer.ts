/**
 * A growable byte buffer with the Wasm binary encodings (LEB128 integers, names, sections) that
 * the instrumentation pass and the module rewrite write. Pure; no validation.
 */

/** Appends bytes; {@link take} returns them. */
export class Out {
  buf = new Uint8Array(1024);
  len = 0;
  #room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const b = new Uint8Array(cap);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }
  byte(x: number): void {
    this.#room(1);
    this.buf[this.len++] = x;
  }
  bytes(b: ArrayLike<number>): void {
    this.#room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  u32(n: number): void {
    do {
      let x = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) x |= 0x80;
      this.byte(x);
    } while (n > 0);
  }
  s64(v: bigint): void {
    for (;;) {
      const x = Number(v & 0x7fn);
      v >>= 7n;
      if ((v === 0n && (x & 0x40) === 0) || (v === -1n && (x & 0x40) !== 0)) {
        this.byte(x);
        return;
      }
      this.byte(x | 0x80);
    }
  }
  name(s: string): void {
    const b = new TextEncoder().encode(s);
    this.u32(b.length);
    this.bytes(b);
  }
  take(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/** A whole section: id, LEB128 size, payload. */
export function sectionBytes(id: number, payload: Uint8Array): Uint8Array {
  const o = new Out();
  o.byte(id);
  o.u32(payload.length);
  o.bytes(payload);
  return o.take();
}
