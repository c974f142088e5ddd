/**
 * TLS for daemons, proxies and name servers, including 2-way TLS (client
 * certificates), wire-compatible with Pyro5's `SSL_*` configuration items.
 *
 * The server side runs on `node:tls` because Deno's own `Deno.listenTls`
 * cannot ask for a client certificate. TCP (or unix socket) connections are
 * accepted with `Deno.listen`, so {@linkcode listenTls} binds at once and
 * knows its port, and each connection is handed to a `node:tls` server for
 * the handshake. The client side uses `node:tls` too, so that it can see the
 * server's certificate and can run over a unix socket.
 *
 * Every connection is a {@linkcode TlsConnection}: a plain
 * {@linkcode Connection} plus the peer's certificate, which the daemon gives
 * to `validateHandshake` as `session.peerCertificate`.
 *
 * @example A daemon that requires client certificates, and a proxy that has one
 * ```ts ignore
 * import { Daemon } from "@tyro/tyro/server";
 * import { connect } from "@tyro/tyro/client";
 * import { listenTlsFromConfig, type PeerCertificate, tlsConnector } from "@tyro/tyro/transport";
 *
 * const daemon = new Daemon({
 *   listener: listenTlsFromConfig({ hostname: "localhost", port: 9999 }, {
 *     SSL_SERVERCERT: "server.crt",
 *     SSL_SERVERKEY: "server.key",
 *     SSL_CACERTS: "ca.crt",
 *     SSL_REQUIRECLIENTCERT: true,
 *   }),
 *   validateHandshake(session) {
 *     const cert = session.peerCertificate as PeerCertificate;
 *     if (cert.subject.CN !== "alice") throw new Error("not alice");
 *     return "hello";
 *   },
 * });
 *
 * const clientConfig = { SSL_CACERTS: "ca.crt", SSL_CLIENTCERT: "alice.crt", SSL_CLIENTKEY: "alice.key" };
 * await using proxy = await connect("PYRO:obj@localhost:9999", {
 *   connect: tlsConnector(clientConfig),
 * });
 * ```
 *
 * @module
 */

import { readdirSync, readFileSync, statSync } from "node:fs";
import tls from "node:tls";
import { Duplex } from "node:stream";
import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { setTlsConnectorFactory } from "../client.ts";
import { CommunicationError, TimeoutError } from "../errors.ts";
import { listenSocket, type SocketAddress } from "./socket.ts";
import type { Connection, Listener } from "./types.ts";
import { unrefTimer } from "../_timers.ts";

export type { Connection, Listener } from "./types.ts";
export type { SocketAddress } from "./socket.ts";

/**
 * A peer's certificate, as `node:tls` describes it (`getPeerCertificate()`
 * without the issuer chain), plus whether it was verified. Python's
 * `ssl.getpeercert()` gives the same facts in another shape: `subject.CN`
 * here is its `commonName`.
 */
export interface PeerCertificate {
  /**
   * True when the certificate chains to a trusted CA. Always true on a
   * listener that refuses unverified clients (the default); check it when
   * `rejectUnauthorized` is off.
   */
  authorized: boolean;
  /** Why the certificate was not verified (e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`), or null. */
  authorizationError: string | null;
  /** Subject name fields, e.g. `{ C: "NL", O: "Acme", CN: "alice" }`. */
  subject: Record<string, string>;
  /** Issuer name fields. */
  issuer: Record<string, string>;
  /** Subject alternative names, e.g. `DNS:localhost, IP Address:127.0.0.1`. */
  subjectaltname?: string;
  /** Start of validity, e.g. `Jan  1 00:00:00 2026 GMT`. */
  valid_from: string;
  /** End of validity. */
  valid_to: string;
  /** Serial number in hex. */
  serialNumber: string;
  /** SHA-1 fingerprint, `AB:CD:...`. */
  fingerprint: string;
  /** SHA-256 fingerprint, `AB:CD:...`. */
  fingerprint256: string;
  /** The DER encoding. */
  raw: Uint8Array;
}

/** A TLS connection: a {@linkcode Connection} that knows its peer. */
export interface TlsConnection extends Connection {
  /** The peer's certificate, or null when it sent none. */
  readonly peerCertificate: PeerCertificate | null;
  /** True when the peer's certificate was verified against the trusted CAs. */
  readonly authorized: boolean;
  /** Why the peer's certificate was not verified (e.g. `DEPTH_ZERO_SELF_SIGNED_CERT`), or null. */
  readonly authorizationError: string | null;
  /** The negotiated protocol version, e.g. `TLSv1.3`. */
  readonly protocol: string | null;
  /** The local address (`{ transport, hostname, port }` or `{ transport: "unix", path }`). */
  readonly localAddr: unknown;
  /** The peer's address, in the same shape. */
  readonly remoteAddr: unknown;
}

/** A listener whose connections are {@linkcode TlsConnection}s. */
export interface TlsListener extends Listener {
  /** Yields connections whose TLS handshake succeeded. */
  [Symbol.asyncIterator](): AsyncIterator<TlsConnection>;
}

/** Options of {@linkcode listenTls}. */
export interface TlsServerOptions {
  /** The server certificate (chain), PEM. */
  cert: string;
  /** The server's private key, PEM. */
  key: string;
  /** The password of an encrypted `key`. */
  passphrase?: string;
  /**
   * CA certificates (PEM) that client certificates must chain to.
   *
   * @default {the system's root CAs}
   */
  ca?: string | string[];
  /**
   * Ask clients for a certificate (2-way TLS).
   *
   * @default {false}
   */
  requestCert?: boolean;
  /**
   * With `requestCert`, refuse clients without a verified certificate
   * during the handshake. With `false` such clients are let in with
   * `authorized: false`, and `validateHandshake` decides.
   *
   * @default {true}
   */
  rejectUnauthorized?: boolean;
  /**
   * Milliseconds a client may take to finish the TLS handshake.
   *
   * @default {30000}
   */
  handshakeTimeoutMs?: number;
  /**
   * The oldest TLS version accepted.
   *
   * @default {"TLSv1.2"}
   */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  /** Called when a client's handshake fails (the library never prints). */
  onError?: (error: Error, remoteAddr: unknown) => void;
}

/** Options of {@linkcode connectTls}. */
export interface TlsConnectOptions {
  /**
   * CA certificates (PEM) the server certificate must chain to.
   *
   * @default {the system's root CAs}
   */
  caCerts?: string[];
  /** The client certificate (chain), PEM, for servers that require one. */
  cert?: string;
  /** The client's private key, PEM. */
  key?: string;
  /** The password of an encrypted `key`. */
  passphrase?: string;
  /**
   * The name the server certificate must be valid for, and the SNI name.
   *
   * @default {the host connected to; for a unix socket, no name check}
   */
  servername?: string;
  /**
   * Verify the server certificate's chain and name. Turning it off makes the
   * connection open to impersonation.
   *
   * @default {true}
   */
  rejectUnauthorized?: boolean;
  /**
   * Checks the server's certificate after the handshake; throw to refuse
   * the server (certificate pinning, say).
   */
  checkServerCert?: (cert: PeerCertificate | null) => void;
  /**
   * The oldest TLS version accepted.
   *
   * @default {"TLSv1.2"}
   */
  minVersion?: "TLSv1.2" | "TLSv1.3";
  /** Aborts the connect. */
  signal?: AbortSignal;
  /** Milliseconds the connect and handshake may take; 0 for no limit. */
  timeoutMs?: number;
}

/** Chunks buffered on a TLS connection before the socket is paused. */
const HIGH_WATER = 256 * 1024;
/** Milliseconds a closed TLS connection waits for the peer to close its side. */
const CLOSE_GRACE_MS = 2000;
/** Size of the buffers incoming raw bytes are read into on the server side. */
const POOL_SIZE = 64 * 1024;
/** A read into the pool needs at least this much room, else a new pool is started. */
const POOL_MIN = 8 * 1024;

/** Turns node's certificate object into a {@linkcode PeerCertificate}, or null for none. */
function peerCertificateOf(
  socket: tls.TLSSocket,
  authorized: boolean,
  authorizationError: string | null,
): PeerCertificate | null {
  let c: tls.PeerCertificate;
  try {
    c = socket.getPeerCertificate();
  } catch {
    return null;
  }
  if (!c || !c.raw) return null;
  const cert: PeerCertificate = {
    authorized,
    authorizationError,
    subject: { ...c.subject } as Record<string, string>,
    issuer: { ...c.issuer } as Record<string, string>,
    valid_from: c.valid_from,
    valid_to: c.valid_to,
    serialNumber: c.serialNumber,
    fingerprint: c.fingerprint,
    fingerprint256: c.fingerprint256,
    raw: new Uint8Array(c.raw),
  };
  if (c.subjectaltname) cert.subjectaltname = c.subjectaltname;
  return cert;
}

/** A {@linkcode TlsConnection} on a secure `node:tls` socket. */
class NodeTlsConnection implements TlsConnection {
  readonly peerCertificate: PeerCertificate | null;
  readonly authorized: boolean;
  readonly authorizationError: string | null;
  readonly protocol: string | null;
  readonly localAddr: unknown;
  readonly remoteAddr: unknown;
  readonly #socket: tls.TLSSocket;
  #chunks: Uint8Array[] = [];
  #head = 0;
  #buffered = 0;
  #paused = false;
  #ended = false;
  #closed = false;
  #error: Error | null = null;
  #reader: { buffer: Uint8Array; resolve(n: number | null): void; reject(e: Error): void } | null =
    null;

  constructor(socket: tls.TLSSocket, localAddr: unknown, remoteAddr: unknown) {
    this.#socket = socket;
    this.localAddr = localAddr;
    this.remoteAddr = remoteAddr;
    this.authorized = socket.authorized === true;
    const why = socket.authorizationError as unknown;
    this.authorizationError = why ? String((why as Error).message ?? why) : null;
    this.peerCertificate = peerCertificateOf(socket, this.authorized, this.authorizationError);
    this.protocol = socket.getProtocol?.() ?? null;
    socket.on("data", (chunk: Uint8Array) => this.#onData(chunk));
    socket.on("end", () => this.#onEnd());
    socket.on("close", () => this.#onEnd());
    socket.on("error", (e: Error) => {
      this.#error ??= e;
      this.#onEnd();
    });
  }

  #onData(chunk: Uint8Array): void {
    const r = this.#reader;
    if (r && this.#buffered === 0) {
      this.#reader = null;
      const n = Math.min(chunk.length, r.buffer.length);
      r.buffer.set(n === chunk.length ? chunk : chunk.subarray(0, n));
      if (n < chunk.length) this.#push(chunk.subarray(n));
      r.resolve(n);
      return;
    }
    this.#push(chunk);
    if (r) {
      this.#reader = null;
      r.resolve(this.#take(r.buffer));
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
    let n = 0;
    while (n < buffer.length && this.#chunks.length) {
      const chunk = this.#chunks[0];
      const k = Math.min(chunk.length - this.#head, buffer.length - n);
      buffer.set(chunk.subarray(this.#head, this.#head + k), n);
      n += k;
      this.#head += k;
      if (this.#head === chunk.length) {
        this.#chunks.shift();
        this.#head = 0;
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
    const r = this.#reader;
    if (!r) return;
    this.#reader = null;
    if (this.#error && !this.#closed) r.reject(this.#error);
    else r.resolve(null);
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (buffer.length === 0) return Promise.resolve(0);
    if (this.#buffered > 0) return Promise.resolve(this.#take(buffer));
    if (this.#closed) return Promise.resolve(null);
    if (this.#ended) {
      return this.#error ? Promise.reject(this.#error) : Promise.resolve(null);
    }
    if (this.#reader) return Promise.reject(new Error("Cannot read: a read is already pending"));
    return new Promise((resolve, reject) => {
      this.#reader = { buffer, resolve, reject };
    });
  }

  write(data: Uint8Array): Promise<number> {
    if (this.#closed || this.#ended) {
      return Promise.reject(
        this.#error ?? new Error("Cannot write: the TLS connection is closed"),
      );
    }
    return new Promise((resolve, reject) => {
      this.#socket.write(data, (e?: Error | null) => {
        if (e) reject(this.#error ?? e);
        else resolve(data.length);
      });
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#chunks = [];
    this.#buffered = 0;
    const r = this.#reader;
    this.#reader = null;
    r?.resolve(null);
    const socket = this.#socket;
    if (socket.destroyed) return;
    if (this.#ended) {
      socket.destroy();
      return;
    }
    // close_notify after pending writes, then release the socket; a peer
    // that does not close its side in time is cut off
    socket.end(() => socket.destroy());
    const timer = setTimeout(() => socket.destroy(), CLOSE_GRACE_MS);
    unrefTimer(timer);
    socket.once("close", () => clearTimeout(timer));
  }
}

/**
 * Presents a {@linkcode Connection} as a node Duplex, for a `node:tls`
 * server to run over. `release` closes the connection once the last
 * write is out.
 */
function duplexOf(conn: Connection): { duplex: Duplex; release: () => void } {
  let pool = new Uint8Array(POOL_SIZE);
  let used = 0;
  let pumping = false;
  let closed = false;
  let writing: Promise<void> = Promise.resolve();
  const pump = async (): Promise<void> => {
    pumping = true;
    try {
      while (true) {
        if (pool.length - used < POOL_MIN) {
          pool = new Uint8Array(POOL_SIZE);
          used = 0;
        }
        const n = await conn.read(pool.subarray(used));
        if (n === null) {
          duplex.push(null);
          return;
        }
        const chunk = pool.subarray(used, used + n);
        used += n;
        if (!duplex.push(chunk)) return;
      }
    } catch (e) {
      duplex.destroy(closed ? undefined : e as Error);
    } finally {
      pumping = false;
    }
  };
  const writeAll = async (data: Uint8Array): Promise<void> => {
    let off = 0;
    while (off < data.length) off += await conn.write(off ? data.subarray(off) : data);
  };
  const close = (): void => {
    if (closed) return;
    closed = true;
    try {
      conn.close();
    } catch { /* closed already */ }
  };
  // Deno's TLS layer writes its last record (the alert that tells a client
  // why its certificate was refused) after destroying the stream; keep the
  // connection open for it until the next turn.
  const release = (): void => {
    setTimeout(() => writing.then(close, close), 0);
  };
  const duplex = new Duplex({
    read(): void {
      if (!pumping) pump();
    },
    write(chunk: Uint8Array, _encoding, callback): void {
      (writing = writeAll(chunk)).then(() => callback(), (e) => callback(e));
    },
    writev(chunks: { chunk: Uint8Array }[], callback): void {
      let size = 0;
      for (const c of chunks) size += c.chunk.length;
      const data = new Uint8Array(size);
      let off = 0;
      for (const c of chunks) data.set(c.chunk, off), off += c.chunk.length;
      (writing = writeAll(data)).then(() => callback(), (e) => callback(e));
    },
    final(callback): void {
      const half = conn as { closeWrite?: () => Promise<void> };
      if (typeof half.closeWrite !== "function") return callback();
      half.closeWrite().then(() => callback(), () => callback());
    },
    destroy(error, callback): void {
      release();
      callback(error);
    },
  });
  const streamWrite = duplex.write.bind(duplex);
  (duplex as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]): boolean => {
    if (!duplex.destroyed) return (streamWrite as (...a: unknown[]) => boolean)(...args);
    const chunk = args[0];
    if (!closed && chunk instanceof Uint8Array) {
      const data = chunk.slice();
      writing = writing.then(() => writeAll(data), () => writeAll(data)).catch(() => {});
    }
    return false;
  };
  return { duplex, release };
}

/** Converts a PEM list option to node's form. */
function pemList(ca: string | string[] | undefined): string[] | undefined {
  if (ca === undefined) return undefined;
  return Array.isArray(ca) ? ca : [ca];
}

/**
 * Listens for TLS connections on a TCP or unix socket address. It binds at
 * once (port 0 picks a free port, readable from `addr`). With
 * `requestCert`, clients must show a certificate that chains to `ca` (2-way
 * TLS, Pyro5's `SSL_REQUIRECLIENTCERT`); the connections yielded carry the
 * certificate as `peerCertificate`. Clients whose handshake fails are
 * dropped and reported to `onError`.
 *
 * @param addr Where to listen.
 * @param options The server certificate and key, and the client certificate policy.
 * @returns The listener.
 * @throws {Error} When the certificate or key cannot be used (or the password is wrong), or the address cannot be bound.
 *
 * @example A TLS daemon on a free port
 * ```ts ignore
 * import { Daemon } from "@tyro/tyro/server";
 * import { listenTls } from "@tyro/tyro/transport";
 *
 * const listener = listenTls({ hostname: "127.0.0.1", port: 0 }, {
 *   cert: await Deno.readTextFile("server.crt"),
 *   key: await Deno.readTextFile("server.key"),
 *   ca: await Deno.readTextFile("ca.crt"),
 *   requestCert: true,
 * });
 * const daemon = new Daemon({ listener });
 * await daemon.serve();
 * ```
 */
export function listenTls(addr: SocketAddress, options: TlsServerOptions): TlsListener {
  const requestCert = options.requestCert ?? false;
  checkCredentials(options.cert, options.key, options.passphrase, "server");
  const serverOptions: tls.TlsOptions = {
    cert: certificatesOf(options.cert),
    key: privateKeyOf(options.key),
    passphrase: options.passphrase,
    ca: pemList(options.ca),
    requestCert,
    rejectUnauthorized: requestCert && (options.rejectUnauthorized ?? true),
    handshakeTimeout: options.handshakeTimeoutMs ?? 30_000,
    minVersion: options.minVersion ?? "TLSv1.2",
  };
  tls.createSecureContext(serverOptions);
  const inner = listenSocket(addr);
  const ready: TlsConnection[] = [];
  const waiting: ((c: TlsConnection | null) => void)[] = [];
  let closed = false;
  let accepting = false;

  const deliver = (conn: TlsConnection): void => {
    if (closed) return conn.close();
    const w = waiting.shift();
    if (w) w(conn);
    else ready.push(conn);
  };

  const report = (error: Error, socket: tls.TLSSocket | undefined, remoteAddr: unknown): void => {
    if (!options.onError) return;
    const why = socket?.authorizationError as unknown;
    const e = why
      ? new Error(
        `client certificate refused: ${String((why as Error).message ?? why)}`,
        { cause: error },
      )
      : error;
    try {
      options.onError(e, remoteAddr);
    } catch { /* the callback's own problem */ }
  };

  // One node server per connection: it ties the outcome of a handshake to
  // its connection through public events only; creating one is cheap.
  const handshake = (conn: Connection): void => {
    const { duplex, release } = duplexOf(conn);
    let server: tls.Server;
    try {
      server = tls.createServer(serverOptions);
    } catch (e) {
      report(e as Error, undefined, conn.remoteAddr);
      return release();
    }
    server.once("secureConnection", (socket: tls.TLSSocket) => {
      deliver(new NodeTlsConnection(socket, conn.localAddr, conn.remoteAddr));
    });
    server.once("tlsClientError", (error: Error, socket: tls.TLSSocket) => {
      // a handshake timeout does not close the stream by itself
      release();
      report(error, socket, conn.remoteAddr);
    });
    server.emit("connection", duplex);
  };

  const accept = async (): Promise<void> => {
    try {
      for await (const conn of inner) {
        if (closed) {
          conn.close();
          break;
        }
        handshake(conn);
      }
    } finally {
      closed = true;
      for (const w of waiting.splice(0)) w(null);
    }
  };

  return {
    get addr(): unknown {
      return inner.addr;
    },
    close(): void {
      if (closed) return;
      closed = true;
      inner.close();
      for (const c of ready.splice(0)) c.close();
      for (const w of waiting.splice(0)) w(null);
    },
    async *[Symbol.asyncIterator](): AsyncIterator<TlsConnection> {
      if (!accepting) {
        accepting = true;
        accept();
      }
      while (true) {
        const c = ready.shift() ??
          (closed ? null : await new Promise<TlsConnection | null>((r) => waiting.push(r)));
        if (!c) return;
        yield c;
      }
    },
  };
}

/**
 * Opens a TLS connection to a TCP or unix socket address, with TCP_NODELAY
 * on. The server certificate must chain to `caCerts` and be valid for the
 * host name (or `servername`); `cert` and `key` present a client
 * certificate for 2-way TLS.
 *
 * @param addr The address.
 * @param options Trusted CAs, the client certificate, server checks, abort signal and timeout.
 * @returns The connection, after a successful handshake.
 * @throws {CommunicationError} When the connection or the TLS handshake fails, or `checkServerCert` refuses the server.
 * @throws {TimeoutError} When `timeoutMs` passes first.
 *
 * @example Connect with a client certificate
 * ```ts ignore
 * import { connectTls } from "@tyro/tyro/transport";
 *
 * const conn = await connectTls({ hostname: "localhost", port: 9999 }, {
 *   caCerts: [await Deno.readTextFile("ca.crt")],
 *   cert: await Deno.readTextFile("alice.crt"),
 *   key: await Deno.readTextFile("alice.key"),
 * });
 * console.log(conn.peerCertificate?.subject.CN, conn.protocol);
 * conn.close();
 * ```
 */
export function connectTls(
  addr: SocketAddress,
  options: TlsConnectOptions = {},
): Promise<TlsConnection> {
  const unix = addr.transport === "unix";
  const host = unix ? "" : addr.hostname.replace(/^\[(.*)\]$/, "$1");
  const where = unix
    ? addr.path
    : host.includes(":")
    ? `[${host}]:${addr.port}`
    : `${host}:${addr.port}`;
  const signal = options.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<TlsConnection>((resolve, reject) => {
    const common: tls.ConnectionOptions = {
      ca: options.caCerts,
      cert: options.cert === undefined ? undefined : certificatesOf(options.cert),
      key: options.key === undefined ? undefined : privateKeyOf(options.key),
      passphrase: options.passphrase,
      rejectUnauthorized: options.rejectUnauthorized ?? true,
      minVersion: options.minVersion ?? "TLSv1.2",
    };
    if (options.servername) common.servername = options.servername;
    else if (unix) common.checkServerIdentity = () => undefined;
    let socket: tls.TLSSocket;
    try {
      socket = unix
        ? tls.connect({ ...common, path: addr.path })
        : tls.connect({ ...common, host, port: addr.port });
    } catch (e) {
      reject(
        new CommunicationError(`cannot connect to ${where}: ${(e as Error).message}`, { cause: e }),
      );
      return;
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const cleanup = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      socket.off("error", onError);
      socket.off("connect", onConnect);
      socket.off("secureConnect", onSecure);
    };
    const fail = (e: unknown): void => {
      cleanup();
      socket.destroy();
      reject(e);
    };
    const onAbort = (): void => fail(signal!.reason);
    let connected = false;
    const onConnect = (): void => {
      connected = true;
    };
    const onError = (e: Error): void => {
      const { code, syscall } = e as { code?: string; syscall?: string };
      const what = !connected || syscall === "connect" || syscall === "getaddrinfo"
        ? "cannot connect to"
        : "TLS handshake failed with";
      fail(
        new CommunicationError(
          `${what} ${where}: ${e.message}${code && !e.message.includes(code) ? ` (${code})` : ""}`,
          {
            cause: e,
          },
        ),
      );
    };
    const onSecure = (): void => {
      cleanup();
      try {
        socket.setNoDelay(true);
      } catch { /* unix socket */ }
      const local = unix ? { transport: "unix", path: addr.path } : {
        transport: "tcp",
        hostname: socket.localAddress,
        port: socket.localPort,
      };
      const remote = unix ? { transport: "unix", path: addr.path } : {
        transport: "tcp",
        hostname: socket.remoteAddress ?? host,
        port: socket.remotePort ?? addr.port,
      };
      const conn = new NodeTlsConnection(socket, local, remote);
      if (options.checkServerCert) {
        try {
          options.checkServerCert(conn.peerCertificate);
        } catch (e) {
          conn.close();
          socket.destroy();
          reject(
            new CommunicationError(
              `TLS server ${where} refused: ${(e as Error)?.message ?? e}`,
              { cause: e },
            ),
          );
          return;
        }
      }
      resolve(conn);
    };
    socket.once("connect", onConnect);
    socket.once("secureConnect", onSecure);
    socket.on("error", onError);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (options.timeoutMs && options.timeoutMs > 0) {
      const ms = options.timeoutMs;
      timer = setTimeout(() => fail(new TimeoutError(`timeout while connecting to ${where}`)), ms);
    }
  });
}

/** Reads a PEM file, or every PEM file of a directory (Pyro5's `capath`). */
function readPem(path: string, what: string): string {
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch (e) {
    throw new Error(`Cannot read ${what} ${path}: file not found`, { cause: e });
  }
  if (!isDirectory) return readFileSync(path, "utf8");
  const parts: string[] = [];
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const text = readFileSync(`${path}/${entry.name}`, "utf8");
    if (text.includes("-----BEGIN CERTIFICATE-----")) parts.push(text);
  }
  return parts.join("\n");
}

const CERT_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;
const KEY_BLOCK = /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/;

/** The certificate blocks of a PEM text (a file may hold the key too, as Pyro5 allows). */
function certificatesOf(pem: string): string {
  return (pem.match(CERT_BLOCK) ?? [pem]).join("\n");
}

/** The private key block of a PEM text. */
function privateKeyOf(pem: string): string {
  return pem.match(KEY_BLOCK)?.[0] ?? pem;
}

/**
 * Fails early, with a clear message, on a certificate or key that cannot be
 * used, a wrong password, or a key that does not belong to the certificate.
 */
function checkCredentials(
  cert: string,
  key: string,
  passphrase: string | undefined,
  what: string,
): void {
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(certificatesOf(cert).match(CERT_BLOCK)?.[0] ?? cert);
  } catch (e) {
    throw new Error(`Cannot use the ${what} certificate: ${(e as Error).message}`, { cause: e });
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: privateKeyOf(key), format: "pem", passphrase });
  } catch (e) {
    const hint = passphrase ? " (wrong password?)" : "";
    throw new Error(`Cannot use the ${what} key${hint}: ${(e as Error).message}`, { cause: e });
  }
  if (!x509.checkPrivateKey(privateKey)) {
    throw new Error(`Cannot use the ${what} key: it does not belong to the certificate`);
  }
}

/**
 * The `SSL_*` configuration items {@linkcode tlsServerOptionsFromConfig}
 * reads, with Pyro5's names; a `PyroConfig` fits.
 */
export interface TlsServerConfig {
  /** Server certificate file (PEM; may hold the key too). */
  SSL_SERVERCERT?: string;
  /** Server key file (PEM). */
  SSL_SERVERKEY?: string;
  /** Server key password. */
  SSL_SERVERKEYPASSWD?: string;
  /** CA certificates file, or a folder of them, for client certificates. */
  SSL_CACERTS?: string;
  /** Require client certificates (2-way TLS). */
  SSL_REQUIRECLIENTCERT?: boolean;
}

/**
 * The `SSL_*` configuration items {@linkcode tlsClientOptionsFromConfig}
 * reads, with Pyro5's names; a `PyroConfig` fits.
 */
export interface TlsClientConfig {
  /** Client certificate file (PEM; may hold the key too). */
  SSL_CLIENTCERT?: string;
  /** Client key file (PEM). */
  SSL_CLIENTKEY?: string;
  /** Client key password. */
  SSL_CLIENTKEYPASSWD?: string;
  /** CA certificates file, or a folder of them, for the server certificate (empty: the system's). */
  SSL_CACERTS?: string;
}

/**
 * Builds server TLS options from Pyro5's configuration items, reading the
 * files they name: `SSL_SERVERCERT` (which may hold the key too),
 * `SSL_SERVERKEY`, `SSL_SERVERKEYPASSWD`, `SSL_CACERTS` (a file or a
 * directory of PEM files) and `SSL_REQUIRECLIENTCERT`.
 *
 * @param config The configuration items.
 * @returns Options for {@linkcode listenTls}.
 * @throws {Error} When SSL_SERVERCERT is not set or a file cannot be read.
 *
 * @example Read the server items
 * ```ts ignore
 * import { tlsServerOptionsFromConfig } from "@tyro/tyro/transport";
 *
 * const options = tlsServerOptionsFromConfig({
 *   SSL_SERVERCERT: "server.crt",
 *   SSL_SERVERKEY: "server.key",
 *   SSL_CACERTS: "ca.crt",
 *   SSL_REQUIRECLIENTCERT: true,
 * });
 * console.log(options.requestCert); // true
 * ```
 */
export function tlsServerOptionsFromConfig(config: TlsServerConfig): TlsServerOptions {
  if (!config.SSL_SERVERCERT) throw new Error("Cannot use TLS: SSL_SERVERCERT is not set");
  const cert = readPem(config.SSL_SERVERCERT, "server cert");
  const options: TlsServerOptions = {
    cert,
    key: config.SSL_SERVERKEY ? readPem(config.SSL_SERVERKEY, "server key") : cert,
    requestCert: config.SSL_REQUIRECLIENTCERT ?? false,
  };
  if (config.SSL_SERVERKEYPASSWD) options.passphrase = config.SSL_SERVERKEYPASSWD;
  if (config.SSL_CACERTS) options.ca = readPem(config.SSL_CACERTS, "CA certs");
  return options;
}

/**
 * Builds client TLS options from Pyro5's configuration items, reading the
 * files they name: `SSL_CACERTS` (a file or a directory of PEM files; the
 * system's root CAs when empty), `SSL_CLIENTCERT` (which may hold the key
 * too), `SSL_CLIENTKEY` and `SSL_CLIENTKEYPASSWD`.
 *
 * @param config The configuration items.
 * @returns Options for {@linkcode connectTls}.
 * @throws {Error} When a file cannot be read.
 *
 * @example Read the client items
 * ```ts ignore
 * import { tlsClientOptionsFromConfig } from "@tyro/tyro/transport";
 *
 * const options = tlsClientOptionsFromConfig({
 *   SSL_CACERTS: "ca.crt",
 *   SSL_CLIENTCERT: "alice.crt",
 *   SSL_CLIENTKEY: "alice.key",
 * });
 * console.log(options.caCerts?.length); // 1
 * ```
 */
export function tlsClientOptionsFromConfig(config: TlsClientConfig): TlsConnectOptions {
  const options: TlsConnectOptions = {};
  if (config.SSL_CACERTS) options.caCerts = [readPem(config.SSL_CACERTS, "CA certs")];
  if (config.SSL_CLIENTCERT) {
    options.cert = readPem(config.SSL_CLIENTCERT, "client cert");
    options.key = config.SSL_CLIENTKEY ? readPem(config.SSL_CLIENTKEY, "client key") : options.cert;
    if (config.SSL_CLIENTKEYPASSWD) options.passphrase = config.SSL_CLIENTKEYPASSWD;
  }
  return options;
}

/**
 * Listens for TLS connections as a Pyro5 daemon with `SSL=True` does,
 * configured by the `SSL_SERVER*`, `SSL_CACERTS` and `SSL_REQUIRECLIENTCERT`
 * items. Hand the result to a daemon or name server as `listener`.
 *
 * @param addr Where to listen.
 * @param config The configuration items.
 * @param options Further server options (e.g. `onError`), over the ones from `config`.
 * @returns The listener.
 * @throws {Error} When SSL_SERVERCERT is not set, a file cannot be read, the key cannot be used, or the address cannot be bound.
 *
 * @example A name server with TLS
 * ```ts ignore
 * import { NameServerDaemon } from "@tyro/tyro/nameserver";
 * import { listenTlsFromConfig } from "@tyro/tyro/transport";
 *
 * const config = { SSL: true, SSL_SERVERCERT: "server.crt", SSL_SERVERKEY: "server.key" };
 * const ns = new NameServerDaemon({
 *   listener: listenTlsFromConfig({ hostname: "localhost", port: 9090 }, config),
 *   config,
 * });
 * await ns.serve();
 * ```
 */
export function listenTlsFromConfig(
  addr: SocketAddress,
  config: TlsServerConfig,
  options: Partial<TlsServerOptions> = {},
): TlsListener {
  return listenTls(addr, { ...tlsServerOptionsFromConfig(config), ...options });
}

/** Where a proxy connects: the location part of a `PyroUri` (which fits). */
export interface TlsTarget {
  /** Unix domain socket path, or null. */
  sockname: string | null;
  /** Host name or address (IPv6 without brackets), or null. */
  host: string | null;
  /** Port number, or null. */
  port: number | null;
}

/** Options of {@linkcode tlsConnector} besides the configuration items. */
export type TlsConnectorOptions = Omit<TlsConnectOptions, "signal">;

/**
 * Makes the `connect` hook of a proxy that talks TLS, configured like a
 * Pyro5 client with `SSL=True` (`SSL_CACERTS`, `SSL_CLIENTCERT`,
 * `SSL_CLIENTKEY`, `SSL_CLIENTKEYPASSWD`). The files are read once, now.
 * As in Pyro5, the server certificate must be valid for the URI's host.
 *
 * @param config The configuration items.
 * @param options Further options (e.g. `checkServerCert`, `timeoutMs`), over the ones from `config`.
 * @returns A function for `ProxyOptions.connect`.
 * @throws {Error} When a file cannot be read, or the client key cannot be used (or the password is wrong).
 *
 * @example A proxy with a client certificate
 * ```ts ignore
 * import { connect } from "@tyro/tyro/client";
 * import { tlsConnector } from "@tyro/tyro/transport";
 *
 * const tlsConnect = tlsConnector({
 *   SSL_CACERTS: "ca.crt",
 *   SSL_CLIENTCERT: "alice.crt",
 *   SSL_CLIENTKEY: "alice.key",
 * });
 * await using proxy = await connect("PYRO:obj@localhost:9999", { connect: tlsConnect });
 * ```
 */
export function tlsConnector(
  config: TlsClientConfig,
  options: TlsConnectorOptions = {},
): (uri: TlsTarget, signal?: AbortSignal) => Promise<TlsConnection> {
  const base = { ...tlsClientOptionsFromConfig(config), ...options };
  if (base.cert) checkCredentials(base.cert, base.key ?? base.cert, base.passphrase, "client");
  return (uri: TlsTarget, signal?: AbortSignal): Promise<TlsConnection> => {
    const addr: SocketAddress = uri.sockname
      ? { transport: "unix", path: uri.sockname }
      : { hostname: uri.host ?? "localhost", port: uri.port ?? 0 };
    return connectTls(addr, { ...base, signal });
  };
}

setTlsConnectorFactory((config) => tlsConnector(config));
