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

import { AutoCleaner, type AutoCleanOptions } from "./_ns_autoclean.ts";
import { BroadcastServer } from "./_ns_broadcast.ts";
import { NameServer, NAMESERVER_METADATA, NAMESERVER_NAME, valueError } from "./_ns_object.ts";
import { resolve } from "./_ns_locate.ts";
import { type NameServerStorage, storageFromSpec } from "./_ns_storage.ts";
import { setUriResolver } from "./client.ts";
import { makeConfig, type PyroConfig } from "./config.ts";
import { Daemon, type DaemonOptions, type Logger } from "./server.ts";
import type { PyroUri } from "./uri.ts";

export { NameServer, NAMESERVER_METADATA, NAMESERVER_NAME } from "./_ns_object.ts";
export type { Metadata, NameServerApi, NameServerProxy, UriWithMetadata } from "./_ns_object.ts";
export { locateNs, lookup, resolve } from "./_ns_locate.ts";
export type { LocateNsOptions, ResolveOptions } from "./_ns_locate.ts";
export { MemoryStorage, SqlStorage, storageFromSpec } from "./_ns_storage.ts";
export type { NameServerStorage, StorageEntry } from "./_ns_storage.ts";
export { broadcastLocate, BroadcastServer, GET_NSURI } from "./_ns_broadcast.ts";
export type { BroadcastLocateOptions, BroadcastServerOptions } from "./_ns_broadcast.ts";
export { AutoCleaner } from "./_ns_autoclean.ts";
// the types this module's API mentions (and theirs), so that its documentation is complete on its own
export type { Remote, RemoteCall, RemoteMethod } from "./client.ts";
export type { PyroConfig } from "./config.ts";
export type {
  CallContext,
  ClientSession,
  Daemon,
  DaemonOptions,
  DaemonSession,
  ExposedMembers,
  ExposeOptions,
  Logger,
  ProxyRef,
  RegisterOptions,
  ServeOptions,
} from "./server.ts";
export type { Connection, Listener } from "./transport/types.ts";
export type { Message } from "./protocol/message.ts";
export type {
  AnyConstructor,
  ClassRegistry,
  ClassToDict,
  DictToClass,
  ProxyState,
} from "./serializers/registry.ts";
export type { PyroUri, UriProtocol, UriState } from "./uri.ts";
export type { AutoCleanOptions } from "./_ns_autoclean.ts";

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
    const spec = typeof options.storage === "object" ? null : options.storage || "memory";
    if (spec !== null && spec !== "memory" && !(spec.startsWith("sql:") && spec.length > 4)) {
      throw valueError(`invalid storage type '${spec}'`);
    }
    super({
      ...options,
      host: options.unixSocket ? options.host : options.host ?? config.HOST,
      port: options.port ?? config.NS_PORT,
    });
    let storage: NameServerStorage;
    try {
      storage = spec === null ? options.storage as NameServerStorage : storageFromSpec(spec);
    } catch (e) {
      void super.close(); // frees the socket at once
      throw e;
    }
    this.nameserver = new NameServer(storage);
    this.register(this.nameserver, NAMESERVER_NAME);
    this.nameserver.register(
      NAMESERVER_NAME,
      this.uriFor(this.nameserver),
      false,
      NAMESERVER_METADATA,
    );
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
  /**
   * Host name or address to bind to.
   *
   * @default {config.HOST}
   */
  host?: string;
  /**
   * Port to bind to; 0 picks a free one.
   *
   * @default {config.NS_PORT (9090)}
   */
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
  /**
   * Address the broadcast responder binds to; empty for all interfaces.
   *
   * @default {config.NS_BCHOST}
   */
  bchost?: string | null;
  /**
   * UDP port of the broadcast responder; 0 picks a free one.
   *
   * @default {config.NS_BCPORT (9091)}
   */
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
      if (hostIp.includes(":")) skipped = "ipv6"; // IPv6 has no broadcast
      else if (hostIp.startsWith("127.") || hostIp === "localhost") skipped = "localhost";
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

setUriResolver((uri, { config, signal }) => resolve(uri, { config, signal }));
