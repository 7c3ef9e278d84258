// Decodes an OTLP/protobuf ExportTraceServiceRequest into the shape of its JSON encoding (ids as hex),
// as far as the tests read it: resource attributes, scope name, span ids, name, kind, attributes, events
// and status. Unknown fields are skipped by wire type, as a real receiver would.
import type { OtlpAnyValue, OtlpKeyValue, OtlpSpan, OtlpTraces } from './otlpReceiver.js';

interface Field {
  readonly number: number;
  /** Varint and fixed values as bigint; length-delimited ones as bytes. */
  readonly value: bigint | Buffer;
}

function* fields(bytes: Buffer): Generator<Field> {
  let pos = 0;
  const varint = (): bigint => {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (pos >= bytes.length) throw new Error('protobuf: truncated varint');
      const byte = bytes[pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return result;
      shift += 7n;
    }
  };
  while (pos < bytes.length) {
    const key = Number(varint());
    const number = key >>> 3;
    switch (key & 7) {
      case 0:
        yield { number, value: varint() };
        break;
      case 1:
        yield { number, value: bytes.readBigUInt64LE(pos) };
        pos += 8;
        break;
      case 2: {
        const length = Number(varint());
        if (pos + length > bytes.length) throw new Error('protobuf: truncated field');
        yield { number, value: bytes.subarray(pos, pos + length) };
        pos += length;
        break;
      }
      case 5:
        yield { number, value: BigInt(bytes.readUInt32LE(pos)) };
        pos += 4;
        break;
      default:
        throw new Error(`protobuf: unsupported wire type ${key & 7}`);
    }
  }
}

const bytesOf = (field: Field): Buffer => field.value as Buffer;
const text = (field: Field): string => bytesOf(field).toString('utf8');
const int64 = (field: Field): number => Number(BigInt.asIntN(64, field.value as bigint));

function anyValue(bytes: Buffer): OtlpAnyValue {
  for (const field of fields(bytes)) {
    if (field.number === 1) return { stringValue: text(field) };
    if (field.number === 2) return { boolValue: field.value === 1n };
    if (field.number === 3) return { intValue: int64(field) };
    if (field.number === 4) {
      const raw = Buffer.alloc(8);
      raw.writeBigUInt64LE(field.value as bigint);
      return { doubleValue: raw.readDoubleLE() };
    }
    if (field.number === 5) return { arrayValue: { values: [...fields(bytesOf(field))].filter((f) => f.number === 1).map((f) => anyValue(bytesOf(f))) } };
  }
  return {};
}

function keyValue(bytes: Buffer): OtlpKeyValue {
  const result: OtlpKeyValue = { key: '' };
  for (const field of fields(bytes)) {
    if (field.number === 1) result.key = text(field);
    if (field.number === 2) result.value = anyValue(bytesOf(field));
  }
  return result;
}

function span(bytes: Buffer): OtlpSpan {
  const result: OtlpSpan = { traceId: '', spanId: '', name: '', attributes: [], events: [] };
  for (const field of fields(bytes)) {
    if (field.number === 1) result.traceId = bytesOf(field).toString('hex');
    else if (field.number === 2) result.spanId = bytesOf(field).toString('hex');
    else if (field.number === 4) result.parentSpanId = bytesOf(field).toString('hex');
    else if (field.number === 5) result.name = text(field);
    else if (field.number === 6) result.kind = Number(field.value);
    else if (field.number === 9) result.attributes!.push(keyValue(bytesOf(field)));
    else if (field.number === 11) {
      const event: { name: string; attributes: OtlpKeyValue[] } = { name: '', attributes: [] };
      for (const part of fields(bytesOf(field))) {
        if (part.number === 2) event.name = text(part);
        if (part.number === 3) event.attributes.push(keyValue(bytesOf(part)));
      }
      result.events!.push(event);
    } else if (field.number === 15) {
      const status: { code?: number; message?: string } = {};
      for (const part of fields(bytesOf(field))) {
        if (part.number === 2) status.message = text(part);
        if (part.number === 3) status.code = Number(part.value);
      }
      result.status = status;
    }
  }
  return result;
}

export function decodeOtlpTraces(body: Buffer): OtlpTraces {
  const traces: Required<OtlpTraces> = { resourceSpans: [] };
  for (const resourceField of fields(body)) {
    if (resourceField.number !== 1) continue;
    const resourceSpans: Required<OtlpTraces>['resourceSpans'][number] = { resource: { attributes: [] }, scopeSpans: [] };
    for (const field of fields(bytesOf(resourceField))) {
      if (field.number === 1) {
        for (const attribute of fields(bytesOf(field))) if (attribute.number === 1) resourceSpans.resource!.attributes!.push(keyValue(bytesOf(attribute)));
      } else if (field.number === 2) {
        const scopeSpans: { scope: { name?: string }; spans: OtlpSpan[] } = { scope: {}, spans: [] };
        for (const part of fields(bytesOf(field))) {
          if (part.number === 1) for (const scopeField of fields(bytesOf(part))) if (scopeField.number === 1) scopeSpans.scope.name = text(scopeField);
          if (part.number === 2) scopeSpans.spans.push(span(bytesOf(part)));
        }
        resourceSpans.scopeSpans!.push(scopeSpans);
      }
    }
    traces.resourceSpans.push(resourceSpans);
  }
  return traces;
}
