/**
 * Keep-alive through the front door (src/http/front-door.ts) while the main thread is starved: a
 * client that sends its next request on a kept-alive connection just before the server's
 * keep-alive timeout must get its answer, even when the main thread only gets to run after the
 * timeout has passed (a busy round on a loaded machine). Before the door kept that timer, the
 * main thread's timer fired first — its `timeout` runs before the message with the request's
 * bytes — and the connection was closed under a request already sent: the client saw
 * "socket hang up" (issue 15: no TCP errors under load).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
import { startFrontDoorThread } from '../../src/http/front-door.ts';

/** Reads from `socket` until `count` whole responses (each with a content-length) arrived, or it ended. */
function responses(socket: Socket, count: number): Promise<string[]> {
  return new Promise((resolve) => {
    let buffered = '';
    const got: string[] = [];
    const onData = (c: Buffer): void => {
      buffered += c.toString('latin1');
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd < 0) break;
        const length = Number(/content-length: *(\d+)/i.exec(buffered.slice(0, headEnd))?.[1] ?? 0);
        if (buffered.length < headEnd + 4 + length) break;
        got.push(buffered.slice(0, headEnd + 4 + length));
        buffered = buffered.slice(headEnd + 4 + length);
      }
      if (got.length >= count) finish();
    };
    const finish = (): void => {
      socket.off('data', onData);
      socket.off('close', finish);
      resolve(got);
    };
    socket.on('data', onData);
    socket.once('close', finish);
  });
}

/** Spins this thread for `ms` (a round that keeps the event loop busy). */
function blockMainThread(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

/**
 * A node:http server answering `reply(url)` behind the front door with a keep-alive timeout of
 * `keepAliveMs`, and one connected client socket.
 */
async function keptAliveDoor(keepAliveMs: number, reply: (url: string) => string) {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.end(reply(req.url ?? '')));
  });
  server.keepAliveTimeout = keepAliveMs;
  server.keepAliveTimeoutBuffer = 0;
  const door = await startFrontDoorThread().listen({ host: '127.0.0.1', port: 0, backlog: 16, server, statusBody: new Uint8Array([0xa0]) });
  const socket = connect(door.port, '127.0.0.1');
  socket.on('error', () => {});
  const close = async (): Promise<void> => {
    socket.destroy();
    await door.close();
    server.closeAllConnections();
  };
  return { socket, close };
}

test('a request sent on a kept-alive connection just before its timeout is answered though the main thread runs only after it', async () => {
  const { socket, close } = await keptAliveDoor(200, (url) => `served ${url}`);
  try {
    await new Promise((resolve) => socket.once('connect', resolve));
    const first = responses(socket, 1);
    socket.write('GET /first HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.match((await first)[0] ?? '', /^HTTP\/1\.1 200 OK[^]*served \/first$/);
    // The connection is now idle on a 200 ms keep-alive timer. The next request goes out at once;
    // then the main thread is busy for longer than the timeout before it can read that request.
    const second = responses(socket, 1);
    socket.write('GET /second HTTP/1.1\r\nhost: x\r\n\r\n');
    blockMainThread(600);
    const got = await second;
    assert.equal(got.length, 1, 'the connection was closed under a request already sent (socket hang up)');
    assert.match(got[0]!, /^HTTP\/1\.1 200 OK[^]*served \/second$/);
  } finally {
    await close();
  }
});

test('an idle kept-alive connection is still closed after the keep-alive timeout', async () => {
  const { socket, close } = await keptAliveDoor(100, () => 'ok');
  try {
    await new Promise((resolve) => socket.once('connect', resolve));
    const closed = new Promise<boolean>((resolve) => socket.once('close', () => resolve(true)));
    const first = responses(socket, 1);
    socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
    assert.equal((await first).length, 1);
    // No traffic: the door closes the connection (the test's own timeout is the bound).
    assert.equal(await closed, true);
  } finally {
    await close();
  }
});
