/**
 * The Pyro name server: a flat name space from logical names to URIs, wire
 * compatible with Pyro5's (`Pyro5.nameserver`). Tyro clients find it with
 * {@linkcode locateNs}, and proxies for `PYRONAME:`/`PYROMETA:` URIs use it
 * through {@linkcode resolve} once this module is imported.
 *
 * ```ts ignore
 * import { locateNs } from "@tyro/tyro/nameserver";
 * import { connect } from "@tyro/tyro/client";
 *
 * const ns = await locateNs();                 // broadcast, then localhost:9090
 * console.log(await ns.list());                // { "Pyro.NameServer": "PYRO:...", ... }
 * await using echo = await connect("PYRONAME:test.echoserver");
 * console.log(await echo.echo("hello"));
 * ```
 *
 * Start one with {@linkcode startNs} (or `deno task ns`):
 *
 * ```ts ignore
 * import { startNs } from "@tyro/tyro/nameserver";
 *
 * await using ns = await startNs({ host: "0.0.0.0", port: 9090, storage: "sql:names.sqlite" });
 * console.log(ns.uri.toString());
 * await ns.served;
 * ```
 *
 * @module
 */

import { type AutoCleanOptions, AutoCleaner } from "./_ns_autoclean.ts";
import { BroadcastServer, broadcastLocate } from "./_ns_broadcast.ts";
import { type NameServerStorage, storageFromSpec } from "./_ns_storage.ts";
import { compilePyRegex, pyReMatch, pySetRepr, pyTruthy, pyTypeName } from "./_ns_util.ts";
import { controlOf, PyroProxy, type Remote, setUriResolver } from "./client.ts";
import { makeConfig, type PyroConfig } from "./config.ts";
import { NamingError, PyroError } from "./errors.ts";
import { Daemon, type DaemonOptions, expose, type Logger } from "./server.ts";
import { tuple } from "./serializers/types.ts";
import { PyroUri } from "./uri.ts";

export { MemoryStorage, SqlStorage, storageFromSpec } from "./_ns_storage.ts";
export type { NameServerStorage, StorageEntry } from "./_ns_storage.ts";
export { BroadcastServer, broadcastLocate, GET_NSURI } from "./_ns_broadcast.ts";
export type { BroadcastLocateOptions, BroadcastServerOptions } from "./_ns_broadcast.ts";
export { AutoCleaner } from "./_ns_autoclean.ts";
export type { AutoCleanOptions } from "./_ns_autoclean.ts";

/** The object id (and registered name) of the name server: `Pyro.NameServer`. */
export const NAMESERVER_NAME = "Pyro.NameServer";

/** The metadata the name server registers itself with. */
export const NAMESERVER_METADATA: ReadonlySet<string> = Object.freeze(
  new Set(["class:Pyro5.nameserver.NameServer"]),
) as ReadonlySet<string>;

/** Metadata tags as they arrive: a Set (serpent, marshal) or a list (json, msgpack). */
export type Metadata = ReadonlySet<string> | readonly string[];

/** A registration with its metadata: `(uri, metadata)`. */
export type UriWithMetadata<U> = readonly [uri: U, metadata: Metadata];

/**
 * The name server's remote interface, with Pyro5's method names and
 * parameters (call positionally: `list(null, null, true)`).
 */
export interface NameServerApi {
  /** The number of registrations. */
  count(): number;
  /** The URI registered under `name`, or `[uri, metadata]` with `return_metadata`. */
  lookup(name: string, return_metadata?: boolean): PyroUri | UriWithMetadata<PyroUri>;
  /** Registers `name`; with `safe`, an existing name is an error. */
  register(name: string, uri: string | PyroUri, safe?: boolean, metadata?: Iterable<string> | null): null;
  /** Replaces the metadata of a registration. */
  set_metadata(name: string, metadata: Iterable<string> | null): null;
  /** Removes by name, prefix or regex; returns how many were removed. */
  remove(name?: string | null, prefix?: string | null, regex?: string | null): number;
  /** Name to URI text (or `[uri, metadata]`), optionally filtered by prefix or regex. */
  list(
    prefix?: string | null,
    regex?: string | null,
    return_metadata?: boolean,
  ): Record<string, string | UriWithMetadata<string>>;
  /** Registrations that carry all (`meta_all`) or any (`meta_any`) of the tags. */
  yplookup(
    meta_all?: Iterable<string> | null,
    meta_any?: Iterable<string> | null,
    return_metadata?: boolean,
  ): Record<string, string | UriWithMetadata<string>>;
  /** Does nothing; checks that the name server answers. */
  ping(): null;
}

/** A proxy for a name server, as {@linkcode locateNs} returns it. */
export type NameServerProxy = Remote<NameServerApi>;

function valueError(message: string): RangeError {
  const e = new RangeError(message);
  e.name = "ValueError";
  return e;
}

function tagSet(value: unknown, what: string): Set<string> | null {
  if (!pyTruthy(value)) return null;
  if (typeof value === "string") {
    throw new TypeError(`${what} should not be a str, but another iterable (set, list, etc)`);
  }
  if (value === null || typeof value !== "object" || typeof (value as Iterable<unknown>)[Symbol.iterator] !== "function") {
    throw new TypeError(`'${pyTypeName(value)}' object is not iterable`);
  }
  const tags = new Set<string>();
  for (const t of value as Iterable<unknown>) {
    if (typeof t !== "string") throw new TypeError(`metadata items must be str, not ${pyTypeName(t)}`);
    tags.add(t);
  }
  return tags;
}

function dict<V>(entries: Iterable<[string, V]>): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
  return out;
}

/**
 * The name server object, registered in a daemon as `Pyro.NameServer`. Its
 * methods are Pyro5's, with the same arguments, results and errors; they
 * are synchronous, so each call is atomic.
 *
 * @example Use a name server object directly
 * ```ts
 * import { NameServer } from "@tyro/tyro/nameserver";
 * import assert from "node:assert/strict";
 *
 * const ns = new NameServer();
 * ns.register("example.echo", "PYRO:echo@localhost:9999", false, ["role:echo"]);
 * assert.equal(ns.lookup("example.echo").toString(), "PYRO:echo@localhost:9999");
 * assert.deepEqual(Object.keys(ns.yplookup(["role:echo"])), ["example.echo"]);
 * ```
 */
export class NameServer implements NameServerApi {
  /** Where the registrations are kept. */
  readonly storage: NameServerStorage;

  /**
   * Creates a name server object.
   *
   * @param storage The storage; a new {@linkcode MemoryStorage} when omitted.
   */
  constructor(storage?: NameServerStorage) {
    this.storage = storage ?? storageFromSpec("memory");
  }

  /**
   * The number of registrations.
   *
   * @returns The count.
   */
  @expose
  count(): number {
    return this.storage.count();
  }

  /**
   * Looks a name up.
   *
   * @param name The name.
   * @param return_metadata Also return the metadata.
   * @returns The URI, or the tuple `(uri, metadata)`.
   * @throws {NamingError} `unknown name: <name>`.
   */
  @expose
  lookup(name: string, return_metadata = false): PyroUri | readonly [PyroUri, Set<string>] {
    const e = typeof name === "string" ? this.storage.get(name) : undefined;
    if (!e) throw new NamingError("unknown name: " + name);
    const uri = new PyroUri(e.uri);
    return pyTruthy(return_metadata) ? tuple(uri, e.metadata) : uri;
  }

  /**
   * Registers a name with a URI.
   *
   * @param name The name.
   * @param uri A URI or URI text.
   * @param safe Refuse to replace an existing registration.
   * @param metadata Metadata tags (a collection of strings), or null.
   * @returns null.
   * @throws {TypeError} For a URI or name of the wrong type, or metadata given as one string.
   * @throws {PyroError} For invalid URI text.
   * @throws {NamingError} `name already registered: <name>` when `safe`.
   */
  @expose
  register(name: string, uri: string | PyroUri, safe = false, metadata: Iterable<string> | null = null): null {
    let text: string;
    if (uri instanceof PyroUri) text = uri.toString();
    else if (typeof uri !== "string") throw new TypeError("only URIs or strings can be registered");
    else {
      new PyroUri(uri); // validates the text
      text = uri;
    }
    if (typeof name !== "string") throw new TypeError("name must be a str");
    const tags = tagSet(metadata, "metadata");
    if (pyTruthy(safe) && this.storage.has(name)) throw new NamingError("name already registered: " + name);
    this.storage.set(name, text, tags ?? []);
    return null;
  }

  /**
   * Replaces the metadata of an existing registration.
   *
   * @param name The name.
   * @param metadata The new tags; empty or null clears them.
   * @returns null.
   * @throws {NamingError} `unknown name: <name>`.
   */
  @expose
  set_metadata(name: string, metadata: Iterable<string> | null): null {
    if (typeof name !== "string") throw new TypeError("name must be a str");
    const tags = tagSet(metadata, "metadata");
    const e = this.storage.get(name);
    if (!e) throw new NamingError("unknown name: " + name);
    this.storage.set(name, e.uri, tags ?? []);
    return null;
  }

  /**
   * Removes a registration by name, or all matching a prefix or regex. The
   * name server's own registration is never removed.
   *
   * @param name The name.
   * @param prefix A name prefix.
   * @param regex A Python regular expression matched at the start of names.
   * @returns How many registrations were removed.
   */
  @expose
  remove(name: string | null = null, prefix: string | null = null, regex: string | null = null): number {
    if (pyTruthy(name) && typeof name === "string" && name !== NAMESERVER_NAME && this.storage.has(name)) {
      return this.storage.remove([name]);
    }
    if (pyTruthy(prefix) || pyTruthy(regex)) {
      const items = Object.keys(pyTruthy(prefix) ? this.list(prefix) : this.list(null, regex))
        .filter((n) => n !== NAMESERVER_NAME);
      this.storage.remove(items);
      return items.length;
    }
    return 0;
  }

  /**
   * The registrations as a dict of name to URI text, optionally filtered.
   *
   * @param prefix Only names starting with this.
   * @param regex Only names matching this Python regular expression at their start.
   * @param return_metadata Map names to `(uri, metadata)` instead.
   * @returns The registrations.
   * @throws {RangeError} (`ValueError`) when both prefix and regex are given.
   * @throws {NamingError} `invalid regex: ...`.
   */
  @expose
  list(
    prefix: string | null = null,
    regex: string | null = null,
    return_metadata = false,
  ): Record<string, string | readonly [string, Set<string>]> {
    if (pyTruthy(prefix) && pyTruthy(regex)) throw valueError("you can only filter on one thing at a time");
    let entries;
    if (pyTruthy(prefix)) {
      entries = [...this.storage.entries(String(prefix))];
    } else if (pyTruthy(regex)) {
      let re: RegExp;
      try {
        re = compilePyRegex(String(regex));
      } catch (e) {
        throw new NamingError("invalid regex: " + (e as Error).message);
      }
      entries = [...this.storage.entries()].filter(([n]) => pyReMatch(re, n));
    } else {
      entries = [...this.storage.entries()];
    }
    const withMeta = pyTruthy(return_metadata);
    return dict(entries.map(([n, e]) => [n, withMeta ? tuple(e.uri, e.metadata) : e.uri]));
  }

  /**
   * A yellow-pages lookup: registrations that carry all of `meta_all`, or
   * any of `meta_any`.
   *
   * @param meta_all Tags that must all be present.
   * @param meta_any Tags of which at least one must be present.
   * @param return_metadata Map names to `(uri, metadata)` (the default) instead of URI text.
   * @returns The matching registrations.
   * @throws {RangeError} (`ValueError`) when both are given.
   * @throws {TypeError} When tags are given as one string.
   */
  @expose
  yplookup(
    meta_all: Iterable<string> | null = null,
    meta_any: Iterable<string> | null = null,
    return_metadata = true,
  ): Record<string, string | readonly [string, Set<string>]> {
    if (pyTruthy(meta_all) && pyTruthy(meta_any)) {
      throw valueError("you can't use meta_all or meta_any at the same time");
    }
    let found;
    if (pyTruthy(meta_all)) {
      found = this.storage.searchMetadata(tagSet(meta_all, "metadata_all")!, undefined);
    } else if (pyTruthy(meta_any)) {
      found = this.storage.searchMetadata(undefined, tagSet(meta_any, "metadata_any")!);
    } else {
      return dict([]);
    }
    const withMeta = pyTruthy(return_metadata);
    return dict([...found].map(([n, e]) => [n, withMeta ? tuple(e.uri, e.metadata) : e.uri]));
  }

  /**
   * Does nothing: a call that shows the name server is running.
   *
   * @returns null.
   */
  @expose
  ping(): null {
    return null;
  }

  /**
   * Name to URI text of every registration (for the autocleaner).
   *
   * @returns The registrations.
   * @internal
   */
  entries(): Map<string, string> {
    return new Map([...this.storage.entries()].map(([n, e]) => [n, e.uri]));
  }

  /**
   * Removes `name` if it is still registered with `uri`.
   *
   * @param name The name.
   * @param uri The URI text it was seen with.
   * @returns True when removed.
   * @internal
   */
  removeIfUnchanged(name: string, uri: string): boolean {
    if (name === NAMESERVER_NAME || this.storage.get(name)?.uri !== uri) return false;
    return this.storage.remove([name]) > 0;
  }
}

/** Options of a {@linkcode NameServerDaemon}. */
export interface NameServerDaemonOptions extends DaemonOptions {
  /**
   * `memory`, `sql:FILE`, or a storage object.
   *
   * @default {"memory"}
   */
  storage?: string | NameServerStorage;
  /**
   * Autoclean settings; by default from `config.NS_AUTOCLEAN` (off when 0,
   * at least 3 seconds otherwise). `false` switches it off.
   */
  autoclean?: AutoCleanOptions | false;
}

/**
 * A daemon holding a {@linkcode NameServer} under `Pyro.NameServer`
 * (Pyro5's `NameServerDaemon`). It binds at once, by default on
 * `config.HOST` and `config.NS_PORT` (9090), and registers the name server
 * in itself with the metadata `class:Pyro5.nameserver.NameServer`.
 */
export class NameServerDaemon extends Daemon {
  /** The name server object. */
  readonly nameserver: NameServer;
  readonly #cleaner: AutoCleaner | null;

  /**
   * Creates the daemon and binds its socket.
   *
   * @param options Where to bind, the storage and autoclean settings.
   * @throws {RangeError} For an invalid storage name or too small NS_AUTOCLEAN.
   */
  constructor(options: NameServerDaemonOptions = {}) {
    const config = makeConfig(options.config);
    let auto = options.autoclean;
    if (auto === undefined && config.NS_AUTOCLEAN > 0) {
      if (config.NS_AUTOCLEAN < 3) throw valueError("NS_AUTOCLEAN cannot be smaller than 3");
      auto = { interval: config.NS_AUTOCLEAN, connectTimeout: config.COMMTIMEOUT || 5 };
    }
    const storage = typeof options.storage === "object" ? options.storage : storageFromSpec(options.storage);
    try {
      super({
        ...options,
        host: options.unixSocket ? options.host : options.host ?? config.HOST,
        port: options.port ?? config.NS_PORT,
      });
    } catch (e) {
      storage.close();
      throw e;
    }
    this.nameserver = new NameServer(storage);
    this.register(this.nameserver, NAMESERVER_NAME);
    this.nameserver.register(NAMESERVER_NAME, this.uriFor(this.nameserver), false, NAMESERVER_METADATA);
    this.#cleaner = auto ? new AutoCleaner(this.nameserver, auto, options.logger) : null;
    this.#cleaner?.start();
  }

  /**
   * Stops the autocleaner, closes the daemon and then the storage.
   *
   * @returns Resolves when closed.
   */
  override async close(): Promise<void> {
    await this.#cleaner?.stop();
    await super.close();
    this.nameserver.storage.close();
  }
}

/** Options of {@linkcode startNs}, as Pyro5's `start_ns` arguments. */
export interface StartNsOptions {
  /** @default {config.HOST} */
  host?: string;
  /** @default {config.NS_PORT (9090)}; 0 picks a free port */
  port?: number;
  /** Bind to a unix domain socket instead of TCP (no broadcast then). */
  unixSocket?: string;
  /**
   * `memory`, `sql:FILE` or a storage object.
   *
   * @default {"memory"}
   */
  storage?: string | NameServerStorage;
  /**
   * Start the broadcast responder (never for localhost, IPv6 or unix sockets).
   *
   * @default {true}
   */
  enableBroadcast?: boolean;
  /** @default {config.NS_BCHOST (all interfaces)} */
  bchost?: string | null;
  /** @default {config.NS_BCPORT (9091)}; 0 picks a free port */
  bcport?: number;
  /** External host name for NAT. */
  nathost?: string;
  /** External port for NAT. */
  natport?: number;
  /** Pyro5 configuration items. */
  config?: Partial<PyroConfig>;
  /** Where the daemon reports problems. */
  logger?: Logger;
  /** Autoclean settings (default from `config.NS_AUTOCLEAN`). */
  autoclean?: AutoCleanOptions | false;
  /**
   * Start serving at once (otherwise call `daemon.serve()` yourself).
   *
   * @default {true}
   */
  serve?: boolean;
  /** Stops the name server when aborted. */
  signal?: AbortSignal;
}

/** A running name server, as {@linkcode startNs} returns it. */
export interface NameServerHandle extends AsyncDisposable {
  /** The name server URI (the NAT one when there is NAT). */
  readonly uri: PyroUri;
  /** The URI on the bound address (what the broadcast responder answers). */
  readonly internalUri: PyroUri;
  /** The daemon. */
  readonly daemon: NameServerDaemon;
  /** The name server object. */
  readonly nameserver: NameServer;
  /** The broadcast responder, or null. */
  readonly broadcastServer: BroadcastServer | null;
  /** Why there is no broadcast responder: `localhost`, `ipv6`, `unixsocket`, `disabled`, or null. */
  readonly broadcastSkipped: "localhost" | "ipv6" | "unixsocket" | "disabled" | null;
  /** The bound IP address, or `Unix domain socket`. */
  readonly hostIp: string;
  /** Resolves when serving stops. */
  readonly served: Promise<void>;
  /**
   * Stops the broadcast responder and the daemon, and closes the storage.
   *
   * @returns Resolves when closed.
   */
  close(): Promise<void>;
}

/**
 * Starts a name server (Pyro5's `start_ns`): a {@linkcode NameServerDaemon}
 * plus, unless it is bound to localhost, IPv6 or a unix socket, a
 * {@linkcode BroadcastServer}.
 *
 * @param options Where to bind, storage, broadcast and NAT settings.
 * @returns The running name server.
 * @throws {RangeError} For an invalid storage name.
 *
 * @example Start a name server on a free port and use it
 * ```ts
 * import { locateNs, startNs } from "@tyro/tyro/nameserver";
 * import assert from "node:assert/strict";
 *
 * await using ns = await startNs({ host: "127.0.0.1", port: 0 });
 * const proxy = await locateNs("127.0.0.1", ns.uri.port!);
 * assert.equal(await proxy.count(), 1);
 * await proxy[Symbol.asyncDispose]();
 * ```
 */
export async function startNs(options: StartNsOptions = {}): Promise<NameServerHandle> {
  const config = makeConfig(options.config);
  const daemon = new NameServerDaemon({
    host: options.host,
    port: options.port,
    unixSocket: options.unixSocket,
    nathost: options.nathost,
    natport: options.natport,
    config: options.config,
    logger: options.logger,
    storage: options.storage,
    autoclean: options.autoclean,
  });
  const nameserver = daemon.nameserver;
  const uri = daemon.uriFor(nameserver);
  const internalUri = daemon.uriFor(nameserver, false);
  let broadcastServer: BroadcastServer | null = null;
  let skipped: NameServerHandle["broadcastSkipped"] = null;
  let hostIp = "Unix domain socket";
  try {
    if (options.unixSocket) {
      skipped = "unixsocket";
    } else {
      hostIp = (daemon.addr as { hostname: string }).hostname;
      if (hostIp.includes(":") && hostIp !== "::1") skipped = "ipv6";
      else if (hostIp.startsWith("127.") || hostIp === "localhost" || hostIp === "::1") skipped = "localhost";
      else if (options.enableBroadcast === false) skipped = "disabled";
      else {
        broadcastServer = await BroadcastServer.create(internalUri, {
          bchost: options.bchost ?? config.NS_BCHOST,
          bcport: options.bcport ?? config.NS_BCPORT,
          onError: (e) => options.logger?.warn("broadcast responder", e),
        });
      }
    }
  } catch (e) {
    await daemon.close();
    throw e;
  }
  let closing: Promise<void> | null = null;
  const close = () =>
    closing ??= (async () => {
      broadcastServer?.close();
      await daemon.close();
    })();
  let served: Promise<void> = Promise.resolve();
  if (options.serve !== false) {
    served = daemon.serve({ signal: options.signal });
    served.then(() => close(), () => close());
  } else if (options.signal) {
    options.signal.addEventListener("abort", () => close(), { once: true });
  }
  return {
    uri,
    internalUri,
    daemon,
    nameserver,
    broadcastServer,
    broadcastSkipped: skipped,
    hostIp,
    served,
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Options of {@linkcode locateNs}. */
export interface LocateNsOptions {
  /**
   * Try broadcast discovery when no host is given.
   *
   * @default {true}
   */
  broadcast?: boolean;
  /** Pyro5 configuration items (NS_HOST, NS_PORT, NS_BCPORT, BROADCAST_ADDRS, SERIALIZER, ...). */
  config?: Partial<PyroConfig>;
  /** The serializer of the returned proxy. */
  serializer?: string;
  /** Milliseconds each connection attempt may take. */
  timeout?: number;
  /** Aborts the search. */
  signal?: AbortSignal;
}

async function bound(uri: string, options: LocateNsOptions, config: PyroConfig): Promise<NameServerProxy> {
  const proxy = new PyroProxy(uri, { config, serializer: options.serializer, timeout: options.timeout });
  try {
    await proxy.bind({ signal: options.signal, timeout: options.timeout });
  } catch (e) {
    proxy.release();
    throw e;
  }
  return proxy.remote as unknown as NameServerProxy;
}

/**
 * Finds a name server and returns a connected proxy for it (Pyro5's
 * `locate_ns`). Without a host: when NS_HOST is a loopback name, that host
 * is tried first on `port` (or NS_PORT); then a broadcast on `port` (or
 * NS_BCPORT) to every BROADCAST_ADDRS address; then NS_HOST:NS_PORT. With a
 * host (or `./u:path` for a unix socket) only that address is tried.
 *
 * @param host Host name, IP address or `./u:path`; empty to search.
 * @param port The name server port (without a host: the broadcast port).
 * @param options Broadcast, configuration and proxy options.
 * @returns A connected name server proxy; dispose it (or `controlOf(ns).release()`) when done.
 * @throws {NamingError} `Failed to locate the nameserver`.
 *
 * @example Find the name server on this host
 * ```ts ignore
 * import { locateNs } from "@tyro/tyro/nameserver";
 *
 * await using ns = await locateNs();
 * console.log(await ns.list());
 * ```
 */
export async function locateNs(
  host?: string | null,
  port?: number | null,
  options: LocateNsOptions = {},
): Promise<NameServerProxy> {
  const config = makeConfig(options.config);
  if (!host) {
    const nsHost = config.NS_HOST;
    if (nsHost === "localhost" || nsHost === "::1" || nsHost.startsWith("127.")) {
      const h = nsHost.includes(":") ? `[${nsHost}]` : nsHost;
      try {
        return await bound(`PYRO:${NAMESERVER_NAME}@${h}:${port || config.NS_PORT}`, options, config);
      } catch (e) {
        if (options.signal?.aborted) throw e;
      }
    }
    if ((options.broadcast ?? true) && config.PREFER_IP_VERSION !== 6) {
      const text = await broadcastLocate(port || config.NS_BCPORT, {
        addresses: config.BROADCAST_ADDRS,
        signal: options.signal,
      });
      if (text) {
        try {
          return await bound(text, options, config);
        } catch (e) {
          if (options.signal?.aborted) throw e;
        }
      }
    }
    host = config.NS_HOST;
    port = config.NS_PORT;
  }
  port = port || config.NS_PORT;
  let uri: string;
  if (host.startsWith("./u:")) uri = `PYRO:${NAMESERVER_NAME}@${host}`;
  else {
    const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
    uri = `PYRO:${NAMESERVER_NAME}@${h}:${port}`;
  }
  try {
    return await bound(uri, options, config);
  } catch (e) {
    if (options.signal?.aborted) throw e;
    throw new NamingError("Failed to locate the nameserver", { cause: e });
  }
}

/** Options of {@linkcode resolve} and {@linkcode lookup}. */
export interface ResolveOptions {
  /** Pyro5 configuration items (NS_* items, SERIALIZER, NS_LOOKUP_DELAY). */
  config?: Partial<PyroConfig>;
  /**
   * Milliseconds to keep retrying until the name is registered.
   *
   * @default {config.NS_LOOKUP_DELAY * 1000 (0)}
   */
  delayMs?: number;
  /** Aborts resolving. */
  signal?: AbortSignal;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

async function retrying<T>(
  delayMs: number,
  signal: AbortSignal | undefined,
  attempt: () => Promise<T>,
  accept: (r: T) => boolean = () => true,
): Promise<T> {
  const start = Date.now();
  while (Date.now() - start <= delayMs && !signal?.aborted) {
    try {
      const r = await attempt();
      if (accept(r)) return r;
    } catch (e) {
      if (!(e instanceof NamingError) && (e as Error)?.name !== "TimeoutError") throw e;
    }
    await sleep(Math.max(200, delayMs / 5), signal);
  }
  return await attempt();
}

/**
 * Looks a name up, retrying for up to `delayMs` until it is registered
 * (Pyro5's `nameserver.lookup` helper).
 *
 * @param ns A name server proxy (or object).
 * @param name The name.
 * @param options The retry time.
 * @returns The URI.
 * @throws {NamingError} `unknown name: <name>` when still unknown.
 */
export async function lookup(
  ns: Pick<NameServerProxy, "lookup"> | NameServer,
  name: string,
  options: ResolveOptions = {},
): Promise<PyroUri> {
  const delay = options.delayMs ?? makeConfig(options.config).NS_LOOKUP_DELAY * 1000;
  const r = await retrying(delay, options.signal, async () => await ns.lookup(name));
  return r instanceof PyroUri ? r : new PyroUri(String(r));
}

/**
 * Resolves a `PYRONAME:` or `PYROMETA:` URI into the direct `PYRO:` URI by
 * asking a name server (the one in the URI's location, or one found with
 * {@linkcode locateNs}). A `PYRO:` URI is returned as it is. For
 * `PYROMETA:`, one of the registrations carrying all the tags is picked at
 * random. Proxies call this for you.
 *
 * @param uri The URI.
 * @param options Configuration and retry time.
 * @returns The `PYRO:` URI.
 * @throws {NamingError} When the name is unknown, no registration has the tags, or no name server is found.
 *
 * @example Resolve a name
 * ```ts ignore
 * import { resolve } from "@tyro/tyro/nameserver";
 *
 * const uri = await resolve("PYRONAME:test.echoserver@localhost:9090");
 * console.log(uri.toString()); // PYRO:test.echoserver@localhost:9999
 * ```
 */
export async function resolve(uri: string | PyroUri, options: ResolveOptions = {}): Promise<PyroUri> {
  const config = makeConfig(options.config);
  const u = uri instanceof PyroUri ? uri : typeof uri === "string"
    ? new PyroUri(uri, config.NS_PORT)
    : (() => {
      throw new TypeError("can only resolve Pyro URIs");
    })();
  if (u.protocol === "PYRO") return u;
  const delayMs = options.delayMs ?? config.NS_LOOKUP_DELAY * 1000;
  const location = u.sockname ? "./u:" + u.sockname : u.host;
  const ns = await locateNs(location, u.port, { config, signal: options.signal });
  try {
    if (u.protocol === "PYRONAME") {
      return await lookup(ns, u.object, { delayMs, signal: options.signal });
    }
    if (u.protocol === "PYROMETA") {
      const found = await retrying(
        delayMs,
        options.signal,
        async () => await ns.yplookup([...u.metaTags], null, false),
        (r) => Object.keys(r).length > 0,
      );
      const candidates = Object.values(found);
      if (candidates.length) {
        const pick = candidates[Math.floor(Math.random() * candidates.length)];
        return new PyroUri(String(Array.isArray(pick) ? pick[0] : pick));
      }
      throw new NamingError(`no registrations available with desired metadata properties ${pySetRepr(u.metaTags)}`);
    }
    throw new PyroError("invalid uri protocol");
  } finally {
    controlOf(ns).release();
  }
}

setUriResolver((uri, { config, signal }) => resolve(uri, { config, signal }));
