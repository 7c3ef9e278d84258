import { RpcError } from './RpcError.js';

/** The params object of a method taking named params; absent params count as {}. */
export function objectParams(params: unknown, name = 'params'): Record<string, unknown> {
  if (params === undefined) return {};
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw RpcError.invalidParams(`${name} must be an object`);
  }
  return params as Record<string, unknown>;
}

export function optionalBoolean(params: Record<string, unknown>, key: string): boolean | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw RpcError.invalidParams(`${key} must be a boolean`);
  return value;
}

export function optionalInteger(params: Record<string, unknown>, key: string, min: number, max: number): number | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw RpcError.invalidParams(`${key} must be an integer from ${min} to ${max}`);
  }
  return value;
}

export function optionalString(params: Record<string, unknown>, key: string, maxLength: number): string | undefined {
  const value = params[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length > maxLength) {
    throw RpcError.invalidParams(`${key} must be a string of at most ${maxLength} characters`);
  }
  return value;
}
