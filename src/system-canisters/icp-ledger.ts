// The ICP ledger (mainnet ryjl3-tyaaa-aaaaa-aaaba-cai) as a TypeScript canister: ICRC-1 and
// ICRC-2, and the legacy interface (`transfer`, `account_balance`, `query_blocks`, ...) that
// names accounts by their 32-byte account identifier: CRC-32 ‖ SHA-224(0x0A ‖ "account-id" ‖
// owner ‖ subaccount). Balances are kept by account identifier, so both interfaces see the
// same accounts. Interface: candid/ledger.did (dfinity/ic rs/ledger_suite/icp/ledger.did),
// served unchanged plus this replica's `chainkey_replica_mint` (see README). Fee 10,000 e8s.
// Transfers from the minting account mint, transfers to it burn.
//
// Not served (rejected with a clear text or answered empty): query_encoded_blocks, archives
// (none), remove_approval, the ICRC-21 consent messages, get_allowances. No deduplication.
import { defineCanister, query, update, type CanisterContext } from 'chainkey-replica/canister';
import {
  allowanceOf,
  appendBlock,
  approve,
  blockAt,
  logLength,
  balanceOf,
  fromHex,
  icpAccountId,
  mint,
  newBook,
  refuse,
  toHex,
  transfer,
  type Account,
  type Book,
  type LedgerBlock,
  type SystemConfig,
  type TransferOutcome,
  ICRC1_STANDARDS,
  ICRC10_STANDARDS,
} from './ledger-core.ts';

declare const SYSTEM: SystemConfig;

interface State {
  book: Book;
  /** Account identifier (hex) of the minting account. */
  minting: string;
  mintingOwner: string;
}
type Ctx = CanisterContext<State>;

/** Transfer fee, e8s. */
const FEE = 10_000n;
const SELF = 'ICP ledger';

const accountId = (ctx: Ctx, a: Account): Uint8Array => icpAccountId(ctx, a);
const keyOf = (ctx: Ctx, a: Account): string => toHex(accountId(ctx, a));

/** Checks a 32-byte account identifier's checksum; traps like the ledger on a bad one. */
function checkedAccountId(ctx: Ctx, id: Uint8Array): string {
  if (id.length !== 32) ctx.trap(`Invalid account identifier: expected 32 bytes, got ${id.length}`);
  const crc = new DataView(id.buffer, id.byteOffset, 4).getUint32(0, false);
  if (crc !== ctx.crc32(id.subarray(4)) >>> 0) ctx.trap(`Invalid account identifier ${toHex(id)}: checksum mismatch`);
  return toHex(id);
}

const caller = (ctx: Ctx, sub: [] | [Uint8Array]): Account => ({ owner: ctx.caller, subaccount: sub });
const optNat = (o: [] | [bigint]): bigint | undefined => (o.length ? o[0] : undefined);

/** A transfer where the minting account on either side mints or burns. */
function move(ctx: Ctx, from: string, to: string, amount: bigint, fee: bigint | undefined, memo: Uint8Array, legacyMemo: bigint): TransferOutcome {
  const s = ctx.state;
  const now = ctx.time();
  if (from === s.minting) {
    const block = mint(s.book, to, amount, memo, now);
    blockAt(s.book, block)!.legacyMemo = legacyMemo;
    return { Ok: block };
  }
  if (to === s.minting) {
    const balance = balanceOf(s.book, from);
    if (balance < amount) return { Err: { InsufficientFunds: { balance } } };
    s.book.balances[from] = balance - amount;
    s.book.totalSupply -= amount;
    return { Ok: appendBlock(s.book, { op: 'burn', from, amount, fee: 0n, memo, legacyMemo, createdAtNanos: now, timestampNanos: now }) };
  }
  return transfer(s.book, { from, to, amount, fee, memo, legacyMemo }, FEE, now);
}

/** A block of the log in the legacy `Block` shape. */
function legacyBlock(b: LedgerBlock): unknown {
  const tokens = (e8s: bigint) => ({ e8s });
  const op =
    b.op === 'mint'
      ? { Mint: { to: fromHex(b.to!), amount: tokens(b.amount) } }
      : b.op === 'burn'
        ? { Burn: { from: fromHex(b.from!), spender: [], amount: tokens(b.amount) } }
        : b.op === 'transfer'
          ? { Transfer: { from: fromHex(b.from!), to: fromHex(b.to!), amount: tokens(b.amount), fee: tokens(b.fee), spender: b.spender ? [fromHex(b.spender)] : [] } }
          : {
              Approve: {
                from: fromHex(b.from!),
                spender: fromHex(b.spender!),
                allowance_e8s: b.amount,
                allowance: tokens(b.amount),
                fee: tokens(b.fee),
                expires_at: [],
                expected_allowance: [],
              },
            };
  return {
    parent_hash: [],
    transaction: { memo: b.legacyMemo, icrc1_memo: b.memo.length ? [b.memo] : [], operation: [op], created_at_time: { timestamp_nanos: b.createdAtNanos } },
    timestamp: { timestamp_nanos: b.timestampNanos },
  };
}

/** Legacy transfer result from an ICRC-1 outcome. */
function legacyResult(r: TransferOutcome): unknown {
  if ('Ok' in r) return { Ok: r.Ok };
  const e = r.Err as Record<string, { balance?: bigint; expected_fee?: bigint }>;
  if (e['BadFee']) return { Err: { BadFee: { expected_fee: { e8s: e['BadFee'].expected_fee! } } } };
  return { Err: { InsufficientFunds: { balance: { e8s: e['InsufficientFunds']?.balance ?? 0n } } } };
}

export default defineCanister<State>({
  candid: SYSTEM.candid,
  state: () => ({ book: newBook(), minting: '', mintingOwner: '' }),
  init: (ctx: Ctx, args: { Init?: { minting_account: string; icrc1_minting_account: [] | [Account]; initial_values: [string, { e8s: bigint }][] } }) => {
    const init = args.Init;
    if (!init) ctx.trap('the ICP ledger needs Init arguments at install');
    ctx.state.minting = checkedAccountId(ctx, fromHex(init.minting_account));
    ctx.state.mintingOwner = init.icrc1_minting_account[0]?.owner ?? '';
    for (const [id, t] of init.initial_values) mint(ctx.state.book, checkedAccountId(ctx, fromHex(id)), t.e8s, new Uint8Array(), ctx.time());
  },
  methods: {
    transfer: update((ctx: Ctx, a) => {
      const to = checkedAccountId(ctx, a.to);
      const fee = a.fee.e8s as bigint;
      const from = keyOf(ctx, caller(ctx, a.from_subaccount));
      return legacyResult(move(ctx, from, to, a.amount.e8s, from === ctx.state.minting || to === ctx.state.minting ? undefined : fee, new Uint8Array(), a.memo));
    }),
    send_dfx: update((ctx: Ctx, a) => {
      const to = checkedAccountId(ctx, fromHex(a.to));
      const r = move(ctx, keyOf(ctx, caller(ctx, a.from_subaccount)), to, a.amount.e8s, a.fee.e8s, new Uint8Array(), a.memo);
      if ('Err' in r) ctx.trap(`transfer failed: ${JSON.stringify(Object.keys(r.Err))}`);
      return (r as { Ok: bigint }).Ok;
    }),
    account_balance: query((ctx: Ctx, a: { account: Uint8Array }) => ({ e8s: balanceOf(ctx.state.book, checkedAccountId(ctx, a.account)) })),
    account_balance_dfx: query((ctx: Ctx, a: { account: string }) => ({ e8s: balanceOf(ctx.state.book, checkedAccountId(ctx, fromHex(a.account))) })),
    account_identifier: query((ctx: Ctx, a: Account) => accountId(ctx, a)),
    transfer_fee: query(() => ({ transfer_fee: { e8s: FEE } })),
    query_blocks: query((ctx: Ctx, a: { start: bigint; length: bigint }) => {
      // Blocks before the kept ones are gone (no archive): the answer starts at the first kept one.
      const book = ctx.state.book;
      const first = book.firstBlock ?? 0n;
      const length = logLength(book);
      const start = a.start < first ? first : a.start > length ? length : a.start;
      const end = start + (a.length > 2000n ? 2000n : a.length) > length ? length : start + (a.length > 2000n ? 2000n : a.length);
      return {
        chain_length: length,
        certificate: [],
        blocks: book.blocks.slice(Number(start - first), Number(end - first)).map(legacyBlock),
        first_block_index: start,
        archived_blocks: [],
      };
    }),
    query_encoded_blocks: query((ctx: Ctx) => refuse(ctx, SELF, 'query_encoded_blocks', 'blocks are not kept in their protobuf encoding; use query_blocks')),
    symbol: query(() => ({ symbol: 'ICP' })),
    name: query(() => ({ name: 'Internet Computer' })),
    decimals: query(() => ({ decimals: 8 })),
    archives: query(() => ({ archives: [] })),
    icrc1_name: query(() => 'Internet Computer'),
    icrc1_symbol: query(() => 'ICP'),
    icrc1_decimals: query(() => 8),
    icrc1_metadata: query(() => [
      ['icrc1:decimals', { Nat: 8n }],
      ['icrc1:name', { Text: 'Internet Computer' }],
      ['icrc1:symbol', { Text: 'ICP' }],
      ['icrc1:fee', { Nat: FEE }],
    ]),
    icrc1_total_supply: query((ctx: Ctx) => ctx.state.book.totalSupply),
    icrc1_fee: query(() => FEE),
    icrc1_minting_account: query((ctx: Ctx) => (ctx.state.mintingOwner ? [{ owner: ctx.state.mintingOwner, subaccount: [] }] : [])),
    icrc1_balance_of: query((ctx: Ctx, a: Account) => balanceOf(ctx.state.book, keyOf(ctx, a))),
    icrc1_transfer: update((ctx: Ctx, a) => {
      const from = keyOf(ctx, caller(ctx, a.from_subaccount));
      const to = keyOf(ctx, a.to);
      return move(ctx, from, to, a.amount, optNat(a.fee), a.memo[0] ?? new Uint8Array(), 0n);
    }),
    icrc1_supported_standards: query(() => ICRC1_STANDARDS),
    icrc10_supported_standards: query(() => ICRC10_STANDARDS),
    icrc2_approve: update((ctx: Ctx, a) =>
      approve(
        ctx.state.book,
        {
          from: keyOf(ctx, caller(ctx, a.from_subaccount)),
          spender: keyOf(ctx, a.spender),
          amount: a.amount,
          expectedAllowance: optNat(a.expected_allowance),
          expiresAt: optNat(a.expires_at),
          fee: optNat(a.fee),
          memo: a.memo[0] ?? new Uint8Array(),
        },
        FEE,
        ctx.time(),
      ),
    ),
    icrc2_allowance: query((ctx: Ctx, a: { account: Account; spender: Account }) => allowanceOf(ctx.state.book, keyOf(ctx, a.account), keyOf(ctx, a.spender), ctx.time())),
    icrc2_transfer_from: update((ctx: Ctx, a) =>
      transfer(
        ctx.state.book,
        {
          from: keyOf(ctx, a.from),
          to: keyOf(ctx, a.to),
          spender: keyOf(ctx, caller(ctx, a.spender_subaccount)),
          amount: a.amount,
          fee: optNat(a.fee),
          memo: a.memo[0] ?? new Uint8Array(),
        },
        FEE,
        ctx.time(),
      ),
    ),
    remove_approval: update((ctx: Ctx) => refuse(ctx, SELF, 'remove_approval', 'use icrc2_approve with amount 0')),
    icrc21_canister_call_consent_message: update(() => ({
      Err: { UnsupportedCanisterCall: { description: `${SELF} on chainkey-replica has no consent messages` } },
    })),
    get_allowances: query(() => []),
    tip_of_chain: query((ctx: Ctx) => ({ certification: [], tip_index: logLength(ctx.state.book) > 0n ? logLength(ctx.state.book) - 1n : 0n })),
    is_ledger_ready: query(() => true),
    // This replica's extension (README "System canisters"): mints e8s to an account. Like the
    // provisional API, anyone may call it.
    chainkey_replica_mint: update((ctx: Ctx, a: { to: Account; amount: bigint }) => {
      mint(ctx.state.book, keyOf(ctx, a.to), a.amount, new Uint8Array(), ctx.time());
      return balanceOf(ctx.state.book, keyOf(ctx, a.to));
    }),
  },
});
