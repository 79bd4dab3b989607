/**
 * The `chainkey-replica` entry point for `node src/cli.ts` (bin/chainkey-replica.mjs, which
 * `npm start` runs, also caches stripped TypeScript): turns on Node's module compile cache (in
 * the OS temp dir, or NODE_COMPILE_CACHE), so a second start reuses the compiled code of every
 * module, then loads the commands (cli-program.ts). Static imports would load before the cache is
 * on, hence the dynamic import.
 */
import module from 'node:module';

module.enableCompileCache?.();
await import('./cli-program.ts');
