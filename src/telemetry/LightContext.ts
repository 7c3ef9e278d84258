import type { Context } from '@opentelemetry/api';

/**
 * A context that is its parent plus one value, in place of the API's BaseContext (a Map copied from its parent,
 * and three closures, for every value set). V8 pretenures BaseContext's allocation site: the contexts made at
 * start-up live long, so a request's contexts were allocated in the old generation, and the young spans they hold
 * survived every young-generation collection until a full one. With tracing at a 0.1 ratio a fast-lane gateway
 * promoted ≈ 25–65 KB a scavenge instead of ≈ 5, a gateway serving fastify's routes ≈ 130 KB, and their scavenges
 * took two to three times as long (bench/README "Eleventh round"). Setting a value adds a link; reading walks the
 * links to the root (a request's contexts are a few links deep); deleting a value links an undefined, which reads
 * as a deleted value reads from BaseContext.
 */
export class LightContext implements Context {
  constructor(
    private readonly parent: Context | undefined,
    private readonly key: symbol | undefined,
    private readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    return key === this.key ? this.value : this.parent?.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    return new LightContext(this, key, value);
  }

  deleteValue(key: symbol): Context {
    return this.getValue(key) === undefined ? this : new LightContext(this, key, undefined);
  }
}

/**
 * The empty context the gateway's context manager hands out when no other is active (telemetry/
 * SyncScopeContextManager.ts), and the gateway's spans start from: what ROOT_CONTEXT is, as a LightContext, so
 * that every context derived from it is one too.
 */
export const LIGHT_ROOT: Context = new LightContext(undefined, undefined, undefined);
