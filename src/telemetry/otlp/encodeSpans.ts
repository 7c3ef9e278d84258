import type { Attributes, AttributeValue, HrTime, SpanContext } from '@opentelemetry/api';
import type { tracing } from '@opentelemetry/sdk-node';
import { EncodedEntryCache } from './EncodedEntryCache.js';
import type { ProtobufBuffer } from './ProtobufBuffer.js';

/**
 * OTLP/protobuf encoding of finished spans (opentelemetry/proto/trace/v1/trace.proto), field for field as
 * @opentelemetry/otlp-transformer's ProtobufTraceSerializer writes them: a span is encoded once, when it
 * ends, and an export request is assembled from those bytes (see EncodedBatch).
 */
type ReadableSpan = tracing.ReadableSpan;
type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

const LENGTH_DELIMITED = 2;
const VARINT = 0;
const FIXED64 = 1;
const FIXED32 = 5;

/** Span.flags: the W3C trace flags, and whether the parent is known to be remote and is. */
const FLAGS_HAS_IS_REMOTE = 0x100;
const FLAGS_IS_REMOTE = 0x200;

/** One `spans` entry of a ScopeSpans message: tag, length and the Span message. */
export function encodeScopeSpansEntry(out: ProtobufBuffer, span: ReadableSpan): void {
  out.tag(2, LENGTH_DELIMITED);
  const at = out.startLength();
  const context = span.spanContext();
  encodeIds(out, context);
  const parentSpanId = span.parentSpanContext?.spanId;
  if (parentSpanId) {
    out.tag(4, LENGTH_DELIMITED);
    out.hexBytes(parentSpanId);
  }
  encodeName(out, span.name, 5);
  // OTLP's SpanKind counts from SPAN_KIND_UNSPECIFIED = 0; the API's from INTERNAL = 0.
  const kind = span.kind == null ? 0 : span.kind + 1;
  if (kind !== 0) {
    out.tag(6, VARINT);
    out.varint(kind);
  }
  out.tag(7, FIXED64);
  hrTimeAsFixed64(out, span.startTime);
  out.tag(8, FIXED64);
  hrTimeAsFixed64(out, span.endTime);
  if (span.attributes) encodeAttributes(out, span.attributes, 9);
  out.tag(10, VARINT);
  out.varint(span.droppedAttributesCount);
  for (const event of span.events) {
    out.tag(11, LENGTH_DELIMITED);
    const eventAt = out.startLength();
    out.tag(1, FIXED64);
    hrTimeAsFixed64(out, event.time);
    encodeName(out, event.name, 2);
    if (event.attributes) encodeAttributes(out, event.attributes, 3);
    out.tag(4, VARINT);
    out.varint(event.droppedAttributesCount || 0);
    out.endLength(eventAt);
  }
  out.tag(12, VARINT);
  out.varint(span.droppedEventsCount);
  for (const link of span.links) {
    out.tag(13, LENGTH_DELIMITED);
    const linkAt = out.startLength();
    encodeLink(out, link.context, link.attributes, link.droppedAttributesCount);
    out.endLength(linkAt);
  }
  out.tag(14, VARINT);
  out.varint(span.droppedLinksCount);
  out.tag(15, LENGTH_DELIMITED);
  const statusAt = out.startLength();
  if (span.status.message) {
    out.tag(2, LENGTH_DELIMITED);
    out.string(span.status.message);
  }
  out.tag(3, VARINT);
  out.varint(span.status.code);
  out.endLength(statusAt);
  out.tag(16, FIXED32);
  out.fixed32(spanFlags(context.traceFlags, span.parentSpanContext?.isRemote));
  out.endLength(at);
}

function encodeLink(out: ProtobufBuffer, context: SpanContext, attributes: Attributes | undefined, dropped: number | undefined): void {
  encodeIds(out, context);
  if (attributes) encodeAttributes(out, attributes, 4);
  out.tag(5, VARINT);
  out.varint(dropped || 0);
  out.tag(6, FIXED32);
  out.fixed32(spanFlags(context.traceFlags, context.isRemote));
}

/** trace_id, span_id and trace_state: fields 1 to 3 of both Span and Span.Link. */
function encodeIds(out: ProtobufBuffer, context: SpanContext): void {
  out.tag(1, LENGTH_DELIMITED);
  out.hexBytes(context.traceId);
  out.tag(2, LENGTH_DELIMITED);
  out.hexBytes(context.spanId);
  const traceState = context.traceState?.serialize();
  if (traceState) {
    out.tag(3, LENGTH_DELIMITED);
    out.string(traceState);
  }
}

/** The `resource` field of a ResourceSpans message. */
export function encodeResource(out: ProtobufBuffer, resource: Resource): void {
  out.tag(1, LENGTH_DELIMITED);
  const at = out.startLength();
  if (resource.attributes) encodeAttributes(out, resource.attributes, 1);
  out.tag(2, VARINT);
  out.varint(0);
  out.endLength(at);
}

/** The `scope` field of a ScopeSpans message. */
export function encodeScope(out: ProtobufBuffer, scope: Scope): void {
  out.tag(1, LENGTH_DELIMITED);
  const at = out.startLength();
  out.tag(1, LENGTH_DELIMITED);
  out.string(scope.name);
  if (scope.version) {
    out.tag(2, LENGTH_DELIMITED);
    out.string(scope.version);
  }
  const { attributes, droppedAttributesCount } = scope as Scope & { attributes?: Attributes; droppedAttributesCount?: number };
  if (attributes) encodeAttributes(out, attributes, 3);
  if (droppedAttributesCount) {
    out.tag(4, VARINT);
    out.varint(droppedAttributesCount);
  }
  out.endLength(at);
}

function encodeAttributes(out: ProtobufBuffer, attributes: Attributes, field: number): void {
  const cache = KEPT_ATTRIBUTES.get(field);
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key)) continue;
    const value = attributes[key];
    const entry = cache?.get(key, value);
    if (entry) out.raw(entry);
    else encodeAttribute(out, field, key, value);
  }
}

function encodeAttribute(out: ProtobufBuffer, field: number, key: string, value: unknown): void {
  out.tag(field, LENGTH_DELIMITED);
  const at = out.startLength();
  encodeKeyValue(out, key, value);
  out.endLength(at);
}

function encodeName(out: ProtobufBuffer, name: string, field: number): void {
  const entry = NAMES.get(name, field);
  if (entry) return out.raw(entry);
  out.tag(field, LENGTH_DELIMITED);
  out.string(name);
}

/**
 * Kept encodings of attribute entries, by the field they are written under (an entry's bytes depend on the field,
 * key and value only): 9 a span's, 3 an event's (and a scope's, once a batch). Names likewise, keyed by the name
 * with the field as its value. Resource and link attributes are written once a batch or rarely: not kept.
 */
const KEPT_ATTRIBUTES = new Map([9, 3].map((field) => [field, new EncodedEntryCache((out, key, value) => encodeAttribute(out, field, key, value))]));
const NAMES = new EncodedEntryCache((out, name, field) => {
  out.tag(field as number, LENGTH_DELIMITED);
  out.string(name);
});

function encodeKeyValue(out: ProtobufBuffer, key: string, value: unknown): void {
  out.tag(1, LENGTH_DELIMITED);
  out.string(key);
  out.tag(2, LENGTH_DELIMITED);
  const at = out.startLength();
  encodeAnyValue(out, value);
  out.endLength(at);
}

const MIN_INT64 = -(2 ** 63);
const MAX_INT64 = 2 ** 63;

function encodeAnyValue(out: ProtobufBuffer, value: AttributeValue | unknown): void {
  if (typeof value === 'string') {
    out.tag(1, LENGTH_DELIMITED);
    out.string(value);
  } else if (typeof value === 'boolean') {
    out.tag(2, VARINT);
    out.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && value >= MIN_INT64 && value < MAX_INT64) {
      out.tag(3, VARINT);
      out.varint(value);
    } else {
      out.tag(4, FIXED64);
      out.double(value);
    }
  } else if (value instanceof Uint8Array) {
    out.tag(7, LENGTH_DELIMITED);
    out.byteArray(value);
  } else if (Array.isArray(value)) {
    out.tag(5, LENGTH_DELIMITED);
    const arrayAt = out.startLength();
    for (const item of value) {
      out.tag(1, LENGTH_DELIMITED);
      const itemAt = out.startLength();
      encodeAnyValue(out, item);
      out.endLength(itemAt);
    }
    out.endLength(arrayAt);
  } else if (typeof value === 'object' && value !== null) {
    out.tag(6, LENGTH_DELIMITED);
    const listAt = out.startLength();
    const entries = value as Record<string, unknown>;
    for (const key in entries) {
      if (!Object.prototype.hasOwnProperty.call(entries, key)) continue;
      out.tag(1, LENGTH_DELIMITED);
      const entryAt = out.startLength();
      encodeKeyValue(out, key, entries[key]);
      out.endLength(entryAt);
    }
    out.endLength(listAt);
  }
}

/** Nanoseconds since the epoch as fixed64, from [seconds, nanoseconds] without losing precision past 2^53. */
function hrTimeAsFixed64(out: ProtobufBuffer, [seconds, nanos]: HrTime): void {
  const NANOS = 1_000_000_000;
  const fromLower = (seconds & 0xffff) * NANOS;
  const fromUpper = ((seconds / 0x10000) >>> 0) * NANOS;
  const low = (fromLower >>> 0) + (((fromUpper & 0xffff) * 0x10000) >>> 0) + nanos;
  const high = Math.floor(fromLower / 0x100000000) + ((fromUpper / 0x10000) >>> 0) + Math.floor(low / 0x100000000);
  out.fixed64(low >>> 0, high >>> 0);
}

function spanFlags(traceFlags: number, isRemote: boolean | undefined): number {
  return (traceFlags & 0xff) | FLAGS_HAS_IS_REMOTE | (isRemote ? FLAGS_IS_REMOTE : 0);
}
