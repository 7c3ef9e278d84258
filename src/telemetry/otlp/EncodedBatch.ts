import type { tracing } from '@opentelemetry/sdk-node';
import { ProtobufBuffer } from './ProtobufBuffer.js';
import { encodeResource, encodeScope, encodeScopeSpansEntry } from './encodeSpans.js';

type ReadableSpan = tracing.ReadableSpan;
type Resource = ReadableSpan['resource'];
type Scope = ReadableSpan['instrumentationScope'];

/** Bytes a scope's spans start with; a batch of the fast lane's spans (512 by default) grows to ≈ 128 KiB. */
const INITIAL_SCOPE_BYTES = 8 * 1024;

/**
 * Spans waiting for export, kept as their OTLP/protobuf bytes rather than as span objects: each is encoded
 * when it ends and then dropped, so finished spans die young instead of waiting for the export in the heap
 * (where V8 would soon allocate every span in old space). Grouped by resource and scope as the SDK's
 * serializer groups them, in the order they first appear, so the request is the one it would build.
 */
export class EncodedBatch {
  count = 0;
  private readonly byResource = new Map<Resource, Map<Scope, ProtobufBuffer>>();

  add(span: ReadableSpan): void {
    let byScope = this.byResource.get(span.resource);
    if (!byScope) {
      byScope = new Map();
      this.byResource.set(span.resource, byScope);
    }
    let spans = byScope.get(span.instrumentationScope);
    if (!spans) {
      spans = new ProtobufBuffer(INITIAL_SCOPE_BYTES);
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

  /** The ExportTraceServiceRequest message. */
  encodeRequest(): Uint8Array {
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
    return out.finish();
  }
}
