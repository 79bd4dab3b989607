/**
 * chainkey-replica's programmatic API: start a local Internet Computer replica in-process.
 *
 * ```ts
 * import { startReplica } from 'chainkey-replica';
 * const r = await startReplica({ port: 0, stateDir: '/tmp/state' });
 * // ... use r.url with @dfinity/agent or @icp-sdk/core ...
 * await r.stop();
 * ```
 */
export { startReplica, type StartOptions, type RunningReplica } from './server.ts';
export { Replica, type ReplicaOptions } from './replica.ts';
export { DEFAULT_TOPOLOGY, parseTopology, type TopologyFile, type SubnetConfig, type Subnet } from './routing/topology.ts';
export { IcError, RejectCode, ErrorCode } from './types/ic-error.ts';
export { deployTypeScriptCanister, type DeployOptions, type DeployResult } from './canister-sdk/deploy.ts';
export { encodeTsCanisterModule, TS_CANISTER_HEADER } from './execution/typescript/ts-module.ts';
