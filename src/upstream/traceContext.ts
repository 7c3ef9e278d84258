import type { IncomingHttpHeaders } from 'node:http';

/** W3C Trace Context headers, the only client headers that travel upstream. */
export interface TraceContext {
  readonly traceparent?: string;
  readonly tracestate?: string;
}

const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
const MAX_TRACESTATE_CHARS = 512;

/** The caller's trace context when well formed (anything else is dropped, never forwarded). */
export function traceContextOf(headers: IncomingHttpHeaders): TraceContext {
  const traceparent = single(headers.traceparent)?.trim().toLowerCase();
  if (!traceparent || !TRACEPARENT.test(traceparent)) return {};
  const tracestate = single(headers.tracestate)?.trim();
  if (!tracestate || tracestate.length > MAX_TRACESTATE_CHARS) return { traceparent };
  return { traceparent, tracestate };
}

function single(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
