import type { tracing } from '@opentelemetry/sdk-node';
import { ProtobufBuffer } from './ProtobufBuffer.js';
import { encodeResource, encodeScope, encodeScopeSpansEntry } from './encodeSpans.js';

type ReadableSpan = tracing.ReadableSpan;
type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

/** Bytes a scope's spans start with; a batch of the fast lane's spans (512 by default) grows to ≈ 128 KiB. */
const INITIAL_SCOPE_BYTES = 8 * 1024;

/**
 * Scope buffers of batches already assembled into their request, for the batches after them: a new buffer
 * for every batch cost a zeroed allocation and four grow-and-copy steps (8 → 128 KiB) an export, the
 * largest items of the encoder's profile. At most a few, none over 1 MiB (a one-off huge batch is not kept).
 */
const spareBuffers: ProtobufBuffer[] = [];
const MAX_SPARE_BUFFERS = 4;
const MAX_SPARE_BYTES = 1024 * 1024;

function scopeBuffer(): ProtobufBuffer {
  return spareBuffers.pop() ?? new ProtobufBuffer(INITIAL_SCOPE_BYTES);
}

function recycle(buffer: ProtobufBuffer): void {
  if (spareBuffers.length >= MAX_SPARE_BUFFERS || buffer.bytes.length > MAX_SPARE_BYTES) return;
  buffer.pos = 0;
  spareBuffers.push(buffer);
}

/**
 * Spans waiting for export, kept as their OTLP/protobuf bytes rather than as span objects: each is encoded
 * when it ends and then dropped, so finished spans die young instead of waiting for the export in the heap
 * (where V8 would soon allocate every span in old space). Grouped by resource and scope as the SDK's
 * serializer groups them, in the order they first appear, so the request is the one it would build.
 */
export class EncodedBatch {
  count = 0;
  private readonly byResource = new Map<Resource, Map<Scope, ProtobufBuffer>>();
  /** The request, once assembled: the scope buffers have gone back to the spares then. */
  private request: Uint8Array | undefined;

  add(span: ReadableSpan): void {
    if (this.request) throw new Error('EncodedBatch: a span added after the request was assembled');
    let byScope = this.byResource.get(span.resource);
    if (!byScope) {
      byScope = new Map();
      this.byResource.set(span.resource, byScope);
    }
    let spans = byScope.get(span.instrumentationScope);
    if (!spans) {
      spans = scopeBuffer();
      byScope.set(span.instrumentationScope, spans);
    }
    encodeScopeSpansEntry(spans, span);
    this.count += 1;
  }

  /** Resources whose asynchronous attributes (host.id, …) have not settled: the request must wait for them. */
  pendingResources(): Promise<void>[] {
    const pending: Promise<void>[] = [];
    for (const resource of this.byResource.keys()) {
      if (resource.asyncAttributesPending && resource.waitForAsyncAttributes) pending.push(resource.waitForAsyncAttributes());
    }
    return pending;
  }

  /** The ExportTraceServiceRequest message (assembled once; the same bytes if asked again). */
  encodeRequest(): Uint8Array {
    if (this.request) return this.request;
    let size = 1024;
    for (const byScope of this.byResource.values()) for (const spans of byScope.values()) size += spans.pos + 256;
    const out = new ProtobufBuffer(size);
    for (const [resource, byScope] of this.byResource) {
      out.tag(1, 2);
      const resourceAt = out.startLength();
      encodeResource(out, resource);
      for (const [scope, spans] of byScope) {
        out.tag(2, 2);
        const scopeAt = out.startLength();
        encodeScope(out, scope);
        out.raw(spans.finish());
        if (scope.schemaUrl) {
          out.tag(3, 2);
          out.string(scope.schemaUrl);
        }
        out.endLength(scopeAt);
      }
      if (resource.schemaUrl) {
        out.tag(3, 2);
        out.string(resource.schemaUrl);
      }
      out.endLength(resourceAt);
    }
    this.request = out.finish();
    for (const byScope of this.byResource.values()) for (const spans of byScope.values()) recycle(spans);
    this.byResource.clear();
    return this.request;
  }
}
