/**
 * Wasm operators as the replica meters them: the static cost of each operator
 * (dfinity/ic rs/embedders/src/wasm_utils/instrumentation.rs `instruction_to_cost`; default 1) and a
 * reader that steps over one operator and its immediates in a function body. The feature set is
 * the one the replica accepts (MVP, sign extension, saturating conversions, bulk memory,
 * reference types, multi-value, SIMD, memory64; tail calls are read too); anything else
 * (exceptions, GC, threads) throws WasmDecodeError.
 */
import { Reader, type WasmMemoryType } from './wasm-binary.ts';

/** How the metering pass must treat an operator. */
export type OperatorKind =
  | 'plain'
  | 'loop'
  | 'if'
  /** else, br, br_if, br_table, end: a basic block ends after it. */
  | 'block_end'
  /** return, unreachable, return_call(_indirect): a basic block ends after it. */
  | 'terminator'
  /** memory.fill/copy, table.fill/copy: dynamic cost = the size operand (memory or table width). */
  | 'bulk_sized'
  /** memory.init, table.init: dynamic cost = the size operand (always i32). */
  | 'bulk_init';

/** One operator of a function body: where it is, what it costs, and what to fix up. */
export interface Operator {
  /** Offset of the opcode byte. */
  start: number;
  /** Offset after the last immediate. */
  end: number;
  kind: OperatorKind;
  /** Static cost in instructions (memory type dependent for loads and stores). */
  cost: number;
  /**
   * For call / return_call / ref.func: the function index and where its LEB128 immediate is,
   * so the index can be rewritten when imports are added.
   */
  funcRef?: { index: number; at: number; end: number };
  /** For table.fill / table.copy: the table whose index type sizes the operand. */
  table?: number;
  /**
   * What the operator writes to the heap (memory 0), for written-page tracking: a store of
   * `bytes` bytes at its address operand + `offset`; or memory.fill / memory.copy / memory.init,
   * whose destination and size are operands; or memory.grow.
   */
  heap?: { store: number; offset: bigint } | 'fill' | 'copy' | 'init' | 'grow';
}

const MEM = -1; // placeholder: load/store cost 1 (wasm32) or 2 (wasm64)

/** Costs of the single-byte opcodes 0x00..0xd2 (undefined = 1). */
const COST: Record<number, number> = {
  0x02: 0, 0x03: 0, 0x05: 0, 0x0b: 0, // block, loop, else, end
  0x04: 2, 0x0c: 2, 0x0d: 2, 0x0e: 2, // if, br, br_if, br_table
  0x10: 5, 0x11: 10, 0x12: 3, 0x13: 60, // call, call_indirect, return_call, return_call_indirect
  0x23: 2, 0x24: 2, 0x25: 5, 0x26: 5, // global.get/set, table.get/set
  0x3f: 20, 0x40: 300, // memory.size, memory.grow
  // integer div/rem
  0x6d: 10, 0x6e: 10, 0x6f: 10, 0x70: 10, 0x7f: 10, 0x80: 10, 0x81: 10, 0x82: 10,
  // f32
  0x8d: 2, 0x8e: 2, 0x8f: 2, 0x90: 2, 0x91: 5, 0x92: 2, 0x93: 2, 0x94: 2, 0x95: 3, 0x96: 18, 0x97: 18, 0x98: 2,
  // f64
  0x9b: 2, 0x9c: 2, 0x9d: 2, 0x9e: 2, 0x9f: 8, 0xa0: 2, 0xa1: 2, 0xa2: 2, 0xa3: 5, 0xa4: 18, 0xa5: 18, 0xa6: 3,
  // trunc
  0xa8: 20, 0xa9: 20, 0xaa: 20, 0xab: 20, 0xae: 20, 0xaf: 20, 0xb0: 20, 0xb1: 20,
  // convert signed / unsigned
  0xb2: 3, 0xb3: 16, 0xb4: 3, 0xb5: 16, 0xb7: 3, 0xb8: 16, 0xb9: 3, 0xba: 16,
  0xd1: 5, 0xd2: 130, // ref.is_null, ref.func
};
for (let op = 0x28; op <= 0x3e; op++) COST[op] = MEM; // loads and stores
for (let op = 0x5b; op <= 0x66; op++) COST[op] = 3; // float comparisons

/** Costs of the 0xfc-prefixed operators by sub-opcode. */
const COST_FC: Record<number, number> = {
  0: 20, 1: 20, 2: 20, 3: 20, 4: 20, 5: 20, 6: 20, 7: 20, // trunc_sat
  8: 100, 9: 300, 10: 100, 11: 100, 12: 100, 13: 300, 14: 100, 15: 300, 16: 100, 17: 100,
};

/** Costs of the SIMD (0xfd-prefixed) operators by sub-opcode (undefined = 1). */
const COST_FD: Record<number, number> = {
  13: 3, // i8x16.shuffle
  38: 2, 40: 2, 48: 2, 50: 2, 58: 2, 60: 2, // lt_u / gt_u for i8x16, i16x8, i32x4
  98: 3, // i8x16.popcnt
  103: 2, 104: 2, 105: 2, 106: 2, // f32x4 ceil floor trunc nearest
  107: 3, 108: 3, 109: 2, // i8x16 shl shr_s shr_u
  116: 2, 117: 2, 122: 2, 148: 2, // f64x2 ceil floor trunc nearest
  125: 2, 127: 3, // extadd_pairwise u
  139: 2, 140: 2, 141: 2, // i16x8 shifts
  157: 2, 159: 2, // i16x8 extmul_high
  171: 2, 172: 2, 173: 2, 181: 2, // i32x4 shifts, mul
  188: 2, 189: 2, 190: 2, 191: 2, // i32x4 extmul
  203: 2, 204: 3, 205: 2, 213: 4, // i64x2 shl shr_s shr_u mul
  224: 2, 225: 2, 227: 5, 228: 2, 229: 2, 230: 2, 231: 10, 232: 4, 233: 4, // f32x4
  236: 2, 237: 2, 239: 14, 240: 2, 241: 2, 242: 2, 243: 12, 244: 4, 245: 5, // f64x2
  248: 2, 249: 4, 251: 4, 252: 2, 253: 3, // conversions
};
for (let op = 0; op <= 11; op++) COST_FD[op] = MEM; // v128 loads, store
for (let op = 84; op <= 93; op++) COST_FD[op] = MEM; // lane loads/stores, load_zero

const memCost = (c: number, mt: WasmMemoryType): number => (c === MEM ? (mt === 'wasm64' ? 2 : 1) : c);

/** Reads a memarg; returns its offset. */
function memarg(r: Reader): bigint {
  const align = r.u32();
  if (align & 0x40) r.u32(); // memory index
  return r.u64(); // offset (u64 for memory64)
}

/** Bytes written by the stores 0x36..0x3e (i32, i64, f32, f64, i32.store8/16, i64.store8/16/32). */
const STORE_BYTES: Record<number, number> = { 0x36: 4, 0x37: 8, 0x38: 4, 0x39: 8, 0x3a: 1, 0x3b: 2, 0x3c: 1, 0x3d: 2, 0x3e: 4 };
/** Bytes written by the SIMD stores: v128.store (11), v128.store8/16/32/64_lane (88..91). */
const SIMD_STORE_BYTES: Record<number, number> = { 11: 16, 88: 1, 89: 2, 90: 4, 91: 8 };

function blockType(r: Reader): void {
  const b = r.b[r.pos];
  if (b === 0x63 || b === 0x64) {
    r.advance(1);
    r.signed(33);
  } else r.signed(33);
}

/**
 * Reads the operator at `r.pos` and advances past it.
 * @param memoryType the module's memory width (loads and stores cost 2 in wasm64).
 * @throws WasmDecodeError for an operator outside the replica's feature set.
 */
export function readOperator(r: Reader, memoryType: WasmMemoryType): Operator {
  const start = r.pos;
  const op = r.u8();
  let kind: OperatorKind = 'plain';
  let cost = COST[op] ?? 1;
  let funcRef: Operator['funcRef'];
  let table: number | undefined;
  let heap: Operator['heap'];
  switch (op) {
    case 0x00: case 0x0f: kind = 'terminator'; break;
    case 0x02: blockType(r); break;
    case 0x03: blockType(r); kind = 'loop'; break;
    case 0x04: blockType(r); kind = 'if'; break;
    case 0x05: case 0x0b: kind = 'block_end'; break;
    case 0x0c: case 0x0d: r.u32(); kind = 'block_end'; break;
    case 0x0e: {
      for (let n = r.u32(); n >= 0; n--) r.u32(); // targets + default
      kind = 'block_end';
      break;
    }
    case 0x10: case 0x12: case 0xd2: {
      const at = r.pos;
      const index = r.u32();
      funcRef = { index, at, end: r.pos };
      if (op === 0x12) kind = 'terminator';
      break;
    }
    case 0x11: r.u32(); r.u32(); break;
    case 0x13: r.u32(); r.u32(); kind = 'terminator'; break;
    case 0x1c: {
      for (let n = r.u32(); n > 0; n--) {
        const t = r.u8();
        if (t === 0x63 || t === 0x64) r.signed(33);
      }
      break;
    }
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: case 0x25: case 0x26: r.u32(); break;
    case 0x3f: r.u32(); break;
    case 0x40: r.u32(); heap = 'grow'; break;
    case 0x41: r.signed(32); break;
    case 0x42: r.signed(64); break;
    case 0x43: r.advance(4); break;
    case 0x44: r.advance(8); break;
    case 0xd0: r.signed(33); break;
    case 0xfc: {
      const sub = r.u32();
      cost = COST_FC[sub] ?? r.fail(`unsupported operator 0xfc ${sub}`);
      switch (sub) {
        case 8: r.u32(); r.u32(); kind = 'bulk_init'; heap = 'init'; break; // memory.init data mem
        case 9: case 13: case 15: case 16: r.u32(); break;
        case 10: r.u32(); r.u32(); kind = 'bulk_sized'; heap = 'copy'; break; // memory.copy
        case 11: r.u32(); kind = 'bulk_sized'; heap = 'fill'; break; // memory.fill
        case 12: r.u32(); r.u32(); kind = 'bulk_init'; break; // table.init elem table
        case 14: table = r.u32(); r.u32(); kind = 'bulk_sized'; break; // table.copy dst src
        case 17: table = r.u32(); kind = 'bulk_sized'; break; // table.fill
        default: break; // trunc_sat: no immediates
      }
      break;
    }
    case 0xfd: {
      const sub = r.u32();
      cost = COST_FD[sub] ?? 1;
      if (sub <= 11 || sub === 92 || sub === 93) {
        const offset = memarg(r);
        if (sub === 11) heap = { store: 16, offset };
      } else if (sub === 12 || sub === 13) r.advance(16);
      else if (sub >= 21 && sub <= 34) r.advance(1);
      else if (sub >= 84 && sub <= 91) {
        const offset = memarg(r);
        r.advance(1);
        const bytes = SIMD_STORE_BYTES[sub];
        if (bytes !== undefined) heap = { store: bytes, offset };
      } else if (sub > 0x113) r.fail(`unsupported operator 0xfd ${sub}`);
      break;
    }
    default:
      if (op >= 0x28 && op <= 0x3e) {
        const offset = memarg(r);
        const bytes = STORE_BYTES[op];
        if (bytes !== undefined) heap = { store: bytes, offset };
      } else if (!((op >= 0x45 && op <= 0xc4) || op === 0x01 || op === 0x1a || op === 0x1b || op === 0xd1)) {
        r.pos = start;
        r.fail(`unsupported operator 0x${op.toString(16)}`);
      }
  }
  return { start, end: r.pos, kind, cost: memCost(cost, memoryType), ...(funcRef ? { funcRef } : {}), ...(table !== undefined ? { table } : {}), ...(heap ? { heap } : {}) };
}
