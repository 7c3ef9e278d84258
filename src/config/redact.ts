import { SENSITIVE_KEYS } from './schema.js';

export const MASK = '********';

/** The value as `config get` and logs may show it: secrets masked, URL credentials removed. */
export function displayValue(key: string, value: unknown): unknown {
  if (SENSITIVE_KEYS.has(key)) return value === '' ? '' : MASK;
  if (typeof value === 'string') return redactUrlPassword(value);
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'string' ? redactUrlPassword(v) : v));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, displayValue(`${key}.${k}`, v)]));
  }
  return value;
}

export function redactUrlPassword(text: string): string {
  if (!/^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(text)) return text;
  try {
    const url = new URL(text);
    if (url.password) url.password = MASK;
    return url.toString();
  } catch {
    return text;
  }
}
