import { diag, type Sampler } from '@opentelemetry/api';
import { tracing } from '@opentelemetry/sdk-node';
import { envNumber, envString } from './otelEnv.js';
import type { RootSampling } from './spans.js';

/**
 * The sampler the SDK would build from OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG (same names, same
 * defaults, same complaints), built here so that the HTTP fast lane can decide a root request before the SDK
 * makes any span (see spans.ts startRequestSpan). With it, `keepsRoot`: the sampler's decision about a
 * request without a parent, from the four 32-bit words of its trace id. Every one of these samplers decides
 * a root from the trace id alone, so the SDK, asked again about the same id, agrees.
 */
export interface EnvSampler {
  readonly sampler: Sampler;
  readonly keepsRoot: (w0: number, w1: number, w2: number, w3: number) => boolean;
}

export function samplerFromEnv(env: NodeJS.ProcessEnv): EnvSampler {
  const name = envString(env, 'OTEL_TRACES_SAMPLER') ?? 'parentbased_always_on';
  const parentBased = ({ sampler, keepsRoot }: EnvSampler): EnvSampler => ({ sampler: new tracing.ParentBasedSampler({ root: sampler }), keepsRoot });
  switch (name) {
    case 'always_on':
      return ALWAYS_ON();
    case 'always_off':
      return ALWAYS_OFF();
    case 'parentbased_always_on':
      return parentBased(ALWAYS_ON());
    case 'parentbased_always_off':
      return parentBased(ALWAYS_OFF());
    case 'traceidratio':
      return traceIdRatio(ratioFromEnv(env));
    case 'parentbased_traceidratio':
      return parentBased(traceIdRatio(ratioFromEnv(env)));
    default:
      diag.error(`unknown OTEL_TRACES_SAMPLER value "${name}", using default`);
      return parentBased(ALWAYS_ON());
  }
}

const ALWAYS_ON = (): EnvSampler => ({ sampler: new tracing.AlwaysOnSampler(), keepsRoot: () => true });
const ALWAYS_OFF = (): EnvSampler => ({ sampler: new tracing.AlwaysOffSampler(), keepsRoot: () => false });

/** TraceIdRatioBasedSampler keeps an id when the XOR of its four 32-bit words is under ratio × 2^32. */
function traceIdRatio(ratio: number): EnvSampler {
  const upperBound = ratio >= 1 ? 0x100000000 : Math.floor(Math.max(ratio, 0) * 0xffffffff);
  return {
    sampler: new tracing.TraceIdRatioBasedSampler(ratio),
    keepsRoot: (w0, w1, w2, w3) => (w0 ^ w1 ^ w2 ^ w3) >>> 0 < upperBound,
  };
}

const DEFAULT_RATIO = 1;

function ratioFromEnv(env: NodeJS.ProcessEnv): number {
  const ratio = envNumber(env, 'OTEL_TRACES_SAMPLER_ARG');
  if (ratio === undefined || Number.isNaN(ratio)) {
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
 * Random ids as the SDK's generator makes them, with one trace id that can be handed in: the fast lane draws
 * a root request's trace id and only for a request the sampler keeps has the SDK make the span, with that
 * same id (when its spans are not LeanSpans).
 */
export class PresetTraceIdGenerator implements tracing.IdGenerator {
  private preset: string | undefined;

  generateTraceId(): string {
    const preset = this.preset;
    if (preset === undefined) return randomTraceId();
    this.preset = undefined;
    return preset;
  }

  /** As the SDK's RandomIdGenerator draws them (Math.random, 32 bits at a time, never all zero), hex from a table. */
  generateSpanId(): string {
    const high = random32();
    let low = random32();
    if ((high | low) === 0) low = 1;
    return hexOfSpanId(high, low);
  }

  /** The trace id the next generateTraceId returns (undefined: a random one again). */
  useNext(traceId: string | undefined): void {
    this.preset = traceId;
  }
}

/**
 * Draws root trace ids as the SDK's generator does (Math.random, 32 bits at a time, never all zero) and
 * decides them from the words: a dropped request costs four random numbers, no string, no span.
 */
export function rootSamplingFromEnv(env: NodeJS.ProcessEnv): RootSampling & { readonly sampler: Sampler; readonly ids: PresetTraceIdGenerator } {
  const { sampler, keepsRoot } = samplerFromEnv(env);
  return {
    sampler,
    ids: new PresetTraceIdGenerator(),
    drawRoot: () => drawTraceId(keepsRoot),
  };
}

const random32 = (): number => (Math.random() * 2 ** 32) >>> 0;

const keepAll = (): boolean => true;
const randomTraceId = (): string => drawTraceId(keepAll) as string;

/** A trace id's four words drawn (never all zero), and its hex when `keep` keeps them. */
function drawTraceId(keep: (w0: number, w1: number, w2: number, w3: number) => boolean): string | undefined {
  const w0 = random32();
  const w1 = random32();
  const w2 = random32();
  let w3 = random32();
  if ((w0 | w1 | w2 | w3) === 0) w3 = 1;
  return keep(w0, w1, w2, w3) ? hexOfTraceId(w0, w1, w2, w3) : undefined;
}

/*
 * Lowercase hex of 32-bit words, each big-endian, as one flat string from its char codes. `toString(16)` goes
 * through V8's generic radix conversion (≈ 0.4 µs a word); joining 8-char pieces with `+` makes a rope
 * (ConsString) that every read of the id walks, and the span encoder reads each id char by char: the ropes cost
 * ≈ 3 k instructions of a recorded lane request (bench/README "Fourteenth round").
 */
const hexOfSpanId = (w0: number, w1: number): string =>
  String.fromCharCode(
    hex(w0, 28), hex(w0, 24), hex(w0, 20), hex(w0, 16), hex(w0, 12), hex(w0, 8), hex(w0, 4), hex(w0, 0),
    hex(w1, 28), hex(w1, 24), hex(w1, 20), hex(w1, 16), hex(w1, 12), hex(w1, 8), hex(w1, 4), hex(w1, 0),
  );

const hexOfTraceId = (w0: number, w1: number, w2: number, w3: number): string =>
  String.fromCharCode(
    hex(w0, 28), hex(w0, 24), hex(w0, 20), hex(w0, 16), hex(w0, 12), hex(w0, 8), hex(w0, 4), hex(w0, 0),
    hex(w1, 28), hex(w1, 24), hex(w1, 20), hex(w1, 16), hex(w1, 12), hex(w1, 8), hex(w1, 4), hex(w1, 0),
    hex(w2, 28), hex(w2, 24), hex(w2, 20), hex(w2, 16), hex(w2, 12), hex(w2, 8), hex(w2, 4), hex(w2, 0),
    hex(w3, 28), hex(w3, 24), hex(w3, 20), hex(w3, 16), hex(w3, 12), hex(w3, 8), hex(w3, 4), hex(w3, 0),
  );

/** The char code of the hex digit of `word`'s four bits at `shift`. */
const hex = (word: number, shift: number): number => HEX_DIGITS[(word >>> shift) & 0xf] as number;
const HEX_DIGITS = Uint8Array.from('0123456789abcdef', (digit) => digit.charCodeAt(0));
