/**
 * Canister HTTPS outcalls in a PocketIC instance (reference/pocketic-api.md #19, #20): a paid
 * `http_request` waits here until a test answers it (`mock_canister_http`); `get_canister_http`
 * lists what waits. A mocked reply goes through the canister's transform query, if it named one,
 * and then to the caller's callback, which runs in the next round.
 */
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import type { CanisterHttpRequest, CanisterHttpRequests } from '../management/management-context.ts';
import type { Replica } from '../replica.ts';
import { uintField } from './json.ts';
import { bytesField, principalField, principalToB64, PocketIcError, toB64 } from './wire.ts';

const header = IDL.Record({ name: IDL.Text, value: IDL.Text });
/** `http_request_result` of ic.did. */
const HttpRequestResult = IDL.Record({ status: IDL.Nat, headers: IDL.Vec(header), body: IDL.Vec(IDL.Nat8) });
/** The transform function's argument. */
const TransformArgs = IDL.Record({ response: HttpRequestResult, context: IDL.Vec(IDL.Nat8) });
/** Reject code 1 (SysFatal) for a response larger than the request allowed. */
const SYS_FATAL = 1;
const DEFAULT_MAX_RESPONSE_BYTES = 2_000_000n;

type MockResponse =
  | { CanisterHttpReply: { status: unknown; headers: { name: string; value: string }[]; body: string } }
  | { CanisterHttpReject: { reject_code: unknown; message: string } };

/** The outcalls of one instance waiting for a mocked response. */
export class PendingHttpOutcalls implements CanisterHttpRequests {
  readonly #pending = new Map<bigint, CanisterHttpRequest>();
  #nextId = 0n;

  accept(request: CanisterHttpRequest): void {
    this.#pending.set(this.#nextId++, request);
  }

  /** `get_canister_http`: every waiting request, oldest first. */
  list(): unknown[] {
    return [...this.#pending].map(([id, r]) => ({
      subnet_id: { subnet_id: principalToB64(r.subnet.subnetId) },
      request_id: id,
      http_method: r.method,
      url: r.url,
      headers: r.headers,
      body: toB64(r.body),
      max_response_bytes: r.maxResponseBytes ?? null,
    }));
  }

  /**
   * `mock_canister_http`: answers a waiting request (through its transform) and hands the result
   * to the calling canister.
   * @throws PocketIcError `InvalidCanisterHttpRequestId(…)` for an unknown request, or
   *   `InvalidMockCanisterHttpResponses(…)` for a wrong number of additional responses.
   */
  async mock(body: unknown, replica: Replica): Promise<null> {
    const subnetId = principalField((body as { subnet_id?: unknown }).subnet_id, 'subnet_id');
    const id = uintField(body, 'request_id');
    const r = this.#pending.get(id);
    if (!r || r.subnet.subnetId.compareTo(subnetId) !== 'eq') throw new PocketIcError(`InvalidCanisterHttpRequestId((${subnetId.toText()}, ${id}))`);
    const extra = (body as { additional_responses?: unknown[] }).additional_responses ?? [];
    if (extra.length > 0 && extra.length !== r.subnet.size - 1) {
      throw new PocketIcError(`InvalidMockCanisterHttpResponses((${extra.length}, ${r.subnet.size - 1}))`);
    }
    const response = (body as { response?: MockResponse }).response;
    if (!response || typeof response !== 'object') throw new PocketIcError('Failed to parse request: field "response" is missing');
    this.#pending.delete(id);
    replica.execution.deliverHttpResponse(r.origin, await this.#answer(r, response, replica), r.refundCycles);
    return null;
  }

  async #answer(r: CanisterHttpRequest, response: MockResponse, replica: Replica): Promise<{ kind: 'reply'; data: Uint8Array } | { kind: 'reject'; code: number; message: string }> {
    if ('CanisterHttpReject' in response) {
      const code = Number(uintField(response.CanisterHttpReject, 'reject_code'));
      if (code < 1 || code > 6) throw new PocketIcError(`InvalidRejectCode(${code})`);
      return { kind: 'reject', code, message: String(response.CanisterHttpReject.message) };
    }
    const reply = response.CanisterHttpReply;
    const result = {
      status: uintField(reply, 'status'),
      headers: (reply.headers ?? []).map((h) => ({ name: String(h.name), value: String(h.value) })),
      body: bytesField(reply, 'body'),
    };
    const max = r.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    if (BigInt(result.body.length) > max) {
      return { kind: 'reject', code: SYS_FATAL, message: `Http body exceeds size limit of ${max} bytes.` };
    }
    if (!r.transform) return { kind: 'reply', data: new Uint8Array(IDL.encode([HttpRequestResult], [result])) };
    // The transform runs as a query from the management canister on the caller.
    const arg = new Uint8Array(IDL.encode([TransformArgs], [{ response: result, context: r.transform.context }]));
    // (On the execution layer: PocketIC runs no rounds meanwhile; a long transform runs sliced.)
    const out = await replica.execution.query(Principal.managementCanister(), r.transform.canisterId, r.transform.method, arg, replica.lastRoundNanos);
    return out.kind === 'replied' ? { kind: 'reply', data: out.reply } : { kind: 'reject', code: out.rejectCode, message: out.rejectMessage };
  }
}
