import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/types.js';
import { createRedisClient, isClientReady, type RedisClient } from '../store/redis/connection.js';
import { BusHandlers } from './handlers.js';
import { MAX_BUS_MESSAGE_BYTES, type BusEnvelope, type BusHandler, type BusTopic, type ClusterBus } from './types.js';

interface WireMessage extends BusEnvelope {
  /** Random per process, so a replica can drop its own echo even if two replicas share a replica id. */
  readonly sender: string;
}

/**
 * Redis pub/sub engine: one channel per key prefix, a publisher and a subscriber connection. Local
 * subscribers are served synchronously at publish; the broker's echo of our own messages is dropped.
 * Every reconnect of the subscriber fires the resync handlers, since messages may have been missed.
 */
export class RedisBus implements ClusterBus {
  readonly kind = 'redis' as const;
  private readonly handlers = new BusHandlers();
  private readonly sender = randomUUID();
  private readonly channel: string;
  private readonly publisher: RedisClient;
  private readonly subscriber: RedisClient;
  private subscribed = false;
  private everSubscribed = false;
  private subscribing: Promise<void> | undefined;
  private closed = false;

  constructor(
    settings: GatewayConfig['redis'],
    private readonly replicaId: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {
    this.channel = `${settings.keyPrefix}bus`;
    this.publisher = createRedisClient(settings, `openclaw-bus-pub:${replicaId}`);
    this.subscriber = createRedisClient(settings, `openclaw-bus-sub:${replicaId}`);
    for (const client of [this.publisher, this.subscriber]) client.on('error', () => {});
    this.subscriber.on('ready', () => void this.resubscribe());
    this.subscriber.on('close', () => (this.subscribed = false));
    this.subscriber.on('end', () => (this.subscribed = false));
    this.subscriber.on('message', (channel: string, message: string) => this.receive(channel, message));
  }

  async start(): Promise<void> {
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    await this.resubscribe();
  }

  async publish<T>(topic: BusTopic, payload: T): Promise<void> {
    const message: WireMessage = { topic, origin: this.replicaId, sender: this.sender, payload };
    const encoded = JSON.stringify(message);
    if (Buffer.byteLength(encoded) > MAX_BUS_MESSAGE_BYTES) throw new Error(`bus message on ${topic} is too large`);
    this.handlers.dispatch({ topic, origin: this.replicaId, payload }, this.onError);
    await this.publisher.publish(this.channel, encoded);
  }

  subscribe(topic: BusTopic, handler: BusHandler): () => void {
    return this.handlers.add(topic, handler);
  }

  onResync(handler: () => void): () => void {
    return this.handlers.addResync(handler);
  }

  isReady(): boolean {
    return !this.closed && this.subscribed && isClientReady(this.publisher) && isClientReady(this.subscriber);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([this.publisher.quit(), this.subscriber.quit()]);
    this.publisher.disconnect();
    this.subscriber.disconnect();
  }

  /** The 'ready' event and start() both get here at startup: one SUBSCRIBE, and no resync for it. */
  private resubscribe(): Promise<void> {
    this.subscribing ??= this.subscribeNow().finally(() => (this.subscribing = undefined));
    return this.subscribing;
  }

  private async subscribeNow(): Promise<void> {
    if (this.closed || this.subscribed) return;
    try {
      await this.subscriber.subscribe(this.channel);
    } catch (error) {
      this.onError(error);
      return;
    }
    this.subscribed = true;
    if (this.everSubscribed) this.handlers.fireResync(this.onError);
    this.everSubscribed = true;
  }

  private receive(channel: string, message: string): void {
    if (channel !== this.channel || message.length > MAX_BUS_MESSAGE_BYTES) return;
    let parsed: WireMessage;
    try {
      parsed = JSON.parse(message) as WireMessage;
    } catch (error) {
      this.onError(error);
      return;
    }
    if (parsed.sender === this.sender || typeof parsed.topic !== 'string' || typeof parsed.origin !== 'string') return;
    // Subscribers see the envelope only; the sender id is transport detail.
    this.handlers.dispatch({ topic: parsed.topic, origin: parsed.origin, payload: parsed.payload }, this.onError);
  }
}
