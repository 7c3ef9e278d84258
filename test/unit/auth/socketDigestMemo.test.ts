import { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { presentedDigest, secretDigest } from '../../../src/auth/SecretMatcher.js';
import { rememberedDigest, socketDigestMemo } from '../../../src/auth/socketDigestMemo.js';
import type { AuthContext } from '../../../src/auth/types.js';

const contextWith = (secret: string | undefined, socket: Socket): AuthContext => {
  const socketDigest = socketDigestMemo(socket);
  return {
    transport: 'http',
    peerIp: '127.0.0.1',
    clientIp: '127.0.0.1',
    peerIsTrustedProxy: false,
    headers: {},
    secret,
    secretDigestMemo: rememberedDigest(socketDigest, secret),
    socketDigest,
  };
};

describe('the per-connection digest of the presented secret', () => {
  it('is computed once while a connection presents the same secret, and again for another one', () => {
    const socket = new Socket();
    expect(socketDigestMemo(socket)).toBe(socketDigestMemo(socket));
    expect(socketDigestMemo(undefined)).toBeUndefined();

    const first = contextWith('device-token-one', socket);
    expect(first.secretDigestMemo).toBeUndefined();
    const digest = presentedDigest(first);
    expect(digest).toBe(secretDigest('device-token-one'));

    const again = contextWith('device-token-one', socket);
    expect(again.secretDigestMemo).toBe(digest);
    expect(presentedDigest(again)).toBe(digest);

    const other = contextWith('device-token-two', socket);
    expect(other.secretDigestMemo).toBeUndefined();
    expect(presentedDigest(other)).toBe(secretDigest('device-token-two'));
    expect(contextWith('device-token-one', socket).secretDigestMemo).toBeUndefined();
    expect(contextWith(undefined, socket).secretDigestMemo).toBeUndefined();
    expect(presentedDigest(contextWith(undefined, socket))).toBeUndefined();
  });

  it('is kept per connection', () => {
    const [one, two] = [new Socket(), new Socket()];
    presentedDigest(contextWith('shared-looking-token', one));
    expect(contextWith('shared-looking-token', one).secretDigestMemo).toBe(secretDigest('shared-looking-token'));
    expect(contextWith('shared-looking-token', two).secretDigestMemo).toBeUndefined();
  });
});
