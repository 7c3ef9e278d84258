/**
 * A growable protobuf output buffer, written the way @opentelemetry/otlp-transformer's ProtobufWriter writes
 * (same varints, same one-byte length reservation moved when a length needs more), so that what the gateway
 * sends is byte for byte what the SDK's OTLP/protobuf exporter would send. Unlike that writer it needs no
 * size-estimating first pass, and ids go from hex straight into the buffer.
 */
export class ProtobufBuffer {
  bytes: Uint8Array;
  pos = 0;

  constructor(initialSize = 4096) {
    this.bytes = new Uint8Array(initialSize);
  }

  /** The bytes written so far (a view, not a copy). */
  finish(): Uint8Array {
    return this.bytes.subarray(0, this.pos);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  /** Integers up to ±2^53, negative ones as 64-bit two's complement (ten bytes), as protobuf's int64. */
  varint(value: number): void {
    this.ensure(10);
    const bytes = this.bytes;
    if (value >= 0 && value <= 0xffffffff) {
      let v = value >>> 0;
      while (v > 0x7f) {
        bytes[this.pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      bytes[this.pos++] = v;
      return;
    }
    let [low, high] = splitInt64(value);
    while (high > 0 || low > 0x7f) {
      bytes[this.pos++] = (low & 0x7f) | 0x80;
      low = ((low >>> 7) | (high << 25)) >>> 0;
      high >>>= 7;
    }
    bytes[this.pos++] = low & 0x7f;
  }

  fixed32(value: number): void {
    this.ensure(4);
    this.le32(value >>> 0);
  }

  fixed64(low: number, high: number): void {
    this.ensure(8);
    this.le32(low >>> 0);
    this.le32(high >>> 0);
  }

  double(value: number): void {
    this.ensure(8);
    // Doubles are rare in span attributes: a view for each costs less than keeping one in step with `bytes`.
    new DataView(this.bytes.buffer, this.bytes.byteOffset).setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** UTF-8, copied char by char while it is ASCII (span names, keys and values nearly always are). */
  string(value: string): void {
    const length = value.length;
    const start = this.pos;
    this.varint(length);
    this.ensure(length);
    const bytes = this.bytes;
    let pos = this.pos;
    for (let i = 0; i < length; i++) {
      const code = value.charCodeAt(i);
      if (code > 127) {
        this.pos = start;
        return this.byteArray(ENCODER.encode(value));
      }
      bytes[pos++] = code;
    }
    this.pos = pos;
  }

  byteArray(value: Uint8Array): void {
    this.varint(value.length);
    this.ensure(value.length);
    this.bytes.set(value, this.pos);
    this.pos += value.length;
  }

  /** Bytes already encoded (a message's fields), with no tag or length. */
  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.bytes.set(value, this.pos);
    this.pos += value.length;
  }

  /** A trace or span id: its hex decoded into a length-delimited bytes field, with no array in between. */
  hexBytes(hex: string): void {
    const length = hex.length >>> 1;
    this.varint(length);
    this.ensure(length);
    const bytes = this.bytes;
    let pos = this.pos;
    for (let i = 0; i < length; i++) {
      bytes[pos++] = (hexValue(hex.charCodeAt(2 * i)) << 4) | hexValue(hex.charCodeAt(2 * i + 1));
    }
    this.pos = pos;
  }

  /** Reserves one byte for the length of what follows; returns where it is, for endLength. */
  startLength(): number {
    this.ensure(1);
    return this.pos++;
  }

  endLength(at: number): void {
    const length = this.pos - at - 1;
    const size = varintSize(length);
    if (size > 1) {
      this.ensure(size - 1);
      this.bytes.copyWithin(at + size, at + 1, this.pos);
      this.pos += size - 1;
    }
    let v = length;
    let p = at;
    while (v > 0x7f) {
      this.bytes[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    this.bytes[p] = v;
  }

  private le32(v: number): void {
    const bytes = this.bytes;
    bytes[this.pos++] = v & 0xff;
    bytes[this.pos++] = (v >>> 8) & 0xff;
    bytes[this.pos++] = (v >>> 16) & 0xff;
    bytes[this.pos++] = (v >>> 24) & 0xff;
  }

  private ensure(extra: number): void {
    const needed = this.pos + extra;
    if (needed <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < needed) size *= 2;
    const grown = new Uint8Array(size);
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
  }
}

const ENCODER = new TextEncoder();

/** The SDK's hexToBinary: 0-9, a-f, and anything else read as A-F (a table for the ASCII range). */
function hexValue(code: number): number {
  return code < 128 ? (HEX_VALUES[code] as number) : code - 55;
}

const HEX_VALUES = Int16Array.from({ length: 128 }, (_, code) => {
  if (code >= 48 && code <= 57) return code - 48;
  if (code >= 97 && code <= 102) return code - 87;
  return code - 55;
});

function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  return 5;
}

/** Low and high 32 bits of an integer as int64 (two's complement when negative). */
function splitInt64(value: number): [number, number] {
  const abs = Math.abs(value);
  let low = abs >>> 0;
  let high = (abs / 0x100000000) >>> 0;
  if (value < 0) {
    low = ~low >>> 0;
    high = ~high >>> 0;
    low = (low + 1) >>> 0;
    if (low === 0) high = (high + 1) >>> 0;
  }
  return [low, high];
}
