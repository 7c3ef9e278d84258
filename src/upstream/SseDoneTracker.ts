const TAIL_BYTES = 64;
const DONE_AT_END = /(?:^|\n)data: ?\[DONE\][ \t]*(?:\r?\n)*$/;

/**
 * Watches the bytes of a relayed SSE stream (without holding them) so the relay can tell whether the
 * upstream already ended with `data: [DONE]`, and how to append it cleanly when it did not.
 */
export class SseDoneTracker {
  private tail = '';

  observe(chunk: Uint8Array): void {
    const recent = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      .subarray(Math.max(0, chunk.byteLength - TAIL_BYTES))
      .toString('latin1');
    this.tail = (this.tail + recent).slice(-TAIL_BYTES);
  }

  get sawDone(): boolean {
    return DONE_AT_END.test(this.tail);
  }

  /** What to write so the stream ends with a `data: [DONE]` event (empty when it already does). */
  closingEvent(): string {
    // A [DONE] without its blank line is not dispatched by SSE parsers: finish the event.
    return this.sawDone ? this.eventSeparator() : `${this.eventSeparator()}data: [DONE]\n\n`;
  }

  /** The line breaks that end whatever event the stream is in the middle of (empty at an event boundary). */
  eventSeparator(): string {
    if (this.tail === '' || /\r?\n\r?\n$/.test(this.tail)) return '';
    return /\r?\n$/.test(this.tail) ? '\n' : '\n\n';
  }
}
