/**
 * Finding a name server (`locateNs`) and resolving `PYRONAME:`/`PYROMETA:`
 * URIs through it (`resolve`).
 *
 * @module
 */

import { broadcastLocate } from "./_ns_broadcast.ts";
import { type NameServer, NAMESERVER_NAME, type NameServerProxy } from "./_ns_object.ts";
import { pySetRepr } from "./_ns_util.ts";
import { controlOf, PyroProxy } from "./client.ts";
import { makeConfig, type PyroConfig } from "./config.ts";
import { NamingError, PyroError } from "./errors.ts";
import { PyroUri } from "./uri.ts";

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

async function bound(
  uri: string,
  options: LocateNsOptions,
  config: PyroConfig,
): Promise<NameServerProxy> {
  const proxy = new PyroProxy(uri, {
    config,
    serializer: options.serializer,
    timeout: options.timeout,
  });
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
        return await bound(
          `PYRO:${NAMESERVER_NAME}@${h}:${port || config.NS_PORT}`,
          options,
          config,
        );
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
export async function resolve(
  uri: string | PyroUri,
  options: ResolveOptions = {},
): Promise<PyroUri> {
  const config = makeConfig(options.config);
  const u = uri instanceof PyroUri
    ? uri
    : typeof uri === "string"
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
      throw new NamingError(
        `no registrations available with desired metadata properties ${pySetRepr(u.metaTags)}`,
      );
    }
    throw new PyroError("invalid uri protocol");
  } finally {
    controlOf(ns).release();
  }
}
