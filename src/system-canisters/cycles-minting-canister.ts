// The cycles minting canister (CMC, mainnet rkp4c-7iaaa-aaaaa-aaaca-cai) as a TypeScript
// canister. Interface: candid/cmc.did (dfinity/ic rs/nns/cmc/cmc.did), served unchanged.
//
// - create_canister: a canister pays with attached cycles; the CMC picks the subnet
//   (subnet_selection `Subnet` or `Filter`, the deprecated subnet_type, else the default subnet)
//   and calls `create_canister` of that subnet's management canister (addressed by subnet id, as
//   on mainnet). On failure the cycles go back to the caller (deposit_cycles) and the answer is
//   `Refunded`.
// - notify_mint_cycles / notify_top_up / notify_create_canister: read the ICP ledger block
//   (query_blocks), check it is a transfer to the CMC's account with the caller's (or the
//   canister's) subaccount and the protocol memo (MINT, TPUP, CREA), convert at the fixed rate
//   and mint: the cycles come from a provisional top-up of the CMC (this replica's stand-in for
//   ic0.mint_cycles), then go to the cycles ledger's `deposit`, the canister, or a new canister.
//   A block is processed once; a second notify gets the first answer.
// - The ICP/XDR rate is fixed (SYSTEM.xdrPermyriadPerIcp); its response carries no certificate.
// - The NNS-only methods (set_authorized_subnetwork_list, ...) are refused.
import { defineCanister, query, update, type CanisterContext } from 'chainkey-replica/canister';
import { canisterSettings, icpAccountId, refuse, toHex, type SystemConfig } from './ledger-core.ts';

declare const SYSTEM: SystemConfig;

interface State {
  /** Answers of processed notifications by ICP block index (decimal). */
  notified: Record<string, unknown>;
}
type Ctx = CanisterContext<State>;

const SELF = 'the cycles minting canister';
/** Memos of the CMC payment protocol (little-endian ASCII as nat64). */
const MEMO_MINT = 0x544e494dn; // "MINT"
const MEMO_TOP_UP = 0x50555054n; // "TPUP"
const MEMO_CREATE = 0x41455243n; // "CREA"
/** Cycles per XDR (1T, as on mainnet). */
const CYCLES_PER_XDR = 1_000_000_000_000n;

const LEDGER_CANDID = `
type Tokens = record { e8s : nat64 };
type TimeStamp = record { timestamp_nanos : nat64 };
type Operation = variant {
  Mint : record { to : blob; amount : Tokens };
  Burn : record { from : blob; spender : opt blob; amount : Tokens };
  Transfer : record { from : blob; to : blob; amount : Tokens; fee : Tokens; spender : opt vec nat8 };
  Approve : record { from : blob; spender : blob; allowance_e8s : int; allowance : Tokens; fee : Tokens; expires_at : opt TimeStamp; expected_allowance : opt Tokens };
};
type Block = record {
  parent_hash : opt blob;
  transaction : record { memo : nat64; icrc1_memo : opt blob; operation : opt Operation; created_at_time : TimeStamp };
  timestamp : TimeStamp;
};
service : {
  query_blocks : (record { start : nat64; length : nat64 }) -> (record {
    chain_length : nat64; certificate : opt blob; blocks : vec Block; first_block_index : nat64;
    archived_blocks : vec record { start : nat64; length : nat64; callback : func (record { start : nat64; length : nat64 }) -> (variant { Ok : record { blocks : vec Block }; Err : reserved }) query };
  }) query;
}`;

const CYCLES_LEDGER_CANDID = `
service : {
  deposit : (record { to : record { owner : principal; subaccount : opt blob }; memo : opt blob }) -> (record { balance : nat; block_index : nat });
}`;

const MGMT_CREATE = `
type log_visibility = variant { controllers; public; allowed_viewers : vec principal };
type environment_variable = record { name : text; value : text };
type canister_settings = record {
  controllers : opt vec principal; compute_allocation : opt nat; memory_allocation : opt nat;
  freezing_threshold : opt nat; reserved_cycles_limit : opt nat; log_visibility : opt log_visibility;
  wasm_memory_limit : opt nat; wasm_memory_threshold : opt nat;
  environment_variables : opt vec environment_variable; log_memory_limit : opt nat;
};
service : {
  create_canister : (record { settings : opt canister_settings; sender_canister_version : opt nat64 }) -> (record { canister_id : principal });
}`;

/** The CMC subaccount for a principal: its length, its bytes, zero padding to 32 bytes. */
function principalSubaccount(ctx: Ctx, principal: string): Uint8Array {
  const bytes = ctx.principalToBytes(principal);
  const sub = new Uint8Array(32);
  sub[0] = bytes.length;
  sub.set(bytes, 1);
  return sub;
}

/** Cycles for `e8s` at the fixed rate: e8s × rate/10⁴ XDR/ICP × 10¹² cycles/XDR ÷ 10⁸ e8s/ICP. */
function cyclesOf(e8s: bigint): bigint {
  return (e8s * BigInt(SYSTEM.xdrPermyriadPerIcp) * CYCLES_PER_XDR) / (10_000n * 100_000_000n);
}

/** Chooses the subnet for a new canister, or returns why none fits. */
function chooseSubnet(
  selection: [] | [{ Subnet: { subnet: string } } | { Filter: { subnet_type: [] | [string] } }],
  subnetType: [] | [string],
): string | { error: string } {
  const sel = selection[0];
  if (sel && 'Subnet' in sel) {
    return SYSTEM.subnets.includes(sel.Subnet.subnet) ? sel.Subnet.subnet : { error: `Subnet ${sel.Subnet.subnet} does not exist.` };
  }
  const type = sel && 'Filter' in sel ? sel.Filter.subnet_type[0] : subnetType[0];
  if (type !== undefined) {
    const subnets = SYSTEM.subnetTypes.find(([t]) => t === type)?.[1];
    if (!subnets || subnets.length === 0) return { error: `Provided subnet type ${type} does not exist` };
    return subnets[0]!;
  }
  return SYSTEM.defaultSubnets[0]!;
}

/** Creates a canister on `subnet` with `cycles` from this canister's balance. */
async function createOn(ctx: Ctx, subnet: string, settings: unknown, cycles: bigint): Promise<string> {
  const r = await ctx.call<{ canister_id: string }>(subnet, 'create_canister', [{ settings: [settings], sender_canister_version: [] }], {
    cycles,
    candid: MGMT_CREATE,
  });
  return r.canister_id;
}

type Notify = { Ok: unknown } | { Err: unknown };

/**
 * Reads ICP block `index` and checks it pays the CMC: a transfer to the CMC's account with
 * subaccount `sub` and memo `memo`. Returns the amount (e8s) or the NotifyError.
 */
async function paidAmount(ctx: Ctx, index: bigint, sub: Uint8Array, memo: bigint): Promise<bigint | { Err: unknown }> {
  const r = await ctx.call<{ blocks: { transaction: { memo: bigint; icrc1_memo: [] | [Uint8Array]; operation: [] | [Record<string, any>] } }[] }>(
    SYSTEM.icpLedger,
    'query_blocks',
    [{ start: index, length: 1n }],
    { candid: LEDGER_CANDID },
  );
  const block = r.blocks[0];
  if (!block) return { Err: { InvalidTransaction: `Block ${index} not found` } };
  const op = block.transaction.operation[0];
  if (!op || !('Transfer' in op)) return { Err: { InvalidTransaction: `Block ${index} is not a transfer` } };
  const expected = toHex(icpAccountId(ctx, { owner: ctx.self, subaccount: [sub] }));
  if (toHex(op['Transfer'].to) !== expected) {
    return { Err: { InvalidTransaction: `Destination account in the block (${toHex(op['Transfer'].to)}) different than in the notification (${expected})` } };
  }
  const icrc1Memo = block.transaction.icrc1_memo[0];
  let m = block.transaction.memo;
  if (icrc1Memo && icrc1Memo.length === 8) m = new DataView(icrc1Memo.buffer, icrc1Memo.byteOffset, 8).getBigUint64(0, true);
  if (m !== memo) return { Err: { InvalidTransaction: `Intent in the block (${m}) different than in the notification (${memo})` } };
  return op['Transfer'].amount.e8s as bigint;
}

/** Runs a notification once per block; later calls get the stored answer. */
async function once(ctx: Ctx, index: bigint, run: () => Promise<Notify>): Promise<Notify> {
  const k = index.toString();
  if (ctx.state.notified[k] !== undefined) return ctx.state.notified[k] as Notify;
  ctx.state.notified[k] = { Err: { Processing: null } };
  const r = await run();
  ctx.state.notified[k] = r;
  return r;
}

async function mintCycles(ctx: Ctx, cycles: bigint): Promise<void> {
  await ctx.call('aaaaa-aa', 'provisional_top_up_canister', [{ canister_id: ctx.self, amount: cycles }]);
}

export default defineCanister<State>({
  candid: SYSTEM.candid,
  state: () => ({ notified: {} }),
  init: () => {},
  methods: {
    create_canister: update(async (ctx: Ctx, a) => {
      const cycles = ctx.cycles.accept(ctx.cycles.available());
      const subnet = chooseSubnet(a.subnet_selection, a.subnet_type);
      let error: string;
      if (typeof subnet === 'string') {
        try {
          return { Ok: await createOn(ctx, subnet, canisterSettings(a.settings, ctx.caller), cycles) };
        } catch (e) {
          error = (e as Error).message;
        }
      } else {
        error = subnet.error;
      }
      // Give the cycles back before answering (the caller is a canister: it attached them).
      await ctx.call('aaaaa-aa', 'deposit_cycles', [{ canister_id: ctx.caller }], { cycles });
      return { Err: { Refunded: { refund_amount: cycles, create_error: error } } };
    }),
    notify_mint_cycles: update((ctx: Ctx, a: { block_index: bigint; to_subaccount: [] | [Uint8Array]; deposit_memo: [] | [Uint8Array] }) =>
      once(ctx, a.block_index, async () => {
        const paid = await paidAmount(ctx, a.block_index, principalSubaccount(ctx, ctx.caller), MEMO_MINT);
        if (typeof paid !== 'bigint') return paid;
        const cycles = cyclesOf(paid);
        await mintCycles(ctx, cycles);
        const r = await ctx.call<{ balance: bigint; block_index: bigint }>(
          SYSTEM.cyclesLedger,
          'deposit',
          [{ to: { owner: ctx.caller, subaccount: a.to_subaccount }, memo: a.deposit_memo }],
          { cycles, candid: CYCLES_LEDGER_CANDID },
        );
        return { Ok: { block_index: r.block_index, minted: cycles - ctx.cycles.refunded(), balance: r.balance } };
      }),
    ),
    notify_top_up: update((ctx: Ctx, a: { block_index: bigint; canister_id: string }) =>
      once(ctx, a.block_index, async () => {
        const paid = await paidAmount(ctx, a.block_index, principalSubaccount(ctx, a.canister_id), MEMO_TOP_UP);
        if (typeof paid !== 'bigint') return paid;
        const cycles = cyclesOf(paid);
        await mintCycles(ctx, cycles);
        await ctx.call('aaaaa-aa', 'deposit_cycles', [{ canister_id: a.canister_id }], { cycles });
        return { Ok: cycles };
      }),
    ),
    notify_create_canister: update((ctx: Ctx, a) =>
      once(ctx, a.block_index, async () => {
        const paid = await paidAmount(ctx, a.block_index, principalSubaccount(ctx, ctx.caller), MEMO_CREATE);
        if (typeof paid !== 'bigint') return paid;
        const subnet = chooseSubnet(a.subnet_selection, a.subnet_type);
        if (typeof subnet !== 'string') return { Err: { Refunded: { reason: subnet.error, block_index: [] } } };
        const cycles = cyclesOf(paid);
        await mintCycles(ctx, cycles);
        return { Ok: await createOn(ctx, subnet, canisterSettings(a.settings, a.controller), cycles) };
      }),
    ),
    get_icp_xdr_conversion_rate: query((ctx: Ctx) => ({
      data: { timestamp_seconds: ctx.time() / 1_000_000_000n, xdr_permyriad_per_icp: BigInt(SYSTEM.xdrPermyriadPerIcp) },
      hash_tree: new Uint8Array(),
      certificate: new Uint8Array(),
    })),
    get_subnet_types_to_subnets: query(() => ({ data: SYSTEM.subnetTypes })),
    get_principals_authorized_to_create_canisters_to_subnets: query(() => ({ data: [] })),
    get_default_subnets: query(() => SYSTEM.defaultSubnets),
    get_build_metadata: query(() => 'chainkey-replica cycles minting canister (TypeScript)'),
    set_authorized_subnetwork_list: update((ctx: Ctx) => refuse(ctx, SELF, 'set_authorized_subnetwork_list', 'subnets come from the replica topology')),
    update_subnet_type: update((ctx: Ctx) => refuse(ctx, SELF, 'update_subnet_type', 'subnet types come from the replica topology')),
    change_subnet_type_assignment: update((ctx: Ctx) => refuse(ctx, SELF, 'change_subnet_type_assignment', 'subnet types come from the replica topology')),
  },
});
