// A mock ICRC-1 ledger in TypeScript, for CI: a stand-in for a real token ledger that canisters
// and frontends can call with the standard interface (github.com/dfinity/ICRC-1, standards/ICRC-1).
// Balances live in the canister state (committed per message, kept across upgrades). The fee
// is burned; transfers from the minting account mint, transfers to it burn.
import { defineCanister, query, update, type CanisterContext } from 'chainkey-replica/canister';

interface Account {
  owner: string;
  subaccount: [] | [Uint8Array];
}
interface State {
  name: string;
  symbol: string;
  decimals: number;
  fee: bigint;
  minter: string;
  balances: Record<string, bigint>;
  totalSupply: bigint;
  nextTx: bigint;
}
type Ctx = CanisterContext<State>;

const hex = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
/** The default subaccount is 32 zero bytes: both spellings name the same account. */
function key(a: Account): string {
  const sub = a.subaccount[0];
  return sub && sub.some((x) => x !== 0) ? `${a.owner}.${hex(sub)}` : a.owner;
}

export default defineCanister<State>({
  candid: `
type Account = record { owner : principal; subaccount : opt blob };
type TransferArg = record {
  from_subaccount : opt blob; to : Account; amount : nat; fee : opt nat; memo : opt blob; created_at_time : opt nat64;
};
type TransferError = variant {
  BadFee : record { expected_fee : nat };
  BadBurn : record { min_burn_amount : nat };
  InsufficientFunds : record { balance : nat };
  TooOld;
  CreatedInFuture : record { ledger_time : nat64 };
  Duplicate : record { duplicate_of : nat };
  TemporarilyUnavailable;
  GenericError : record { error_code : nat; message : text };
};
type Value = variant { Nat : nat; Int : int; Text : text; Blob : blob };
type InitArgs = record {
  token_name : text; token_symbol : text; decimals : nat8; fee : nat;
  minting_account : principal; initial_balances : vec record { Account; nat };
};
service : (InitArgs) -> {
  icrc1_name : () -> (text) query;
  icrc1_symbol : () -> (text) query;
  icrc1_decimals : () -> (nat8) query;
  icrc1_fee : () -> (nat) query;
  icrc1_metadata : () -> (vec record { text; Value }) query;
  icrc1_total_supply : () -> (nat) query;
  icrc1_minting_account : () -> (opt Account) query;
  icrc1_balance_of : (Account) -> (nat) query;
  icrc1_transfer : (TransferArg) -> (variant { Ok : nat; Err : TransferError });
  icrc1_supported_standards : () -> (vec record { name : text; url : text }) query;
}`,
  state: () => ({ name: '', symbol: '', decimals: 8, fee: 0n, minter: '', balances: {}, totalSupply: 0n, nextTx: 0n }),
  init: (ctx: Ctx, args: any) => {
    const s = ctx.state;
    s.name = args.token_name;
    s.symbol = args.token_symbol;
    s.decimals = args.decimals;
    s.fee = args.fee;
    s.minter = args.minting_account;
    for (const [account, amount] of args.initial_balances as [Account, bigint][]) {
      s.balances[key(account)] = (s.balances[key(account)] ?? 0n) + amount;
      s.totalSupply += amount;
    }
  },
  methods: {
    icrc1_name: query((ctx: Ctx) => ctx.state.name),
    icrc1_symbol: query((ctx: Ctx) => ctx.state.symbol),
    icrc1_decimals: query((ctx: Ctx) => ctx.state.decimals),
    icrc1_fee: query((ctx: Ctx) => ctx.state.fee),
    icrc1_metadata: query((ctx: Ctx) => [
      ['icrc1:name', { Text: ctx.state.name }],
      ['icrc1:symbol', { Text: ctx.state.symbol }],
      ['icrc1:decimals', { Nat: BigInt(ctx.state.decimals) }],
      ['icrc1:fee', { Nat: ctx.state.fee }],
    ]),
    icrc1_total_supply: query((ctx: Ctx) => ctx.state.totalSupply),
    icrc1_minting_account: query((ctx: Ctx) => [{ owner: ctx.state.minter, subaccount: [] }]),
    icrc1_balance_of: query((ctx: Ctx, account: Account) => ctx.state.balances[key(account)] ?? 0n),
    icrc1_supported_standards: query(() => [{ name: 'ICRC-1', url: 'https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-1' }]),
    icrc1_transfer: update((ctx: Ctx, arg: any) => {
      const s = ctx.state;
      const from: Account = { owner: ctx.caller, subaccount: arg.from_subaccount };
      const minting = ctx.caller === s.minter;
      const burning = arg.to.owner === s.minter;
      const fee = minting || burning ? 0n : s.fee;
      if (arg.fee.length === 1 && arg.fee[0] !== fee) return { Err: { BadFee: { expected_fee: fee } } };
      const amount: bigint = arg.amount;
      if (!minting) {
        const balance = s.balances[key(from)] ?? 0n;
        if (balance < amount + fee) return { Err: { InsufficientFunds: { balance } } };
        s.balances[key(from)] = balance - amount - fee;
        s.totalSupply -= fee + (burning ? amount : 0n);
      } else {
        s.totalSupply += amount;
      }
      if (!burning) s.balances[key(arg.to)] = (s.balances[key(arg.to)] ?? 0n) + amount;
      return { Ok: s.nextTx++ };
    }),
  },
});
