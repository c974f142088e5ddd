/**
 * TCP (IPv4 and IPv6) and unix domain socket transports on `node:net`, for
 * runtimes without Deno's native sockets (Node.js). {@linkcode connectSocket}
 * and {@linkcode listenSocket} in `socket.ts` dispatch here when there is no
 * `Deno` global; the connections and listeners have the same shapes as the
 * Deno ones.
 *
 * A daemon binds its socket in its constructor, so {@linkcode listenNodeSocket}
 * binds synchronously: an IP literal or `localhost` is bound at once through
 * Node's TCP handle (the same handle `net.Server` makes itself), with the real
 * error (`EADDRINUSE`, `EADDRNOTAVAIL`, ...) thrown right away. Other host
 * names are resolved with `getent ahosts` (the system resolver, as
 * `Deno.listen` uses it).
 *
 * @module
 */

import { execFileSync } from "node:child_process";
import { accessSync, constants as fsConstants, unlinkSync } from "node:fs";
import net from "node:net";
import { dirname } from "node:path";
import process from "node:process";
import { getSystemErrorName } from "node:util";
import { CommunicationError, TimeoutError } from "../errors.ts";
import type { ConnectOptions, SocketAddress } from "./socket.ts";
import type { Connection, Listener } from "./types.ts";

/** Unread bytes above which the socket is paused (TCP flow control takes over). */
const HIGH_WATER = 1024 * 1024;

/** A socket's address, in Deno's shape. */
type Addr =
  | { transport: "tcp"; hostname: string; port: number }
  | { transport: "unix"; path: string };

/** A {@linkcode Connection} on a `net.Socket`. */
class NodeSocketConnection implements Connection {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  readonly #socket: net.Socket;
  /** Unread chunks; `#chunks[0]` is read from `#offset`. */
  #chunks: Uint8Array[] = [];
  #offset = 0;
  #buffered = 0;
  #paused = false;
  #ended = false;
  #closed = false;
  #error: Error | null = null;
  // the pending read (at most one)
  #buffer: Uint8Array | null = null;
  #resolve: ((n: number | null) => void) | null = null;
  #reject: ((e: Error) => void) | null = null;

  constructor(socket: net.Socket, unixPath: string | null) {
    this.#socket = socket;
    if (unixPath !== null) {
      this.localAddr = { transport: "unix", path: unixPath };
      this.remoteAddr = { transport: "unix", path: unixPath };
    } else {
      try {
        socket.setNoDelay(true);
      } catch { /* closed already */ }
      this.localAddr = {
        transport: "tcp",
        hostname: socket.localAddress ?? "",
        port: socket.localPort ?? 0,
      };
      this.remoteAddr = {
        transport: "tcp",
        hostname: socket.remoteAddress ?? "",
        port: socket.remotePort ?? 0,
      };
    }
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("end", () => this.#onEnd());
    socket.on("close", () => this.#onEnd());
    socket.on("error", (e: Error) => {
      this.#error ??= e;
      this.#onEnd();
    });
  }

  #onData(chunk: Uint8Array): void {
    if (this.#closed) return;
    const buffer = this.#buffer;
    if (buffer !== null && this.#buffered === 0) {
      // straight into the waiting reader's buffer
      const n = chunk.length <= buffer.length ? chunk.length : buffer.length;
      buffer.set(n === chunk.length ? chunk : chunk.subarray(0, n));
      if (n < chunk.length) this.#push(chunk.subarray(n));
      const resolve = this.#resolve!;
      this.#buffer = this.#resolve = this.#reject = null;
      resolve(n);
      return;
    }
    this.#push(chunk);
    if (buffer !== null) {
      const resolve = this.#resolve!;
      this.#buffer = this.#resolve = this.#reject = null;
      resolve(this.#take(buffer));
    }
  }

  #push(chunk: Uint8Array): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    if (this.#buffered > HIGH_WATER && !this.#paused) {
      this.#paused = true;
      this.#socket.pause();
    }
  }

  #take(buffer: Uint8Array): number {
    const chunks = this.#chunks;
    let n = 0;
    while (n < buffer.length && chunks.length > 0) {
      const chunk = chunks[0];
      const left = chunk.length - this.#offset;
      const room = buffer.length - n;
      if (left <= room) {
        buffer.set(this.#offset === 0 ? chunk : chunk.subarray(this.#offset), n);
        n += left;
        chunks.shift();
        this.#offset = 0;
      } else {
        buffer.set(chunk.subarray(this.#offset, this.#offset + room), n);
        n += room;
        this.#offset += room;
      }
    }
    this.#buffered -= n;
    if (this.#paused && this.#buffered <= HIGH_WATER / 2) {
      this.#paused = false;
      this.#socket.resume();
    }
    return n;
  }

  #onEnd(): void {
    this.#ended = true;
    const resolve = this.#resolve, reject = this.#reject;
    if (resolve === null) return;
    this.#buffer = this.#resolve = this.#reject = null;
    if (this.#error && !this.#closed) reject!(this.#error);
    else resolve(null);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.#buffered > 0) return Promise.resolve(this.#take(buffer));
    if (this.#closed) return Promise.resolve(null);
    if (this.#ended) return this.#error ? Promise.reject(this.#error) : Promise.resolve(null);
    if (buffer.length === 0) return Promise.resolve(0);
    if (this.#buffer !== null) {
      return Promise.reject(new Error("Cannot read: a read is already pending"));
    }
    return new Promise<number | null>((resolve, reject) => {
      this.#buffer = buffer;
      this.#resolve = resolve;
      this.#reject = reject;
    });
  }

  write(data: Uint8Array): Promise<number> {
    if (this.#closed || this.#ended || this.#socket.destroyed) {
      return Promise.reject(
        this.#error ?? new CommunicationError("Cannot write: the connection is closed"),
      );
    }
    const n = data.length;
    // Resolves once the bytes are with the kernel (or queued behind a full
    // socket buffer, then once it drained): that is the backpressure, and the
    // caller may reuse `data` afterwards, as with Deno.Conn.
    return new Promise<number>((resolve, reject) => {
      this.#socket.write(data, (e?: Error | null) => {
        if (e) reject(this.#error ?? e);
        else resolve(n);
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = [];
    this.#buffered = 0;
    const resolve = this.#resolve;
    this.#buffer = this.#resolve = this.#reject = null;
    resolve?.(null);
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (socket.writableLength === 0 || this.#ended) {
      socket.destroy();
      return;
    }
    // unsent bytes of a write nobody awaited: flush them, then release the socket
    socket.end(() => socket.destroy());
    const timer = setTimeout(() => socket.destroy(), 5000);
    timer.unref?.();
    socket.once("close", () => clearTimeout(timer));
  }
}

/**
 * Connects to a TCP or unix socket address with `node:net`, with
 * TCP_NODELAY on.
 *
 * @param addr The address.
 * @param options Abort signal and timeout.
 * @returns The connection.
 * @throws {CommunicationError} When the connection cannot be made.
 * @throws {TimeoutError} When the timeout passes first.
 */
export function connectNodeSocket(
  addr: SocketAddress,
  options: ConnectOptions = {},
): Promise<Connection> {
  const unix = addr.transport === "unix";
  const where = unix ? addr.path : `${addr.hostname}:${addr.port}`;
  const userSignal = options.signal;
  if (userSignal?.aborted) return Promise.reject(userSignal.reason);
  return new Promise<Connection>((resolve, reject) => {
    const socket = unix ? net.connect({ path: addr.path }) : net.connect({
      host: addr.hostname.startsWith("[") ? addr.hostname.slice(1, -1) : addr.hostname,
      port: addr.port,
      noDelay: true,
    });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      userSignal?.removeEventListener("abort", onAbort);
      socket.off("error", onError);
      socket.off("connect", onConnect);
    };
    const fail = (e: unknown): void => {
      cleanup();
      socket.destroy();
      reject(e);
    };
    const onAbort = (): void => fail(userSignal!.reason);
    const onError = (e: Error): void =>
      fail(new CommunicationError(`cannot connect to ${where}: ${e.message}`, { cause: e }));
    const onConnect = (): void => {
      cleanup();
      resolve(new NodeSocketConnection(socket, unix ? addr.path : null));
    };
    socket.once("error", onError);
    socket.once("connect", onConnect);
    userSignal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs && options.timeoutMs > 0) {
      timer = setTimeout(
        () => fail(new TimeoutError(`timeout while connecting to ${where}`)),
        options.timeoutMs,
      );
    }
  });
}

// Node's TCP handle class, to bind synchronously and get the real error at once.
interface TcpHandle {
  bind(ip: string, port: number): number;
  bind6(ip: string, port: number, flags: number): number;
  listen(backlog: number): number;
  close(): void;
}
type TcpWrap = { TCP: new (type: number) => TcpHandle; constants: { SERVER: number } };
let tcpWrap: TcpWrap | null | undefined;

function getTcpWrap(): TcpWrap | null {
  if (tcpWrap !== undefined) return tcpWrap;
  try {
    const binding = (process as unknown as { binding(name: string): TcpWrap }).binding;
    const w = binding("tcp_wrap");
    tcpWrap = typeof w?.TCP === "function" && typeof w.constants?.SERVER === "number" ? w : null;
  } catch {
    tcpWrap = null;
  }
  return tcpWrap;
}

/**
 * Resolves a host name to an IP address without waiting (Node has no
 * synchronous resolver): IP literals, `localhost` (127.0.0.1, as
 * `Deno.listen` does), `""` (all IPv4 interfaces), else `getent ahosts`.
 */
function resolveSync(host: string): string | null {
  if (net.isIP(host)) return host;
  if (host === "" || host === "0.0.0.0") return "0.0.0.0";
  if (host.toLowerCase() === "localhost") return "127.0.0.1";
  try {
    const out = execFileSync("getent", ["ahosts", host], {
      encoding: "utf8",
      timeout: 10_000,
      stdio: ["ignore", "pipe", "ignore"],
    });
    const first = out.split("\n")[0]?.split(/\s+/)[0];
    return first && net.isIP(first) ? first : null;
  } catch {
    return null;
  }
}

/**
 * Listens on a TCP or unix socket address with `node:net`, binding at once.
 * Accepted TCP connections get TCP_NODELAY.
 *
 * @param addr The address; port 0 picks a free port.
 * @returns The listener.
 * @throws {CommunicationError} When the address cannot be bound.
 */
export function listenNodeSocket(addr: SocketAddress): Listener {
  const server = net.createServer({ noDelay: true });
  if (addr.transport === "unix") {
    try {
      unlinkSync(addr.path);
    } catch { /* not there */ }
    const listener = new NodeListener(server, addr.path);
    server.listen({ path: addr.path });
    if (!server.listening) {
      let why = "cannot bind";
      try {
        accessSync(dirname(addr.path), fsConstants.W_OK);
      } catch (e) {
        why = (e as Error).message;
      }
      server.close();
      throw new CommunicationError(`cannot listen on ${addr.path}: ${why}`);
    }
    return listener;
  }
  const host = addr.hostname.startsWith("[") ? addr.hostname.slice(1, -1) : addr.hostname;
  const where = `${host.includes(":") ? `[${host}]` : host}:${addr.port}`;
  const ip = resolveSync(host);
  const wrap = getTcpWrap();
  if (ip !== null && wrap !== null) {
    const handle = new wrap.TCP(wrap.constants.SERVER);
    let err = net.isIPv6(ip) ? handle.bind6(ip, addr.port, 0) : handle.bind(ip, addr.port);
    if (!err) err = handle.listen(511);
    if (err) {
      handle.close();
      throw new CommunicationError(`cannot listen on ${where}: ${errorName(err)}`);
    }
    const listener = new NodeListener(server, null);
    server.listen(handle);
    if (!server.address()) {
      server.close();
      throw new CommunicationError(`cannot listen on ${where}`);
    }
    return listener;
  }
  // No synchronous bind: the address is what was asked for until bound, and
  // a bind error ends the listener's iteration.
  if (addr.port === 0) {
    throw new CommunicationError(
      `cannot listen on ${where}: this runtime cannot bind synchronously; ` +
        "give an IP address and a port",
    );
  }
  const listener = new NodeListener(server, null, { hostname: ip ?? host, port: addr.port });
  server.listen({ host: ip ?? host, port: addr.port });
  return listener;
}

function errorName(errno: number): string {
  try {
    return getSystemErrorName(errno);
  } catch {
    return `error ${errno}`;
  }
}

/** A {@linkcode Listener} on a `net.Server`. */
class NodeListener implements Listener {
  readonly #server: net.Server;
  readonly #unixPath: string | null;
  readonly #asked: { hostname: string; port: number } | undefined;
  #queue: net.Socket[] = [];
  #waiter: ((socket: net.Socket | null) => void) | null = null;
  #closed = false;
  #error: Error | null = null;

  constructor(
    server: net.Server,
    unixPath: string | null,
    asked?: { hostname: string; port: number },
  ) {
    this.#server = server;
    this.#unixPath = unixPath;
    this.#asked = asked;
    server.on("connection", (socket: net.Socket) => {
      if (this.#closed) {
        socket.destroy();
        return;
      }
      const w = this.#waiter;
      if (w) {
        this.#waiter = null;
        w(socket);
      } else this.#queue.push(socket);
    });
    server.on("error", (e: Error) => {
      // errors of a bound server (e.g. EMFILE on accept) are passing; a bind error is not
      if (server.listening) return;
      this.#error = e;
      this.close();
    });
  }

  get addr(): Addr {
    if (this.#unixPath !== null) return { transport: "unix", path: this.#unixPath };
    const a = this.#server.address();
    if (a && typeof a === "object") return { transport: "tcp", hostname: a.address, port: a.port };
    return {
      transport: "tcp",
      hostname: this.#asked?.hostname ?? "",
      port: this.#asked?.port ?? 0,
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#server.close();
    } catch { /* not listening */ }
    for (const s of this.#queue) s.destroy();
    this.#queue = [];
    const w = this.#waiter;
    this.#waiter = null;
    w?.(null);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<Connection> {
    while (true) {
      let socket: net.Socket | null | undefined = this.#queue.shift();
      if (socket === undefined) {
        if (this.#closed) break;
        socket = await new Promise<net.Socket | null>((resolve) => this.#waiter = resolve);
      }
      if (socket === null) break;
      if (socket.destroyed) continue;
      yield new NodeSocketConnection(socket, this.#unixPath);
    }
    if (this.#error) {
      throw new CommunicationError(`cannot listen on ${this.#where()}: ${this.#error.message}`, {
        cause: this.#error,
      });
    }
  }

  #where(): string {
    const a = this.addr;
    return a.transport === "unix" ? a.path : `${a.hostname}:${a.port}`;
  }
}
