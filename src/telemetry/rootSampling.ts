import { diag, type Sampler } from '@opentelemetry/api';
import { tracing } from '@opentelemetry/sdk-node';
import type { RootSampling } from './spans.js';

/**
 * The sampler the SDK would build from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (same names, same
 * defaults, same complaints), built here so that the HTTP fast lane can ask it about a root request before
 * the SDK makes any span (see spans.ts startRequestSpan). Every one of these decides a root from its trace
 * id alone, so asking twice about the same id gives the same answer.
 */
export function samplerFromEnv(env: NodeJS.ProcessEnv): Sampler {
  const name = env.OTEL_TRACES_SAMPLER?.trim() || 'parentbased_always_on';
  const parentBased = (root: Sampler) => new tracing.ParentBasedSampler({ root });
  switch (name) {
    case 'always_on':
      return new tracing.AlwaysOnSampler();
    case 'always_off':
      return new tracing.AlwaysOffSampler();
    case 'parentbased_always_on':
      return parentBased(new tracing.AlwaysOnSampler());
    case 'parentbased_always_off':
      return parentBased(new tracing.AlwaysOffSampler());
    case 'traceidratio':
      return new tracing.TraceIdRatioBasedSampler(ratioFromEnv(env));
    case 'parentbased_traceidratio':
      return parentBased(new tracing.TraceIdRatioBasedSampler(ratioFromEnv(env)));
    default:
      diag.error(`unknown OTEL_TRACES_SAMPLER value "${name}", using default`);
      return parentBased(new tracing.AlwaysOnSampler());
  }
}

const DEFAULT_RATIO = 1;

function ratioFromEnv(env: NodeJS.ProcessEnv): number {
  const raw = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = raw ? Number(raw) : Number.NaN;
  if (Number.isNaN(ratio)) {
    diag.error(`OTEL_TRACES_SAMPLER_ARG is blank, defaulting to ${DEFAULT_RATIO}.`);
    return DEFAULT_RATIO;
  }
  if (ratio < 0 || ratio > 1) {
    diag.error(`OTEL_TRACES_SAMPLER_ARG=${ratio} was given, but it is out of range ([0..1]), defaulting to ${DEFAULT_RATIO}.`);
    return DEFAULT_RATIO;
  }
  return ratio;
}

/**
 * The SDK's random ids, with one trace id that can be handed in: the fast lane draws a root request's trace
 * id, asks the sampler, and only for a request it keeps has the SDK make the span, with that same id.
 */
export class PresetTraceIdGenerator implements tracing.IdGenerator {
  private readonly random = new tracing.RandomIdGenerator();
  private preset: string | undefined;

  generateTraceId(): string {
    const preset = this.preset;
    if (preset === undefined) return this.random.generateTraceId();
    this.preset = undefined;
    return preset;
  }

  generateSpanId(): string {
    return this.random.generateSpanId();
  }

  /** The trace id the next generateTraceId returns (undefined: a random one again). */
  useNext(traceId: string | undefined): void {
    this.preset = traceId;
  }
}

export function rootSamplingFromEnv(env: NodeJS.ProcessEnv): RootSampling & { readonly ids: PresetTraceIdGenerator } {
  return { sampler: samplerFromEnv(env), ids: new PresetTraceIdGenerator() };
}
