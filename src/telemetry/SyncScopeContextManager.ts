import { ROOT_CONTEXT, type Context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { LIGHT_ROOT } from './LightContext.js';
import type { SyncScopes } from './syncScopes.js';

/**
 * The SDK's AsyncLocalStorage context manager, plus synchronous scopes (runSynchronously): inside one, the
 * active context is a plain variable and with() swaps it, without touching AsyncLocalStorage.
 *
 * Why: on Node 20 the first AsyncLocalStorage.run() turns on an async hook that then runs for every async
 * resource the process makes (≈ 10 ticks and timers an HTTP request), traced or not, for as long as it
 * lives: ≈ 10 thousand instructions, ≈ 15 % of a fast-lane request (bench/README "Eighth round"). Node 24
 * has no hook. A fast-lane request is mostly answered before its handler returns, so its spans need a
 * context only while that call runs.
 *
 * The price: inside a scope, a promise or callback does not carry the context by itself. Code that may
 * continue after an await binds its continuation (spans.ts bindToActiveSpan), and the continuation then
 * runs in AsyncLocalStorage as usual; a bound function or a context.with() outside any scope is plain
 * AsyncLocalStorage.
 */
export class SyncScopeContextManager extends AsyncLocalStorageContextManager implements SyncScopes {
  private scoped: Context | undefined;
  private asyncUsed = false;

  /** With no context active: LIGHT_ROOT, so that the contexts made from it are not the API's BaseContext. */
  override active(): Context {
    const active = this.scoped ?? super.active();
    return active === ROOT_CONTEXT ? LIGHT_ROOT : active;
  }

  override with<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    if (this.scoped !== undefined) return this.runSynchronously(context, fn, thisArg, ...args);
    this.asyncUsed = true;
    return super.with(context, fn, thisArg, ...args);
  }

  /** Runs fn with `context` active until it returns, and only that long. */
  runSynchronously<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
    context: Context,
    fn: F,
    thisArg?: ThisParameterType<F>,
    ...args: A
  ): ReturnType<F> {
    const outer = this.scoped;
    this.scoped = context;
    try {
      return fn.apply(thisArg, args);
    } finally {
      this.scoped = outer;
    }
  }

  runInAsyncLocalStorage<T>(context: Context, fn: () => T): T {
    this.asyncUsed = true;
    return super.with(context, fn);
  }

  override attach(context: Context): { dispose(): void } {
    if (this.scoped === undefined) {
      this.asyncUsed = true;
      return super.attach(context);
    }
    const outer = this.scoped;
    this.scoped = context;
    // A token disposed after its scope ended must not bring the scope back.
    return { dispose: () => void (this.scoped === context && (this.scoped = outer)) };
  }

  /** Whether AsyncLocalStorage was entered yet (on Node 20: whether its async hook is on). */
  get asyncLocalStorageUsed(): boolean {
    return this.asyncUsed;
  }
}
