import { StringDecoder } from 'node:string_decoder';
import { GatewayError } from '../errors.js';

/** Largest single SSE event the gateway will hold while parsing (an upstream chunk is a few hundred bytes). */
export const MAX_SSE_EVENT_CHARS = 1024 * 1024;

/**
 * Turns SSE bytes into the `data` of each event (multi-line data joined with "\n"), for consumers that
 * need the chunks as objects (WebSocket `chat.delta`). Comments and other fields are skipped.
 */
export class SseEventParser {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private dataLines: string[] = [];
  private dataChars = 0;

  push(bytes: Uint8Array): string[] {
    this.pending += this.decoder.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    const events: string[] = [];
    let newline = this.pending.search(/\r\n|\r|\n/);
    // A trailing \r may be the first half of a \r\n split across chunks: wait for the next one.
    while (newline !== -1 && !(newline === this.pending.length - 1 && this.pending.endsWith('\r'))) {
      const line = this.pending.slice(0, newline);
      const breakLength = this.pending.startsWith('\r\n', newline) ? 2 : 1;
      this.pending = this.pending.slice(newline + breakLength);
      this.line(line, events);
      newline = this.pending.search(/\r\n|\r|\n/);
    }
    if (this.pending.length + this.dataChars > MAX_SSE_EVENT_CHARS) {
      throw new GatewayError('upstream_error', 'The upstream sent an oversized stream event.');
    }
    return events;
  }

  /** The event left when the stream ends without a final blank line. */
  end(): string[] {
    const events: string[] = [];
    const rest = this.pending + this.decoder.end();
    this.pending = '';
    for (const line of rest.split(/\r\n|\r|\n/)) if (line !== '') this.line(line, events);
    this.line('', events);
    return events;
  }

  private line(line: string, events: string[]): void {
    if (line === '') {
      if (this.dataLines.length > 0) events.push(this.dataLines.join('\n'));
      this.dataLines = [];
      this.dataChars = 0;
      return;
    }
    if (!line.startsWith('data:')) return;
    const value = line.startsWith('data: ') ? line.slice(6) : line.slice(5);
    this.dataChars += value.length;
    if (this.dataChars > MAX_SSE_EVENT_CHARS) throw new GatewayError('upstream_error', 'The upstream sent an oversized stream event.');
    this.dataLines.push(value);
  }
}
