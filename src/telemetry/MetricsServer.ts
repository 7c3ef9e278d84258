import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Logger } from './logger.js';

export interface MetricsSource {
  render(): Promise<string>;
  readonly contentType: string;
}

export interface MetricsServerOptions {
  /** gateway.bind: `loopback` (127.0.0.1 and ::1), `lan` (all interfaces) or an IP literal. */
  readonly bind: string;
  /** gateway.metrics.port; 0 means no server at all. */
  readonly port: number;
  readonly metrics: MetricsSource;
  readonly logger: Logger;
}

/** Bounds for an endpoint nobody authenticates: scrapes are small GETs, anything slow is dropped. */
const LIMITS = { headersTimeoutMs: 10_000, requestTimeoutMs: 15_000, keepAliveTimeoutMs: 65_000, maxConnections: 64 };

export class MetricsListenError extends Error {
  readonly code = 'ERR_OPENCLAW_METRICS_LISTEN';
}

/**
 * Prometheus `/metrics` on its own port, bound like the gateway (a separate node:http server, so scrapes
 * never share the gateway's auth hooks, limits or access logs).
 */
export class MetricsServer {
  private readonly servers: Server[] = [];
  private listening: string[] = [];

  constructor(private readonly options: MetricsServerOptions) {}

  get enabled(): boolean {
    return this.options.port !== 0;
  }

  get addresses(): readonly string[] {
    return this.listening;
  }

  async start(): Promise<readonly string[]> {
    if (!this.enabled || this.servers.length > 0) return this.listening;
    const { bind, port, logger } = this.options;
    try {
      if (bind === 'loopback') {
        await this.listenOn('127.0.0.1', port);
        if (!(await this.listenOn('::1', port, { optional: true }))) {
          logger.warn({ host: '::1', port }, 'IPv6 loopback unavailable; metrics on 127.0.0.1 only');
        }
      } else if (bind === 'lan') {
        if (!(await this.listenOn('::', port, { optional: true }))) await this.listenOn('0.0.0.0', port);
      } else {
        await this.listenOn(bind, port);
      }
    } catch (error) {
      await this.close();
      throw error;
    }
    logger.info({ addresses: this.listening }, 'metrics listening');
    return this.listening;
  }

  async close(): Promise<void> {
    const servers = this.servers.splice(0);
    this.listening = [];
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
  }

  private async listenOn(host: string, port: number, { optional = false } = {}): Promise<boolean> {
    const server = createServer((request, response) => this.handle(request, response));
    server.headersTimeout = LIMITS.headersTimeoutMs;
    server.requestTimeout = LIMITS.requestTimeoutMs;
    server.keepAliveTimeout = LIMITS.keepAliveTimeoutMs;
    server.maxConnections = LIMITS.maxConnections;
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host, port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (optional && (code === 'EADDRNOTAVAIL' || code === 'EAFNOSUPPORT')) return false;
      const why = code === 'EADDRINUSE' ? 'address already in use' : (error as Error).message;
      throw new MetricsListenError(
        `cannot serve metrics on ${formatAddress(host, port)}: ${why} (set gateway.metrics.port, or 0 to turn metrics off)`,
        { cause: error },
      );
    }
    server.on('error', (error) => this.options.logger.warn({ err: error }, 'metrics server error'));
    this.servers.push(server);
    this.listening.push(formatAddress(host, port));
    return true;
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== '/metrics') return plain(response, 404, 'Not found: metrics are served at /metrics\n');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return plain(response, 405, 'Method not allowed\n');
    }
    this.options.metrics.render().then(
      (body) => {
        response.writeHead(200, { 'Content-Type': this.options.metrics.contentType, 'Cache-Control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => {
        this.options.logger.warn({ err: error }, 'metrics collection failed');
        plain(response, 500, 'Metrics collection failed\n');
      },
    );
  }
}

function plain(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  response.end(body);
}

function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
