import type { IncomingMessage } from 'node:http';
import type { ClusterBus } from '../cluster/types.js';
import type { GatewayConfig, TailscaleMode } from '../config/types.js';
import { resolveClientAddress } from '../net/clientAddress.js';
import { TrustedProxies } from '../net/TrustedProxies.js';
import { rateLimitKey } from '../ratelimit/clientKey.js';
import { FailedAuthLimiter, retryAfterSeconds } from '../ratelimit/FailedAuthLimiter.js';
import type { Store } from '../store/types.js';
import type { GatewayMetrics } from '../telemetry/GatewayMetrics.js';
import type { Logger } from '../telemetry/logger.js';
import { addEvent, bindToActiveSpan, startUnderActiveSpan, traceAuth } from '../telemetry/spans.js';
import { buildAuthChain, runAuthChain, type ChainResult } from './authChain.js';
import { pathOf, secretFromHeaders } from './credentials.js';
import { DeviceTokenCache } from './DeviceTokenCache.js';
import { rememberedDigest, socketDigestMemo } from './socketDigestMemo.js';
import type { AuthContext, AuthOutcome, Authenticator, Transport } from './types.js';

export interface AuthServiceOptions {
  readonly chain: readonly Authenticator[];
  readonly trustedProxies: TrustedProxies;
  readonly limiter: FailedAuthLimiter;
  readonly deviceTokens: DeviceTokenCache;
  readonly logger: Logger;
  readonly tailscaleMode: TailscaleMode;
  readonly detach?: () => void;
  readonly metrics?: Pick<GatewayMetrics, 'authOutcome' | 'authRateLimited' | 'authBlocked'>;
}

export interface AuthServiceDependencies {
  readonly config: GatewayConfig;
  readonly info: { readonly replicaId: string };
  readonly store: Pick<Store, 'findDeviceByTokenHash'>;
  readonly bus: ClusterBus;
  readonly logger: Logger;
  readonly metrics?: GatewayMetrics;
}

export interface ContextOptions {
  /** WS connect params.auth.token; overrides the headers. */
  readonly secret?: string;
  /** Only device / token / password may answer (WS connect with params.auth.token). */
  readonly secretOnly?: boolean;
}

/**
 * Authentication for both transports: the local block list first (no I/O), then the chain, then — on the
 * failure path only — the shared failed-auth counter.
 */
export class AuthService {
  readonly trustedProxies: TrustedProxies;
  /** Pairing calls `deviceTokens.invalidate` (or publishes `device.invalidate`) after rotate / revoke. */
  readonly deviceTokens: DeviceTokenCache;
  readonly limiter: FailedAuthLimiter;
  private readonly chain: readonly Authenticator[];
  private readonly logger: Logger;
  private readonly tailscaleMode: TailscaleMode;
  private readonly detach: (() => void) | undefined;
  private readonly metrics: AuthServiceOptions['metrics'];
  private closing: Promise<void> | undefined;

  constructor(options: AuthServiceOptions) {
    this.chain = options.chain;
    this.trustedProxies = options.trustedProxies;
    this.limiter = options.limiter;
    this.deviceTokens = options.deviceTokens;
    this.logger = options.logger;
    this.tailscaleMode = options.tailscaleMode;
    this.detach = options.detach;
    this.metrics = options.metrics;
  }

  /** Builds the chain from the config, wires cache invalidation and cross-replica blocks to the bus. */
  static create({ config, info, store, bus, logger, metrics }: AuthServiceDependencies): AuthService {
    const deviceTokens = new DeviceTokenCache(store);
    const detach = deviceTokens.attach(bus);
    const limiter = FailedAuthLimiter.fromConfig(config, info.replicaId, bus, logger);
    limiter.start();
    return new AuthService({
      chain: buildAuthChain(config, deviceTokens),
      trustedProxies: new TrustedProxies(config.trustedProxies),
      limiter,
      deviceTokens,
      logger,
      tailscaleMode: config.tailscale.mode,
      detach,
      metrics,
    });
  }

  get methods(): string[] {
    return this.chain.map((authenticator) => authenticator.method);
  }

  contextFor(raw: IncomingMessage, transport: Transport, options?: ContextOptions): AuthContext {
    const address = resolveClientAddress(raw, this.trustedProxies);
    const secret = options?.secret ?? secretFromHeaders(raw.headers);
    const socketDigest = socketDigestMemo(raw.socket);
    return {
      transport,
      peerIp: address.peerIp,
      clientIp: address.clientIp,
      peerIsTrustedProxy: address.peerIsTrustedProxy,
      headers: raw.headers,
      secret,
      secretOnly: options?.secretOnly === true,
      path: pathOf(raw.url),
      secretDigestMemo: rememberedDigest(socketDigest, secret),
      socketDigest,
    };
  }

  /** Local and synchronous: the 429 outcome when the client's IP is blocked, else null. */
  blockedOutcome(context: AuthContext): AuthOutcome | null {
    const key = rateLimitKey(context.clientIp);
    const remainingMs = this.limiter.blockedForMs(key);
    if (remainingMs <= 0) return null;
    const seconds = retryAfterSeconds(remainingMs);
    if (this.limiter.blockList.claimRefusalLog(key)) {
      this.logger.warn(
        { clientIp: context.clientIp, path: context.path, transport: context.transport, retryAfterSeconds: seconds },
        'auth rate limited',
      );
    }
    this.metrics?.authRateLimited(context.transport);
    addEvent('openclaw.ratelimit.refused', { 'openclaw.ratelimit.retry_after_seconds': seconds });
    return { ok: false, type: 'rate_limited', retryAfterSeconds: seconds };
  }

  /** One decision, traced as the `auth` span and counted in openclaw_auth_attempts_total. */
  authenticate(context: AuthContext): Promise<AuthOutcome> {
    try {
      const outcome = this.authenticateNow(context);
      return outcome instanceof Promise ? outcome : Promise.resolve(outcome);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The same decision, answered synchronously when it needs no I/O — every success (bearer, password, a
   * cached device) and every refusal of a blocked client — so the HTTP hook pays no promise for them.
   * Only a store lookup or the failure path (the shared counter) returns a promise.
   */
  authenticateNow(context: AuthContext): AuthOutcome | Promise<AuthOutcome> {
    return traceAuth(context, () => {
      const outcome = this.decide(context);
      if (outcome instanceof Promise) return outcome.then((settled) => this.counted(settled));
      return this.counted(outcome);
    });
  }

  private counted(outcome: AuthOutcome): AuthOutcome {
    this.metrics?.authOutcome(outcome);
    return outcome;
  }

  private decide(context: AuthContext): AuthOutcome | Promise<AuthOutcome> {
    const blocked = this.blockedOutcome(context);
    if (blocked) return blocked;
    const result = runAuthChain(this.chain, context);
    // Bound: the refusal counts in Redis and adds its event under the auth span (the lane's scope has ended).
    if (result instanceof Promise) return result.then(bindToActiveSpan((settled: ChainResult) => this.conclude(context, settled)));
    return this.conclude(context, result);
  }

  private conclude(context: AuthContext, result: ChainResult): AuthOutcome | Promise<AuthOutcome> {
    if (result.kind === 'authenticated') return { ok: true, identity: result.identity };
    if (result.kind === 'unavailable') {
      this.logger.warn({ clientIp: context.clientIp, reason: result.reason, path: context.path, transport: context.transport }, 'auth unavailable');
      return { ok: false, type: 'unavailable', reason: 'Authentication is temporarily unavailable.' };
    }
    // Started under the auth span: its event and log come after an await (spans.ts startUnderActiveSpan).
    return startUnderActiveSpan(() => this.refuse(context, result.reason));
  }

  /** The failure path: counted in the shared limiter (Redis), logged, maybe blocked. */
  private async refuse(context: AuthContext, chainReason: string | undefined): Promise<AuthOutcome> {
    const reason = chainReason ?? this.failureReason(context);
    const key = rateLimitKey(context.clientIp);
    const verdict = await this.limiter.recordFailure(key);
    const failures = verdict.kind === 'counted' ? verdict.failures : undefined;
    addEvent('openclaw.ratelimit.failure', { 'openclaw.ratelimit.verdict': verdict.kind, ...(failures === undefined ? {} : { 'openclaw.ratelimit.failures': failures }) });
    this.logger.warn({ clientIp: context.clientIp, reason, path: context.path, transport: context.transport, failures }, 'auth failed');
    switch (verdict.kind) {
      case 'counted':
        if (verdict.blocked) {
          this.metrics?.authBlocked();
          this.limiter.blockList.claimRefusalLog(key);
          this.logger.warn(
            { clientIp: context.clientIp, path: context.path, transport: context.transport, failures, retryAfterSeconds: verdict.retryAfterSeconds },
            'auth rate limited',
          );
        }
        return { ok: false, type: 'unauthorized', reason };
      case 'over_limit':
        return this.blockedOutcome(context) ?? { ok: false, type: 'rate_limited', retryAfterSeconds: verdict.retryAfterSeconds };
      case 'unavailable':
        return { ok: false, type: 'unavailable', reason: 'Authentication is temporarily unavailable.' };
    }
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.detach?.();
      await this.limiter.close();
    })();
    return this.closing;
  }

  private failureReason(context: AuthContext): string {
    if (this.tailscaleMode === 'require') return 'tailscale identity required';
    return context.secret === undefined ? 'missing credentials' : 'invalid credentials';
  }
}
