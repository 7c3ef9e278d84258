import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const pkg = require('../package.json') as { name: string; version: string };

export const PRODUCT_NAME = 'openclaw-gateway';
export const VERSION: string = pkg.version;
