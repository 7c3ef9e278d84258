import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { MAX_SSE_EVENT_CHARS, SseEventParser } from '../../../src/upstream/SseEventParser.js';

function parse(...chunks: string[]): string[] {
  const parser = new SseEventParser();
  return [...chunks.flatMap((chunk) => parser.push(Buffer.from(chunk))), ...parser.end()];
}

describe('SseEventParser', () => {
  it('yields the data of each event, across chunk boundaries and line-ending styles', () => {
    expect(parse('data: {"a":1}\n\nda', 'ta: {"b":2}\r\n\r', '\ndata: [DONE]\n\n')).toEqual(['{"a":1}', '{"b":2}', '[DONE]']);
  });

  it('joins multi-line data, skips comments and other fields, and flushes an unterminated event', () => {
    expect(parse(': keep-alive\n\nevent: x\ndata: one\ndata:two\nid: 3\n\ndata: tail')).toEqual(['one\ntwo', 'tail']);
  });

  it('keeps multi-byte characters split across chunks intact', () => {
    const bytes = Buffer.from('data: "héllo"\n\n');
    const parser = new SseEventParser();
    const events = [...parser.push(bytes.subarray(0, 9)), ...parser.push(bytes.subarray(9))];
    expect(events).toEqual(['"héllo"']);
  });

  it('refuses an oversized event instead of buffering it', () => {
    const parser = new SseEventParser();
    expect(() => parser.push(Buffer.from(`data: ${'x'.repeat(MAX_SSE_EVENT_CHARS + 1)}`))).toThrow(GatewayError);
  });
});
