import { statusReport } from '../../http/routes/status.js';
import type { RpcMethod } from '../rpc/RpcMethod.js';

/** `status`: the same report as GET /v1/status; every role may call it. */
export const statusMethod: RpcMethod = {
  name: 'status',
  roles: ['control', 'node', 'webchat'],
  handle: async (_params, { services }) => statusReport(services.info, services.readiness.notReadyReason() === null),
};
