import { RpcError } from './RpcError.js';
import type { RpcCallContext, RpcMethod } from './RpcMethod.js';

/** Names the session handles itself; no feature may register them. */
const RESERVED_METHODS = new Set(['connect']);

/**
 * The method registry and the one place where permissions are decided: pre-connect rule, the role
 * table of GATEWAY.md section 5 (from each method's `roles`), then the method's own `authorize`.
 */
export class RpcDispatcher {
  private readonly methods = new Map<string, RpcMethod>();

  constructor(methods: readonly RpcMethod[] = []) {
    this.register(methods);
  }

  register(methods: readonly RpcMethod[]): void {
    for (const method of methods) {
      if (RESERVED_METHODS.has(method.name)) throw new Error(`RPC method name ${method.name} is reserved`);
      if (this.methods.has(method.name)) throw new Error(`RPC method ${method.name} registered twice`);
      this.methods.set(method.name, method);
    }
  }

  names(): string[] {
    return [...this.methods.keys()];
  }

  /** Resolves the method a caller may run, or throws the RpcError that says why not. */
  authorize(name: string, params: unknown, call: RpcCallContext): RpcMethod {
    const method = this.methods.get(name);
    const { session } = call;
    if (!session.connected) {
      if (method?.beforeConnect) return method;
      throw RpcError.notConnected();
    }
    if (!method) throw RpcError.methodNotFound(name);
    if (!session.role || !method.roles.includes(session.role)) {
      throw RpcError.of('forbidden', `Role ${session.role ?? 'none'} may not call ${name}.`);
    }
    if (method.authorize && !method.authorize(params, call)) {
      throw RpcError.of('forbidden', `Not permitted to call ${name} with these params.`);
    }
    return method;
  }

  async dispatch(name: string, params: unknown, call: RpcCallContext): Promise<unknown> {
    return this.authorize(name, params, call).handle(params, call);
  }
}
