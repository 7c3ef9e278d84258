import { usesRedis, type GatewayConfig } from '../config/types.js';
import { LocalBus } from './LocalBus.js';
import { RedisBus } from './RedisBus.js';
import type { ClusterBus } from './types.js';

export function createBus(config: GatewayConfig, replicaId: string, onError: (error: unknown) => void): ClusterBus {
  if (usesRedis(config.redis)) return new RedisBus(config.redis, replicaId, onError);
  return new LocalBus(replicaId, onError);
}
