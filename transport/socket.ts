/**
 * TCP (IPv4 and IPv6) and unix domain socket transports on Deno's native
 * sockets. The only module of the library core that calls `Deno.*`
 * network APIs. Without a `Deno` global (Node.js), the same functions run
 * on `node:net` (`node_socket.ts`).
 *
 * @module
 */

import { CommunicationError, TimeoutError } from "../errors.ts";
import { connectNodeSocket, listenNodeSocket } from "./node_socket.ts";
import type { Connection, Listener } from "./types.ts";

/** Deno's native sockets are there (else node:net is used). */
const NATIVE = typeof (globalThis as { Deno?: { listen?: unknown } }).Deno?.listen === "function";

/** Where to connect or listen. */
export type SocketAddress =
  | { transport?: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** Options for {@linkcode connectSocket}. */
export interface ConnectOptions {
  /** Aborts the connect. */
  signal?: AbortSignal;
  /** Milliseconds before the connect fails with TimeoutError; 0 for none. */
  timeoutMs?: number;
}

/**
 * Connects to a TCP or unix socket address, with TCP_NODELAY on.
 *
 * @param addr The address.
 * @param options Abort signal and timeout.
 * @returns The connection.
 * @throws {CommunicationError} When the connection cannot be made.
 * @throws {TimeoutError} When the timeout passes first.
 */
export async function connectSocket(
  addr: SocketAddress,
  options: ConnectOptions = {},
): Promise<Connection> {
  if (!NATIVE) return connectNodeSocket(addr, options);
  const signals: AbortSignal[] = [];
  if (options.signal) signals.push(options.signal);
  if (options.timeoutMs && options.timeoutMs > 0) {
    signals.push(AbortSignal.timeout(options.timeoutMs));
  }
  const signal = signals.length ? AbortSignal.any(signals) : undefined;
  try {
    if (addr.transport === "unix") {
      return await Deno.connect(
        { transport: "unix", path: addr.path, signal } as Deno.UnixConnectOptions,
      );
    }
    const hostname = addr.hostname.startsWith("[") ? addr.hostname.slice(1, -1) : addr.hostname;
    const conn = await Deno.connect({ hostname, port: addr.port, signal });
    conn.setNoDelay(true);
    return conn;
  } catch (e) {
    const where = addr.transport === "unix" ? addr.path : `${addr.hostname}:${addr.port}`;
    if (options.signal?.aborted) throw options.signal.reason;
    if (signal?.aborted) {
      throw new TimeoutError(`timeout while connecting to ${where}`, { cause: e });
    }
    throw new CommunicationError(`cannot connect to ${where}: ${(e as Error).message}`, {
      cause: e,
    });
  }
}

/**
 * Listens on a TCP or unix socket address. Accepted TCP connections get
 * TCP_NODELAY.
 *
 * @param addr The address; port 0 picks a free port.
 * @returns The listener.
 */
export function listenSocket(addr: SocketAddress): Listener {
  if (!NATIVE) return listenNodeSocket(addr);
  if (addr.transport === "unix") {
    try {
      Deno.removeSync(addr.path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
    const l = Deno.listen({ transport: "unix", path: addr.path });
    return wrapListener(l, false);
  }
  const hostname = addr.hostname.startsWith("[") ? addr.hostname.slice(1, -1) : addr.hostname;
  return wrapListener(Deno.listen({ hostname, port: addr.port }), true);
}

function wrapListener(l: Deno.Listener, tcp: boolean): Listener {
  return {
    get addr() {
      return l.addr;
    },
    close() {
      try {
        l.close();
      } catch { /* closed */ }
    },
    async *[Symbol.asyncIterator](): AsyncIterator<Connection> {
      while (true) {
        let conn: Deno.Conn;
        try {
          conn = await l.accept();
        } catch (e) {
          if (e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted) return;
          // a failed accept (e.g. too many open files) must not end the loop
          await new Promise((r) => setTimeout(r, 10));
          continue;
        }
        if (tcp) {
          try {
            (conn as Deno.TcpConn).setNoDelay(true);
          } catch { /* closed already */ }
        }
        yield conn;
      }
    },
  };
}

/**
 * Formats a listener address as a Pyro location: `host:port`, `[::1]:port` or `./u:path`.
 *
 * @param addr A Deno address.
 * @returns The location text.
 */
export function locationOf(addr: unknown): string {
  const a = addr as { transport?: string; hostname?: string; port?: number; path?: string };
  if (a.transport === "unix") return "./u:" + a.path;
  const host = a.hostname ?? "localhost";
  return host.includes(":") ? `[${host}]:${a.port}` : `${host}:${a.port}`;
}
