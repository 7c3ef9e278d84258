import { Agent, fetch as undiciFetch, type RequestInit } from 'undici';

const agents = new Map<string, Agent>();

/** fetch from a chosen loopback source address (127.0.0.2, 127.0.0.3, …) to emulate distinct clients. */
export function fetchFrom(localAddress: string, url: string, init: RequestInit = {}) {
  let agent = agents.get(localAddress);
  if (!agent) agents.set(localAddress, (agent = new Agent({ localAddress, keepAliveTimeout: 1_000 })));
  return undiciFetch(url, { ...init, dispatcher: agent });
}

export const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
