import { statSync } from 'node:fs';
import { SENSITIVE_KEYS } from './schema.js';

const WORLD_READABLE = 0o004;

/**
 * The warning to print when the config file can be read by every user of the machine and holds a
 * secret; null otherwise. Names the file and the keys, never their values.
 */
export function fileSecretsWarning(file: string, contents: Record<string, unknown>): string | null {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    return null;
  }
  if ((mode & WORLD_READABLE) === 0) return null;
  const keys = secretKeysIn(contents);
  if (keys.length === 0) return null;
  return `config file ${file} is readable by every user and holds secrets (${keys.join(', ')}); restrict it: chmod 600 ${file}`;
}

function secretKeysIn(contents: Record<string, unknown>): string[] {
  const found = [...SENSITIVE_KEYS].filter((key) => isNonEmpty(valueAt(contents, key)));
  const redisUrl = valueAt(contents, 'gateway.redis.url');
  if (typeof redisUrl === 'string' && hasUrlPassword(redisUrl)) found.push('gateway.redis.url');
  return found;
}

function valueAt(contents: Record<string, unknown>, key: string): unknown {
  let node: unknown = contents;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return node;
}

function isNonEmpty(value: unknown): boolean {
  return value !== undefined && value !== null && String(value) !== '';
}

function hasUrlPassword(text: string): boolean {
  try {
    return new URL(text).password !== '';
  } catch {
    return false;
  }
}
