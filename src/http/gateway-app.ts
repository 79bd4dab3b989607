/**
 * The HTTP gateway's express app (gateway.ts is express middleware), built on the first browser
 * request: express is loaded only then, so starting the replica and serving agents never load it.
 * Errors are answered as on the IC HTTP interface (and logged to the request log).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import { gateway } from './gateway.ts';
import { HttpError } from './http-error.ts';
import type { ReplicaApi } from './replica-api.ts';
import { httpLine } from './request-log.ts';
import { sendText } from './responses.ts';

/** Largest gateway request body: 5 MiB, as the IC HTTP interface. */
const MAX_GATEWAY_BODY_BYTES = 5 * 1024 * 1024;

/** Loads express and builds the gateway for a replica; resolves to a request listener. */
export async function createGatewayApp(replica: ReplicaApi): Promise<RequestListener> {
  const express = (await import('express')).default;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  const raw = express.raw({ type: () => true, limit: MAX_GATEWAY_BODY_BYTES });
  app.use(gateway(replica, raw));
  app.use((req, res) => {
    replica.requestLog?.(httpLine(404, req.method, req.path, 'Not found.'));
    sendText(res, 404, 'Not found.');
  });
  // Error middleware: express needs the four-argument signature to recognise it.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    const refuse = (status: number, text: string): void => {
      replica.requestLog?.(httpLine(status, req.method, req.path, text));
      sendText(res, status, text);
    };
    if (err instanceof HttpError) return refuse(err.status, err.message);
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.too.large') return refuse(413, 'length limit exceeded');
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      return refuse(e.status, `Failed to read the request body: ${e.message ?? 'bad request'}`);
    }
    console.error('chainkey-replica: unexpected error while serving a request:', err);
    sendText(res, 500, `Unexpected error: ${e?.message ?? String(err)}`);
  });
  return app as unknown as (req: IncomingMessage, res: ServerResponse) => void;
}
