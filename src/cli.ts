/**
 * The `chainkey-replica` entry point (`npm start` runs `node src/cli.ts start`): turns on Node's
 * module compile cache (in the OS temp dir, or NODE_COMPILE_CACHE), so a second start reuses the
 * compiled code of every module instead of parsing and type-stripping it again, then loads the
 * commands (cli-program.ts). Static imports would load before the cache is on, hence the dynamic
 * import.
 */
import module from 'node:module';

module.enableCompileCache?.();
await import('./cli-program.ts');
