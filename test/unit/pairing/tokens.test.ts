import { describe, expect, it } from 'vitest';
import {
  SealError,
  deriveClaimPublicKey,
  generateClaimSecret,
  generateDeviceToken,
  hashToken,
  isSecretShaped,
  sealToken,
  secretsEqual,
  unsealToken,
} from '../../../src/pairing/tokens.js';

const REQUEST_ID = '4f7e1c9a-1d2b-4c3d-9e8f-0a1b2c3d4e5f';

function flipCharAt(text: string, index: number): string {
  const replacement = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + replacement + text.slice(index + 1);
}

describe('device tokens and claim secrets', () => {
  it('are 32 random bytes in base64url (43 characters), never repeated', () => {
    const tokens = new Set(Array.from({ length: 200 }, generateDeviceToken));
    expect(tokens.size).toBe(200);
    for (const token of tokens) {
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(Buffer.from(token, 'base64url')).toHaveLength(32);
      expect(isSecretShaped(token)).toBe(true);
    }
    expect(generateClaimSecret()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(isSecretShaped('short')).toBe(false);
    expect(isSecretShaped(42)).toBe(false);
  });

  it('hash as SHA-256 lowercase hex', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('compare in constant time by digest, any lengths', () => {
    expect(secretsEqual('same', 'same')).toBe(true);
    expect(secretsEqual('same', 'Same')).toBe(false);
    expect(secretsEqual('short', 'a much longer value')).toBe(false);
    expect(secretsEqual('', '')).toBe(true);
  });
});

describe('sealed token', () => {
  const claimSecret = generateClaimSecret();
  const publicKey = deriveClaimPublicKey(claimSecret);
  const token = generateDeviceToken();

  it('derives the same claim public key from the same secret, and different ones from different secrets', () => {
    expect(deriveClaimPublicKey(claimSecret)).toBe(publicKey);
    expect(Buffer.from(publicKey, 'base64url')).toHaveLength(32);
    expect(deriveClaimPublicKey(generateClaimSecret())).not.toBe(publicKey);
  });

  it('opens with the claim secret and the same request id', () => {
    const sealed = sealToken(token, publicKey, REQUEST_ID);
    expect(unsealToken(sealed, claimSecret, REQUEST_ID)).toBe(token);
  });

  it('never contains the token, and differs on every seal', () => {
    const first = sealToken(token, publicKey, REQUEST_ID);
    const second = sealToken(token, publicKey, REQUEST_ID);
    expect(first).not.toBe(second);
    expect(first).not.toContain(token);
    expect(Buffer.from(first.split('.')[3] ?? '', 'base64url').toString('utf8')).not.toContain(token);
  });

  it('does not open with another claim secret or the claim secret hash', () => {
    const sealed = sealToken(token, publicKey, REQUEST_ID);
    expect(() => unsealToken(sealed, generateClaimSecret(), REQUEST_ID)).toThrow(SealError);
    expect(() => unsealToken(sealed, hashToken(claimSecret), REQUEST_ID)).toThrow(SealError);
  });

  it('does not open for another request id', () => {
    const sealed = sealToken(token, publicKey, REQUEST_ID);
    expect(() => unsealToken(sealed, claimSecret, 'another-request')).toThrow(SealError);
  });

  it('refuses any tampered part', () => {
    const sealed = sealToken(token, publicKey, REQUEST_ID);
    const parts = sealed.split('.');
    expect(parts).toHaveLength(5);
    for (const index of [1, 2, 3, 4]) {
      const tampered = [...parts];
      tampered[index] = flipCharAt(parts[index] ?? '', 3);
      expect(() => unsealToken(tampered.join('.'), claimSecret, REQUEST_ID), `part ${index}`).toThrow(SealError);
    }
    expect(() => unsealToken(`v2.${parts.slice(1).join('.')}`, claimSecret, REQUEST_ID)).toThrow(SealError);
    expect(() => unsealToken(parts.slice(0, 4).join('.'), claimSecret, REQUEST_ID)).toThrow(SealError);
    expect(() => unsealToken('v1.!!.??.##.$$', claimSecret, REQUEST_ID)).toThrow(SealError);
    const lowOrderKey = [parts[0], Buffer.alloc(32).toString('base64url'), ...parts.slice(2)].join('.');
    expect(() => unsealToken(lowOrderKey, claimSecret, REQUEST_ID)).toThrow(SealError);
  });
});
