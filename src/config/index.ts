export { loadConfig, envBindings, readConfigFile } from './load.js';
export { displayValue, MASK, redactUrlPassword } from './redact.js';
export { isLoopbackBind } from './rules.js';
export { SENSITIVE_KEYS } from './schema.js';
export * from './types.js';
export { processEnvironment, clientSettings, DEFAULT_GATEWAY_URL, type ClientSettings } from './env.js';
