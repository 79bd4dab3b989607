// A threshold-ECDSA signer written in TypeScript: no Motoko or Rust toolchain needed.
//
//   public_key : () -> (record { public_key : blob; chain_code : blob })
//   sign       : (blob) -> (blob)     // a 32-byte message hash in, r ‖ s (64 bytes) out
//
// It uses the key `test_key_1` (secp256k1) with the empty derivation path, so its key is the
// master key derived for this canister's id: check it offline with @dfinity/ic-pub-key from
// `chainkey-replica keys --json`. Each signature pays the fee (10_000_000_000 cycles on the
// 13-node test-keys subnet) from the canister's balance.
import { defineCanister, query, update, type CanisterContext } from 'chainkey-replica/canister';

const KEY_ID = { curve: { secp256k1: null }, name: 'test_key_1' };
const SIGNATURE_FEE = 10_000_000_000n;

type Ctx = CanisterContext<Record<string, never>>;

export default defineCanister({
  candid: `service : {
    public_key : () -> (record { public_key : blob; chain_code : blob });
    sign : (blob) -> (blob);
    balance : () -> (nat) query;
  }`,
  methods: {
    public_key: update((ctx: Ctx) => ctx.call('aaaaa-aa', 'ecdsa_public_key', [{ canister_id: [], derivation_path: [], key_id: KEY_ID }])),
    sign: update(async (ctx: Ctx, messageHash: Uint8Array) => {
      if (messageHash.length !== 32) ctx.trap('sign: expected a 32-byte message hash');
      const { signature } = await ctx.call<{ signature: Uint8Array }>(
        'aaaaa-aa',
        'sign_with_ecdsa',
        [{ message_hash: messageHash, derivation_path: [], key_id: KEY_ID }],
        { cycles: SIGNATURE_FEE },
      );
      return signature;
    }),
    balance: query((ctx: Ctx) => ctx.cycles.balance()),
  },
});
