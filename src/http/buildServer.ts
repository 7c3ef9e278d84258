import { createServer, type RequestListener } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../telemetry/logger.js';
import { registerErrorMapper } from './errorMapper.js';
import { LazyRequestLogger } from './LazyRequestLogger.js';

/** HTTP limits that bound what one client can hold open (slowloris, huge bodies); headers: gateway.http.headersTimeoutSeconds. */
export const HTTP_TIMEOUTS = {
  connectionTimeoutMs: 0,
  keepAliveTimeoutMs: 72_000,
  requestTimeoutMs: 300_000,
} as const;

/**
 * node enforces the headers and request timeouts only when it sweeps its connections (every 30 s by
 * default), so a slowloris client would keep its socket up to 30 s past the timeout; sweep at a fifth
 * of the headers timeout instead.
 */
export function connectionsCheckingIntervalMs(headersTimeoutMs: number): number {
  return Math.min(5_000, Math.max(250, Math.floor(headersTimeoutMs / 5)));
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Route needs no authentication (health probes). */
    public?: boolean;
  }
}

/** Puts a request listener in front of fastify's (the fast lane); identity by default. */
export type FrontDoor = (fallback: RequestListener) => RequestListener;

export function buildServer(config: GatewayConfig, logger: Logger, front: FrontDoor = (fallback) => fallback): FastifyInstance {
  const headersTimeoutMs = config.http.headersTimeoutSeconds * 1000;
  const serverOptions = { headersTimeout: headersTimeoutMs, connectionsCheckingInterval: connectionsCheckingIntervalMs(headersTimeoutMs) };
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: LazyRequestLogger.factory, // request.log's pino child only for requests that log
    bodyLimit: config.http.bodyLimitBytes,
    keepAliveTimeout: HTTP_TIMEOUTS.keepAliveTimeoutMs,
    requestTimeout: HTTP_TIMEOUTS.requestTimeoutMs,
    connectionTimeout: HTTP_TIMEOUTS.connectionTimeoutMs,
    // fastify's own HTTP/1 server, with `front` before its handler; the timeouts fastify would set are set here.
    serverFactory: (handler: RequestListener) => {
      const server = createServer(serverOptions, front(handler));
      server.keepAliveTimeout = HTTP_TIMEOUTS.keepAliveTimeoutMs;
      server.requestTimeout = HTTP_TIMEOUTS.requestTimeoutMs;
      server.setTimeout(HTTP_TIMEOUTS.connectionTimeoutMs);
      return server;
    },
    trustProxy: false, // client IP is resolved by net/, from gateway.trustedProxies only
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  registerErrorMapper(app);
  return app;
}
