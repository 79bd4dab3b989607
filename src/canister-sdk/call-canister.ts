/**
 * Calling any canister from the command line (`chainkey-replica call`): its Candid interface is
 * read from its `candid:service` metadata (read_state), arguments are given as JSON (principals
 * as text, numbers or decimal strings for nat/int, hex for blobs) and the reply is printed as
 * JSON (bigints as decimal strings, blobs as hex). Queries are sent as queries, the rest as
 * update calls (v3 synchronous, with certificate verification by the agent).
 */
import { Actor, CanisterStatus, HttpAgent, type Identity } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { candidInterfaceFromText } from '../candid/candid-text.ts';
import { valuesFromCanister, valuesToCanister } from '../execution/typescript/candid-values.ts';
import { toJson } from '../store/execution-repository.ts';
import { coerceJsonValue } from './deploy.ts';

/**
 * Calls `method` of `canisterId` with JSON arguments.
 * @returns the reply values as JSON text (bigints as strings, blobs as hex, principals as text)
 * @throws Error when the canister publishes no candid:service or has no such method; the agent's
 *   error (with the reject code and text) when the call is rejected
 */
export async function callCanister(options: { url: string; canisterId: string; method: string; args?: unknown[]; identity?: Identity }): Promise<string> {
  const agent = await HttpAgent.create({ host: options.url, identity: options.identity ?? Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
  const canisterId = Principal.fromText(options.canisterId);
  const status = await CanisterStatus.request({ canisterId, agent, paths: ['candid'] });
  const candid = status.get('candid');
  if (typeof candid !== 'string') throw new Error(`canister ${options.canisterId} publishes no candid:service metadata`);
  const service = candidInterfaceFromText(candid).idlFactory({ IDL }) as IDL.ServiceClass;
  const func = service._fields.find(([n]) => n === options.method)?.[1];
  if (!func) throw new Error(`canister ${options.canisterId} has no method '${options.method}'`);
  const args = options.args ?? [];
  const values = valuesFromCanister(func.argTypes, toJson(func.argTypes.map((t, i) => coerceJsonValue(t, args[i]))));
  const actor = Actor.createActor(() => IDL.Service({ [options.method]: func }), { agent, canisterId });
  const raw = await (actor as any)[options.method](...values);
  const reply = func.retTypes.length === 1 ? [raw] : func.retTypes.length === 0 ? [] : raw;
  return JSON.stringify(
    JSON.parse(valuesToCanister(func.retTypes, reply), (_k, v) => {
      if (v && typeof v === 'object' && typeof v.$n === 'string') return v.$n;
      if (v && typeof v === 'object' && typeof v.$b === 'string') return Buffer.from(v.$b, 'base64').toString('hex');
      return v;
    }),
  );
}
