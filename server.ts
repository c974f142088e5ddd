/**
 * The Tyro daemon: serves registered objects to Tyro and Pyro5 clients.
 *
 * ```ts ignore
 * import { Daemon, expose } from "@tyro/tyro/server";
 *
 * class Greeter {
 *   @expose
 *   greet(name: string): string {
 *     return `hello, ${name}`;
 *   }
 * }
 * await using daemon = new Daemon({ host: "127.0.0.1", port: 9999 });
 * console.log(daemon.register(new Greeter(), "example.greeter").toString());
 * await daemon.serve();
 * ```
 *
 * A Python client then calls it:
 * `Pyro5.api.Proxy("PYRO:example.greeter@127.0.0.1:9999").greet("you")`.
 *
 * @module
 */

import { giveBackDecoded } from "./_slab.ts";
import {
  bindArguments,
  type CallContext,
  callWithContext,
  type ClientSession,
  currentContext,
  isThenable,
} from "./_call.ts";
import { MessageConnection } from "./_wire.ts";
import { makeConfig, type PyroConfig } from "./config.ts";
import { DaemonError, ProtocolError, PyroError, SerializeError } from "./errors.ts";
import { behaviorOf, type ExposedMembers, exposedMembers, isPrivateName } from "./expose.ts";
import { Flags, MessageType } from "./protocol/constants.ts";
import {
  encodeMessageForWrite,
  type Message,
  RANDOM_CORRELATION_ID,
  randomUuidBytes,
} from "./protocol/message.ts";
import {
  type ClassRegistry,
  DEFAULT_REGISTRY,
  exceptionToDict,
  ExceptionWrapper,
  TO_PYRO_DICT,
} from "./serializers/registry.ts";
import { serializerFor } from "./serializers/mod.ts";
import type { CallMessage, Serializer } from "./serializers/types.ts";
import { SerializedBlob } from "./blob.ts";
import { listenSocket, locationOf, type SocketAddress } from "./transport/socket.ts";
import { listenTlsFromConfig } from "./transport/tls.ts";
import type { Connection, Listener } from "./transport/types.ts";
import { PyroUri } from "./uri.ts";
import { ItemStreams } from "./_streams.ts";
import {
  attributeError,
  DaemonObject,
  type DaemonOptions,
  type DaemonSession,
  formatTraceback,
  isStreamable,
  type Logger,
  ProxyRef,
  type RegisterOptions,
  type Registration,
  removeFile,
  type ServeOptions,
  SessionImpl,
  SILENT_LOGGER,
} from "./_daemon_parts.ts";

export { formatTraceback, ProxyRef, SILENT_LOGGER } from "./_daemon_parts.ts";
export type {
  DaemonOptions,
  DaemonSession,
  Logger,
  RegisterOptions,
  ServeOptions,
} from "./_daemon_parts.ts";

export { behavior, behaviorOf, expose, exposedMembers, isPrivateName, oneway } from "./expose.ts";
export type { BehaviorOptions, ExposedMembers, ExposeOptions, InstanceMode } from "./expose.ts";
export { currentContext } from "./_call.ts";
export type { CallContext, ClientSession } from "./_call.ts";

/** The object id of the daemon's own object. */
export const DAEMON_NAME = "Pyro.Daemon";

/** The daemon's own entry into a session: handles a message without a promise when it can. */
const RECEIVE_NOW = Symbol("receiveNow");

/**
 * A Pyro daemon: it binds a socket (TCP over IPv4 or IPv6, or a unix
 * socket), and answers Pyro5 wire protocol requests for the objects
 * registered in it. {@linkcode Daemon.serve} runs the accept loop;
 * {@linkcode Daemon.handleConnection} serves one connection accepted
 * elsewhere, and {@linkcode Daemon.openSession} dispatches single messages
 * for a server or event loop of your own.
 */
export class Daemon implements AsyncDisposable {
  /** The configuration in force. */
  readonly config: Readonly<PyroConfig>;
  /** The class registry, with autoproxy for registered objects. */
  readonly registry: ClassRegistry;
  readonly #logger: Logger;
  readonly #options: DaemonOptions;
  readonly #listener: Listener | null;
  readonly #location: string;
  readonly #natLocation: string | null;
  readonly #objects = new Map<string, Registration>();
  readonly #ids = new Map<unknown, string>();
  readonly #streams: ItemStreams;
  readonly #sessions = new Set<{ session: SessionImpl; finish(graceful?: boolean): void }>();
  #inFlight = 0;
  #idle: (() => void)[] = [];
  #drained: (() => void)[] = [];
  #encodeOptions: { compress: boolean; maxMessageSize: number } | undefined;
  readonly #serializers = new Map<number, Serializer>();
  #closed = false;
  #serving: Promise<void> | null = null;
  #connectionSlots: (() => void)[] = [];
  #connections = 0;

  /**
   * Creates a daemon and binds its socket at once (as Pyro5 does), so that
   * URIs can be made before serving.
   *
   * @param options Where to bind, configuration and hooks.
   */
  constructor(options: DaemonOptions = {}) {
    this.#options = options;
    this.config = Object.freeze(makeConfig(options.config));
    this.#streams = new ItemStreams(
      this.config.ITER_STREAM_LIFETIME * 1000,
      this.config.ITER_STREAM_LINGER * 1000,
    );
    this.#logger = options.logger ?? SILENT_LOGGER;
    this.registry = (options.registry ?? DEFAULT_REGISTRY).copy();
    this.registry.setObjectHook(autoproxyHook);
    // config.SSL: TLS with the SSL_* items, as Pyro5 does
    const listen = (addr: SocketAddress): Listener =>
      this.config.SSL ? listenTlsFromConfig(addr, this.config) : listenSocket(addr);
    if (options.listener) {
      this.#listener = options.listener;
      this.#location = options.location ?? locationOf(options.listener.addr);
    } else if (options.bind === false) {
      this.#listener = null;
      this.#location = options.location ??
        `${options.host ?? this.config.HOST}:${options.port ?? 0}`;
    } else if (options.unixSocket) {
      this.#listener = listen({ transport: "unix", path: options.unixSocket });
      this.#location = "./u:" + options.unixSocket;
    } else {
      const host = options.host ?? this.config.HOST;
      this.#listener = listen({ hostname: host, port: options.port ?? 0 });
      const addr = this.#listener.addr as { port: number; hostname: string };
      const shown = host === "" || host === "0.0.0.0" || host === "::" ? addr.hostname : host;
      this.#location = shown.includes(":") && !shown.startsWith("[")
        ? `[${shown}]:${addr.port}`
        : `${shown}:${addr.port}`;
    }
    const nathost = options.nathost ?? this.config.NATHOST;
    if (nathost) {
      const natport = options.natport ??
        (this.config.NATPORT || Number(this.#location.split(":").pop()));
      this.#natLocation = nathost.includes(":")
        ? `[${nathost}]:${natport}`
        : `${nathost}:${natport}`;
    } else {
      this.#natLocation = null;
    }
    this.#objects.set(DAEMON_NAME, {
      object: new DaemonObject(this),
      members: exposedMembers(DaemonObject, { methods: true }),
      isClass: false,
    });
  }

  /**
   * The location clients connect to: `host:port`, `[ipv6]:port` or `./u:path`.
   *
   * @returns The location text.
   */
  get locationStr(): string {
    return this.#location;
  }

  /**
   * The NAT location, or null.
   *
   * @returns The location text or null.
   */
  get natLocationStr(): string | null {
    return this.#natLocation;
  }

  /**
   * The bound address (port 0 resolved), when the daemon bound a socket.
   *
   * @returns The address.
   */
  get addr(): unknown {
    return this.#listener?.addr;
  }

  /**
   * The ids of all registered objects, the daemon's own first.
   *
   * @returns The ids.
   */
  registered(): string[] {
    return [...this.#objects.keys()];
  }

  /**
   * The number of client connections being served.
   *
   * @returns The count.
   */
  get connectionCount(): number {
    return this.#sessions.size;
  }

  /**
   * Registers an object (or a class, made per the class's instance mode)
   * under an id.
   *
   * @param objectOrClass An instance, a plain object of functions, or a class.
   * @param objectId The id; a random `obj_<hex>` id when omitted.
   * @param options `force` to replace, `expose` for undecorated objects.
   * @returns The object's URI.
   * @throws {DaemonError} When the id or object is registered already.
   */
  register(objectOrClass: unknown, objectId?: string, options: RegisterOptions = {}): PyroUri {
    if (
      objectOrClass === null ||
      (typeof objectOrClass !== "object" && typeof objectOrClass !== "function")
    ) {
      throw new TypeError("Cannot register: expected an object or a class");
    }
    const id = objectId ??
      "obj_" + [...randomUuidBytes()].map((b) => b.toString(16).padStart(2, "0")).join("");
    if (id === DAEMON_NAME) throw new DaemonError("object or class already has a Pyro id");
    if (!options.force) {
      if (this.#objects.has(id)) {
        throw new DaemonError("an object or class is already registered with that id");
      }
      if (this.#ids.has(objectOrClass)) {
        throw new DaemonError("object or class already has a Pyro id");
      }
    } else {
      const old = this.#objects.get(id);
      if (old) this.#ids.delete(old.object);
    }
    const isClass = typeof objectOrClass === "function" &&
      /^class[\s{]/.test(Function.prototype.toString.call(objectOrClass));
    const members = exposedMembers(objectOrClass, options.expose);
    if (typeof objectOrClass === "object" && !options.expose) {
      const proto = Object.getPrototypeOf(objectOrClass);
      if (
        proto !== Object.prototype && proto !== null && members.methods.size === 0 &&
        members.attrs.size === 0
      ) {
        this.#logger.warn(
          `class ${proto?.constructor?.name} exposes no methods or attributes; did you forget @expose?`,
        );
      }
    }
    this.#objects.set(id, { object: objectOrClass, members, isClass });
    this.#ids.set(objectOrClass, id);
    REGISTERED.set(objectOrClass as object, this);
    return this.uriFor(id);
  }

  /**
   * Removes an object.
   *
   * @param objectOrId The object, class or id.
   */
  unregister(objectOrId: unknown): void {
    const id = typeof objectOrId === "string" ? objectOrId : this.#ids.get(objectOrId);
    if (id === undefined || id === DAEMON_NAME) return;
    const reg = this.#objects.get(id);
    if (!reg) return;
    this.#objects.delete(id);
    this.#ids.delete(reg.object);
    if (REGISTERED.get(reg.object as object) === this) REGISTERED.delete(reg.object as object);
  }

  /**
   * The id an object is registered under.
   *
   * @param object The object or class.
   * @returns The id, or undefined.
   */
  idOf(object: unknown): string | undefined {
    return this.#ids.get(object);
  }

  /**
   * The URI of a registered object (or of any id).
   *
   * @param objectOrId The object, class or id.
   * @param nat Use the NAT location when there is one.
   * @returns The URI.
   * @throws {DaemonError} When the object is not registered.
   */
  uriFor(objectOrId: unknown, nat = true): PyroUri {
    const id = typeof objectOrId === "string" ? objectOrId : this.#ids.get(objectOrId);
    if (id === undefined) throw new DaemonError("object isn't registered");
    const loc = nat && this.#natLocation ? this.#natLocation : this.#location;
    return new PyroUri(`PYRO:${id}@${loc}`);
  }

  /**
   * A description of a registered object that serializes as a Pyro5 proxy
   * (what autoproxy sends for registered objects).
   *
   * @param objectOrId The object, class or id.
   * @returns An object with the proxy's class dict.
   */
  proxyStateFor(objectOrId: unknown): ProxyRef {
    const uri = this.uriFor(objectOrId);
    const reg = this.#objects.get(uri.object);
    return new ProxyRef(
      uri,
      reg?.members ?? { methods: new Set(), oneway: new Set(), attrs: new Set() },
    );
  }

  /**
   * Pyro5's metadata of a registered object.
   *
   * @param objectId The id.
   * @returns `{methods, oneway, attrs}` as sets.
   * @throws {DaemonError} For an unknown id.
   */
  metadataFor(objectId: string): ExposedMembers {
    const reg = this.#objects.get(objectId);
    if (!reg) throw new DaemonError("unknown object");
    return {
      methods: new Set(reg.members.methods),
      oneway: new Set(reg.members.oneway),
      attrs: new Set(reg.members.attrs),
    };
  }

  /**
   * Checks handshake data; override or pass `validateHandshake`. The
   * default answers `"hello"`.
   *
   * @param session The connecting client.
   * @param data The client's handshake data.
   * @returns The handshake response.
   */
  validateHandshake(session: ClientSession, data: unknown): unknown | Promise<unknown> {
    if (this.#options.validateHandshake) return this.#options.validateHandshake(session, data);
    return "hello";
  }

  /**
   * Annotations added to every response; override or pass `annotations`.
   *
   * @param ctx The call context, or null outside a call.
   * @returns The annotations.
   */
  annotations(ctx: CallContext | null): Map<string, Uint8Array> {
    const a = this.#options.annotations?.(ctx);
    const extra = ctx !== null &&
      !(ctx instanceof InvokeContext && !ctx.hasResponseAnnotations) &&
      ctx.responseAnnotations.size > 0;
    if (!a && !extra) return new Map();
    const out = new Map<string, Uint8Array>(a instanceof Map ? a : Object.entries(a ?? {}));
    if (extra) { for (const [k, v] of ctx.responseAnnotations) out.set(k, v); }
    return out;
  }

  #serializer(id: number): Serializer {
    let s = this.#serializers.get(id);
    if (!s) {
      s = serializerFor(id, { registry: this.registry });
      this.#serializers.set(id, s);
    }
    return s;
  }

  #autoproxy(value: unknown): unknown {
    if (
      value !== null && (typeof value === "object" || typeof value === "function") &&
      this.#ids.has(value)
    ) {
      return this.proxyStateFor(value);
    }
    return value;
  }

  /**
   * Runs the accept loop until the daemon is closed or `signal` aborts.
   *
   * @param options An abort signal.
   * @returns Resolves when serving has stopped.
   * @throws {DaemonError} When the daemon has no listener.
   */
  serve(options: ServeOptions = {}): Promise<void> {
    if (!this.#listener) {
      throw new DaemonError("this daemon has no listener; use handleConnection()");
    }
    if (this.#serving) return this.#serving;
    const signal = options.signal;
    if (signal) {
      if (signal.aborted) {
        return this.close();
      }
      signal.addEventListener("abort", () => this.close(), { once: true });
    }
    this.#serving = (async () => {
      for await (const conn of this.#listener!) {
        if (this.#closed) {
          conn.close();
          break;
        }
        const max = this.config.MAX_CONNECTIONS;
        if (max > 0 && this.#connections >= max) {
          await new Promise<void>((r) => this.#connectionSlots.push(r));
          if (this.#closed) {
            conn.close();
            break;
          }
        }
        this.handleConnection(conn).catch((e) => this.#logger.warn("connection failed", e));
      }
    })();
    return this.#serving;
  }

  /**
   * Serves one client connection until it closes: the callback-style
   * entry point for connections accepted elsewhere (any transport).
   *
   * @param conn The connection.
   * @param info The peer's address and certificate, when known.
   * @returns Resolves when the connection has ended.
   */
  handleConnection(
    conn: Connection,
    info: { remoteAddr?: unknown; peerCertificate?: unknown } = {},
  ): Promise<void> {
    this.#connections++;
    // deno-lint-ignore prefer-const
    let wire: MessageConnection;
    let endedResolve!: () => void;
    const ended = new Promise<void>((r) => endedResolve = r);
    const ds = this.openSession(
      (bytes) => wire.enqueue(bytes),
      (graceful) => graceful ? wire.end() : wire.close(),
      {
        remoteAddr: info.remoteAddr ?? conn.remoteAddr,
        peerCertificate: info.peerCertificate ?? conn.peerCertificate,
      },
    );
    const link = ds as InternalSession;
    const failed = (e: unknown) => {
      this.#logger.warn(`closing connection ${ds.session.id}: ${(e as Error).message}`, e);
      wire.close(e);
    };
    wire = new MessageConnection(conn, {
      maxMessageSize: this.config.MAX_MESSAGE_SIZE,
      idleTimeoutMs: this.config.COMMTIMEOUT * 1000,
      onMessage: (msg) => {
        let later: Promise<void> | undefined;
        try {
          later = link[RECEIVE_NOW](msg);
        } catch (e) {
          failed(e);
          return;
        }
        if (later !== undefined) this.#track(later.catch(failed));
      },
      onClose: (error) => {
        if (error) {
          this.#logger.warn(
            `connection ${ds.session.id} closed: ${(error as Error).message ?? error}`,
          );
        }
        link.finish();
        if (--this.#connections === 0) { for (const r of this.#drained.splice(0)) r(); }
        this.#connectionSlots.shift()?.();
        endedResolve();
      },
    });
    wire.start();
    return ended;
  }

  #track(p: Promise<unknown>): void {
    this.#inFlight++;
    p.then(this.#untrack, this.#untrack);
  }
  readonly #untrack = (): void => {
    if (--this.#inFlight === 0) { for (const r of this.#idle.splice(0)) r(); }
  };

  /**
   * Opens a session for a connection you move bytes for yourself: hand it
   * decoded messages with `receive`, and it calls `send` with the encoded
   * replies.
   *
   * @param send Sends one encoded reply, or a part of one: a reply with a
   *   large payload comes as its header, then its payload. Write them in order.
   * @param close Closes the connection: at once after a protocol violation, or with
   *   `graceful` true once the replies already sent are written (a refused handshake).
   * @param info The peer's address and certificate, when known.
   * @returns The session.
   */
  openSession(
    send: (bytes: Uint8Array) => unknown,
    close: (graceful?: boolean) => void,
    info: { remoteAddr?: unknown; peerCertificate?: unknown } = {},
  ): DaemonSession {
    const link = new Daemon.#Link(
      this,
      new SessionImpl(info.remoteAddr, info.peerCertificate),
      send,
      close,
    );
    this.#sessions.add(link);
    return link;
  }

  /**
   * An open session, with methods rather than closures: a handful of
   * closures made per connection led V8 to move every connection's objects
   * to the old generation (measured with --trace-gc), which cost the daemon
   * CPU on each new connection.
   */
  static #Link = class implements DaemonSession, ReplyTo {
    #open = true;
    #receiveFn: ((msg: Message) => Promise<void>) | undefined;
    #closeFn: (() => void) | undefined;

    constructor(
      readonly daemon: Daemon,
      readonly session: SessionImpl,
      readonly send: (bytes: Uint8Array) => unknown,
      readonly closeTransport: (graceful?: boolean) => void,
    ) {
      session.link = this;
    }

    /** Handles one decoded message; a bound function, made when first asked for. */
    get receive(): (msg: Message) => Promise<void> {
      return this.#receiveFn ??= (msg) => this.daemon.#receive(this.session, msg, this);
    }

    /** Ends the session; a bound function, made when first asked for. */
    get close(): () => void {
      return this.#closeFn ??= () => this.finish();
    }

    reply(bytes: Uint8Array): void {
      if (this.#open) this.send(bytes);
    }

    [RECEIVE_NOW](msg: Message): Promise<void> | undefined {
      return this.daemon.#receiveNow(this.session, msg, this);
    }

    finish(graceful?: boolean): void {
      if (!this.#open) return;
      this.#open = false;
      this.daemon.#sessions.delete(this);
      this.daemon.#clientDisconnected(this.session);
      this.closeTransport(graceful);
    }
  };

  #clientDisconnected(session: SessionImpl): void {
    this.#streams.disconnected(session);
    for (const w of session.waiting) w();
    try {
      this.#options.onDisconnect?.(session);
    } catch (e) {
      this.#logger.warn("onDisconnect hook failed", e);
    }
  }

  #reply(
    to: ReplyTo,
    type: number,
    serializerId: number,
    flags: number,
    seq: number,
    corr: Uint8Array | null,
    payload: Uint8Array | Uint8Array[],
    annotations: ReadonlyMap<string, Uint8Array>,
  ): void {
    const bytes = encodeMessageForWrite(
      {
        type,
        serializerId,
        flags,
        seq,
        // Pyro5's daemon answers with the call's correlation id, or a new random one
        correlationId: corr ?? RANDOM_CORRELATION_ID,
        annotations,
        payload,
      },
      this.#encodeOptions ??= {
        compress: this.config.COMPRESSION,
        maxMessageSize: this.config.MAX_MESSAGE_SIZE,
      },
    );
    if (bytes instanceof Uint8Array) to.reply(bytes);
    else for (let i = 0; i < bytes.length; i++) to.reply(bytes[i]);
  }

  /**
   * Handles one message. Plain (non-async) methods are served without a
   * promise: the result is undefined when the message was handled at once.
   */
  #receiveNow(
    session: SessionImpl,
    msg: Message,
    to: ReplyTo,
  ): Promise<void> | undefined {
    if (
      !this.#closed && !session.connected && !session.handshaking && !session.refused &&
      msg.type === MessageType.CONNECT
    ) {
      return this.#startHandshake(session, msg, to);
    }
    const max = this.config.MAX_CALLS_PER_CONNECTION;
    if (
      this.#closed || session.handshaking || !session.connected || session.refused ||
      msg.type !== MessageType.INVOKE || (max > 0 && session.inFlight >= max)
    ) {
      return this.#receive(session, msg, to);
    }
    return this.#invokeCounted(session, msg, to);
  }

  /** Answers a CONNECT; an asynchronous handshake holds the session's later messages back. */
  #startHandshake(
    session: SessionImpl,
    msg: Message,
    to: ReplyTo,
  ): Promise<void> | undefined {
    const later = this.#handshake(session, msg, to);
    if (later === undefined) return undefined;
    return session.handshaking = later.finally(() => session.handshaking = null);
  }

  /** Runs an INVOKE counted among the session's calls in flight (MAX_CALLS_PER_CONNECTION). */
  #invokeCounted(
    session: SessionImpl,
    msg: Message,
    to: ReplyTo,
  ): Promise<void> | undefined {
    session.inFlight++;
    let later: Promise<void> | undefined;
    try {
      later = this.#invoke(session, msg, to);
    } finally {
      if (later === undefined) callDone(session);
    }
    return later?.finally(() => callDone(session));
  }

  async #receive(
    session: SessionImpl,
    msg: Message,
    to: ReplyTo,
  ): Promise<void> {
    if (this.#closed) throw new DaemonError("daemon is closed");
    if (session.handshaking) await session.handshaking;
    if (session.refused) return; // a call sent right behind a refused CONNECT
    if (!session.connected) {
      if (msg.type !== MessageType.CONNECT) {
        throw new ProtocolError(`expected a CONNECT message first, got type ${msg.type}`);
      }
      // Messages that arrive during an asynchronous handshake wait for it (pipelining clients).
      return await this.#startHandshake(session, msg, to);
    }
    if (msg.type === MessageType.PING) {
      this.#reply(
        to,
        MessageType.PING,
        msg.serializerId,
        0,
        msg.seq,
        msg.correlationId,
        PONG,
        this.annotations(null),
      );
      return;
    }
    if (msg.type !== MessageType.INVOKE) {
      throw new ProtocolError(`invalid message type ${msg.type} from a client`);
    }
    const max = this.config.MAX_CALLS_PER_CONNECTION;
    if (max > 0 && session.inFlight >= max) {
      await new Promise<void>((r) => session.waiting.push(r));
    }
    await this.#invokeCounted(session, msg, to);
  }

  /**
   * Answers a CONNECT: synchronously when the handshake hook is, so that
   * calls pipelined behind it are served in the same turn and their answers
   * leave in the same write as the CONNECTOK.
   */
  #handshake(
    session: SessionImpl,
    msg: Message,
    to: ReplyTo,
  ): Promise<void> | undefined {
    let serializer: Serializer;
    try {
      serializer = this.#serializer(msg.serializerId);
    } catch {
      throw new ProtocolError(`unknown serializer id ${msg.serializerId} in CONNECT`);
    }
    let data: Record<string, unknown>;
    let response: unknown;
    try {
      data = serializer.loads(msg.payload) as Record<string, unknown>;
      if (data === null || typeof data !== "object") {
        throw new ProtocolError("invalid handshake data");
      }
      session.handshake = data.handshake;
      response = this.validateHandshake(session, data.handshake);
    } catch (e) {
      this.#handshakeAnswer(session, msg, to, serializer, e, true);
      return undefined;
    }
    if (isThenable(response)) {
      return Promise.resolve(response).then(
        (r) => this.#handshakeAnswer(session, msg, to, serializer, r, false, data.object),
        (e) => this.#handshakeAnswer(session, msg, to, serializer, e, true),
      );
    }
    this.#handshakeAnswer(session, msg, to, serializer, response, false, data.object);
    return undefined;
  }

  #handshakeAnswer(
    session: SessionImpl,
    msg: Message,
    to: ReplyTo,
    serializer: Serializer,
    result: unknown,
    failed: boolean,
    object?: unknown,
  ): void {
    let type: number = MessageType.CONNECTOK;
    let payload: Uint8Array | undefined;
    if (!failed) {
      try {
        payload = this.#connectOk(serializer, String(object), result);
        session.connected = true;
      } catch (e) {
        result = e;
        failed = true;
      }
    }
    if (failed) {
      type = MessageType.CONNECTFAIL;
      payload = serializer.dumps(result instanceof Error ? result.message : String(result));
      session.refused = true;
    }
    this.#reply(
      to,
      type,
      serializer.id,
      0,
      msg.seq,
      msg.correlationId,
      payload!,
      this.annotations(null),
    );
    // as Pyro5: a refused client is disconnected once it has the reason
    if (session.refused) session.link?.finish(true);
  }

  /**
   * The payload of a CONNECTOK: `{handshake, meta}`. The last one made for
   * each registered object is kept and sent again while the answer is the
   * same primitive in the same serializer (the common case: every client
   * gets `"hello"`), as an object's exposed members never change; an
   * overridden {@linkcode Daemon.metadataFor} is asked every time.
   */
  #connectOk(serializer: Serializer, objectId: string, result: unknown): Uint8Array {
    const reg = this.#objects.get(objectId);
    const primitive = result === null ||
      (typeof result !== "object" && typeof result !== "function");
    if (!reg || !primitive || this.metadataFor !== Daemon.prototype.metadataFor) {
      return serializer.dumps({ handshake: result, meta: this.metadataFor(objectId) });
    }
    const kept = this.#connectOks.get(reg);
    if (kept && kept.serializer === serializer && Object.is(kept.result, result)) {
      return kept.payload;
    }
    const payload = serializer.dumps({ handshake: result, meta: this.metadataFor(objectId) });
    this.#connectOks.set(reg, { serializer, result, payload });
    return payload;
  }

  readonly #connectOks = new WeakMap<
    Registration,
    { serializer: Serializer; result: unknown; payload: Uint8Array }
  >();

  #sendError(
    to: ReplyTo,
    serializer: Serializer,
    ctx: InvokeContext,
    err: unknown,
    flags: number,
    annotations?: Map<string, Uint8Array>,
    traceback?: string[] | null,
  ): void {
    const error = err instanceof Error ? err : new PyroError(String(err));
    const dict = exceptionToDict(
      error,
      traceback === undefined ? this.#traceback(error) : traceback,
      this.registry,
    );
    if (traceback === null) (dict.attributes as Record<string, unknown>)._pyroTraceback = null;
    let payload: Uint8Array;
    try {
      payload = serializer.dumps(dict);
    } catch (e) {
      payload = serializer.dumps(exceptionToDict(
        new PyroError(
          `Error serializing exception: ${
            (e as Error).message
          }. Original exception: ${error.name}: ${error.message}`,
        ),
        this.#traceback(error),
      ));
    }
    const ann = this.annotations(ctx);
    if (annotations) { for (const [k, v] of annotations) ann.set(k, v); }
    this.#reply(
      to,
      MessageType.RESULT,
      serializer.id,
      flags | Flags.EXCEPTION,
      ctx.seq,
      ctx.replyCorrelationId,
      payload,
      ann,
    );
  }

  /** The response annotations of a call: a shared empty map when there are none (never written). */
  #replyAnnotations(ctx: InvokeContext): ReadonlyMap<string, Uint8Array> {
    if (!this.#options.annotations && !ctx.hasResponseAnnotations) return NO_ANNOTATIONS;
    return this.annotations(ctx);
  }

  #invoke(
    session: SessionImpl,
    msg: Message,
    to: ReplyTo,
  ): Promise<void> | undefined {
    let serializer: Serializer;
    try {
      serializer = this.#serializer(msg.serializerId);
    } catch {
      throw new ProtocolError(`unknown serializer id ${msg.serializerId}`);
    }
    const oneway = (msg.flags & Flags.ONEWAY) !== 0;
    const ctx = new InvokeContext(msg, session);
    let call: CallMessage;
    try {
      if (msg.flags & Flags.KEEPSERIALIZED) call = blobCall(msg, serializer.id);
      else {
        call = serializer.loadsCall(msg.payload);
        // a large body that the call holds no view of: its memory goes back for reuse
        giveBackDecoded(msg, serializer.loadsCopies);
      }
    } catch (e) {
      if (!oneway) {
        this.#sendError(
          to,
          serializer,
          ctx,
          e instanceof SerializeError ? e : new SerializeError(String((e as Error).message ?? e)),
          0,
        );
      }
      return undefined;
    }
    try {
      const reg = this.#objects.get(call.objectId);
      if (!reg) throw new DaemonError("unknown object");
      const target = reg.isClass ? this.#instance(reg, session) : reg.object;
      if (msg.flags & Flags.BATCH) {
        return this.#batch(session, msg, to, serializer, ctx, reg, target, call);
      }
      let result: unknown;
      if (call.method === "__getattr__") {
        result = callWithContext(
          ctx,
          () => this.#getAttr(reg, target, String(call.args[0])),
          undefined,
          [],
        );
      } else if (call.method === "__setattr__") {
        result = callWithContext(
          ctx,
          () => this.#setAttr(reg, target, String(call.args[0]), call.args[1]),
          undefined,
          [],
        );
      } else if (oneway) {
        const p = Promise.resolve().then(() =>
          this.#call(ctx, reg, target, call.method, call.args, call.kwargs)
        );
        this.#track(p.catch((e) => this.#logger.warn(`oneway call ${call.method} failed`, e)));
        return undefined;
      } else {
        result = this.#call(ctx, reg, target, call.method, call.args, call.kwargs);
        if (isThenable(result)) {
          return this.#respondLater(session, msg, to, serializer, ctx, result);
        }
      }
      if (!oneway) this.#respond(session, msg, to, serializer, ctx, result);
    } catch (e) {
      if (!oneway) this.#sendError(to, serializer, ctx, e, 0);
    }
    return undefined;
  }

  async #respondLater(
    session: SessionImpl,
    msg: Message,
    to: ReplyTo,
    serializer: Serializer,
    ctx: InvokeContext,
    pending: PromiseLike<unknown>,
  ): Promise<void> {
    try {
      this.#respond(session, msg, to, serializer, ctx, await pending);
    } catch (e) {
      this.#sendError(to, serializer, ctx, e, 0);
    }
  }

  /** Sends a call's result (or, for an iterator, the stream id). */
  #respond(
    session: SessionImpl,
    msg: Message,
    to: ReplyTo,
    serializer: Serializer,
    ctx: InvokeContext,
    result: unknown,
  ): void {
    if (this.config.ITER_STREAMING && isStreamable(result)) {
      const id = this.#streams.open(session, result);
      this.#sendError(
        to,
        serializer,
        ctx,
        new ProtocolError("result of call is an iterator"),
        Flags.ITEMSTREAMRESULT,
        new Map([["STRM", new TextEncoder().encode(id)]]),
        null,
      );
      return;
    }
    const value = this.#autoproxy(result);
    const payload = serializer.dumpsParts ? serializer.dumpsParts(value) : serializer.dumps(value);
    this.#reply(
      to,
      MessageType.RESULT,
      serializer.id,
      0,
      msg.seq,
      ctx.replyCorrelationId,
      payload,
      this.#replyAnnotations(ctx),
    );
  }

  async #batch(
    _session: SessionImpl,
    msg: Message,
    to: ReplyTo,
    serializer: Serializer,
    ctx: InvokeContext,
    reg: Registration,
    target: unknown,
    call: CallMessage,
  ): Promise<void> {
    const oneway = (msg.flags & Flags.ONEWAY) !== 0;
    try {
      const results: unknown[] = [];
      const calls = Array.isArray(call.args) ? call.args : [];
      for (const c of calls) {
        const [method, vargs, kwargs] = Array.isArray(c) ? c : [];
        try {
          let r = this.#call(ctx, reg, target, String(method), vargs ?? [], kwargs ?? null);
          if (isThenable(r)) r = await r; // plain methods stay synchronous: no microtask per item
          results.push(this.#autoproxy(r));
        } catch (e) {
          const err = e instanceof Error ? e : new PyroError(String(e));
          (err as { remoteTraceback?: string[] }).remoteTraceback ??= this.#traceback(err);
          results.push(new ExceptionWrapper(err));
          break;
        }
      }
      if (oneway) return;
      this.#reply(
        to,
        MessageType.RESULT,
        serializer.id,
        Flags.BATCH,
        msg.seq,
        ctx.replyCorrelationId,
        serializer.dumps(results),
        this.#replyAnnotations(ctx),
      );
    } catch (e) {
      if (!oneway) this.#sendError(to, serializer, ctx, e, 0);
    }
  }

  #traceback(err: Error): string[] {
    const r = (err as { remoteTraceback?: unknown }).remoteTraceback;
    if (Array.isArray(r)) return r.map(String);
    return formatTraceback(err, undefined);
  }

  #instance(reg: Registration, session: SessionImpl): unknown {
    const cls = reg.object as new () => unknown;
    const { instanceMode, instanceCreator } = behaviorOf(cls);
    const make = () => {
      const obj = instanceCreator ? instanceCreator(cls) : new cls();
      if (!(obj instanceof cls)) {
        throw new TypeError("instance creator returned object of different type");
      }
      return obj;
    };
    if (instanceMode === "percall") return make();
    const store = instanceMode === "single" ? this.#singletons : session.instances;
    let obj = store.get(cls);
    if (obj === undefined) store.set(cls, obj = make());
    return obj;
  }

  readonly #singletons = new Map<unknown, unknown>();

  #call(
    ctx: CallContext,
    reg: Registration,
    target: unknown,
    method: string,
    args: unknown,
    kwargs: unknown,
  ): unknown {
    // exposed sets never hold private names: only a miss needs the private-name check
    if (!reg.members.methods.has(method)) {
      if (isPrivateName(method)) {
        throw attributeError(`attempt to access private attribute '${method}'`);
      }
      const name = (target as { constructor?: { name?: string } })?.constructor?.name ?? "object";
      const exists = target !== null && typeof target === "object" && method in (target as object);
      throw attributeError(
        exists
          ? `attempt to access unexposed attribute '${method}'`
          : `'${name}' object has no attribute '${method}'`,
      );
    }
    const fn = (target as Record<string, unknown>)[method];
    if (typeof fn !== "function") throw attributeError(`'${method}' is not callable`);
    const positional = Array.isArray(args) ? args : [];
    const kw = kwargs !== null && typeof kwargs === "object" && !Array.isArray(kwargs)
      ? kwargs as Record<string, unknown>
      : null;
    const bound = bindArguments(fn as (...a: never[]) => unknown, method, positional, kw);
    return callWithContext(ctx, fn as (...a: unknown[]) => unknown, target, bound);
  }

  #getAttr(reg: Registration, target: unknown, name: string): unknown {
    if (isPrivateName(name) || !reg.members.attrs.has(name)) {
      throw attributeError(`attempt to access unexposed or unknown remote attribute '${name}'`);
    }
    return (target as Record<string, unknown>)[name];
  }

  #setAttr(reg: Registration, target: unknown, name: string, value: unknown): null {
    if (isPrivateName(name) || !reg.members.attrs.has(name)) {
      throw attributeError(`attempt to access unexposed or unknown remote attribute '${name}'`);
    }
    (target as Record<string, unknown>)[name] = value;
    return null;
  }

  /** @internal */
  async nextStreamItem(streamId: string): Promise<unknown> {
    const session = (currentContext()?.client as SessionImpl | undefined) ?? null;
    return this.#autoproxy(await this.#streams.next(streamId, session));
  }

  /** @internal */
  closeStreamById(streamId: string): void {
    this.#streams.close(streamId);
  }

  /**
   * The number of open item streams.
   *
   * @returns The count.
   */
  get streamCount(): number {
    return this.#streams.size;
  }

  /** Drops item streams past their lifetime or linger time; runs every second while streams exist. */
  housekeeping(): void {
    this.#streams.housekeeping();
  }

  /**
   * Stops accepting, closes every client connection after in-flight calls
   * finish, and frees the socket.
   *
   * @returns Resolves when everything is closed.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener?.close();
    for (const r of this.#connectionSlots.splice(0)) r();
    if (this.#inFlight > 0) await new Promise<void>((r) => this.#idle.push(r));
    // replies already made still go out (e.g. the answer to the call that asked for the close)
    for (const s of [...this.#sessions]) s.finish(true);
    if (this.#connections > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => this.#drained.push(r)),
        new Promise<void>((r) => timer = setTimeout(r, CLOSE_FLUSH_MS)),
      ]);
      clearTimeout(timer);
    }
    this.#streams.closeAll();
    await this.#serving?.catch(() => {});
    if (this.#options.unixSocket && !this.#options.listener) {
      await removeFile(this.#options.unixSocket);
    }
  }

  /** Closes the daemon (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

const PONG = new TextEncoder().encode("pong");

/** A call of the session ended: a call waiting for a free slot may start. */
function callDone(session: SessionImpl): void {
  session.inFlight--;
  if (session.waiting.length) session.waiting.shift()!();
}
type InternalSession = DaemonSession & {
  [RECEIVE_NOW](msg: Message): Promise<void> | undefined;
  finish(graceful?: boolean): void;
};
/** Where a session's replies go. */
interface ReplyTo {
  reply(bytes: Uint8Array): void;
}
/** How long a closing daemon waits for replies already made to be written. */
const CLOSE_FLUSH_MS = 1000;
const NO_ANNOTATIONS: ReadonlyMap<string, Uint8Array> = new Map();

/** The context of one INVOKE; its response annotations map is made on first use. */
class InvokeContext implements CallContext {
  annotations: ReadonlyMap<string, Uint8Array>;
  seq: number;
  serializerId: number;
  flags: number;
  client: ClientSession | null;
  #response: Map<string, Uint8Array> | undefined;
  /** The call's id; undefined until one is asked for, when the request came without one. */
  #correlationId: Uint8Array | null | undefined;

  constructor(msg: Message, client: ClientSession) {
    this.#correlationId = msg.correlationId ?? undefined;
    this.annotations = msg.annotations;
    this.seq = msg.seq;
    this.serializerId = msg.serializerId;
    this.flags = msg.flags;
    this.client = client;
  }

  /** The request's correlation id, or (as Pyro5 makes one) a new random one for this call. */
  get correlationId(): Uint8Array | null {
    if (this.#correlationId === undefined) this.#correlationId = randomUuidBytes();
    return this.#correlationId;
  }

  set correlationId(value: Uint8Array | null) {
    this.#correlationId = value;
  }

  /** The id the reply carries: this call's, or null for a new random one (see `#reply`). */
  get replyCorrelationId(): Uint8Array | null {
    return this.#correlationId ?? null;
  }

  get responseAnnotations(): Map<string, Uint8Array> {
    return this.#response ??= new Map();
  }

  set responseAnnotations(value: Map<string, Uint8Array>) {
    this.#response = value;
  }

  get hasResponseAnnotations(): boolean {
    return this.#response !== undefined && this.#response.size > 0;
  }
}

/**
 * A blob call (flag KEEPSERIALIZED): the target is in the `BLBI` annotation,
 * `marshal((info, objectId, method))`, and the payload stays serialized; the
 * method gets it as its only argument, a SerializedBlob.
 */
function blobCall(msg: Message, serializerId: number): CallMessage {
  const blbi = msg.annotations.get("BLBI");
  if (!blbi) throw new SerializeError("Cannot decode blob call: the BLBI annotation is missing");
  const info = serializerFor("marshal").loads(blbi);
  if (!Array.isArray(info) || info.length !== 3) {
    throw new SerializeError("Cannot decode blob call: BLBI is not (info, objectId, method)");
  }
  const [blobInfo, objectId, method] = info;
  if (typeof objectId !== "string" || typeof method !== "string") {
    throw new SerializeError("Cannot decode blob call: the object id and method must be strings");
  }
  return {
    objectId,
    method,
    args: [SerializedBlob.fromPayload(blobInfo, msg.payload, serializerId)],
    kwargs: {},
  };
}

/** Which daemon each registered object belongs to, for autoproxy in any serializer. */
const REGISTERED = new WeakMap<object, Daemon>();

function autoproxyHook(value: object): Record<string, unknown> | undefined {
  const daemon = REGISTERED.get(value);
  return daemon ? daemon.proxyStateFor(value)[TO_PYRO_DICT]() : undefined;
}

// Registered objects passed as call arguments (callbacks) travel as proxies too.
DEFAULT_REGISTRY.setObjectHook(autoproxyHook);

/** Options of {@linkcode serve}. */
export interface ServeObjectsOptions extends DaemonOptions {
  /** A daemon to use instead of a new one. */
  daemon?: Daemon;
  /** Stops serving when aborted. */
  signal?: AbortSignal;
  /** Called with each registered object's id and URI before serving. */
  onRegistered?: (id: string, uri: PyroUri) => void;
}

/**
 * Registers objects and serves them until `signal` aborts: Pyro5's
 * `serve()` (`serveSimple`), without the name server registration (do
 * that with the name server's proxy).
 *
 * @param objects Objects by id.
 * @param options Daemon options, an abort signal and a registration callback.
 * @returns Resolves when serving has stopped.
 */
export async function serve(
  objects: Record<string, unknown>,
  options: ServeObjectsOptions = {},
): Promise<void> {
  const daemon = options.daemon ?? new Daemon(options);
  for (const [id, obj] of Object.entries(objects)) {
    const uri = daemon.register(obj, id);
    options.onRegistered?.(id, uri);
  }
  await daemon.serve({ signal: options.signal });
}
