import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { AuthMethod, AuthOutcome, Role, Transport } from '../auth/types.js';
import { RouteDurationHistogram } from './RouteDurationHistogram.js';
import { addEvent } from './spans.js';

export type AuthResult = 'success' | 'failure' | 'rate_limited' | 'unavailable';
/** What the session gauge needs to know of a WebSocket session: its role once `connect` succeeded. */
export interface RoleHolder {
  readonly role?: Role | undefined;
}

export type PairingOutcome = 'requested' | 'approved' | 'rejected' | 'claimed' | 'limited';

const ROLES: readonly Role[] = ['control', 'node', 'webchat'];
const TRANSPORTS: readonly Transport[] = ['http', 'ws'];
/** Seconds; the upstream chat route dominates the tail, the rest is sub-millisecond to a Redis round trip. */
const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

/**
 * The replica's Prometheus metrics, on a registry of its own (never prom-client's global one). Every label
 * value comes from a closed set — methods, roles, outcomes, route templates — never from a client IP, a
 * device id or a secret, so cardinality stays bounded.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly authAttempts: Counter<'method' | 'result'>;
  private readonly authRateLimitedRequests: Counter<'transport'>;
  private readonly authBlocks: Counter;
  private readonly wsSessions: Gauge<'role'>;
  private readonly pairingRequests: Counter<'outcome'>;
  private readonly httpDuration: RouteDurationHistogram;
  private readonly pendingAuthAttempts = new Map<AuthMethod | 'none', Map<AuthResult, number>>();
  private readonly pendingRateLimited: Record<Transport, number> = { http: 0, ws: 0 };
  private readonly storeErrors: Counter<'operation'>;
  private readonly busErrors: Counter;
  private wsSessionSource: (() => Iterable<RoleHolder>) | undefined;

  constructor(options: { version: string; defaultMetrics?: boolean }) {
    const registers = [this.registry];
    if (options.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: 'openclaw_build_info',
      help: 'Always 1; the version label says which build this replica runs.',
      labelNames: ['version'],
      registers,
    }).set({ version: options.version }, 1);
    const metrics = this;
    this.authAttempts = new Counter({
      name: 'openclaw_auth_attempts_total',
      help: 'Authentication decisions by method (none when no method succeeded) and result.',
      labelNames: ['method', 'result'],
      registers,
      collect() {
        metrics.flushAuthAttempts(this);
      },
    });
    this.authRateLimitedRequests = new Counter({
      name: 'openclaw_auth_rate_limited_total',
      help: 'Requests and WebSocket handshakes refused with 429 / rate_limited by the failed-auth limiter.',
      labelNames: ['transport'],
      registers,
      collect() {
        // The 429 path is what a flood gets: counted locally like auth attempts, added here.
        for (const transport of TRANSPORTS) {
          const count = metrics.pendingRateLimited[transport];
          if (count > 0) this.inc({ transport }, count);
          metrics.pendingRateLimited[transport] = 0;
        }
      },
    });
    this.authBlocks = new Counter({
      name: 'openclaw_auth_blocks_total',
      help: 'Client IPs (IPv6 by /64) this replica saw cross the failed-auth threshold.',
      registers,
    });
    this.wsSessions = new Gauge({
      name: 'openclaw_ws_sessions',
      help: 'Connected WebSocket sessions on this replica by role.',
      labelNames: ['role'],
      registers,
      collect() {
        metrics.countWsSessions(this);
      },
    });
    this.pairingRequests = new Counter({
      name: 'openclaw_pairing_requests_total',
      help: 'Device pairing requests by outcome.',
      labelNames: ['outcome'],
      registers,
    });
    this.httpDuration = new RouteDurationHistogram(
      'openclaw_http_request_duration_seconds',
      'HTTP request duration by route template and status class.',
      HTTP_DURATION_BUCKETS,
      registers,
    );
    this.storeErrors = new Counter({
      name: 'openclaw_store_errors_total',
      help: 'Failed store operations (Redis or embedded) by operation.',
      labelNames: ['operation'],
      registers,
    });
    this.busErrors = new Counter({
      name: 'openclaw_cluster_bus_errors_total',
      help: 'Cluster bus (Redis pub/sub) errors.',
      registers,
    });
    // Series a dashboard expects from the first scrape, before any traffic.
    for (const role of ROLES) this.wsSessions.set({ role }, 0);
    for (const transport of TRANSPORTS) this.authRateLimitedRequests.inc({ transport }, 0);
    this.authBlocks.inc(0);
    this.busErrors.inc(0);
  }

  /**
   * Counted locally and added to the counter when it is scraped: one decision per request is too hot a
   * path for prom-client's per-call label validation and hashing. Both label sets are closed.
   */
  authAttempt(method: AuthMethod | 'none', result: AuthResult): void {
    let byResult = this.pendingAuthAttempts.get(method);
    if (!byResult) {
      byResult = new Map();
      this.pendingAuthAttempts.set(method, byResult);
    }
    byResult.set(result, (byResult.get(result) ?? 0) + 1);
  }

  private flushAuthAttempts(counter: Counter<'method' | 'result'>): void {
    for (const [method, byResult] of this.pendingAuthAttempts) {
      for (const [result, count] of byResult) if (count > 0) counter.inc({ method, result }, count);
      byResult.clear();
    }
  }

  /** One authentication decision: the method on success, `none` otherwise. */
  authOutcome(outcome: AuthOutcome): void {
    if (outcome.ok) this.authAttempt(outcome.identity.method, 'success');
    else this.authAttempt('none', outcome.type === 'unauthorized' ? 'failure' : outcome.type);
  }

  authRateLimited(transport: Transport): void {
    this.pendingRateLimited[transport] += 1;
  }

  /** A client crossed the failed-auth threshold (counted once, by the replica that saw the crossing). */
  authBlocked(): void {
    this.authBlocks.inc();
  }

  /**
   * The session gauge is counted at scrape time from the replica's session registry (bounded by the
   * per-replica session cap), so it can never drift from missed open/close events.
   */
  observeWsSessions(source: () => Iterable<RoleHolder>): void {
    this.wsSessionSource = source;
  }

  /** Counts a pairing step and marks it on the current span (the `rpc node.pair.*` span) as an event. */
  pairingRequest(outcome: PairingOutcome): void {
    this.pairingRequests.inc({ outcome });
    addEvent(`openclaw.pairing.${outcome}`);
  }

  /** `route` must be a route template (fastify routeOptions.url) or `unknown`, never a raw URL. */
  httpRequest(route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe(route, statusCode, seconds);
  }

  storeError(operation: string): void {
    this.storeErrors.inc({ operation });
  }

  busError(): void {
    this.busErrors.inc();
  }

  private countWsSessions(gauge: Gauge<'role'>): void {
    if (!this.wsSessionSource) return;
    const counts = new Map<Role, number>(ROLES.map((role) => [role, 0]));
    for (const session of this.wsSessionSource()) {
      if (session.role) counts.set(session.role, (counts.get(session.role) ?? 0) + 1);
    }
    for (const [role, count] of counts) gauge.set({ role }, count);
  }

  /** The Prometheus text exposition of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
