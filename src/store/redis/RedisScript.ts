import { createHash } from 'node:crypto';
import type { RedisClient } from './connection.js';

/**
 * A Lua script run by SHA (EVALSHA), loaded with EVAL the first time a server does not know it yet
 * (a fresh server, a restarted one, or another cluster node after a failover).
 */
export class RedisScript {
  private readonly sha1: string;

  constructor(
    readonly name: string,
    private readonly lua: string,
  ) {
    this.sha1 = createHash('sha1').update(lua).digest('hex');
  }

  async run(client: RedisClient, keys: readonly string[], args: ReadonlyArray<string | number>): Promise<unknown> {
    try {
      return await client.evalsha(this.sha1, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}
