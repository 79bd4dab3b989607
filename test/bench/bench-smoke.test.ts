/**
 * Keeps `npm run bench` from rotting: the quick variant runs end to end and writes a results file
 * of the documented shape with every figure. It checks the shape only — speed is the bench's
 * business, never a test's.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const FIGURES = [
  'ready_existing_state_ms',
  'ready_new_state_ms',
  // replica capacity (light driver)
  'replica_trivial_update_capacity_c64_per_s',
  'replica_sign_with_ecdsa_capacity_c1_per_s',
  'replica_sign_with_ecdsa_capacity_c64_per_s',
  'replica_sign_with_ecdsa_p50_c1_ms',
  'replica_sign_with_ecdsa_capacity_c64_100k_history_per_s',
  'ratio_ecdsa_capacity_100k_history_over_empty',
  'main_thread_ms_per_sign',
  'ratio_replica_ecdsa_cpu_over_raw',
  'driver_cores_used_sign_with_ecdsa_c64',
  'wal_bytes_per_signature',
  'rss_after_10k_signatures_mb',
  'ratio_replica_ecdsa_over_raw',
  // what a user with agent-js feels
  'agentjs_sign_with_ecdsa_latency_c1_ms',
  'agentjs_sign_with_ecdsa_throughput_c16_per_s',
  'agentjs_sign_with_ecdsa_throughput_c64_per_s',
  'agentjs_sign_with_schnorr_bip340_throughput_c64_per_s',
  'agentjs_sign_with_schnorr_ed25519_throughput_c64_per_s',
  'agentjs_vetkd_derive_key_throughput_c64_per_s',
  'agentjs_ecdsa_public_key_throughput_c64_per_s',
  'raw_noble_sign_per_s',
  'ratio_agentjs_ecdsa_over_raw',
  'sqlite_growth_per_1k_signatures_kb',
  'pocketic_http_roundtrip_ms',
  'pocketic_instance_create_ms',
  'pocketic_update_call_ms',
  'metering_overhead_ratio',
  'runaway_loop_to_ic0522_s',
  'status_p99_during_runaway_ms',
];

test('npm run bench -- --quick writes every figure in the documented shape', { timeout: 300_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckr-bench-test-'));
  try {
    const out = join(dir, 'results.json');
    await promisify(execFile)(process.execPath, ['bench/run.ts', '--quick', '--out', out], { cwd: new URL('../..', import.meta.url).pathname, maxBuffer: 16 << 20 });
    const r = JSON.parse(readFileSync(out, 'utf8'));
    assert.ok(!Number.isNaN(Date.parse(r.date)));
    assert.equal(r.node, process.version);
    assert.ok(Number.isInteger(r.cpus) && r.cpus > 0);
    for (const name of FIGURES) {
      const f = r.figures[name];
      assert.ok(f, `figure ${name}`);
      // A number; null (JSON for NaN) only where a quick one-second window on a loaded machine
      // completed no call (a latency median or a ratio over such a window).
      assert.ok(typeof f.median === 'number' || (f.median === null && f.samples <= 1), name);
      assert.ok(typeof f.p99 === 'number' || (f.p99 === null && f.samples <= 1), name);
      assert.equal(typeof f.unit, 'string', name);
    }
    // The light driver checks every answer (status, certificate tree, reply): its warm-up calls
    // must pass those checks or the bench fails; measured calls may not fail either (vetKD at
    // c64 may outlast the sync call's 10 s: those count as failed in its note).
    for (const [name, f] of Object.entries(r.figures as Record<string, { note?: string }>)) {
      if (/^replica_(trivial_update|sign_with_ecdsa)_capacity/.test(name)) assert.doesNotMatch(f.note ?? '', /failed/, name);
    }
    for (const phase of ['http_envelope_auth_ms', 'execution_ms', 'chain_key_signing_ms', 'sqlite_commit_ms', 'certification_ms', 'total_ms']) {
      assert.equal(typeof r.breakdown_sign_with_ecdsa_c1[phase], 'number', phase);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
