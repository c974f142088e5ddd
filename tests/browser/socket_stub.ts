/**
 * Stands in for transport/socket.ts in the browser bundle: a browser has no
 * TCP or unix sockets, so proxies there need a `connect` option
 * (`connectWebSocket`).
 *
 * @module
 */

import { CommunicationError } from "../../errors.ts";
import type { Connection } from "../../transport/types.ts";

/**
 * Refuses: no sockets in a browser.
 *
 * @returns Never.
 * @throws {CommunicationError} Always.
 */
export function connectSocket(): Promise<Connection> {
  return Promise.reject(
    new CommunicationError(
      "TCP and unix sockets are not available in a browser: give the proxy a connect option (connectWebSocket)",
    ),
  );
}

/**
 * Refuses: no listening sockets in a browser.
 *
 * @returns Never.
 * @throws {CommunicationError} Always.
 */
export function listenSocket(): never {
  throw new CommunicationError("listening sockets are not available in a browser");
}
