/**
 * Port of PicJS's `google_search` example suite (dfinity/pic-js examples/google_search/tests) to
 * node:test: a deferred update makes an HTTPS outcall, the test finds it with
 * getPendingHttpsOutcalls and answers it with mockPendingHttpsOutcall, then the update completes;
 * plus a mocked reject and an unknown request id. Our own Motoko canister
 * (test/fixtures/motoko/pocketic/Search.mo), whose transform drops the response headers.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { PocketIc, type DeferredActor } from '@dfinity/pic';
import { compileMotokoFixture } from '../support/motoko.ts';
import { startPicServer, type PicServer } from '../support/pocket-ic.ts';

interface SearchService {
  search: (q: string) => Promise<string>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const idlFactory = ({ IDL }: { IDL: any }) => IDL.Service({ search: IDL.Func([IDL.Text], [IDL.Text], []) });

describe('PicJS example: google_search (HTTPS outcalls)', () => {
  let server: PicServer;
  let wasm: Uint8Array;
  let pic: PocketIc;
  let deferred: DeferredActor<SearchService>;

  before(async () => {
    [server, wasm] = await Promise.all([startPicServer(), compileMotokoFixture('pocketic/Search').then((o) => o.wasm)]);
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    pic = await PocketIc.create(server.url);
    const { canisterId } = await pic.setupCanister<SearchService>({ idlFactory, wasm });
    deferred = pic.createDeferredActor<SearchService>(idlFactory, canisterId);
  });
  afterEach(async () => {
    await pic.tearDown();
  });

  it('makes a Google search, answered by a mock', async () => {
    const execute = await deferred.search('icp');
    await pic.tick(2);
    const pending = await pic.getPendingHttpsOutcalls();
    assert.equal(pending.length, 1);
    const outcall = pending[0]!;
    assert.equal(outcall.url, 'https://www.google.ch/search?q=icp');
    assert.equal(outcall.httpMethod, 'GET');
    assert.deepEqual(outcall.headers, [['User-Agent', 'pic']]);
    await pic.mockPendingHttpsOutcall({
      requestId: outcall.requestId,
      subnetId: outcall.subnetId,
      response: { type: 'success', body: new TextEncoder().encode('Google search result'), statusCode: 200, headers: [['x-a', 'b']] },
    });
    assert.equal((await pic.getPendingHttpsOutcalls()).length, 0);
    assert.equal(await execute(), '200 0 Google search result', 'the transform dropped the headers');
  });

  it('a mocked reject reaches the canister as an error', async () => {
    const execute = await deferred.search('reject');
    await pic.tick(2);
    const [outcall] = await pic.getPendingHttpsOutcalls();
    await pic.mockPendingHttpsOutcall({ requestId: outcall!.requestId, subnetId: outcall!.subnetId, response: { type: 'reject', statusCode: 2, message: 'no route' } });
    assert.equal(await execute(), 'error: no route');
  });

  it('an unknown request id is refused', async () => {
    const subnet = (await pic.getApplicationSubnets())[0]!;
    await assert.rejects(
      pic.mockPendingHttpsOutcall({ requestId: 42, subnetId: subnet.id, response: { type: 'reject', statusCode: 2, message: 'x' } }),
      /InvalidCanisterHttpRequestId/,
    );
  });
});
