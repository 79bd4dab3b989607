// The runtime of a TypeScript canister, evaluated inside the canister's own V8 context
// (ts-canister-instance.ts). It is the canister-side half of the System API bridge: the host
// passes one function, `host(op, ...)`, that takes and returns primitives only (strings,
// numbers, bigints), so no object of the replica's realm is ever reachable from canister code.
//
// What it provides to canister code: `defineCanister`, `update`, `query` (the module's
// `chainkey-replica/canister` import), TextEncoder/TextDecoder, and per message a context
// object (caller, time, cycles, calls, timers, state). Messages follow the replica's model:
// each execution runs until the handler returns or awaits a call; the state is then committed
// (saved by the host into stable memory) or, on a throw, rolled back by the host.
//
// Wire format for values: JSON with bigints as {"$n": "<decimal>"} and bytes as {"$b": "<base64>"}.
(function install(host) {
  'use strict';
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const B64_INDEX = new Map([...B64].map((c, i) => [c, i]));

  function base64Encode(bytes) {
    let out = '';
    for (let i = 0; i < bytes.length; i += 3) {
      const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
      out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
      out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
      out += i + 2 < bytes.length ? B64[n & 63] : '=';
    }
    return out;
  }

  function base64Decode(text) {
    const clean = text.replace(/=+$/, '');
    const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
    let acc = 0;
    let bits = 0;
    let j = 0;
    for (const c of clean) {
      acc = (acc << 6) | B64_INDEX.get(c);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        out[j++] = (acc >> bits) & 0xff;
      }
    }
    return out;
  }

  function toWire(value) {
    return JSON.stringify(value, function (key, v) {
      const raw = this[key];
      if (typeof raw === 'bigint') return { $n: raw.toString() };
      if (raw instanceof Uint8Array) return { $b: base64Encode(raw) };
      return v;
    });
  }

  function fromWire(text) {
    return JSON.parse(text, (_k, v) => {
      if (v && typeof v === 'object' && !Array.isArray(v)) {
        if (typeof v.$n === 'string') return BigInt(v.$n);
        if (typeof v.$b === 'string') return base64Decode(v.$b);
      }
      return v;
    });
  }

  // UTF-8 with the language's own URI functions (this context has no Web APIs).
  class TextEncoder {
    get encoding() {
      return 'utf-8';
    }
    encode(s = '') {
      const bin = unescape(encodeURIComponent(String(s)));
      const out = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
      return out;
    }
  }
  class TextDecoder {
    get encoding() {
      return 'utf-8';
    }
    decode(bytes = new Uint8Array()) {
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
      return decodeURIComponent(escape(bin));
    }
  }

  /** A reject of an inter-canister call, as the calling canister sees it. */
  class CallError extends Error {
    constructor(rejectCode, message) {
      super(message);
      this.name = 'CallError';
      this.rejectCode = rejectCode;
    }
  }

  const update = (handler) => ({ kind: 'update', handler });
  const query = (handler) => ({ kind: 'query', handler });
  const defineCanister = (definition) => definition;

  let definition = null;
  let state;
  let stateLoaded = false;
  let committedJson = '';
  // The state's wire text as `end` saved it: what `committed` keeps (no second serialization).
  let endedJson = null;
  let trapMessage = null;
  let nextCall = 0;
  const pendingCalls = new Map();

  function loadState() {
    if (stateLoaded) return;
    const saved = host('stateLoad');
    state = saved === '' ? (typeof definition.state === 'function' ? definition.state() : {}) : fromWire(saved);
    committedJson = saved;
    stateLoaded = true;
  }

  function fail(e) {
    if (trapMessage !== null) return;
    trapMessage = e instanceof Error ? `${e.name === 'Error' ? '' : `${e.name}: `}${e.message}` : String(e);
  }

  function makeContext(caller, invocation) {
    const ctx = {
      caller,
      self: host('self'),
      get state() {
        return state;
      },
      set state(v) {
        state = v;
      },
      time: () => host('time'),
      cycles: {
        balance: () => host('balance'),
        available: () => host('cyclesAvailable'),
        accept: (max) => host('cyclesAccept', BigInt(max)),
        refunded: () => host('cyclesRefunded'),
      },
      call(canisterId, method, args = [], options = {}) {
        const k = nextCall++;
        const cycles = BigInt(options.cycles ?? 0n);
        const code = host('call', k, String(canisterId), String(method), toWire(args), cycles, options.candid ?? '');
        return new Promise((resolve, reject) => {
          if (code !== 0) {
            reject(new CallError(code, 'Couldn\'t send message'));
            return;
          }
          pendingCalls.set(k, { resolve, reject });
        });
      },
      rawRand: () => ctx.call('aaaaa-aa', 'raw_rand', []),
      reject: (message) => {
        invocation.responded = true;
        host('reject', String(message));
      },
      trap: (message) => host('trap', String(message)),
      print: (text) => host('print', String(text)),
      setTimer: (atNanos) => host('setTimer', BigInt(atNanos)),
      setCertifiedData: (bytes) => host('certifiedDataSet', toWire([bytes])),
      sha256: (bytes) => fromWire(host('sha256', toWire([bytes])))[0],
      ripemd160: (bytes) => fromWire(host('ripemd160', toWire([bytes])))[0],
      sha224: (bytes) => fromWire(host('sha224', toWire([bytes])))[0],
      crc32: (bytes) => Number(host('crc32', toWire([bytes]))),
      principalToBytes: (text) => fromWire(host('principalToBytes', String(text)))[0],
      principalFromBytes: (bytes) => host('principalFromBytes', toWire([bytes])),
    };
    return ctx;
  }

  function runHandler(fn, ctx, args, retCount, invocation) {
    let result;
    try {
      result = fn(ctx, ...args);
    } catch (e) {
      fail(e);
      return;
    }
    Promise.resolve(result).then(
      (value) => {
        if (retCount < 0) return; // system method: nothing to reply
        if (invocation.responded) return;
        invocation.responded = true;
        const values = retCount === 0 ? [] : retCount === 1 ? [value] : value;
        host('reply', invocation.method, toWire(values));
      },
      (e) => fail(e),
    );
  }

  const runtime = {
    /** Loads the module's definition; returns a JSON summary for the host. */
    define(def) {
      if (!def || typeof def !== 'object') throw new TypeError('the module\'s default export must be defineCanister({ candid, methods, ... })');
      if (typeof def.candid !== 'string') throw new TypeError('defineCanister: `candid` must be the service description as text');
      const methods = def.methods ?? {};
      const summary = { methods: {}, init: typeof def.init === 'function', postUpgrade: typeof def.postUpgrade === 'function', preUpgrade: typeof def.preUpgrade === 'function', timer: typeof def.timer === 'function', candid: def.candid };
      for (const [name, m] of Object.entries(methods)) {
        if (!m || (m.kind !== 'update' && m.kind !== 'query') || typeof m.handler !== 'function') {
          throw new TypeError(`defineCanister: method '${name}' must be update(handler) or query(handler)`);
        }
        summary.methods[name] = m.kind;
      }
      definition = def;
      return JSON.stringify(summary);
    },
    /** Starts a method (`kind` 'update' | 'query') or a system method ('init', 'postUpgrade', 'preUpgrade', 'timer'). */
    invoke(kind, name, argsWire, retCount) {
      trapMessage = null;
      loadState();
      const caller = host('caller');
      const invocation = { method: name, responded: false };
      const ctx = makeContext(caller, invocation);
      const args = argsWire === '' ? [] : fromWire(argsWire);
      const fn = kind === 'update' || kind === 'query' ? definition.methods[name].handler : definition[name];
      runHandler(fn, ctx, args, retCount, invocation);
    },
    /** Resumes the awaiting handler of call `k` with its reply values or reject. */
    resume(k, isReply, payloadWire, rejectCode, rejectMessage) {
      trapMessage = null;
      loadState();
      const p = pendingCalls.get(k);
      if (!p) return false;
      pendingCalls.delete(k);
      if (isReply) {
        const values = fromWire(payloadWire);
        p.resolve(values.length === 0 ? undefined : values.length === 1 ? values[0] : values);
      } else {
        p.reject(new CallError(rejectCode, rejectMessage));
      }
      return true;
    },
    /** Ends an execution: the trap message, or '' after saving the state for the host to commit. */
    end() {
      if (trapMessage !== null) return trapMessage;
      if (stateLoaded) {
        const json = toWire(state);
        if (json !== committedJson) host('stateSave', json);
        endedJson = json;
      }
      return '';
    },
    committed() {
      if (stateLoaded) committedJson = endedJson ?? toWire(state);
      endedJson = null;
    },
    rolledBack() {
      endedJson = null;
      if (stateLoaded) state = committedJson === '' ? (typeof definition.state === 'function' ? definition.state() : {}) : fromWire(committedJson);
    },
    dropContinuations() {
      pendingCalls.clear();
    },
  };

  Object.defineProperty(globalThis, '__ckr', { value: { runtime, sdk: Object.freeze({ defineCanister, update, query, CallError }) } });
  globalThis.TextEncoder = TextEncoder;
  globalThis.TextDecoder = TextDecoder;
});
