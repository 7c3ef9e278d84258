import type { BusEnvelope, BusHandler, BusTopic } from './types.js';

/** Topic → handlers table shared by both bus engines. */
export class BusHandlers {
  private readonly byTopic = new Map<BusTopic, Set<BusHandler>>();
  private readonly resync = new Set<() => void>();

  add(topic: BusTopic, handler: BusHandler): () => void {
    let set = this.byTopic.get(topic);
    if (!set) this.byTopic.set(topic, (set = new Set()));
    set.add(handler);
    return () => set.delete(handler);
  }

  addResync(handler: () => void): () => void {
    this.resync.add(handler);
    return () => this.resync.delete(handler);
  }

  dispatch(envelope: BusEnvelope, onError: (error: unknown) => void): void {
    for (const handler of this.byTopic.get(envelope.topic) ?? []) {
      try {
        handler(envelope);
      } catch (error) {
        onError(error);
      }
    }
  }

  fireResync(onError: (error: unknown) => void): void {
    for (const handler of this.resync) {
      try {
        handler();
      } catch (error) {
        onError(error);
      }
    }
  }
}
