import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { context as otelContext } from '@opentelemetry/api';
import type { AuthService } from '../auth/AuthService.js';
import type { AuthOutcome, Identity } from '../auth/types.js';
import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../telemetry/GatewayMetrics.js';
import type { Logger } from '../telemetry/logger.js';
import { endRequestSpan, startRequestSpan } from '../telemetry/spans.js';
import { outcomeError } from './authPlugin.js';
import { errorResponse } from './errorMapper.js';

/** What a hot route answers to an authenticated request. */
export interface HotAnswer {
  readonly status: number;
  /** Complete, content-length included. */
  readonly headers: OutgoingHttpHeaders;
  readonly body: string;
}

export type HotRoute = (identity: Identity) => HotAnswer;

export interface FastLaneServices {
  readonly auth: Pick<AuthService, 'contextFor' | 'blockedOutcome' | 'authenticateNow'>;
  readonly metrics: Pick<GatewayMetrics, 'httpRequest'>;
  readonly logger: Logger;
}

const INTERNAL_ERROR = new GatewayError('internal_error', 'Internal server error.');

/**
 * The few authenticated routes every client polls (`GET /v1/models`), answered straight from node's
 * 'request' event: fastify's per-request machinery (Request/Reply objects, routing, hook runners, the
 * request logger) costs more than the authentication itself, and these answers never change. Only an
 * exact `GET <path>` without a query string and without a body takes the lane; everything else (HEAD, a
 * trailing slash, `?token=`, a body, every other route) goes to fastify. The lane does exactly what the
 * fastify route does with the same services: the auth plugin's order (blocked client → 429 before
 * anything else, then the chain), the same error responses, openclaw_http_request_duration_seconds under
 * the same route label, and the same SERVER span when tracing is on.
 */
export class FastLane {
  private readonly routes = new Map<string, HotRoute>();
  private services: FastLaneServices | undefined;

  /** Routes join before start(); until start() every request goes to fastify. */
  route(path: string, answer: HotRoute): void {
    this.routes.set(path, answer);
  }

  start(services: FastLaneServices): void {
    this.services = services;
  }

  /** node's request listener: the lane's routes here, everything else to `fallback` (fastify's handler). */
  front(fallback: RequestListener): RequestListener {
    return (req, res) => {
      const route = req.method === 'GET' && this.services ? this.routes.get(req.url as string) : undefined;
      if (route === undefined || hasBody(req)) return fallback(req, res);
      this.serve(req, res, req.url as string, route, this.services as FastLaneServices);
    };
  }

  private serve(req: IncomingMessage, res: ServerResponse, path: string, route: HotRoute, services: FastLaneServices): void {
    const startedAt = performance.now();
    const traced = startRequestSpan('GET', path, req.headers);
    const answer = (status: number, headers: OutgoingHttpHeaders, body: string, error?: unknown) => {
      res.writeHead(status, headers);
      res.end(body);
      services.metrics.httpRequest(path, status, (performance.now() - startedAt) / 1000);
      if (traced) endRequestSpan(traced.span, status, error);
    };
    const fail = (error: unknown) => {
      services.logger.error({ err: error, url: path }, 'request failed');
      if (res.headersSent) return void res.destroy();
      const { status, rawHeaders, body } = errorResponse(INTERNAL_ERROR);
      answer(status, rawHeaders, body, error);
    };
    const conclude = (outcome: AuthOutcome) => {
      if (outcome.ok) {
        const hot = route(outcome.identity);
        answer(hot.status, hot.headers, hot.body);
      } else {
        const { status, rawHeaders, body } = errorResponse(outcomeError(outcome));
        answer(status, rawHeaders, body);
      }
    };
    const run = () => {
      try {
        const context = services.auth.contextFor(req, 'http');
        const outcome = services.auth.blockedOutcome(context) ?? services.auth.authenticateNow(context);
        if (outcome instanceof Promise) outcome.then(conclude).catch(fail);
        else conclude(outcome);
      } catch (error) {
        fail(error);
      }
    };
    if (traced) otelContext.with(traced.context, run);
    else run();
  }
}

/** A GET with a body is legal but odd; fastify reads (and bounds) it, the lane does not. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}
