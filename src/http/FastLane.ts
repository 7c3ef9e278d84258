import type { IncomingMessage, OutgoingHttpHeaders, RequestListener, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Span } from '@opentelemetry/api';
import type { AuthService } from '../auth/AuthService.js';
import type { Identity } from '../auth/types.js';
import { GatewayError } from '../errors.js';
import type { GatewayMetrics } from '../telemetry/GatewayMetrics.js';
import type { Logger } from '../telemetry/logger.js';
import { endRequestSpan, runInRequestSpan, startRequestSpan } from '../telemetry/spans.js';
import { admitHttp, type Admission } from './authPlugin.js';
import type { FrontDoor } from './buildServer.js';
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

/** One request in the lane: the one object it allocates besides node's own. */
interface LaneRequest {
  readonly res: ServerResponse;
  readonly path: string;
  readonly route: HotRoute;
  readonly startedAt: number;
  readonly span: Span | undefined;
}

/**
 * The few authenticated routes every client polls (`GET /v1/models`), answered straight from node's
 * 'request' event: fastify's per-request machinery (Request/Reply objects, routing, hook runners, the
 * request logger) costs more than the authentication itself, and these answers never change. Only an
 * exact `GET <path>` without a query string and without a body takes the lane; everything else (HEAD, a
 * trailing slash, `?token=`, a body, every other route) goes to fastify. The lane does what the fastify
 * route does with the same services: the auth hook's admission (admitHttp), the same error responses
 * (errorResponse), openclaw_http_request_duration_seconds under the same route label, and the same SERVER
 * span when tracing is on.
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
  readonly front: FrontDoor = (fallback) => (req, res) => {
    const services = this.services;
    const route = req.method === 'GET' && services ? this.routes.get(req.url as string) : undefined;
    if (route === undefined || services === undefined || hasBody(req)) return fallback(req, res);
    const path = req.url as string;
    const traced = startRequestSpan('GET', path, req.headers);
    const lane: LaneRequest = { res, path, route, startedAt: performance.now(), span: traced?.span };
    if (traced) runInRequestSpan(traced, this.admit, this, services, req, lane);
    else this.admit(services, req, lane);
  };

  /** The same admission as fastify's auth hook (admitHttp); synchronous unless the chain needs I/O. */
  private admit(services: FastLaneServices, req: IncomingMessage, lane: LaneRequest): void {
    let admission: Admission | Promise<Admission>;
    try {
      admission = admitHttp(services.auth, services.auth.contextFor(req, 'http'), req.url);
    } catch (error) {
      return this.fail(services, lane, error);
    }
    if (admission instanceof Promise) {
      admission.then(
        (settled) => this.conclude(services, lane, settled),
        (error: unknown) => this.fail(services, lane, error),
      );
    } else this.conclude(services, lane, admission);
  }

  private conclude(services: FastLaneServices, lane: LaneRequest, admission: Admission): void {
    if (admission instanceof GatewayError) {
      const { status, rawHeaders, body } = errorResponse(admission);
      this.answer(services, lane, status, rawHeaders, body);
    } else {
      const hot = lane.route(admission);
      this.answer(services, lane, hot.status, hot.headers, hot.body);
    }
  }

  private fail(services: FastLaneServices, lane: LaneRequest, error: unknown): void {
    services.logger.error({ err: error, url: lane.path }, 'request failed');
    if (lane.res.headersSent) return void lane.res.destroy();
    const { status, rawHeaders, body } = errorResponse(INTERNAL_ERROR);
    this.answer(services, lane, status, rawHeaders, body, error);
  }

  private answer(services: FastLaneServices, lane: LaneRequest, status: number, headers: OutgoingHttpHeaders, body: string, error?: unknown): void {
    lane.res.writeHead(status, headers);
    lane.res.end(body);
    services.metrics.httpRequest(lane.path, status, (performance.now() - lane.startedAt) / 1000);
    if (lane.span) endRequestSpan(lane.span, status, error);
  }
}

/** A GET with a body is legal but odd; fastify reads (and bounds) it, the lane does not. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}
