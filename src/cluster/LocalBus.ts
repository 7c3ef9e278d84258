import { BusHandlers } from './handlers.js';
import type { BusHandler, BusTopic, ClusterBus } from './types.js';

/** The embedded engine: one replica, delivery in-process on the next tick. */
export class LocalBus implements ClusterBus {
  readonly kind = 'embedded' as const;
  private readonly handlers = new BusHandlers();

  constructor(
    private readonly replicaId: string,
    private readonly onError: (error: unknown) => void = () => {},
  ) {}

  async start(): Promise<void> {}

  async publish<T>(topic: BusTopic, payload: T): Promise<void> {
    this.handlers.dispatch({ topic, origin: this.replicaId, payload }, this.onError);
  }

  subscribe(topic: BusTopic, handler: BusHandler): () => void {
    return this.handlers.add(topic, handler);
  }

  onResync(handler: () => void): () => void {
    return this.handlers.addResync(handler);
  }

  isReady(): boolean {
    return true;
  }

  async close(): Promise<void> {}
}
