/**
 * Parsing the canister or subnet id in a request URL (`/api/v2/canister/<id>/...`). The replica
 * answers an unparsable id with HTTP 400 `Invalid URL: ...` (its router's path extractor).
 */
import { Principal } from '@icp-sdk/core/principal';
import { HttpError } from './http-error.ts';

/**
 * @param text the URL segment, textual principal form.
 * @throws HttpError 400 if it is not a principal.
 */
export function principalFromUrl(text: string): Principal {
  try {
    return Principal.fromText(text);
  } catch (e) {
    throw new HttpError(400, `Invalid URL: Cannot parse \`${text}\` as a principal: ${(e as Error).message}`);
  }
}
