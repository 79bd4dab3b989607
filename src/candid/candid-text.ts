/**
 * Candid service descriptions in text form (as the Motoko compiler writes into the
 * `candid:service` custom section, as found in a `.did` file, or as a TypeScript canister declares
 * its interface) turned into an IDL factory for @icp-sdk/core 6 or @dfinity/agent 3.
 *
 *   const factory = idlFactoryFromCandid(didText);
 *   Actor.createActor(factory, { agent, canisterId });
 *
 * The text is parsed once into a small syntax tree; the returned factory builds the IDL types
 * from whichever `IDL` object it is handed, so the same factory serves both libraries.
 *
 * Supported: `type X = ...;` definitions (recursive ones via `IDL.Rec`), `service : {...}`,
 * `service : (init args) -> {...}`, `service : X`, all primitive types (`blob` = `vec nat8`),
 * `opt`, `vec`, `record` (named, quoted, numeric and positional fields; all-positional records
 * become `IDL.Tuple`), `variant` (a bare label means `: null`), `func` and `service` reference
 * types, argument names, method annotations (`query`, `composite_query`, `oneway`), and `//`
 * / `/* *\/` comments. Anything else (e.g. `import`) is rejected with an Error naming the
 * line and column.
 */

/** A parsed Candid data type, independent of any IDL implementation. */
type Ty =
  | { k: 'prim'; name: string }
  | { k: 'ref'; name: string; pos: number }
  | { k: 'opt' | 'vec'; t: Ty }
  | { k: 'record' | 'variant'; fields: Field[] }
  | { k: 'func'; args: Ty[]; rets: Ty[]; anns: string[] }
  | { k: 'service'; methods: Method[] };
/** A record/variant field; `name` is the JS-side label (`_N_` for numeric ids), `id` its Candid id. */
type Field = { name: string; id: number; t: Ty };
/** A service method: either an inline function type or a reference to a named one. */
type Method = { name: string; t: Ty };

const PRIMS = new Set([
  'nat', 'nat8', 'nat16', 'nat32', 'nat64', 'int', 'int8', 'int16', 'int32', 'int64',
  'float32', 'float64', 'bool', 'text', 'null', 'reserved', 'empty', 'principal',
]);
/** Maps Candid primitive names to the property names of the `IDL` object. */
const IDL_PRIM: Record<string, string> = {
  nat: 'Nat', nat8: 'Nat8', nat16: 'Nat16', nat32: 'Nat32', nat64: 'Nat64',
  int: 'Int', int8: 'Int8', int16: 'Int16', int32: 'Int32', int64: 'Int64',
  float32: 'Float32', float64: 'Float64', bool: 'Bool', text: 'Text', null: 'Null',
  reserved: 'Reserved', empty: 'Empty', principal: 'Principal',
};

/** Candid label hash: fold of UTF-8 bytes with h = h * 223 + b (mod 2^32). */
function idlHash(s: string): number {
  let h = 0;
  for (const b of new TextEncoder().encode(s)) h = (h * 223 + b) >>> 0;
  return h;
}

type Tok = { kind: 'id' | 'str' | 'num' | 'sym' | 'eof'; text: string; pos: number };

/** Splits the text into identifiers, quoted strings, numbers and punctuation (incl. `->`). */
function tokenize(src: string, fail: (pos: number, msg: string) => never): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (src.startsWith('//', i)) { while (i < src.length && src[i] !== '\n') i++; continue; }
    if (src.startsWith('/*', i)) {
      // Candid block comments nest.
      let depth = 0;
      const start = i;
      do {
        if (i >= src.length) fail(start, 'unterminated block comment');
        if (src.startsWith('/*', i)) { depth++; i += 2; } else if (src.startsWith('*/', i)) { depth--; i += 2; } else i++;
      } while (depth > 0);
      continue;
    }
    const start = i;
    if (/[A-Za-z_]/.test(c)) {
      while (i < src.length && /[A-Za-z0-9_]/.test(src[i]!)) i++;
      toks.push({ kind: 'id', text: src.slice(start, i), pos: start });
    } else if (/[0-9]/.test(c)) {
      const m = /^(0x[0-9a-fA-F_]+|[0-9_]+)/.exec(src.slice(i))!;
      i += m[0].length;
      toks.push({ kind: 'num', text: m[0].replace(/_/g, ''), pos: start });
    } else if (c === '"') {
      // Quoted labels: only the simple escapes are decoded (enough for field names).
      let s = '';
      i++;
      while (src[i] !== '"') {
        if (i >= src.length) fail(start, 'unterminated string');
        if (src[i] === '\\') { const e = src[i + 1]!; s += e === 'n' ? '\n' : e === 't' ? '\t' : e; i += 2; } else s += src[i++];
      }
      i++;
      toks.push({ kind: 'str', text: s, pos: start });
    } else if (src.startsWith('->', i)) {
      toks.push({ kind: 'sym', text: '->', pos: start });
      i += 2;
    } else if ('{}();:,='.includes(c)) {
      toks.push({ kind: 'sym', text: c, pos: start });
      i++;
    } else fail(start, `unexpected character ${JSON.stringify(c)}`);
  }
  toks.push({ kind: 'eof', text: '<end of input>', pos: src.length });
  return toks;
}

/** Recursive-descent parser producing the type definitions and the service type. */
function parse(src: string): { defs: Map<string, Ty>; service: Ty; init: Ty[] } {
  const fail = (pos: number, msg: string): never => {
    const before = src.slice(0, pos).split('\n');
    throw new Error(`Candid parse error at line ${before.length}, column ${before.at(-1)!.length + 1}: ${msg}`);
  };
  const toks = tokenize(src, fail);
  let p = 0;
  const peek = (): Tok => toks[p]!;
  const next = (): Tok => toks[p++]!;
  const isSym = (s: string): boolean => peek().kind === 'sym' && peek().text === s;
  const eat = (s: string): boolean => (isSym(s) || (peek().kind === 'id' && peek().text === s) ? (p++, true) : false);
  const expect = (s: string): void => { if (!eat(s)) fail(peek().pos, `expected '${s}' but found '${peek().text}'`); };
  const ident = (): Tok => (peek().kind === 'id' ? next() : fail(peek().pos, `expected an identifier but found '${peek().text}'`));

  /** `{ a; b; }`-style lists: parses items until `}`, separators `;` (or `,`) optional at end. */
  const braced = <T>(item: () => T): T[] => {
    expect('{');
    const out: T[] = [];
    while (!eat('}')) {
      out.push(item());
      if (!eat(';') && !eat(',') && !isSym('}')) fail(peek().pos, `expected ';' or '}' but found '${peek().text}'`);
    }
    return out;
  };

  /** Record / variant field. Positional fields get the id after the previous field's. */
  const field = (variant: boolean, prevId: () => number): Field => {
    const t = peek();
    const labelled = toks[p + 1]?.kind === 'sym' && toks[p + 1]?.text === ':';
    if (t.kind === 'num' && (labelled || variant)) {
      p++;
      const id = Number(t.text);
      if (!Number.isSafeInteger(id) || id >= 2 ** 32) fail(t.pos, `field id ${t.text} out of range`);
      return { name: `_${id}_`, id, t: eat(':') ? dataType() : { k: 'prim', name: 'null' } };
    }
    if ((t.kind === 'id' || t.kind === 'str') && labelled) {
      p += 2;
      return { name: t.text, id: idlHash(t.text), t: dataType() };
    }
    if (variant && (t.kind === 'id' || t.kind === 'str')) {
      p++;
      return { name: t.text, id: idlHash(t.text), t: { k: 'prim', name: 'null' } };
    }
    const id = prevId() + 1;
    return { name: `_${id}_`, id, t: dataType() };
  };
  const fields = (variant: boolean): Field[] => {
    let last = -1; // id of the previous field: a positional field takes the next one
    return braced(() => {
      const f = field(variant, () => last);
      last = f.id;
      return f;
    });
  };

  /** `(a: T, U)` argument/result list; argument names are dropped. */
  const tuple = (): Ty[] => {
    expect('(');
    const out: Ty[] = [];
    while (!eat(')')) {
      if ((peek().kind === 'id' || peek().kind === 'str') && toks[p + 1]?.text === ':' && toks[p + 1]?.kind === 'sym') p += 2;
      out.push(dataType());
      if (!eat(',') && !isSym(')')) fail(peek().pos, `expected ',' or ')' but found '${peek().text}'`);
    }
    return out;
  };

  const funcType = (): Ty => {
    const args = tuple();
    expect('->');
    const rets = tuple();
    const anns: string[] = [];
    while (peek().kind === 'id' && ['query', 'composite_query', 'oneway'].includes(peek().text)) anns.push(next().text);
    return { k: 'func', args, rets, anns };
  };

  const serviceBody = (): Ty => ({
    k: 'service',
    methods: braced(() => {
      const n = peek().kind === 'str' ? next() : ident();
      expect(':');
      if (isSym('(')) return { name: n.text, t: funcType() };
      const ref = ident();
      return { name: n.text, t: { k: 'ref', name: ref.text, pos: ref.pos } };
    }),
  });

  function dataType(): Ty {
    const t = peek();
    if (t.kind !== 'id') return fail(t.pos, `expected a type but found '${t.text}'`);
    p++;
    switch (t.text) {
      case 'opt': return { k: 'opt', t: dataType() };
      case 'vec': return { k: 'vec', t: dataType() };
      case 'blob': return { k: 'vec', t: { k: 'prim', name: 'nat8' } };
      case 'record': return { k: 'record', fields: fields(false) };
      case 'variant': return { k: 'variant', fields: fields(true) };
      case 'func': return funcType();
      case 'service': return serviceBody();
      default:
        if (PRIMS.has(t.text)) return { k: 'prim', name: t.text };
        return { k: 'ref', name: t.text, pos: t.pos };
    }
  }

  const defs = new Map<string, Ty>();
  while (peek().kind === 'id' && peek().text === 'type') {
    p++;
    const name = ident();
    if (defs.has(name.text)) fail(name.pos, `duplicate type definition '${name.text}'`);
    expect('=');
    defs.set(name.text, dataType());
    expect(';');
  }
  const kw = peek();
  if (!(kw.kind === 'id' && kw.text === 'service')) fail(kw.pos, `unsupported input: expected 'type' or 'service' but found '${kw.text}'`);
  p++;
  if (peek().kind === 'id' && peek().text !== 'service') p++; // optional service name: `service Foo : {...}`
  expect(':');
  let init: Ty[] = [];
  if (isSym('(')) { init = tuple(); expect('->'); }
  const service = isSym('{') ? serviceBody() : { k: 'ref' as const, name: ident().text, pos: toks[p - 1]!.pos };
  eat(';');
  if (peek().kind !== 'eof') fail(peek().pos, `unexpected '${peek().text}' after the service`);
  // Check every reference resolves now, so errors carry a position.
  const check = (t: Ty): void => {
    switch (t.k) {
      case 'ref': if (!defs.has(t.name)) fail(t.pos, `undefined type '${t.name}'`); break;
      case 'opt': case 'vec': check(t.t); break;
      case 'record': case 'variant': t.fields.forEach(f => check(f.t)); break;
      case 'func': [...t.args, ...t.rets].forEach(check); break;
      case 'service': t.methods.forEach(m => check(m.t)); break;
    }
  };
  [...defs.values(), service, ...init].forEach(check);
  return { defs, service, init };
}

/**
 * Builds IDL types for a parsed description with the given `IDL` object. Named types are
 * built on demand and memoised; a name met again while its own definition is being built is
 * recursive, so it gets an `IDL.Rec()` placeholder that is filled once the definition is done.
 */
function build(IDL: any, defs: Map<string, Ty>, root: Ty): any {
  const done = new Map<string, any>();
  const inProgress = new Map<string, any | null>(); // name -> Rec placeholder (null until needed)
  const named = (name: string): any => {
    if (done.has(name)) return done.get(name);
    if (inProgress.has(name)) {
      let rec = inProgress.get(name);
      if (!rec) inProgress.set(name, (rec = IDL.Rec()));
      return rec;
    }
    inProgress.set(name, null);
    const t = go(defs.get(name)!);
    const rec = inProgress.get(name);
    inProgress.delete(name);
    if (rec) rec.fill(t);
    done.set(name, rec ?? t);
    return rec ?? t;
  };
  const obj = (fs: Field[]): Record<string, any> => Object.fromEntries(fs.map(f => [f.name, go(f.t)]));
  function go(t: Ty): any {
    switch (t.k) {
      case 'prim': return IDL[IDL_PRIM[t.name]!];
      case 'ref': return named(t.name);
      case 'opt': return IDL.Opt(go(t.t));
      case 'vec': return IDL.Vec(go(t.t));
      case 'record':
        // As in the official JS bindings: a record whose ids are exactly 0..n-1 is a tuple.
        if (t.fields.length > 0 && t.fields.every((f, i) => f.id === i)) return IDL.Tuple(...t.fields.map(f => go(f.t)));
        return IDL.Record(obj(t.fields));
      case 'variant': return IDL.Variant(obj(t.fields));
      case 'func': return IDL.Func(t.args.map(go), t.rets.map(go), t.anns);
      case 'service': return IDL.Service(Object.fromEntries(t.methods.map(m => [m.name, go(m.t)])));
    }
  }
  return go(root);
}

/**
 * Parses `didText` (throwing a positioned Error on unsupported input) and returns an IDL
 * factory `({ IDL }) => IDL.Service({...})` that works with both agent-js 3 and icp-sdk 6.
 */
export function idlFactoryFromCandid(didText: string): ({ IDL }: { IDL: any }) => any {
  const { defs, service } = parse(didText);
  return ({ IDL }) => {
    const svc = build(IDL, defs, service);
    if (!(svc instanceof IDL.ServiceClass)) throw new Error('Candid: the service type does not resolve to a service');
    return svc;
  };
}

/**
 * Like {@link idlFactoryFromCandid}, plus the service's init argument types
 * (`service : (init args) -> {...}`; empty when the service takes none).
 * @throws Error (positioned) on unsupported input
 */
export function candidInterfaceFromText(didText: string): {
  idlFactory: ({ IDL }: { IDL: any }) => any;
  init: ({ IDL }: { IDL: any }) => any[];
} {
  const { defs, init } = parse(didText);
  return { idlFactory: idlFactoryFromCandid(didText), init: ({ IDL }) => init.map((t) => build(IDL, defs, t)) };
}
