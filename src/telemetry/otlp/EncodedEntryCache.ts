import { ProtobufBuffer } from './ProtobufBuffer.js';

/** The longest string (a key, a value, a name) whose encoding is kept. */
const MAX_CACHED_LENGTH = 64;
/** Keys (or names) a cache keeps entries for; later ones are encoded every time. */
const MAX_KEYS = 128;
/** Values a key keeps entries for; a key that shows more is taken as varying (a client's address) and no longer cached. */
const MAX_VALUES_PER_KEY = 16;

type CachedValue = string | number | boolean;

/**
 * Encoded protobuf entries of span attributes (and names), kept for the next span that holds the same ones: the
 * gateway's spans repeat the same keys with a handful of values (`http.route` `/v1/models`, `openclaw.auth.result`
 * `success`), and encoding them char by char was most of a recorded request's encoding (bench/README "Fourteenth
 * round"). An entry is made by the same encoder that writes an uncached one, so the bytes cannot differ.
 * Bounded: MAX_KEYS keys of at most MAX_VALUES_PER_KEY values each, none longer than MAX_CACHED_LENGTH; a key with
 * more values than that is marked varying and its entries dropped.
 */
export class EncodedEntryCache {
  /** Per key its values' entries, or null for a key whose values vary. */
  private readonly byKey = new Map<string, Map<CachedValue, Uint8Array> | null>();

  constructor(private readonly encode: (out: ProtobufBuffer, key: string, value: CachedValue) => void) {}

  /** The entry for key and value, made now if it may be kept; undefined when it is not kept (encode it in place). */
  get(key: string, value: unknown): Uint8Array | undefined {
    if (!isCachedValue(value)) return undefined;
    let entries = this.byKey.get(key);
    if (entries === undefined) {
      if (this.byKey.size >= MAX_KEYS || key.length > MAX_CACHED_LENGTH) return undefined;
      entries = new Map();
      this.byKey.set(key, entries);
    } else if (entries === null) {
      return undefined;
    }
    const entry = entries.get(value);
    if (entry !== undefined) return entry;
    if (entries.size >= MAX_VALUES_PER_KEY) {
      this.byKey.set(key, null);
      return undefined;
    }
    const out = new ProtobufBuffer(2 * MAX_CACHED_LENGTH + 32);
    this.encode(out, key, value);
    const made = out.finish().slice();
    entries.set(value, made);
    return made;
  }

  /** Keys held, and values held over all keys (for tests). */
  get size(): { keys: number; values: number } {
    let values = 0;
    for (const entries of this.byKey.values()) values += entries?.size ?? 0;
    return { keys: this.byKey.size, values };
  }
}

/** Short strings, integers that encode as a varint, booleans: what repeats. */
function isCachedValue(value: unknown): value is CachedValue {
  if (typeof value === 'string') return value.length <= MAX_CACHED_LENGTH;
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) <= 0x7fffffff;
  return typeof value === 'boolean';
}
