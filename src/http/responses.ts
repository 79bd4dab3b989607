/**
 * Writing HTTP answers the way the replica does: CBOR bodies with the self-describe tag 55799 and
 * `content-type: application/cbor`; errors as `text/plain; charset=utf-8`.
 */
import type { EndpointResponse as Response } from './exchange.ts';
import { encodeWithSelfDescribedTag } from '@dfinity/cbor';

/** Sends a CBOR body (tag 55799). */
export function sendCbor(res: Response, status: number, value: unknown): void {
  const body = encodeWithSelfDescribedTag(value as never);
  res.statusCode = status;
  res.setHeader('content-type', 'application/cbor');
  res.end(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
}

/** Sends a plain-text body (errors, 202 notes). */
export function sendText(res: Response, status: number, text: string): void {
  res.statusCode = status;
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.end(text);
}
