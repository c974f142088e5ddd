/**
 * Transports: the byte connections the client and the daemon run over.
 * TCP over IPv4 and IPv6, unix domain sockets, any readable/writable
 * stream pair, and an in-memory pair.
 *
 * @example Attach a client to an existing stream pair
 * ```ts
 * import { fromStreams } from "@tyro/tyro/transport";
 * import assert from "node:assert/strict";
 *
 * const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
 * const conn = fromStreams({ readable, writable });
 * assert.equal(typeof conn.read, "function");
 * conn.close();
 * ```
 *
 * @module
 */

export { fromStreams, writeAll } from "./types.ts";
export type { Connection, Listener, StreamPair } from "./types.ts";
export { memoryPair } from "./memory.ts";
export { connectSocket, listenSocket, locationOf } from "./socket.ts";
export type { ConnectOptions, SocketAddress } from "./socket.ts";
export {
  connectWebSocket,
  isWebSocketUpgrade,
  PYRO_WEBSOCKET_PROTOCOL,
  upgradeToConnection,
  websocketConnection,
} from "./websocket.ts";
export type {
  UpgradedConnection,
  UpgradeOptions,
  WebSocketConnectionOptions,
  WebSocketConnectOptions,
} from "./websocket.ts";
export {
  connectTls,
  listenTls,
  listenTlsFromConfig,
  tlsClientOptionsFromConfig,
  tlsConnector,
  tlsServerOptionsFromConfig,
} from "./tls.ts";
export type {
  PeerCertificate,
  TlsClientConfig,
  TlsConnection,
  TlsConnectOptions,
  TlsConnectorOptions,
  TlsListener,
  TlsServerConfig,
  TlsServerOptions,
  TlsTarget,
} from "./tls.ts";
