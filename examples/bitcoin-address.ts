// A Bitcoin-style address canister built on the signer (examples/signer.ts): it asks the signer
// canister for its threshold ECDSA public key over an inter-canister call and turns it into a
// P2PKH address, Base58Check(version ‖ RIPEMD-160(SHA-256(compressed key))); it can also have
// the signer sign a transaction digest. Deploy the signer first and pass its id as the init
// argument:
//
//   npm run cli -- deploy examples/signer.ts --url URL                      # prints SIGNER_ID
//   (install this module with the Candid init argument `(principal "SIGNER_ID", true)`)
//
// `testnet = true` uses version byte 0x6f (addresses start with m or n), false 0x00 (1...).
import { defineCanister, update, type CanisterContext } from 'chainkey-replica/canister';

interface State {
  signer: string;
  testnet: boolean;
}
type Ctx = CanisterContext<State>;

const SIGNER = `service : {
  public_key : () -> (record { public_key : blob; chain_code : blob });
  sign : (blob) -> (blob);
}`;

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';

/** Base58 (Bitcoin alphabet): leading zero bytes become '1's. */
function base58(bytes: Uint8Array): string {
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)] + out;
    n /= 58n;
  }
  for (const b of bytes) {
    if (b !== 0) break;
    out = '1' + out;
  }
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

export default defineCanister<State>({
  candid: `service : (principal, bool) -> {
    address : () -> (text);
    sign_digest : (blob) -> (blob);
  }`,
  state: () => ({ signer: '', testnet: true }),
  init: (ctx: Ctx, signer: string, testnet: boolean) => {
    ctx.state.signer = signer;
    ctx.state.testnet = testnet;
  },
  methods: {
    address: update(async (ctx: Ctx) => {
      const { public_key } = await ctx.call<{ public_key: Uint8Array }>(ctx.state.signer, 'public_key', [], { candid: SIGNER });
      const payload = concat(new Uint8Array([ctx.state.testnet ? 0x6f : 0x00]), ctx.ripemd160(ctx.sha256(public_key)));
      const checksum = ctx.sha256(ctx.sha256(payload)).subarray(0, 4);
      return base58(concat(payload, checksum));
    }),
    sign_digest: update((ctx: Ctx, digest: Uint8Array) => ctx.call<Uint8Array>(ctx.state.signer, 'sign', [digest], { candid: SIGNER })),
  },
});
