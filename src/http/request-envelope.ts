/**
 * Shape of a decoded request envelope (spec §"Authentication", §"CBOR encoding of requests
 * and responses"): `{content, ?sender_pubkey, ?sender_sig, ?sender_delegation}` with the
 * content fields of a `call`, `query` or `read_state`. `parseRequestEnvelope` checks the CBOR value's
 * shape the way the replica's deserializer does and returns typed fields; errors become
 * HTTP 400 with a `Failed to deserialize cbor request: ...` or `Malformed request: ...` text
 * (dfinity/ic `rs/http_endpoints/public/src/common.rs`, `call.rs`; the serde error details
 * after the prefix are approximated).
 */

/** Request types of the HTTP interface. */
export type RequestType = 'call' | 'query' | 'read_state';

/** A decoded envelope, as the CBOR decoder produced it. */
export interface Envelope {
  readonly content: unknown;
  readonly sender_pubkey?: unknown;
  readonly sender_sig?: unknown;
  readonly sender_delegation?: unknown;
}

/** One delegation of `sender_delegation`, typed. */
export interface SignedDelegation {
  /** DER public key the delegation grants to. */
  readonly pubkey: Uint8Array;
  /** Nanoseconds since the epoch after which the delegation is void. */
  readonly expiration: bigint;
  /** Canister ids (principal bytes) the delegation is restricted to, if any. */
  readonly targets?: readonly Uint8Array[];
  readonly signature: Uint8Array;
}

/** The typed fields of an envelope. */
export interface ParsedEnvelope {
  readonly requestType: RequestType;
  readonly sender: Uint8Array;
  readonly ingressExpiry: bigint;
  readonly nonce?: Uint8Array;
  /** call/query only. */
  readonly canisterId?: Uint8Array;
  readonly methodName?: string;
  /** read_state only: paths as label arrays. */
  readonly paths?: readonly (readonly Uint8Array[])[];
  /** Present iff the request is authenticated (`sender_pubkey` and `sender_sig` both set). */
  readonly auth?: {
    readonly pubkey: Uint8Array;
    readonly signature: Uint8Array;
    readonly delegations: readonly SignedDelegation[];
  };
}

/** A malformed envelope: `message` is the HTTP 400 body. */
export class MalformedEnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MalformedEnvelopeError';
  }
}

const U64_MAX = (1n << 64n) - 1n;

/**
 * Checks the shape of a decoded envelope.
 * @param envelope the CBOR-decoded body (self-describe tag already removed).
 * @param requestType the type the endpoint expects (`/call` → `call`, ...).
 * @throws MalformedEnvelopeError with the HTTP 400 text.
 */
export function parseRequestEnvelope(envelope: Envelope, requestType: RequestType): ParsedEnvelope {
  const fail = (detail: string): never => {
    throw new MalformedEnvelopeError(`Failed to deserialize cbor request: ${detail}`);
  };
  if (!isMap(envelope) || !isMap(envelope.content)) fail('missing field `content`');
  const c = envelope.content as Record<string, unknown>;
  const rt = c['request_type'];
  if (typeof rt !== 'string') fail('missing field `request_type`');
  if (rt !== requestType) fail(`unknown variant \`${String(rt)}\`, expected \`${requestType}\``);
  const sender = blob(c['sender'], 'sender', fail);
  const ingressExpiry = nat64(c['ingress_expiry'], 'ingress_expiry', fail);
  const nonce = c['nonce'] === undefined ? undefined : blob(c['nonce'], 'nonce', fail);
  const out: {
    requestType: RequestType;
    sender: Uint8Array;
    ingressExpiry: bigint;
    nonce?: Uint8Array;
    canisterId?: Uint8Array;
    methodName?: string;
    paths?: Uint8Array[][];
    auth?: ParsedEnvelope['auth'];
  } = { requestType, sender, ingressExpiry };
  if (nonce !== undefined) out.nonce = nonce;
  if (requestType === 'read_state') {
    const paths = c['paths'];
    if (!Array.isArray(paths)) fail('missing field `paths`');
    out.paths = (paths as unknown[]).map((p) => {
      if (!Array.isArray(p)) return fail('invalid type: expected a path (sequence of blobs)');
      return (p as unknown[]).map((l) => blob(l, 'path label', fail));
    });
  } else {
    out.canisterId = blob(c['canister_id'], 'canister_id', fail);
    const m = c['method_name'];
    if (typeof m !== 'string') fail('missing field `method_name`');
    out.methodName = m as string;
    blob(c['arg'], 'arg', fail);
  }
  if (sender.length > 29) malformed(`InvalidPrincipalId("sender is longer than 29 bytes")`);
  if (out.canisterId !== undefined && out.canisterId.length > 29) {
    malformed(`InvalidPrincipalId("canister_id is longer than 29 bytes")`);
  }

  const pk = envelope.sender_pubkey;
  const sig = envelope.sender_sig;
  const del = envelope.sender_delegation;
  if (pk !== undefined && sig !== undefined) {
    out.auth = {
      pubkey: blob(pk, 'sender_pubkey', fail),
      signature: blob(sig, 'sender_sig', fail),
      delegations: del === undefined || del === null ? [] : delegations(del, fail),
    };
  } else if (pk !== undefined || sig !== undefined || (del !== undefined && del !== null)) {
    const some = (v: unknown): string => (v === undefined || v === null ? 'None' : 'Some(..)');
    malformed(`MissingPubkeyOrSignature("Got (${some(pk)}, ${some(sig)}, ${some(del)})")`);
  }
  return out;
}

function malformed(detail: string): never {
  throw new MalformedEnvelopeError(`Malformed request: ${detail}`);
}

function delegations(v: unknown, fail: (d: string) => never): SignedDelegation[] {
  if (!Array.isArray(v)) return fail('invalid type: expected a sequence of signed delegations');
  return (v as unknown[]).map((sd) => {
    if (!isMap(sd) || !isMap(sd['delegation'])) return fail('missing field `delegation`');
    const d = sd['delegation'] as Record<string, unknown>;
    const t = d['targets'];
    let targets: Uint8Array[] | undefined;
    if (t !== undefined && t !== null) {
      if (!Array.isArray(t)) return fail('invalid type: expected a sequence of targets');
      targets = (t as unknown[]).map((x) => blob(x, 'targets', fail));
    }
    const out: SignedDelegation = {
      pubkey: blob(d['pubkey'], 'pubkey', fail),
      expiration: nat64(d['expiration'], 'expiration', fail),
      signature: blob(sd['signature'], 'signature', fail),
      ...(targets === undefined ? {} : { targets }),
    };
    return out;
  });
}

function isMap(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function blob(v: unknown, field: string, fail: (d: string) => never): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (v === undefined) return fail(`missing field \`${field}\``);
  return fail(`invalid type: expected a byte string for \`${field}\``);
}

function nat64(v: unknown, field: string, fail: (d: string) => never): bigint {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === 'bigint' && v >= 0n && v <= U64_MAX) return v;
  if (v === undefined) return fail(`missing field \`${field}\``);
  return fail(`invalid type: expected u64 for \`${field}\``);
}
