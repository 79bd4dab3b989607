// The cycles ledger (mainnet um5iw-rqaaa-aaaaq-qaaba-cai) as a TypeScript canister: ICRC-1 and
// ICRC-2 for cycles, `deposit` (cycles attached by a canister become a balance, less the fee),
// `withdraw` (a balance becomes cycles of a canister via `deposit_cycles`) and `create_canister`
// (a balance pays the CMC's `create_canister`, honouring `subnet_selection`). Interface:
// candid/cycles-ledger.did (dfinity/cycles-ledger), served unchanged plus this replica's
// `chainkey_replica_mint` (see README). Fee 100M cycles, as on mainnet.
//
// Not served (rejected with a clear text): withdraw_from, create_canister_from, the ICRC-3 block
// log beyond its length, ICRC-103 allowance listing, http_request. No deduplication by
// created_at_time.
import { defineCanister, query, update, type CanisterContext } from 'chainkey-replica/canister';
import {
  allowanceOf,
  approve,
  balanceOf,
  burn,
  logLength,
  mint,
  newBook,
  refuse,
  toHex,
  transfer,
  type Account,
  type Book,
  type SystemConfig,
  canisterSettings,
  ICRC1_STANDARDS,
  ICRC10_STANDARDS,
} from './ledger-core.ts';

declare const SYSTEM: SystemConfig;

interface State {
  book: Book;
}
type Ctx = CanisterContext<State>;

/** ICRC-1 fee of the cycles ledger (config::FEE), cycles. */
const FEE = 100_000_000n;
const NAME = 'Cycles';
const SELF = 'cycles ledger';

/** Account key: owner, and the subaccount unless it is the default (32 zero bytes). */
function key(a: Account): string {
  const sub = a.subaccount[0];
  return sub && sub.some((x) => x !== 0) ? `${a.owner}.${toHex(sub)}` : a.owner;
}
const caller = (ctx: Ctx, sub: [] | [Uint8Array]): Account => ({ owner: ctx.caller, subaccount: sub });
const memoOf = (m: [] | [Uint8Array]): Uint8Array => m[0] ?? new Uint8Array();
const optNat = (o: [] | [bigint]): bigint | undefined => (o.length ? o[0] : undefined);

/** The CMC's create_canister, as this ledger calls it (candid/cmc.did). */
const CMC_CREATE = `
type log_visibility = variant { controllers; public; allowed_viewers : vec principal };
type environment_variable = record { name : text; value : text };
type CanisterSettings = record {
  controllers : opt vec principal; compute_allocation : opt nat; memory_allocation : opt nat;
  freezing_threshold : opt nat; reserved_cycles_limit : opt nat; log_visibility : opt log_visibility;
  wasm_memory_limit : opt nat; wasm_memory_threshold : opt nat;
  environment_variables : opt vec environment_variable; log_memory_limit : opt nat;
};
type SubnetSelection = variant { Subnet : record { subnet : principal }; Filter : record { subnet_type : opt text } };
service : {
  create_canister : (record { settings : opt CanisterSettings; subnet_type : opt text; subnet_selection : opt SubnetSelection })
    -> (variant { Ok : principal; Err : variant { Refunded : record { refund_amount : nat; create_error : text } } });
}`;

const REJECTION_CODES = ['NoError', 'SysFatal', 'SysTransient', 'DestinationInvalid', 'CanisterReject', 'CanisterError', 'Unknown'];
function rejectionCode(code: number): Record<string, null> {
  return { [REJECTION_CODES[code] ?? 'Unknown']: null };
}

export default defineCanister<State>({
  candid: SYSTEM.candid,
  state: () => ({ book: newBook() }),
  init: (ctx, args: { Init?: { initial_balances: [] | [[Account, bigint][]] } }) => {
    for (const [account, amount] of args.Init?.initial_balances[0] ?? []) mint(ctx.state.book, key(account), amount, new Uint8Array(), ctx.time());
  },
  methods: {
    icrc1_name: query(() => NAME),
    icrc1_symbol: query(() => 'TCYCLES'),
    icrc1_decimals: query(() => 12),
    icrc1_fee: query(() => FEE),
    icrc1_metadata: query(() => [
      ['icrc1:decimals', { Nat: 12n }],
      ['icrc1:name', { Text: NAME }],
      ['icrc1:symbol', { Text: 'TCYCLES' }],
      ['icrc1:fee', { Nat: FEE }],
    ]),
    icrc1_minting_account: query(() => []),
    icrc1_supported_standards: query(() => ICRC1_STANDARDS),
    icrc10_supported_standards: query(() => ICRC10_STANDARDS),
    icrc1_total_supply: query((ctx: Ctx) => ctx.state.book.totalSupply),
    icrc1_balance_of: query((ctx: Ctx, a: Account) => balanceOf(ctx.state.book, key(a))),
    icrc1_transfer: update((ctx: Ctx, a) =>
      transfer(
        ctx.state.book,
        { from: key(caller(ctx, a.from_subaccount)), to: key(a.to), amount: a.amount, fee: optNat(a.fee), memo: memoOf(a.memo) },
        FEE,
        ctx.time(),
      ),
    ),
    icrc2_approve: update((ctx: Ctx, a) =>
      approve(
        ctx.state.book,
        {
          from: key(caller(ctx, a.from_subaccount)),
          spender: key(a.spender),
          amount: a.amount,
          expectedAllowance: optNat(a.expected_allowance),
          expiresAt: optNat(a.expires_at),
          fee: optNat(a.fee),
          memo: memoOf(a.memo),
        },
        FEE,
        ctx.time(),
      ),
    ),
    icrc2_allowance: query((ctx: Ctx, a: { account: Account; spender: Account }) => allowanceOf(ctx.state.book, key(a.account), key(a.spender), ctx.time())),
    icrc2_transfer_from: update((ctx: Ctx, a) =>
      transfer(
        ctx.state.book,
        {
          from: key(a.from),
          to: key(a.to),
          spender: key(caller(ctx, a.spender_subaccount)),
          amount: a.amount,
          fee: optNat(a.fee),
          memo: memoOf(a.memo),
        },
        FEE,
        ctx.time(),
      ),
    ),
    deposit: update((ctx: Ctx, a: { to: Account; memo: [] | [Uint8Array] }) => {
      const amount = ctx.cycles.accept(ctx.cycles.available());
      if (amount <= FEE) ctx.trap(`The requested amount ${amount} to be deposited is less than the cycles ledger fee: ${FEE}`);
      const block = mint(ctx.state.book, key(a.to), amount - FEE, memoOf(a.memo), ctx.time());
      return { block_index: block, balance: balanceOf(ctx.state.book, key(a.to)) };
    }),
    withdraw: update(async (ctx: Ctx, a: { amount: bigint; from_subaccount: [] | [Uint8Array]; to: string }) => {
      const book = ctx.state.book;
      const from = key(caller(ctx, a.from_subaccount));
      const balance = balanceOf(book, from);
      if (balance < a.amount + FEE) return { Err: { InsufficientFunds: { balance } } };
      const block = burn(book, from, a.amount, FEE, new Uint8Array(), ctx.time());
      try {
        await ctx.call('aaaaa-aa', 'deposit_cycles', [{ canister_id: a.to }], { cycles: a.amount });
        return { Ok: block };
      } catch (e) {
        // The cycles came back with the reject: the amount is refunded, the fee is kept.
        mint(book, from, a.amount, new Uint8Array(), ctx.time());
        const err = e as { rejectCode: number; message: string };
        return { Err: { FailedToWithdraw: { fee_block: [block], rejection_code: rejectionCode(err.rejectCode), rejection_reason: err.message } } };
      }
    }),
    create_canister: update(async (ctx: Ctx, a) => {
      const book = ctx.state.book;
      const from = key(caller(ctx, a.from_subaccount));
      const balance = balanceOf(book, from);
      if (balance < a.amount + FEE) return { Err: { InsufficientFunds: { balance } } };
      const block = burn(book, from, a.amount, FEE, new Uint8Array(), ctx.time());
      const creation = a.creation_args[0];
      const settings = canisterSettings(creation?.settings ?? [], ctx.caller);
      let r: { Ok?: string; Err?: { Refunded: { refund_amount: bigint; create_error: string } } };
      try {
        r = await ctx.call(
          SYSTEM.cmc,
          'create_canister',
          [{ settings: [settings], subnet_type: [], subnet_selection: creation?.subnet_selection ?? [] }],
          { cycles: a.amount, candid: CMC_CREATE },
        );
      } catch (e) {
        r = { Err: { Refunded: { refund_amount: ctx.cycles.refunded(), create_error: (e as Error).message } } };
      }
      if (r.Ok !== undefined) return { Ok: { block_id: block, canister_id: r.Ok } };
      const refund = r.Err!.Refunded;
      const refundBlock = refund.refund_amount > 0n ? mint(book, from, refund.refund_amount, new Uint8Array(), ctx.time()) : undefined;
      return { Err: { FailedToCreate: { fee_block: [block], refund_block: refundBlock === undefined ? [] : [refundBlock], error: refund.create_error } } };
    }),
    icrc3_get_archives: query(() => []),
    icrc3_get_tip_certificate: query(() => []),
    icrc3_get_blocks: query((ctx: Ctx) => ({ log_length: logLength(ctx.state.book), blocks: [], archived_blocks: [] })),
    icrc3_supported_block_types: query(() => []),
    icrc103_get_allowances: query(() => ({ Err: { GenericError: { error_code: 0n, message: `${SELF} on chainkey-replica does not list allowances` } } })),
    icrc106_get_index_principal: query(() => ({ Err: { IndexPrincipalNotSet: null } })),
    http_request: query((ctx: Ctx) => refuse(ctx, SELF, 'http_request', 'no metrics or logs page')),
    withdraw_from: update((ctx: Ctx) => refuse(ctx, SELF, 'withdraw_from', 'use icrc2_transfer_from and withdraw')),
    create_canister_from: update((ctx: Ctx) => refuse(ctx, SELF, 'create_canister_from', 'use icrc2_transfer_from and create_canister')),
    // This replica's extension (README "System canisters"): credits newly minted cycles, backed by
    // a provisional top-up of this ledger. Like the provisional API, anyone may call it.
    chainkey_replica_mint: update(async (ctx: Ctx, a: { to: Account; amount: bigint }) => {
      await ctx.call('aaaaa-aa', 'provisional_top_up_canister', [{ canister_id: ctx.self, amount: a.amount }]);
      mint(ctx.state.book, key(a.to), a.amount, new Uint8Array(), ctx.time());
      return balanceOf(ctx.state.book, key(a.to));
    }),
  },
});
