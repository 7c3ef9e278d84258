import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
  type KeyObject,
} from 'node:crypto';
import { secretDigest } from '../auth/SecretMatcher.js';

/**
 * Device tokens, claim secrets and the sealed envelope that carries a device token from the approving
 * replica to the holder of the claim secret.
 *
 * The approving replica does not know the claim secret (the store keeps only its hash), so the seal is
 * asymmetric: the claim secret deterministically derives an X25519 key pair whose public half is stored
 * with the pending request. Approval seals the token to that public key (ephemeral ECDH + HKDF-SHA256 +
 * AES-256-GCM); only someone presenting the claim secret can derive the private half and open it. The
 * store and Redis therefore never hold a usable token.
 */

const SECRET_BYTES = 32;
/** 32 bytes in unpadded base64url. */
const SECRET_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SEAL_VERSION = 'v1';
const SEAL_INFO = Buffer.from('openclaw pairing seal v1');
const CLAIM_KEY_SALT = Buffer.from('openclaw pairing claim key v1');
const IV_BYTES = 12;
const TAG_BYTES = 16;
// DER headers of an X25519 key (RFC 8410) in front of its 32 raw bytes.
const X25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');
const X25519_SPKI_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export class SealError extends Error {
  readonly code = 'ERR_PAIRING_SEAL';
}

/** A new device token: 32 random bytes, base64url (43 characters). */
export function generateDeviceToken(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** A new claim secret, handed only to the requester: 32 random bytes, base64url. */
export function generateClaimSecret(): string {
  return randomBytes(SECRET_BYTES).toString('base64url');
}

/** True for strings shaped like a token or claim secret we issued (cheap pre-check before hashing). */
export function isSecretShaped(value: unknown): value is string {
  return typeof value === 'string' && SECRET_PATTERN.test(value);
}

/**
 * SHA-256 (lowercase hex): what the store keeps instead of a token or claim secret. The same function
 * authentication looks a presented device token up with, so the two cannot drift apart.
 */
export const hashToken: (secret: string) => string = secretDigest;

/** Constant-time equality of two secrets or hashes of any length (compares their SHA-256 digests). */
export function secretsEqual(a: string, b: string): boolean {
  const digestA = createHash('sha256').update(a, 'utf8').digest();
  const digestB = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(digestA, digestB);
}

/** The public key (raw X25519, base64url) that tokens for this claim secret are sealed to. */
export function deriveClaimPublicKey(claimSecret: string): string {
  return rawPublicKey(createPublicKey(claimPrivateKey(claimSecret))).toString('base64url');
}

/**
 * Seals a device token to the claim public key of one pairing request. The request id is bound as
 * associated data, so a sealed token cannot be moved to another request.
 */
export function sealToken(token: string, publicKey: string, requestId: string): string {
  const recipient = publicKeyFromRaw(decodePart(publicKey, 'public key'));
  const ephemeral = generateKeyPairSync('x25519');
  const ephemeralPublic = rawPublicKey(ephemeral.publicKey);
  const key = sealKey(diffieHellman({ privateKey: ephemeral.privateKey, publicKey: recipient }), ephemeralPublic, recipient);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(requestId, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
  return [SEAL_VERSION, ephemeralPublic, iv, ciphertext, cipher.getAuthTag()]
    .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
    .join('.');
}

/** Opens a sealed token with the claim secret; throws SealError if anything was altered or the secret is wrong. */
export function unsealToken(sealed: string, claimSecret: string, requestId: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== SEAL_VERSION) throw new SealError('sealed token has an unknown format');
  const ephemeralPublic = decodePart(parts[1], 'ephemeral key');
  const iv = decodePart(parts[2], 'iv');
  const ciphertext = decodePart(parts[3], 'ciphertext');
  const tag = decodePart(parts[4], 'tag');
  if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) throw new SealError('sealed token has an unknown format');
  const privateKey = claimPrivateKey(claimSecret);
  const ephemeral = publicKeyFromRaw(ephemeralPublic);
  try {
    const key = sealKey(diffieHellman({ privateKey, publicKey: ephemeral }), ephemeralPublic, createPublicKey(privateKey));
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(Buffer.from(requestId, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(ciphertext), decipher.final()]).toString('utf8');
  } catch {
    throw new SealError('sealed token does not open with this claim secret');
  }
}

function claimPrivateKey(claimSecret: string): KeyObject {
  const raw = Buffer.from(hkdfSync('sha256', Buffer.from(claimSecret, 'utf8'), CLAIM_KEY_SALT, 'x25519', 32));
  return createPrivateKey({ key: Buffer.concat([X25519_PKCS8_PREFIX, raw]), format: 'der', type: 'pkcs8' });
}

function sealKey(sharedSecret: Buffer, ephemeralPublic: Buffer, recipient: KeyObject): Buffer {
  const salt = Buffer.concat([ephemeralPublic, rawPublicKey(recipient)]);
  return Buffer.from(hkdfSync('sha256', sharedSecret, salt, SEAL_INFO, 32));
}

function rawPublicKey(key: KeyObject): Buffer {
  return key.export({ format: 'der', type: 'spki' }).subarray(X25519_SPKI_PREFIX.length);
}

function publicKeyFromRaw(raw: Buffer): KeyObject {
  if (raw.length !== 32) throw new SealError('not an X25519 public key');
  try {
    return createPublicKey({ key: Buffer.concat([X25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    throw new SealError('not an X25519 public key');
  }
}

function decodePart(part: string | undefined, what: string): Buffer {
  if (part === undefined || !/^[A-Za-z0-9_-]*$/.test(part)) throw new SealError(`sealed token: bad ${what}`);
  return Buffer.from(part, 'base64url');
}
