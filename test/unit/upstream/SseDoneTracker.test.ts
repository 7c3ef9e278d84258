import { describe, expect, it } from 'vitest';
import { SseDoneTracker } from '../../../src/upstream/SseDoneTracker.js';

function tracked(...chunks: string[]): SseDoneTracker {
  const tracker = new SseDoneTracker();
  for (const chunk of chunks) tracker.observe(Buffer.from(chunk));
  return tracker;
}

describe('SseDoneTracker', () => {
  it('adds nothing when the stream already ends with data: [DONE]', () => {
    expect(tracked('data: {"a":1}\n\n', 'data: [DONE]\n\n').closingEvent()).toBe('');
    expect(tracked('data: {"a":1}\r\n\r\ndata: [DONE]\r\n\r\n').closingEvent()).toBe('');
    expect(tracked('data:[DONE]\n\n').closingEvent()).toBe('');
  });

  it('recognises [DONE] split across chunks', () => {
    expect(tracked('data: {"a":1}\n\ndata: [DO', 'NE]\n\n').sawDone).toBe(true);
  });

  it('finishes a [DONE] event that lacks its blank line', () => {
    expect(tracked('data: [DONE]').closingEvent()).toBe('\n\n');
    expect(tracked('data: [DONE]\n').closingEvent()).toBe('\n');
  });

  it('appends [DONE] after whatever event the stream is in', () => {
    expect(tracked().closingEvent()).toBe('data: [DONE]\n\n');
    expect(tracked('data: {"a":1}\n\n').closingEvent()).toBe('data: [DONE]\n\n');
    expect(tracked('data: {"a":1}\n').closingEvent()).toBe('\ndata: [DONE]\n\n');
    expect(tracked('data: {"a":1}').closingEvent()).toBe('\n\ndata: [DONE]\n\n');
  });

  it('does not take [DONE] inside content, or an earlier [DONE], as the end', () => {
    expect(tracked('data: {"content":"data: [DONE]"}\n\n').sawDone).toBe(false);
    expect(tracked('data: [DONE]\n\n', `data: {"late":"${'x'.repeat(100)}"}\n\n`).sawDone).toBe(false);
  });
});
