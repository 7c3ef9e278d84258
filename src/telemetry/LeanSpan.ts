import {
  SpanStatusCode,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type HrTime,
  type Link,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanStatus,
  type TimeInput,
} from '@opentelemetry/api';
import type { tracing } from '@opentelemetry/sdk-node';

type ReadableSpan = tracing.ReadableSpan;
type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

/** What a lean span needs from the SDK it stands in for: the same resource, scope, processor and ids. */
export interface LeanSpanSetup {
  readonly resource: Resource;
  readonly scope: Scope;
  /** The span processor the SDK was given (telemetry/otlp EncodingSpanProcessor): it encodes the span at end(). */
  readonly processor: Pick<tracing.SpanProcessor, 'onEnd'>;
  readonly generateSpanId: () => string;
}

const NO_EVENTS: readonly tracing.TimedEvent[] = Object.freeze([]);
const NO_LINKS: readonly Link[] = Object.freeze([]);
const UNSET: SpanStatus = Object.freeze({ code: SpanStatusCode.UNSET });
const NANOS_PER_MILLI = 1_000_000;

/**
 * A span of the gateway's own hot path (the fast lane's SERVER span and its `auth` child), made without the
 * SDK's span machinery and handed to the same processor when it ends, as the SDK's span would be: same
 * fields, same times (a wall-clock start, an end measured from it on the monotonic clock), same rules for
 * status and exceptions, encoded to the same bytes. The SDK's span checks every attribute against the span
 * limits and sanitizes it, keeps three clocks and a metrics callback: ≈ half of what a recorded lane request
 * cost over an unrecorded one (bench/README "Tenth round"). Used only where the SDK would add nothing: the
 * default OTLP export and the default span limits (telemetry/tracing.ts).
 */
export class LeanSpan implements Span, ReadableSpan {
  readonly attributes: Attributes = {};
  events: tracing.TimedEvent[] = NO_EVENTS as tracing.TimedEvent[];
  readonly links: Link[] = NO_LINKS as Link[];
  status: SpanStatus = UNSET;
  readonly startTime: HrTime;
  endTime: HrTime = [0, 0];
  readonly droppedAttributesCount = 0;
  readonly droppedEventsCount = 0;
  readonly droppedLinksCount = 0;
  private readonly context: SpanContext;
  private readonly startedAt: number;
  private readonly startEpochMillis: number;
  private done = false;

  constructor(
    private readonly setup: LeanSpanSetup,
    public name: string,
    readonly kind: SpanKind,
    traceId: string,
    readonly parentSpanContext: SpanContext | undefined,
    attributes: Attributes,
  ) {
    this.context = { traceId, spanId: setup.generateSpanId(), traceFlags: TraceFlags.SAMPLED, traceState: parentSpanContext?.traceState };
    this.startEpochMillis = Date.now();
    this.startedAt = performance.now();
    this.startTime = millisToHrTime(this.startEpochMillis);
    this.setAttributes(attributes);
  }

  get resource(): Resource {
    return this.setup.resource;
  }

  get instrumentationScope(): Scope {
    return this.setup.scope;
  }

  get duration(): HrTime {
    if (!this.done) return [-1, -1];
    const nanos = this.endTime[1] - this.startTime[1];
    const seconds = this.endTime[0] - this.startTime[0];
    return nanos < 0 ? [seconds - 1, nanos + 1e9] : [seconds, nanos];
  }

  get ended(): boolean {
    return this.done;
  }

  /** A child of this span (same trace, same setup), for the work the hot path traces inside it. */
  child(name: string, kind: SpanKind, attributes: Attributes): LeanSpan {
    return new LeanSpan(this.setup, name, kind, this.context.traceId, this.context, attributes);
  }

  spanContext(): SpanContext {
    return this.context;
  }

  isRecording(): boolean {
    return !this.done;
  }

  /** Values come from the gateway's own code (methods, routes, addresses, outcomes), typed: no sanitizing. */
  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (value != null && key.length > 0 && !this.done) this.attributes[key] = value;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) if (Object.prototype.hasOwnProperty.call(attributes, key)) this.setAttribute(key, attributes[key]);
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.done) return this;
    let attributes: Attributes | undefined;
    if (isTimeInput(attributesOrTime)) time ??= attributesOrTime;
    else attributes = attributesOrTime;
    const kept: Attributes = {};
    for (const key in attributes) {
      if (Object.prototype.hasOwnProperty.call(attributes, key) && attributes[key] != null) kept[key] = attributes[key];
    }
    if (this.events === NO_EVENTS) this.events = [];
    this.events.push({ name, attributes: kept, time: this.timeOf(time), droppedAttributesCount: 0 });
    return this;
  }

  /** Links are set when a span starts; the hot path has none. */
  addLink(): this {
    return this;
  }

  addLinks(): this {
    return this;
  }

  /** The SDK's rules: UNSET changes nothing, OK is final, only ERROR keeps a (string) message. */
  setStatus(status: SpanStatus): this {
    if (this.done || status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    this.status = status.code === SpanStatusCode.ERROR && typeof status.message === 'string' ? { code: status.code, message: status.message } : { code: status.code };
    return this;
  }

  updateName(name: string): this {
    if (!this.done) this.name = name;
    return this;
  }

  /** The SDK's exception event: exception.type (code or name), exception.message, exception.stacktrace. */
  recordException(exception: unknown, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') attributes['exception.message'] = exception;
    else if (exception) {
      const { code, name, message, stack } = exception as { code?: { toString(): string }; name?: string; message?: string; stack?: string };
      if (code) attributes['exception.type'] = code.toString();
      else if (name) attributes['exception.type'] = name;
      if (message) attributes['exception.message'] = message;
      if (stack) attributes['exception.stacktrace'] = stack;
    }
    if (attributes['exception.type'] || attributes['exception.message']) this.addEvent('exception', attributes, time);
  }

  end(endTime?: TimeInput): void {
    if (this.done) return;
    this.endTime = this.timeOf(endTime);
    this.done = true;
    this.setup.processor.onEnd(this);
  }

  /** A time given as the API allows, or now: the start plus the monotonic time since, as the SDK measures it. */
  private timeOf(input: TimeInput | undefined): HrTime {
    if (input === undefined) return millisToHrTime(this.startEpochMillis, performance.now() - this.startedAt);
    if (typeof input === 'number') {
      // A performance.now() timestamp (the SDK tells them apart the same way), or epoch milliseconds.
      return input <= performance.now() ? millisToHrTime(this.startEpochMillis, input - this.startedAt) : millisToHrTime(input);
    }
    if (input instanceof Date) return millisToHrTime(input.getTime());
    return input;
  }
}

/**
 * [seconds, nanoseconds] of epoch milliseconds plus an offset, as the SDK's millisToHrTime and addHrTimes
 * compute them (each part rounded to whole nanoseconds, then carried). Written here rather than imported from
 * the SDK's core: spans.ts loads this module with tracing off too, where no SDK module is loaded
 * (telemetry/tracing.ts imports them on demand).
 */
function millisToHrTime(epochMillis: number, offsetMillis = 0): HrTime {
  const [seconds, nanos] = split(epochMillis);
  if (offsetMillis === 0) return [seconds, nanos];
  const [offsetSeconds, offsetNanos] = split(offsetMillis);
  const total = nanos + offsetNanos;
  return total >= 1e9 ? [seconds + offsetSeconds + 1, total - 1e9] : [seconds + offsetSeconds, total];
}

function split(millis: number): HrTime {
  const seconds = millis / 1000;
  const whole = Math.trunc(seconds);
  return [whole, Math.round((millis % 1000) * NANOS_PER_MILLI)];
}

function isTimeInput(value: unknown): value is TimeInput {
  return typeof value === 'number' || value instanceof Date || (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number');
}

/** The SDK's span limits (its Tracer's `_spanLimits`; defaults 128 and no length limit). */
interface SpanLimits {
  readonly attributeCountLimit?: number;
  readonly attributeValueLengthLimit?: number;
  readonly eventCountLimit?: number;
  readonly attributePerEventCountLimit?: number;
}

/** More than the hot path's spans ever hold (six attributes, a few events of at most three). */
const ROOM = 32;

/**
 * The setup for LeanSpans that stand in for the spans of `sdkTracer` (the SDK's tracer for the gateway's own
 * scope): its resource and scope objects, so that an export groups both kinds of span together as the SDK's
 * serializer groups its own. Undefined when a LeanSpan would not be the span the SDK makes: span limits set
 * low enough to cut one of its attributes or events (OTEL_SPAN_* / OTEL_ATTRIBUTE_*), or a tracer of another
 * shape than the pinned SDK's.
 */
export function leanSpanSetupFor(
  sdkTracer: unknown,
  processor: LeanSpanSetup['processor'],
  generateSpanId: () => string,
): LeanSpanSetup | undefined {
  const { instrumentationScope: scope, _resource: resource, _spanLimits: limits } = sdkTracer as {
    instrumentationScope?: Scope;
    _resource?: Resource;
    _spanLimits?: SpanLimits;
  };
  if (!scope || !resource || !limits) return undefined;
  if (limits.attributeValueLengthLimit !== Infinity) return undefined;
  const counts = [limits.attributeCountLimit, limits.eventCountLimit, limits.attributePerEventCountLimit];
  if (counts.some((limit) => limit === undefined || limit < ROOM)) return undefined;
  return { resource, scope, processor, generateSpanId };
}
