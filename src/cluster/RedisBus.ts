import { randomUUID } from 'node:crypto';
import type { GatewayConfig } from '../config/types.js';
import { createRedisClient, isClientReady, type RedisClient } from '../store/redis/connection.js';
import { BusHandlers } from './handlers.js';
import { MAX_BUS_MESSAGE_BYTES, type BusEnvelope, type BusHandler, type BusTopic, type ClusterBus } from './types.js';

/** Every replica publishes this often, so a lost message is noticed within one interval. */
export const BUS_HEARTBEAT_MS = 1_000;
/** No echo of our own heartbeat for this long: the subscription is silently dead (not ready). */
export const BUS_ECHO_STALE_MS = 5_000;
/** Senders whose sequence we follow; beyond that the least recently heard is forgotten. */
const MAX_TRACKED_SENDERS = 1_024;

interface WireMessage {
  /** Random per process, so a replica can drop its own echo even if two replicas share a replica id. */
  readonly sender: string;
  /** Per-sender sequence number: a gap means messages were lost, so caches must resync. */
  readonly seq?: number;
  /** Absent on heartbeats. */
  readonly topic?: BusTopic;
  readonly origin: string;
  readonly payload?: unknown;
}

/**
 * Redis pub/sub engine: one channel per key prefix, a publisher and a subscriber connection. Local
 * subscribers are served synchronously at publish; the broker's echo of our own messages is dropped.
 * Every reconnect of the subscriber fires the resync handlers, since messages may have been missed.
 *
 * A reconnect is not the only way to miss messages: Redis Cluster moves the subscription to another node
 * behind the client's back, and a silent network partition never closes the socket. So every message
 * carries a per-sender sequence number and every replica publishes a heartbeat each second: a gap in a
 * sender's sequence fires the resync handlers, and no echo of our own heartbeat for 5 s makes the bus
 * not ready (and fires them once the echo is back).
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
  private nextSeq = 1;
  private readonly lastSeqBySender = new Map<string, number>();
  private lastEchoAt = 0;
  private echoLost = false;
  private heartbeat: NodeJS.Timeout | undefined;

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
    this.heartbeat ??= setInterval(() => this.beat(), BUS_HEARTBEAT_MS).unref();
    await Promise.all([this.publisher.connect(), this.subscriber.connect()]);
    await this.resubscribe();
  }

  async publish<T>(topic: BusTopic, payload: T): Promise<void> {
    const message: WireMessage = { topic, origin: this.replicaId, sender: this.sender, seq: this.nextSeq, payload };
    const encoded = JSON.stringify(message);
    if (Buffer.byteLength(encoded) > MAX_BUS_MESSAGE_BYTES) throw new Error(`bus message on ${topic} is too large`);
    this.nextSeq++; // only for messages that go out: a refused one must not look like a lost one
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
    return (
      !this.closed && this.subscribed && !this.echoLost && isClientReady(this.publisher) && isClientReady(this.subscriber)
    );
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
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
    this.lastEchoAt = Date.now();
    this.echoLost = false;
    if (this.everSubscribed) this.resync();
    this.everSubscribed = true;
  }

  private resync(): void {
    this.lastSeqBySender.clear();
    this.handlers.fireResync(this.onError);
  }

  private beat(): void {
    if (this.closed || !this.subscribed) return;
    if (!this.echoLost && Date.now() - this.lastEchoAt > BUS_ECHO_STALE_MS) {
      this.echoLost = true;
      this.onError(new Error(`no echo of this replica's bus heartbeat for ${BUS_ECHO_STALE_MS} ms`));
    }
    const message: WireMessage = { origin: this.replicaId, sender: this.sender, seq: this.nextSeq++ };
    this.publisher.publish(this.channel, JSON.stringify(message)).catch(() => {});
  }

  /** Follows each sender's sequence; true when messages from it went missing since the last one. */
  private missedBefore(sender: string, seq: number | undefined): boolean {
    if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) return false;
    const last = this.lastSeqBySender.get(sender);
    this.lastSeqBySender.delete(sender);
    if (last !== undefined && seq <= last) {
      this.lastSeqBySender.set(sender, last); // late or duplicate (Cluster nodes do not order across each other)
      return false;
    }
    this.lastSeqBySender.set(sender, seq);
    if (this.lastSeqBySender.size > MAX_TRACKED_SENDERS) {
      const oldest = this.lastSeqBySender.keys().next();
      if (!oldest.done) this.lastSeqBySender.delete(oldest.value);
    }
    return last !== undefined && seq > last + 1;
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
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.sender !== 'string') return;
    if (this.missedBefore(parsed.sender, parsed.seq)) this.resync();
    if (parsed.sender === this.sender) {
      this.lastEchoAt = Date.now();
      if (this.echoLost) {
        this.echoLost = false;
        this.resync();
      }
      return;
    }
    if (typeof parsed.topic !== 'string' || typeof parsed.origin !== 'string') return;
    // Subscribers see the envelope only; the sender id is transport detail.
    this.handlers.dispatch({ topic: parsed.topic, origin: parsed.origin, payload: parsed.payload }, this.onError);
  }
}
