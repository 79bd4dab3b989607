/**
 * The request log: one concise line per ingress message (when its outcome is known) and per
 * rejected request (a refused envelope, a non-replicated rejection, a rejected query), so a user
 * sees why a tool failed without a proxy. On in `npm start` (`chainkey-replica start`), off
 * unless asked for in the programmatic API and the tests.
 *
 *   call  ryjl3-tyaaa-aaaaa-aaaba-cai icrc1_transfer  from 2vxsx-fae  replied
 *   call  aaaaa-aa canister_status  from abcde-…  rejected IC0512 (reject code 5): Only controllers …
 *   query bkyz2-fmaaa-aaaaa-qaaaq-cai get  from 2vxsx-fae  rejected IC0302 (reject code 3): …
 *   http  400 POST /api/v3/canister/…/call: Specified CanisterId … does not match …
 */
import type { Principal } from '@icp-sdk/core/principal';

/** Where request log lines go (one line each, no trailing newline). */
export type RequestLogSink = (line: string) => void;

/** Longest reject message kept on a line (characters); the rest is cut with `…`. */
const MAX_MESSAGE_CHARS = 300;

function shortText(s: string): string {
  const one = s.replace(/\s+/g, ' ').trim();
  return one.length > MAX_MESSAGE_CHARS ? `${one.slice(0, MAX_MESSAGE_CHARS)}…` : one;
}

function canisterText(id: Principal): string {
  return id.toUint8Array().length === 0 ? 'aaaaa-aa' : id.toText();
}

/** What a logged message ended with. */
export type LoggedOutcome =
  | { kind: 'replied' }
  | { kind: 'rejected'; rejectCode: number; errorCode?: string | undefined; message: string };

/**
 * One line for a message: `call`/`query`, the canister, the method, the sender and the outcome
 * (`replied`, or `rejected IC0xxx (reject code N): text`).
 */
export function messageLine(kind: 'call' | 'query', canisterId: Principal, method: string, sender: Principal, outcome: LoggedOutcome): string {
  const head = `${kind.padEnd(5)} ${canisterText(canisterId)} ${method}  from ${sender.toText()}  `;
  if (outcome.kind === 'replied') return `${head}replied`;
  const code = outcome.errorCode ? `${outcome.errorCode} ` : '';
  return `${head}rejected ${code}(reject code ${outcome.rejectCode}): ${shortText(outcome.message)}`;
}

/** One line for an HTTP request refused before it reached a canister (status 4xx/5xx). */
export function httpLine(status: number, method: string, path: string, text: string): string {
  return `http  ${status} ${method} ${path}: ${shortText(text)}`;
}
