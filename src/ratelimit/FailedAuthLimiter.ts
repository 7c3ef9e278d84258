import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import type { ClusterBus } from '../cluster/types.js';
import { usesRedis, type GatewayConfig } from '../config/types.js';
import type { RedisClient } from '../store/redis/connection.js';
import type { Logger } from '../telemetry/logger.js';
import { BlockList } from './BlockList.js';
import { createLimiterRedisClient } from './redisClient.js';

export const BLOCKED_TOPIC = 'auth.blocked' as const;
const MAX_KEY_LENGTH = 64;

export interface BlockedMessage {
  readonly key: string;
  readonly untilMs: number;
}

export type FailureVerdict =
  /** Counted; `blocked` when this failure was the last one allowed in the window. */
  | { readonly kind: 'counted'; readonly failures: number; readonly blocked: boolean; readonly retryAfterSeconds: number }
  /** Over the limit already (another replica's block did not reach us, or a race). */
  | { readonly kind: 'over_limit'; readonly retryAfterSeconds: number }
  /** The shared counter is unreachable and gateway.auth.rateLimit.onStoreFailure is `deny`. */
  | { readonly kind: 'unavailable' };

export interface FailedAuthLimiterOptions {
  readonly maxFailures: number;
  readonly windowSeconds: number;
  /** Counts failures; rate-limiter-flexible's Redis engine (with or without insurance) or its memory engine. */
  readonly counter: RateLimiterAbstract;
  readonly bus: ClusterBus;
  readonly logger: Logger;
  readonly redisClient?: RedisClient;
  readonly blockList?: BlockList;
}

export function retryAfterSeconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}

/**
 * Failed authentications per client key, shared by all replicas through Redis. Only failures touch the
 * counter; every request consults the local block list, which the replica that counts the last allowed
 * failure fills on every replica through the cluster bus before it answers.
 */
export class FailedAuthLimiter {
  readonly maxFailures: number;
  readonly windowSeconds: number;
  readonly blockList: BlockList;
  private readonly counter: RateLimiterAbstract;
  private readonly bus: ClusterBus;
  private readonly logger: Logger;
  private readonly redisClient: RedisClient | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(options: FailedAuthLimiterOptions) {
    this.maxFailures = options.maxFailures;
    this.windowSeconds = options.windowSeconds;
    this.counter = options.counter;
    this.bus = options.bus;
    this.logger = options.logger;
    this.redisClient = options.redisClient;
    this.blockList = options.blockList ?? new BlockList();
  }

  /** RateLimiterRedis (own connection) when Redis is configured, RateLimiterMemory for the embedded store. */
  static fromConfig(config: GatewayConfig, replicaId: string, bus: ClusterBus, logger: Logger): FailedAuthLimiter {
    const { maxFailures, windowSeconds, onStoreFailure } = config.auth.rateLimit;
    const limits = { points: maxFailures, duration: windowSeconds };
    if (!usesRedis(config.redis)) {
      return new FailedAuthLimiter({ maxFailures, windowSeconds, bus, logger, counter: new RateLimiterMemory(limits) });
    }
    const redisClient = createLimiterRedisClient(config.redis, replicaId);
    const counter = new RateLimiterRedis({
      ...limits,
      storeClient: redisClient,
      keyPrefix: `${config.redis.keyPrefix}authfail`,
      rejectIfRedisNotReady: true,
      insuranceLimiter: onStoreFailure === 'local' ? new RateLimiterMemory(limits) : undefined,
    });
    return new FailedAuthLimiter({ maxFailures, windowSeconds, bus, logger, counter, redisClient });
  }

  /** Subscribes to blocks from other replicas and opens the Redis connection (in the background: a Redis that is down must not stop the gateway). */
  start(): void {
    this.unsubscribe ??= this.bus.subscribe(BLOCKED_TOPIC, ({ payload }) => this.acceptBlock(payload));
    if (this.redisClient?.status === 'wait') {
      this.redisClient.connect().catch((error: unknown) => this.logger.warn({ err: error }, 'rate limiter redis unreachable'));
    }
  }

  async close(): Promise<void> {
    this.unsubscribe?.();
    if (this.redisClient) {
      await this.redisClient.quit().catch(() => {});
      this.redisClient.disconnect();
    }
  }

  /** Local only, no I/O: milliseconds until the key may authenticate again (0 = not blocked). */
  blockedForMs(key: string): number {
    return this.blockList.remainingMs(key);
  }

  async recordFailure(key: string): Promise<FailureVerdict> {
    let result: RateLimiterRes;
    try {
      result = await this.counter.consume(key, 1);
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) {
        this.logger.warn({ err: error }, 'rate limiter store unavailable');
        return { kind: 'unavailable' };
      }
      await this.block(key, error.msBeforeNext);
      return { kind: 'over_limit', retryAfterSeconds: retryAfterSeconds(error.msBeforeNext) };
    }
    const blocked = result.consumedPoints >= this.maxFailures;
    if (blocked) await this.block(key, result.msBeforeNext);
    return { kind: 'counted', failures: result.consumedPoints, blocked, retryAfterSeconds: retryAfterSeconds(result.msBeforeNext) };
  }

  private async block(key: string, msBeforeNext: number): Promise<void> {
    const untilMs = Date.now() + Math.max(msBeforeNext, 1);
    this.blockList.block(key, untilMs);
    try {
      await this.bus.publish<BlockedMessage>(BLOCKED_TOPIC, { key, untilMs });
    } catch (error) {
      this.logger.warn({ err: error }, 'auth block not published');
    }
  }

  private acceptBlock(payload: unknown): void {
    const { key, untilMs } = (payload ?? {}) as Partial<BlockedMessage>;
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH) return;
    if (typeof untilMs !== 'number' || !Number.isFinite(untilMs)) return;
    // A block never outlives one window, whatever a (possibly skewed) peer says.
    this.blockList.block(key, Math.min(untilMs, Date.now() + this.windowSeconds * 1000));
  }
}
