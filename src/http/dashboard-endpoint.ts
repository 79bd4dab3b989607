/**
 * `GET /_/dashboard` (one self-contained HTML page: inline CSS and script, no external assets)
 * and `GET /_/dashboard/state` (its JSON, dashboard-state.ts), which the page polls every second.
 * 404 when the replica provides no dashboard state.
 */
import type { EndpointResponse as Response } from './exchange.ts';
import { HttpError } from './http-error.ts';
import { DASHBOARD_PAGE } from './dashboard-page.ts';
import type { ReplicaApi } from './replica-api.ts';

/** Writes the dashboard page. @throws HttpError 404 without a dashboard */
export function handleDashboardPage(replica: ReplicaApi, res: Response): void {
  if (!replica.dashboardState) throw new HttpError(404, 'Not found.');
  res.statusCode = 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('cache-control', 'no-store');
  res.end(DASHBOARD_PAGE);
}

/** Writes the dashboard state as JSON. @throws HttpError 404 without a dashboard */
export function handleDashboardState(replica: ReplicaApi, res: Response): void {
  if (!replica.dashboardState) throw new HttpError(404, 'Not found.');
  res.statusCode = 200;
  res.setHeader('content-type', 'application/json');
  res.setHeader('cache-control', 'no-store');
  res.end(JSON.stringify(replica.dashboardState()));
}
