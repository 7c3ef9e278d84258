import { ROOT_CONTEXT, createContextKey, type Context } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { SyncScopeContextManager } from '../../../src/telemetry/SyncScopeContextManager.js';

const KEY = createContextKey('test key');
const withValue = (value: string): Context => ROOT_CONTEXT.setValue(KEY, value);
const valueIn = (manager: SyncScopeContextManager) => manager.active().getValue(KEY);
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SyncScopeContextManager', () => {
  it('makes the context active for the length of a synchronous scope, nested with() included, and no longer', () => {
    const manager = new SyncScopeContextManager().enable();
    const seen: unknown[] = [];
    manager.runSynchronously(withValue('request'), () => {
      seen.push(valueIn(manager));
      manager.with(withValue('auth'), () => seen.push(valueIn(manager)));
      seen.push(valueIn(manager));
      expect(() => manager.with(withValue('failing'), () => { throw new Error('boom'); })).toThrow('boom');
      seen.push(valueIn(manager));
    });
    seen.push(valueIn(manager));
    expect(seen).toEqual(['request', 'auth', 'request', 'request', undefined]);
    expect(manager.asyncLocalStorageUsed).toBe(false);
    manager.disable();
  });

  it('passes this and the arguments through, and restores the outer context when fn throws', () => {
    const manager = new SyncScopeContextManager().enable();
    const target = { factor: 3 };
    const product = manager.runSynchronously(withValue('x'), function (this: typeof target, a: number) { return this.factor * a; }, target, 7);
    expect(product).toBe(21);
    expect(() => manager.runSynchronously(withValue('x'), () => { throw new Error('boom'); })).toThrow('boom');
    expect(valueIn(manager)).toBeUndefined();
    manager.disable();
  });

  it('does not carry a scope across an await: that is what binding a continuation is for', async () => {
    const manager = new SyncScopeContextManager().enable();
    let unbound: unknown = 'not run';
    let bound: unknown = 'not run';
    let afterBoundAwait: unknown = 'not run';
    await manager.runSynchronously(withValue('request'), () => {
      const settled = Promise.resolve();
      const continuation = manager.bind(manager.active(), async () => {
        bound = valueIn(manager);
        await tick();
        afterBoundAwait = valueIn(manager);
      });
      return Promise.all([settled.then(() => (unbound = valueIn(manager))), settled.then(continuation)]);
    });
    expect(unbound).toBeUndefined();
    expect([bound, afterBoundAwait]).toEqual(['request', 'request']);
    expect(manager.asyncLocalStorageUsed).toBe(true);
    manager.disable();
  });

  it('runs work started from a scope in AsyncLocalStorage on request: it keeps the context across its awaits', async () => {
    const manager = new SyncScopeContextManager().enable();
    const lookup = manager.runSynchronously(withValue('request'), () =>
      manager.runInAsyncLocalStorage(manager.active(), async () => {
        await tick();
        return valueIn(manager);
      }),
    );
    expect(await lookup).toBe('request');
    manager.disable();
  });

  it('is AsyncLocalStorage outside a scope', async () => {
    const manager = new SyncScopeContextManager().enable();
    const later = await manager.with(withValue('route'), async () => {
      await tick();
      return valueIn(manager);
    });
    expect(later).toBe('route');
    expect(manager.asyncLocalStorageUsed).toBe(true);
    manager.disable();
  });

  it('attaches within a scope until the token is disposed', () => {
    const manager = new SyncScopeContextManager().enable();
    manager.runSynchronously(withValue('request'), () => {
      const token = manager.attach(withValue('attached'));
      expect(valueIn(manager)).toBe('attached');
      token.dispose();
      expect(valueIn(manager)).toBe('request');
    });
    expect(manager.asyncLocalStorageUsed).toBe(false);
    manager.disable();
  });
});
