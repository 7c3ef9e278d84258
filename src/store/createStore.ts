import { usesRedis, type GatewayConfig } from '../config/types.js';
import { EmbeddedStore } from './embedded/EmbeddedStore.js';
import { RedisStore } from './redis/RedisStore.js';
import type { Store } from './types.js';

/** Redis when any Redis mode is configured, otherwise the embedded store (one replica). */
export function createStore(config: GatewayConfig, replicaId: string): Store {
  if (usesRedis(config.redis)) return new RedisStore(config.redis, `openclaw-store:${replicaId}`);
  return new EmbeddedStore(config.stateDir);
}
