import type { Store } from '../store/types.js';
import type { GatewayMetrics } from './GatewayMetrics.js';

/**
 * The same store, counting every rejected operation in openclaw_store_errors_total{operation}. The label is
 * the Store method name, so the set of values is the interface itself. Rejections still reach the caller.
 */
export function observeStoreErrors<T extends Store>(store: T, metrics: Pick<GatewayMetrics, 'storeError'>): T {
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      let observed = wrapped.get(property);
      if (!observed) {
        const method = value as (...args: unknown[]) => unknown;
        observed = (...args: unknown[]) => {
          const result = method.apply(target, args);
          if (isPromise(result)) {
            result.catch(() => metrics.storeError(property));
          }
          return result;
        };
        wrapped.set(property, observed);
      }
      return observed;
    },
  });
}

function isPromise(value: unknown): value is Promise<unknown> {
  return typeof (value as Promise<unknown> | null)?.then === 'function' && typeof (value as Promise<unknown>).catch === 'function';
}
