import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors.js';
import { upstreamChatBody, validateChatRequest } from '../../../src/upstream/chatRequest.js';

const messages = [{ role: 'user', content: 'Hello' }];

describe('validateChatRequest', () => {
  it('accepts an OpenAI body and keeps every field', () => {
    const body = { model: 'openclaw', messages, stream: true, temperature: 0.2, tools: [] };
    expect(validateChatRequest(body)).toBe(body);
  });

  it.each([
    [null],
    [[]],
    ['text'],
    [{ messages }],
    [{ model: '', messages }],
    [{ model: 7, messages }],
    [{ model: 'x'.repeat(257), messages }],
    [{ model: 'openclaw' }],
    [{ model: 'openclaw', messages: [] }],
    [{ model: 'openclaw', messages: {} }],
    [{ model: 'openclaw', messages: [null] }],
    [{ model: 'openclaw', messages: [{ content: 'x' }] }],
    [{ model: 'openclaw', messages: [{ role: '' }] }],
    [{ model: 'openclaw', messages, stream: 'true' }],
  ])('refuses %j with invalid_request', (body) => {
    const error = (() => {
      try {
        validateChatRequest(body);
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(GatewayError);
    expect((error as GatewayError).type).toBe('invalid_request');
  });
});

describe('upstreamChatBody', () => {
  it('replaces model openclaw by gateway.upstream.model when one is set', () => {
    expect(upstreamChatBody({ model: 'openclaw', messages }, 'llama-3').model).toBe('llama-3');
    expect(upstreamChatBody({ model: 'openclaw', messages }, '').model).toBe('openclaw');
    expect(upstreamChatBody({ model: 'gpt-x', messages }, 'llama-3').model).toBe('gpt-x');
  });
});
