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
  'sign_with_ecdsa_latency_c1_ms',
  'sign_with_ecdsa_throughput_c16_per_s',
  'sign_with_ecdsa_throughput_c64_per_s',
  'sign_with_schnorr_bip340_throughput_c64_per_s',
  'sign_with_schnorr_ed25519_throughput_c64_per_s',
  'vetkd_derive_key_throughput_c64_per_s',
  'ecdsa_public_key_throughput_c64_per_s',
  'raw_noble_sign_per_s',
  'ratio_e2e_ecdsa_over_raw',
  'rss_after_10k_signatures_mb',
  'sqlite_growth_per_1k_signatures_kb',
  'pocketic_http_roundtrip_ms',
  'pocketic_instance_create_ms',
  'pocketic_update_call_ms',
];

test('npm run bench -- --quick writes every figure in the documented shape', { timeout: 180_000 }, async () => {
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
      assert.equal(typeof f.median, 'number', name);
      assert.equal(typeof f.p99, 'number', name);
      assert.equal(typeof f.unit, 'string', name);
    }
    for (const phase of ['http_envelope_auth_ms', 'execution_ms', 'chain_key_signing_ms', 'sqlite_commit_ms', 'certification_ms', 'total_ms']) {
      assert.equal(typeof r.breakdown_sign_with_ecdsa_c1[phase], 'number', phase);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
