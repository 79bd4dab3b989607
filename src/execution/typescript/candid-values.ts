/**
 * Candid values across the TypeScript-canister boundary. A TypeScript canister runs in its own
 * V8 context and sees only its own realm's objects, so values cross as JSON text: bigints as
 * `{"$n":"<decimal>"}`, bytes as `{"$b":"<base64>"}`, and — type-directed — principals as their
 * text form (`"aaaaa-aa"`), in both directions. Everything else keeps the @icp-sdk/core Candid
 * JS conventions (opt as `[]` / `[v]`, variants as `{ tag: value }`, tuples as arrays).
 */
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { fromJson, toJson } from '../../store/execution-repository.ts';

type Conv = (t: IDL.Type, v: any) => any;

/** Maps principal-typed positions of `v` (of type `t`) with `p`, leaving the rest as is. */
function mapPrincipals(t: IDL.Type, v: any, p: (x: any) => any, self: Conv): any {
  if (t instanceof IDL.RecClass) return self(t.getType()!, v);
  if (t instanceof IDL.PrincipalClass || t instanceof IDL.ServiceClass) return p(v);
  if (t instanceof IDL.FuncClass) return Array.isArray(v) ? [p(v[0]), v[1]] : v;
  if (t instanceof IDL.OptClass) return Array.isArray(v) && v.length === 1 ? [self((t as any)._type, v[0])] : v;
  if (t instanceof IDL.VecClass) {
    const inner = (t as any)._type as IDL.Type;
    return Array.isArray(v) ? v.map((x) => self(inner, x)) : v;
  }
  if (t instanceof IDL.TupleClass) {
    const comps = (t as any)._components as IDL.Type[];
    return Array.isArray(v) ? v.map((x, i) => (comps[i] ? self(comps[i]!, x) : x)) : v;
  }
  if (t instanceof IDL.RecordClass || t instanceof IDL.VariantClass) {
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, any> = { ...v };
    for (const [name, ft] of (t as any)._fields as [string, IDL.Type][]) if (name in out) out[name] = self(ft, out[name]);
    return out;
  }
  return v;
}

const principalsToText: Conv = (t, v) => mapPrincipals(t, v, (x) => (x instanceof Principal ? x.toText() : x), principalsToText);
const textToPrincipals: Conv = (t, v) =>
  mapPrincipals(
    t,
    v,
    (x) => {
      if (typeof x !== 'string') throw new TypeError(`expected a principal in text form, got ${typeof x}`);
      return Principal.fromText(x);
    },
    textToPrincipals,
  );

/** Decoded host values → JSON text for the canister's context. */
export function valuesToCanister(types: readonly IDL.Type[], values: readonly unknown[]): string {
  return toJson(values.map((v, i) => principalsToText(types[i]!, v)));
}

/**
 * JSON text from the canister's context → values ready for `IDL.encode(types, ...)`.
 * @throws TypeError when the JSON is not an array of `types.length` values or a principal is not text
 */
export function valuesFromCanister(types: readonly IDL.Type[], json: string): unknown[] {
  const values = fromJson(json);
  if (!Array.isArray(values) || values.length !== types.length) {
    throw new TypeError(`expected ${types.length} value(s), got ${Array.isArray(values) ? values.length : typeof values}`);
  }
  return values.map((v, i) => textToPrincipals(types[i]!, v));
}
