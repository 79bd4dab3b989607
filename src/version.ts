/** The implementation version reported by `/api/v2/status` (`impl_version`). */
import { createRequire } from 'node:module';

const pkg = createRequire(import.meta.url)('../package.json') as { version: string };

/** `chainkey-replica <version>`, e.g. `chainkey-replica 0.1.0`. */
export const IMPL_VERSION = `chainkey-replica ${pkg.version}`;
