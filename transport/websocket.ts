/**
 * A WebSocket transport: Pyro5 wire messages carried in binary WebSocket
 * frames, so that the Tyro client runs in a browser. The client side
 * ({@linkcode connectWebSocket}) uses the standard `WebSocket` global and
 * works in browsers and Deno; the server side
 * ({@linkcode upgradeToConnection}) turns an HTTP upgrade request into a
 * {@linkcode Connection} that `daemon.handleConnection(conn)` serves.
 *
 * The bytes are the same as on a TCP socket: each `write` goes out as one
 * binary frame and the reader treats the frames as one byte stream, so
 * frame boundaries carry no meaning. The subprotocol is `pyro5`.
 *
 * @example Call a daemon from a browser page
 * ```ts ignore
 * import { connect } from "@tyro/tyro/client";
 * import { connectWebSocket } from "@tyro/tyro/transport";
 *
 * const echo = await connect("PYRO:test.echoserver@localhost:8080", {
 *   connect: (_uri, signal) => connectWebSocket("ws://localhost:8080/pyro/ws", { signal }),
 * });
 * console.log(await echo.echo("hi"));
 * ```
 *
 * @example Serve a daemon over WebSocket with Deno.serve
 * ```ts ignore
 * import { Daemon } from "@tyro/tyro/server";
 * import { upgradeToConnection } from "@tyro/tyro/transport";
 *
 * const daemon = new Daemon({ bind: false, location: "localhost:8080" });
 * Deno.serve({ port: 8080 }, (req, info) => {
 *   const remoteAddr = info.remoteAddr; // read it before upgrading
 *   const { response, conn } = upgradeToConnection(req, { remoteAddr });
 *   daemon.handleConnection(conn);
 *   return response;
 * });
 * ```
 *
 * @module
 */

import { CommunicationError, TimeoutError } from "../errors.ts";
import type { Connection } from "./types.ts";

export type { Connection };

/** The WebSocket subprotocol of Pyro wire messages. */
export const PYRO_WEBSOCKET_PROTOCOL = "pyro5";

/** Bytes queued in a socket's send buffer above which `write` waits. */
const HIGH_WATER_MARK = 4 * 1024 * 1024;

/** Options of {@linkcode connectWebSocket}. */
export interface WebSocketConnectOptions {
  /**
   * The subprotocols offered.
   *
   * @default {["pyro5"]}
   */
  protocols?: string | string[];
  /** Aborts connecting. */
  signal?: AbortSignal;
  /** Milliseconds before connecting fails with a TimeoutError; 0 for none. */
  timeoutMs?: number;
}

/** Options of {@linkcode websocketConnection}. */
export interface WebSocketConnectionOptions {
  /** The peer's address, shown as the connection's `remoteAddr`. */
  remoteAddr?: unknown;
  /** The local address, shown as the connection's `localAddr`. */
  localAddr?: unknown;
}

/**
 * Wraps a `WebSocket` (open or still connecting, client or server side) as
 * a {@linkcode Connection}. It sets `binaryType` to `"arraybuffer"`, sends
 * each `write` as one binary frame, and ends the stream (and closes the
 * socket with code 1003) when a text frame arrives.
 *
 * @param ws The socket.
 * @param options Addresses to report.
 * @returns The connection.
 *
 * @example Wrap a socket
 * ```ts ignore
 * import { websocketConnection } from "@tyro/tyro/transport";
 *
 * const conn = websocketConnection(new WebSocket("ws://localhost:8080/pyro/ws", "pyro5"));
 * ```
 */
export function websocketConnection(
  ws: WebSocket,
  options: WebSocketConnectionOptions = {},
): Connection {
  ws.binaryType = "arraybuffer";
  const chunks: Uint8Array[] = [];
  let head = 0;
  let ended = false;
  let closed = false;
  let waiter: (() => void) | null = null;
  let opened: Promise<void> | null = null;
  const wake = () => {
    const w = waiter;
    waiter = null;
    w?.();
  };
  const end = () => {
    ended = true;
    wake();
  };
  ws.addEventListener("message", (ev: MessageEvent) => {
    if (ended) return;
    const data = ev.data;
    if (data instanceof ArrayBuffer) {
      if (data.byteLength) chunks.push(new Uint8Array(data));
    } else {
      // text frames are not Pyro wire data
      try {
        ws.close(1003, "binary frames only");
      } catch { /* already closing */ }
      end();
      return;
    }
    wake();
  });
  ws.addEventListener("close", end);
  ws.addEventListener("error", end);
  if (ws.readyState >= WebSocket.CLOSING) ended = true;

  const whenOpen = (): Promise<void> => {
    if (ws.readyState === WebSocket.OPEN) return Promise.resolve();
    return opened ??= new Promise<void>((resolve, reject) => {
      if (ws.readyState !== WebSocket.CONNECTING) {
        return reject(new CommunicationError("WebSocket is closed"));
      }
      const onOpen = () => (cleanup(), resolve());
      const onFail = () => (cleanup(), reject(new CommunicationError("WebSocket is closed")));
      const cleanup = () => {
        ws.removeEventListener("open", onOpen);
        ws.removeEventListener("close", onFail);
        ws.removeEventListener("error", onFail);
      };
      ws.addEventListener("open", onOpen);
      ws.addEventListener("close", onFail);
      ws.addEventListener("error", onFail);
    });
  };

  return {
    localAddr: options.localAddr,
    remoteAddr: options.remoteAddr,
    async read(buffer: Uint8Array): Promise<number | null> {
      while (head >= chunks.length) {
        if (ended || closed) return null;
        await new Promise<void>((r) => waiter = r);
      }
      const chunk = chunks[head];
      const n = Math.min(buffer.length, chunk.length);
      buffer.set(n === chunk.length ? chunk : chunk.subarray(0, n));
      if (n === chunk.length) {
        chunks[head++] = EMPTY;
        if (head > 64 && head * 2 > chunks.length) {
          chunks.splice(0, head);
          head = 0;
        }
      } else {
        chunks[head] = chunk.subarray(n);
      }
      return n;
    },
    async write(data: Uint8Array): Promise<number> {
      if (closed) throw new CommunicationError("WebSocket connection is closed");
      if (ws.readyState !== WebSocket.OPEN) await whenOpen();
      if (closed || ws.readyState !== WebSocket.OPEN) {
        throw new CommunicationError("WebSocket connection is closed");
      }
      // A copy: the caller may reuse its buffer once the write resolves,
      // while the socket may still hold on to the bytes.
      ws.send(data.slice());
      while (ws.bufferedAmount > HIGH_WATER_MARK && ws.readyState === WebSocket.OPEN) {
        await new Promise((r) => setTimeout(r, 5));
      }
      return data.length;
    },
    close(): void {
      if (closed) return;
      closed = true;
      chunks.length = 0;
      head = 0;
      end();
      if (ws.readyState === WebSocket.OPEN) {
        try {
          ws.close(1000);
        } catch { /* already closing */ }
      } else if (ws.readyState === WebSocket.CONNECTING) {
        // Closing a socket that is still connecting is an error on some
        // platforms (Deno's server side); close it once it opens.
        ws.addEventListener("open", () => ws.close(1000), { once: true });
      }
    },
  };
}

const EMPTY = new Uint8Array(0);

/**
 * Opens a WebSocket to `url` offering the `pyro5` subprotocol, and returns
 * it as a {@linkcode Connection} once it is open. Works in browsers and in
 * Deno; pass it as a proxy's `connect` option.
 *
 * @param url The `ws:` or `wss:` URL.
 * @param options Subprotocols, abort signal and connect timeout.
 * @returns The open connection.
 * @throws {CommunicationError} When the socket cannot be opened.
 * @throws {TimeoutError} When `timeoutMs` passes first.
 *
 * @example Use it for a proxy
 * ```ts ignore
 * import { connect } from "@tyro/tyro/client";
 * import { connectWebSocket } from "@tyro/tyro/transport";
 *
 * const echo = await connect("PYRO:test.echoserver@localhost:8080", {
 *   connect: (_uri, signal) => connectWebSocket("ws://localhost:8080/pyro/ws", { signal }),
 * });
 * ```
 */
export function connectWebSocket(
  url: string | URL,
  options: WebSocketConnectOptions = {},
): Promise<Connection> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const protocols = options.protocols ?? [PYRO_WEBSOCKET_PROTOCOL];
  return new Promise<Connection>((resolve, reject) => {
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, protocols);
    } catch (e) {
      return reject(
        new CommunicationError(`cannot connect to ${url}: ${(e as Error).message}`, { cause: e }),
      );
    }
    const conn = websocketConnection(ws, { remoteAddr: String(url) });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      ws.removeEventListener("open", onOpen);
      ws.removeEventListener("close", onClose);
    };
    const fail = (err: unknown) => {
      cleanup();
      conn.close();
      reject(err);
    };
    const onAbort = () => fail(signal!.reason);
    const onOpen = () => {
      cleanup();
      resolve(conn);
    };
    const onClose = (ev: CloseEvent) =>
      fail(
        new CommunicationError(
          `cannot connect to ${url}: WebSocket closed (code ${ev.code}${
            ev.reason ? ", " + ev.reason : ""
          })`,
        ),
      );
    ws.addEventListener("open", onOpen);
    ws.addEventListener("close", onClose);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs && options.timeoutMs > 0) {
      timer = setTimeout(
        () => fail(new TimeoutError(`timeout while connecting to ${url}`)),
        options.timeoutMs,
      );
    }
  });
}

/**
 * Tells whether a request asks for a WebSocket upgrade.
 *
 * @param req The HTTP request.
 * @returns True for a `GET` with `Upgrade: websocket`.
 *
 * @example Check a request
 * ```ts
 * import { isWebSocketUpgrade } from "@tyro/tyro/transport";
 * import assert from "node:assert/strict";
 *
 * const req = new Request("http://localhost/pyro/ws", { headers: { upgrade: "websocket" } });
 * assert.ok(isWebSocketUpgrade(req));
 * ```
 */
export function isWebSocketUpgrade(req: Request): boolean {
  return req.method === "GET" &&
    (req.headers.get("upgrade") ?? "").toLowerCase().split(/\s*,\s*/).includes("websocket");
}

/** Options of {@linkcode upgradeToConnection}. */
export interface UpgradeOptions {
  /**
   * Refuse (HTTP 400) clients that do not offer the `pyro5` subprotocol.
   *
   * @default {false}
   */
  requireProtocol?: boolean;
  /** The peer's address, shown as the connection's `remoteAddr`. */
  remoteAddr?: unknown;
  /**
   * Seconds without a pong before Deno closes the socket (0 turns pings off).
   *
   * @default {Deno's default (30)}
   */
  idleTimeout?: number;
}

/** What {@linkcode upgradeToConnection} returns. */
export interface UpgradedConnection {
  /** The response to return from the HTTP handler (101 Switching Protocols). */
  response: Response;
  /** The connection; writes wait until the socket is open. */
  conn: Connection;
}

/**
 * Accepts a WebSocket upgrade request (Deno's `Deno.upgradeWebSocket`)
 * and returns the `101` response plus the socket as a
 * {@linkcode Connection}, ready for `daemon.handleConnection(conn)`. The
 * `pyro5` subprotocol is selected when the client offers it. Read
 * `info.remoteAddr` of `Deno.serve` before upgrading: Deno refuses it after.
 *
 * @param req The upgrade request.
 * @param options Protocol policy, remote address and ping timeout.
 * @returns The response and the connection.
 * @throws {TypeError} When the request is not a WebSocket upgrade, or the
 *   client does not offer `pyro5` while `requireProtocol` is set.
 *
 * @example Hand WebSocket clients to a daemon
 * ```ts ignore
 * import { Daemon } from "@tyro/tyro/server";
 * import { upgradeToConnection } from "@tyro/tyro/transport";
 *
 * const daemon = new Daemon({ bind: false, location: "localhost:8080" });
 * Deno.serve({ port: 8080 }, (req) => {
 *   const { response, conn } = upgradeToConnection(req);
 *   daemon.handleConnection(conn);
 *   return response;
 * });
 * ```
 */
export function upgradeToConnection(
  req: Request,
  options: UpgradeOptions = {},
): UpgradedConnection {
  if (!isWebSocketUpgrade(req)) {
    throw new TypeError("Cannot upgrade the request: it is not a WebSocket upgrade request");
  }
  const offered = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((p) => p.trim())
    .filter(Boolean);
  const hasPyro = offered.includes(PYRO_WEBSOCKET_PROTOCOL);
  if (!hasPyro && options.requireProtocol) {
    throw new TypeError(
      `Cannot upgrade the request: the client does not offer the subprotocol "${PYRO_WEBSOCKET_PROTOCOL}"`,
    );
  }
  const { socket, response } = Deno.upgradeWebSocket(req, {
    ...(hasPyro ? { protocol: PYRO_WEBSOCKET_PROTOCOL } : {}),
    ...(options.idleTimeout !== undefined ? { idleTimeout: options.idleTimeout } : {}),
  });
  return { response, conn: websocketConnection(socket, { remoteAddr: options.remoteAddr }) };
}
