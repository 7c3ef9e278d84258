// The WebSocket examples of AUTHENTICATION.md, byte for byte (tests substitute only the token).
// AUTHENTICATION.md, "WebSocket Authentication", byte for byte.
export const CONTROL_CONNECT_EXAMPLE = `{
  "jsonrpc": "2.0",
  "id": 1,
  "method": "connect",
  "params": {
    "role": "control",
    "auth": {
      "token": "your-token-here"
    },
    "client": {
      "name": "My Client",
      "version": "1.0.0"
    }
  }
}`;

// AUTHENTICATION.md, "Device Token Authentication", byte for byte but for the token itself.
export const NODE_CONNECT_EXAMPLE = `{
  "jsonrpc": "2.0",
  "id": 1,
  "method": "connect",
  "params": {
    "role": "node",
    "auth": {
      "token": "device-token-here"
    }
  }
}`;
