/**
 * The browser bundle's entry: the Tyro client plus the WebSocket transport.
 * `tests/browser_test.ts` bundles it with `deno bundle --platform=browser`.
 *
 * @module
 */

export { connect, controlOf, createProxy, getAttr, PyroProxy } from "../../client.ts";
export { connectWebSocket, PYRO_WEBSOCKET_PROTOCOL } from "../../transport/websocket.ts";
export { getRemoteTraceback, PyroError, RemoteError } from "../../errors.ts";
