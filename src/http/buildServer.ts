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

export function buildServer(config: GatewayConfig, logger: Logger): FastifyInstance {
  const headersTimeoutMs = config.http.headersTimeoutSeconds * 1000;
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: LazyRequestLogger.factory, // request.log's pino child only for requests that log
    bodyLimit: config.http.bodyLimitBytes,
    keepAliveTimeout: HTTP_TIMEOUTS.keepAliveTimeoutMs,
    requestTimeout: HTTP_TIMEOUTS.requestTimeoutMs,
    connectionTimeout: HTTP_TIMEOUTS.connectionTimeoutMs,
    http: { headersTimeout: headersTimeoutMs, connectionsCheckingInterval: connectionsCheckingIntervalMs(headersTimeoutMs) },
    trustProxy: false, // client IP is resolved by net/, from gateway.trustedProxies only
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  registerErrorMapper(app);
  return app;
}
