import type { ServerResponse } from 'node:http';
import { errorBody, GatewayError } from '../errors.js';
import { SseDoneTracker } from './SseDoneTracker.js';
import type { UpstreamEventStream } from './UpstreamClient.js';

/** The slice of a pino / fastify logger the relay uses. */
export interface RelayLogger {
  warn(details: object, msg: string): void;
}

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
  // nginx-style ingresses would otherwise buffer the whole answer
  'x-accel-buffering': 'no',
} as const;

/**
 * Writes the upstream's SSE bytes to the client as they arrive (no re-chunking, backpressure respected) and
 * always finishes with `data: [DONE]`. A failure after the headers went out can only be told in-band: an
 * OpenAI-shaped `{"error":…}` event, which the OpenAI SDKs raise as an APIError.
 */
export async function relaySse(stream: UpstreamEventStream, response: ServerResponse, logger: RelayLogger): Promise<void> {
  response.writeHead(200, SSE_HEADERS);
  response.flushHeaders();
  const tracker = new SseDoneTracker();
  const write = async (chunk: Uint8Array | string) => {
    tracker.observe(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (!response.write(chunk)) await drained(response);
  };
  try {
    for await (const chunk of stream.chunks) {
      if (response.destroyed) break;
      await write(chunk);
    }
  } catch (error) {
    if (response.destroyed) return;
    const failure = error instanceof GatewayError ? error : new GatewayError('upstream_error', 'The upstream stream failed.');
    if (!(error instanceof GatewayError)) logger.warn({ err: error }, 'upstream stream failed');
    await write(`${tracker.eventSeparator()}data: ${JSON.stringify(errorBody(failure.type, failure.message))}\n\n`);
  }
  if (response.destroyed) return;
  response.end(tracker.closingEvent());
}

/** Resolves on 'drain', or on 'close' when the client went away while the socket was full. */
function drained(response: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
