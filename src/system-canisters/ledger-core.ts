// The bookkeeping both ledgers share (ICRC-1 / ICRC-2, github.com/dfinity/ICRC-1): balances,
// allowances and a block log, keyed by an account key the ledger chooses (the cycles ledger:
// owner and subaccount; the ICP ledger: the 32-byte account identifier, since its legacy
// interface names accounts only by that). Plain functions over plain JSON-able state, so the
// state commits with each message like any TypeScript canister's.
//
// This file is inlined into each ledger's module when it is installed (system-canisters.ts);
// it imports nothing at run time.
import type { CanisterContext } from 'chainkey-replica/canister';

/** An ICRC-1 account: an owner principal (text) and an optional 32-byte subaccount. */
export interface Account {
  owner: string;
  subaccount: [] | [Uint8Array];
}

/** An allowance (ICRC-2) of a spender over an account. */
export interface AllowanceEntry {
  allowance: bigint;
  expires_at: [] | [bigint];
}

/** One entry of the block log. */
export interface LedgerBlock {
  op: 'mint' | 'burn' | 'transfer' | 'approve';
  from?: string;
  to?: string;
  spender?: string;
  amount: bigint;
  fee: bigint;
  memo: Uint8Array;
  /** Legacy ICP memo (nat64); 0 otherwise. */
  legacyMemo: bigint;
  createdAtNanos: bigint;
  timestampNanos: bigint;
}

/**
 * The book: balances by account key, allowances by `from|spender`, the supply, and the newest
 * {@link KEPT_BLOCKS} blocks of the log (the state is saved whole after each message, so the log
 * is bounded; older blocks count in the log length but are not kept — there is no archive).
 */
export interface Book {
  balances: Record<string, bigint>;
  allowances: Record<string, AllowanceEntry>;
  blocks: LedgerBlock[];
  /** Index of `blocks[0]` in the log (absent in books saved before it existed: 0). */
  firstBlock?: bigint;
  totalSupply: bigint;
}

/** Blocks a ledger keeps (the newest ones). */
export const KEPT_BLOCKS = 2000;

/** Length of the whole block log. */
export function logLength(book: Book): bigint {
  return (book.firstBlock ?? 0n) + BigInt(book.blocks.length);
}

/** The kept block with log index `index`, or undefined. */
export function blockAt(book: Book, index: bigint): LedgerBlock | undefined {
  const i = index - (book.firstBlock ?? 0n);
  return i < 0n || i >= BigInt(book.blocks.length) ? undefined : book.blocks[Number(i)];
}

/** A new, empty book. */
export function newBook(): Book {
  return { balances: {}, allowances: {}, blocks: [], firstBlock: 0n, totalSupply: 0n };
}

/** Lower-case hex of bytes. */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** Bytes of lower- or upper-case hex; throws on odd length or non-hex digits. */
export function fromHex(h: string): Uint8Array {
  if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new Error(`not hex: ${h}`);
  const out = new Uint8Array(h.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(h.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** The subaccount bytes, 32 zero bytes for the default one. */
export function subaccountOf(a: Account): Uint8Array {
  return a.subaccount[0] ?? new Uint8Array(32);
}

/**
 * The ICP ledger's account identifier of an account, 32 bytes: CRC-32 (big-endian) of the hash ‖
 * SHA-224(0x0A ‖ "account-id" ‖ owner bytes ‖ 32-byte subaccount).
 */
export function icpAccountId<S>(ctx: CanisterContext<S>, a: Account): Uint8Array {
  const owner = ctx.principalToBytes(a.owner);
  const domain = new TextEncoder().encode('\x0Aaccount-id');
  const sub = subaccountOf(a);
  const data = new Uint8Array(domain.length + owner.length + sub.length);
  data.set(domain, 0);
  data.set(owner, domain.length);
  data.set(sub, domain.length + owner.length);
  const hash = ctx.sha224(data);
  const out = new Uint8Array(32);
  new DataView(out.buffer).setUint32(0, ctx.crc32(hash) >>> 0, false);
  out.set(hash, 4);
  return out;
}

/** Balance of an account key (0 if never credited). */
export function balanceOf(book: Book, key: string): bigint {
  return book.balances[key] ?? 0n;
}

/** Appends a block; returns its index. */
export function appendBlock(book: Book, block: LedgerBlock): bigint {
  book.blocks.push(block);
  if (book.blocks.length > KEPT_BLOCKS) {
    book.blocks.shift();
    book.firstBlock = (book.firstBlock ?? 0n) + 1n;
  }
  return logLength(book) - 1n;
}

/** Credits newly minted tokens to `to`. */
export function mint(book: Book, to: string, amount: bigint, memo: Uint8Array, now: bigint): bigint {
  book.balances[to] = balanceOf(book, to) + amount;
  book.totalSupply += amount;
  return appendBlock(book, { op: 'mint', to, amount, fee: 0n, memo, legacyMemo: 0n, createdAtNanos: now, timestampNanos: now });
}

/**
 * Removes `amount + fee` from `from` (burned); the caller checked the balance.
 * @returns the block index
 */
export function burn(book: Book, from: string, amount: bigint, fee: bigint, memo: Uint8Array, now: bigint): bigint {
  book.balances[from] = balanceOf(book, from) - amount - fee;
  if (book.balances[from] === 0n) delete book.balances[from];
  book.totalSupply -= amount + fee;
  return appendBlock(book, { op: 'burn', from, amount, fee, memo, legacyMemo: 0n, createdAtNanos: now, timestampNanos: now });
}

/** The outcome of a transfer: the block index, or the ICRC-1 error variant. */
export type TransferOutcome =
  | { Ok: bigint }
  | { Err: { InsufficientFunds: { balance: bigint } } | { BadFee: { expected_fee: bigint } } | { InsufficientAllowance: { allowance: bigint } } };

/**
 * Moves `amount` from `from` to `to` and burns `fee` (ICRC-1 `icrc1_transfer`, ICRC-2
 * `icrc2_transfer_from` when `spender` is given: the allowance is reduced by amount + fee).
 * @param fee the fee the caller named, or undefined for the ledger's fee
 */
export function transfer(
  book: Book,
  args: { from: string; to: string; spender?: string; amount: bigint; fee: bigint | undefined; memo: Uint8Array; legacyMemo?: bigint },
  ledgerFee: bigint,
  now: bigint,
): TransferOutcome {
  if (args.fee !== undefined && args.fee !== ledgerFee) return { Err: { BadFee: { expected_fee: ledgerFee } } };
  const need = args.amount + ledgerFee;
  if (args.spender !== undefined) {
    const k = `${args.from}|${args.spender}`;
    const a = book.allowances[k];
    const live = a && (a.expires_at.length === 0 || a.expires_at[0]! > now) ? a.allowance : 0n;
    if (live < need) return { Err: { InsufficientAllowance: { allowance: live } } };
    const left = live - need;
    if (left === 0n) delete book.allowances[k];
    else book.allowances[k] = { allowance: left, expires_at: a!.expires_at };
  }
  const balance = balanceOf(book, args.from);
  if (balance < need) return { Err: { InsufficientFunds: { balance } } };
  book.balances[args.from] = balance - need;
  if (book.balances[args.from] === 0n) delete book.balances[args.from];
  book.balances[args.to] = balanceOf(book, args.to) + args.amount;
  book.totalSupply -= ledgerFee;
  return {
    Ok: appendBlock(book, {
      op: 'transfer',
      from: args.from,
      to: args.to,
      ...(args.spender !== undefined && { spender: args.spender }),
      amount: args.amount,
      fee: ledgerFee,
      memo: args.memo,
      legacyMemo: args.legacyMemo ?? 0n,
      createdAtNanos: now,
      timestampNanos: now,
    }),
  };
}

/** The ICRC-2 approve arguments in this book's terms. */
export interface ApproveRequest {
  from: string;
  spender: string;
  amount: bigint;
  expectedAllowance: bigint | undefined;
  expiresAt: bigint | undefined;
  fee: bigint | undefined;
  memo: Uint8Array;
}

/** ICRC-2 `icrc2_approve`: sets the allowance, charges the fee from the approver. */
export function approve(
  book: Book,
  r: ApproveRequest,
  ledgerFee: bigint,
  now: bigint,
): { Ok: bigint } | { Err: Record<string, unknown> } {
  if (r.fee !== undefined && r.fee !== ledgerFee) return { Err: { BadFee: { expected_fee: ledgerFee } } };
  if (r.expiresAt !== undefined && r.expiresAt <= now) return { Err: { Expired: { ledger_time: now } } };
  const k = `${r.from}|${r.spender}`;
  const current = allowanceOf(book, r.from, r.spender, now).allowance;
  if (r.expectedAllowance !== undefined && r.expectedAllowance !== current) {
    return { Err: { AllowanceChanged: { current_allowance: current } } };
  }
  const balance = balanceOf(book, r.from);
  if (balance < ledgerFee) return { Err: { InsufficientFunds: { balance } } };
  book.balances[r.from] = balance - ledgerFee;
  book.totalSupply -= ledgerFee;
  if (r.amount === 0n) delete book.allowances[k];
  else book.allowances[k] = { allowance: r.amount, expires_at: r.expiresAt === undefined ? [] : [r.expiresAt] };
  return {
    Ok: appendBlock(book, {
      op: 'approve',
      from: r.from,
      spender: r.spender,
      amount: r.amount,
      fee: ledgerFee,
      memo: r.memo,
      legacyMemo: 0n,
      createdAtNanos: now,
      timestampNanos: now,
    }),
  };
}

/** ICRC-2 `icrc2_allowance`: the live allowance (0 once expired). */
export function allowanceOf(book: Book, from: string, spender: string, now: bigint): AllowanceEntry {
  const a = book.allowances[`${from}|${spender}`];
  if (!a || (a.expires_at.length > 0 && a.expires_at[0]! <= now)) return { allowance: 0n, expires_at: [] };
  return a;
}

/** A method this replica's system canister does not serve: rejects with a clear text. */
export function refuse<S>(ctx: CanisterContext<S>, canister: string, method: string, why: string): void {
  ctx.reject(`${canister} on chainkey-replica does not serve ${method}: ${why}`);
}

/** What the replica tells its system canisters when it installs them (the module's `SYSTEM`). */
export interface SystemConfig {
  /** The canister's Candid service: the real interface (candid/*.did) plus this replica's extensions. */
  candid: string;
  /** Canister ids (text). */
  cmc: string;
  icpLedger: string;
  cyclesLedger: string;
  governance: string;
  /** Subnets where canisters go when no subnet is selected (ids as text). */
  defaultSubnets: string[];
  /** Subnet type → subnets (as the CMC's get_subnet_types_to_subnets reports). */
  subnetTypes: [string, string[]][];
  /** Every subnet id (text), for `subnet_selection = Subnet`. */
  subnets: string[];
  /** ICP price in 10,000ths of an XDR (the CMC's fixed rate here). */
  xdrPermyriadPerIcp: number;
}

/**
 * The management canister's `canister_settings` record (every field present, unset ones `[]`)
 * from the settings a caller gave, with `controllers` defaulting to `[controller]`: what the CMC
 * sends to `create_canister`, and what the cycles ledger sends to the CMC.
 */
export function canisterSettings(given: [] | [Record<string, unknown>], controller: string): Record<string, unknown> {
  const s = given[0];
  const empty = {
    controllers: [],
    compute_allocation: [],
    memory_allocation: [],
    freezing_threshold: [],
    reserved_cycles_limit: [],
    log_visibility: [],
    wasm_memory_limit: [],
    wasm_memory_threshold: [],
    environment_variables: [],
    log_memory_limit: [],
  };
  const out = { ...empty, ...(s ?? {}) } as Record<string, unknown>;
  if ((out['controllers'] as unknown[]).length === 0) out['controllers'] = [[controller]];
  return out;
}

/** ICRC-1 `icrc1_supported_standards`: both ledgers implement ICRC-1 and ICRC-2. */
export const ICRC1_STANDARDS = [
  { name: 'ICRC-1', url: 'https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-1' },
  { name: 'ICRC-2', url: 'https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-2' },
];

/** ICRC-10 `icrc10_supported_standards`: the ICRC-1 list plus ICRC-10 itself. */
export const ICRC10_STANDARDS = [
  ...ICRC1_STANDARDS,
  { name: 'ICRC-10', url: 'https://github.com/dfinity/ICRC/blob/main/ICRCs/ICRC-10/ICRC-10.md' },
];
