import { context as otelContext, type Context } from '@opentelemetry/api';

/** What SyncScopeContextManager offers the code that runs requests (kept apart so that it loads with tracing off). */
export interface SyncScopes {
  runSynchronously<A extends unknown[], F extends (...args: A) => ReturnType<F>>(context: Context, fn: F, thisArg?: ThisParameterType<F>, ...args: A): ReturnType<F>;
  /** fn in AsyncLocalStorage, scope or not: what it starts keeps `context` across its awaits. */
  runInAsyncLocalStorage<T>(context: Context, fn: () => T): T;
}

let installed: SyncScopes | undefined;

/** The context manager the SDK was given (telemetry/tracing.ts); undefined when tracing is off. */
export function useSyncScopes(manager: SyncScopes | undefined): void {
  installed = manager;
}

/** fn in `context` for the length of the call: a synchronous scope when the gateway's manager is in use. */
export function runSynchronously<A extends unknown[], F extends (...args: A) => ReturnType<F>>(
  context: Context,
  fn: F,
  thisArg?: ThisParameterType<F>,
  ...args: A
): ReturnType<F> {
  if (installed) return installed.runSynchronously(context, fn, thisArg, ...args);
  return otelContext.with(context, fn, thisArg, ...args);
}

/** fn in `context` for the call and for whatever it continues after an await, even from a synchronous scope. */
export function runAcrossAwaits<T>(context: Context, fn: () => T): T {
  if (installed) return installed.runInAsyncLocalStorage(context, fn);
  return otelContext.with(context, fn);
}
