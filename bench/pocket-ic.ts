/**
 * PocketIC figures for `npm run bench` (issue 14), as a PicJS suite feels them: bin/pocket-ic
 * started by PicJS's `PocketIcServer.start()`, then
 *
 * - `pocketic_instance_create_ms`: `PocketIc.create(url)` (one application subnet, the default
 *   config) + `tearDown()`, the per-test cost (median of 50);
 * - `pocketic_update_call_ms`: one Motoko update through the PicJS Actor (submit + await: one
 *   round executes it);
 * - `pocketic_http_roundtrip_ms`: the anchor measured in the same run, `GET /status` through the
 *   same client stack (undici fetch); the two figures above are best read as multiples of it.
 *
 * Runs alone as `node bench/pocket-ic.ts [--quick]` (prints the figures) or from bench/run.ts.
 */
import { PocketIc } from '@dfinity/pic';
import { compileMotokoFixture } from '../test/support/motoko.ts';
import { startPicServer } from '../test/support/pocket-ic.ts';

type Record = (name: string, samples: number[], unit: string, note?: string) => void;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const counterIdl = ({ IDL }: { IDL: any }) => IDL.Service({ inc: IDL.Func([], [], []), get: IDL.Func([], [IDL.Nat], ['query']) });

/** Measures the PocketIC figures and hands each to `record`. */
export async function benchPocketIc(record: Record, quick: boolean): Promise<void> {
  const reps = quick ? 10 : 50;
  const calls = quick ? 20 : 200;
  const [server, counter] = await Promise.all([startPicServer(), compileMotokoFixture('pocketic/Counter')]);
  try {
    const status: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await (await fetch(`${server.url}/status`)).arrayBuffer();
      status.push(performance.now() - t);
    }
    // Warm-up: the first instance pays module loading and the seeded key deals.
    await (await PocketIc.create(server.url)).tearDown();
    const create: number[] = [];
    for (let i = 0; i < reps; i++) {
      const t = performance.now();
      const pic = await PocketIc.create(server.url);
      await pic.tearDown();
      create.push(performance.now() - t);
    }
    const pic = await PocketIc.create(server.url);
    const { IDL } = await import('@icp-sdk/core/candid');
    const { actor } = await pic.setupCanister<{ inc: () => Promise<void> }>({
      idlFactory: counterIdl,
      wasm: counter.wasm,
      arg: new Uint8Array(IDL.encode([IDL.Nat], [0n])),
    });
    const update: number[] = [];
    for (let i = 0; i < calls; i++) {
      const t = performance.now();
      await actor.inc();
      update.push(performance.now() - t);
    }
    await pic.tearDown();
    record('pocketic_http_roundtrip_ms', status, 'ms', 'anchor: GET /status on the same server and client');
    record('pocketic_instance_create_ms', create, 'ms', 'PocketIc.create (default config) + tearDown, through PicJS');
    record('pocketic_update_call_ms', update, 'ms', 'Motoko counter inc() through the PicJS Actor (submit + await)');
  } finally {
    await server.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.max(0, Math.ceil(q * xs.length) - 1))]!;
  await benchPocketIc((name, samples, unit) => {
    console.log(`  ${name.padEnd(32)} median ${quantile(samples, 0.5).toFixed(2).padStart(8)}  p99 ${quantile(samples, 0.99).toFixed(2).padStart(8)}  ${unit}`);
  }, process.argv.includes('--quick'));
  process.exit(0);
}
