// PLACEHOLDER — being implemented (see issue 3); the Redis engine of the Store interface.
import type { GatewayConfig } from '../../config/types.js';
import { StoreUnavailableError, type Store } from '../types.js';
import { createRedisClient, isClientReady, type RedisClient } from './connection.js';

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly client: RedisClient;
  constructor(settings: GatewayConfig['redis'], connectionName: string) {
    this.client = createRedisClient(settings, connectionName);
    this.client.on('error', () => {});
  }
  isReady(): boolean { return isClientReady(this.client); }
  async start(): Promise<void> { await this.client.connect(); }
  async close(): Promise<void> { await this.client.quit().catch(() => {}); this.client.disconnect(); }
  private fail(): never { throw new StoreUnavailableError('not implemented'); }
  async saveDevice(): Promise<void> { this.fail(); }
  async getDevice(): Promise<null> { this.fail(); }
  async listDevices(): Promise<never[]> { this.fail(); }
  async findDeviceByTokenHash(): Promise<null> { this.fail(); }
  async replaceDeviceToken(): Promise<null> { this.fail(); }
  async deleteDevice(): Promise<null> { this.fail(); }
  async touchDevice(): Promise<void> { this.fail(); }
  async createPairingRequest(): Promise<'created'> { this.fail(); }
  async getPairingRequest(): Promise<null> { this.fail(); }
  async listPendingPairingRequests(): Promise<never[]> { this.fail(); }
  async resolvePairingRequest(): Promise<never> { this.fail(); }
  async claimPairingRequest(): Promise<never> { this.fail(); }
}
