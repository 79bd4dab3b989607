/**
 * The ic0 table (src/execution/system-api/ic0-table.ts): one row per function of the interface
 * spec's import overview, with the replica's instruction costs (rs/embedders
 * system_api_complexity.rs, as summarised in the project's cycles reference §4).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IC0_TABLE, SUPPORTED_IC0, ic0Signatures, isAllowed } from '../../src/execution/system-api/ic0-table.ts';

test('every row has a signature, contexts and a cost; derived tables agree with the rows', () => {
  assert.equal(SUPPORTED_IC0.size, 65);
  for (const r of IC0_TABLE.values()) {
    assert.ok(r.contexts.length > 0, r.name);
    assert.ok(r.cost.base > 0, r.name);
    for (const i of r.cost.bytesArgs ?? []) assert.ok(i < r.params.length, `${r.name}: bytes arg ${i}`);
  }
  // I is i32 in wasm32 and i64 in wasm64; i64 stays i64.
  assert.deepEqual(ic0Signatures('wasm32').get('msg_cycles_accept128'), { params: ['i64', 'i64', 'i32'], results: [] });
  assert.deepEqual(ic0Signatures('wasm64').get('msg_cycles_accept128'), { params: ['i64', 'i64', 'i64'], results: [] });
  assert.deepEqual(ic0Signatures('wasm64').get('call_perform'), { params: [], results: ['i32'] });
});

test('contexts and costs of a few rows, as the spec and the replica have them', () => {
  assert.equal(isAllowed('call_new', 'update'), true);
  assert.equal(isAllowed('call_new', 'non_replicated_query'), false);
  assert.equal(isAllowed('msg_reject_code', 'cleanup'), false);
  assert.equal(isAllowed('stable64_read', 'start'), true);
  assert.equal(isAllowed('msg_caller_size', 'start'), false);
  assert.equal(isAllowed('no_such_function', 'update'), false);
  assert.deepEqual(IC0_TABLE.get('call_new')!.cost, { base: 1_500, bytesArgs: [1, 3] });
  assert.deepEqual(IC0_TABLE.get('call_perform')!.cost, { base: 5_000 });
  assert.deepEqual(IC0_TABLE.get('msg_reply_data_append')!.cost, { base: 500, bytesArgs: [1], byteFactor: 50 });
  assert.deepEqual(IC0_TABLE.get('stable64_write')!.cost, { base: 20, bytesArgs: [2] });
  assert.deepEqual(IC0_TABLE.get('performance_counter')!.cost, { base: 200 });
  assert.deepEqual(IC0_TABLE.get('is_controller')!.cost, { base: 1_000, bytesArgs: [1] });
  // The log charge (linker.rs logging_charge_bytes): debug_print 2 × allocated + 50 × transmitted; trap + the length.
  assert.deepEqual(IC0_TABLE.get('debug_print')!.cost, { base: 100, logged: { length: 1, withLength: false } });
  assert.deepEqual(IC0_TABLE.get('trap')!.cost, { base: 500, logged: { length: 1, withLength: true } });
});
