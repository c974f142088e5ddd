/**
 * The HTTP gateway, as Pyro5's `Pyro5.utils.httpgateway`: a stateless
 * HTTP server that makes the objects in a name server callable with plain
 * HTTP and JSON, for browsers and other non-Pyro clients.
 *
 * `GET /pyro/<object name>/<method>?arg=value` looks the name up, calls
 * the method with the query parameters as keyword arguments (all strings;
 * a repeated parameter becomes a list) and answers with the JSON the
 * object's daemon produced (Pyro5's json serializer: `NaN`, `Infinity`,
 * big integers, bytes as base64 dicts). `<method>` may be an exposed
 * attribute, and `$meta` gives `{"methods": [...], "attributes": [...]}`.
 * An exception comes back as its JSON class dict with status 500. Only
 * names matching the expose regex (default `http\.`) are reachable.
 * `/pyro/` serves a page that lists the exposed objects and calls methods.
 *
 * Headers, as Pyro5: `X-Pyro-Gateway-Key` (or a `$key` parameter) when a
 * gateway key is set, `X-Pyro-Options: oneway`, and
 * `X-Pyro-Correlation-Id` (sent to the daemon and echoed in the response).
 *
 * {@linkcode createGatewayHandler} returns a fetch handler, for
 * `Deno.serve` or any server that speaks `Request`/`Response`. With the
 * `websocket` option it also accepts Pyro wire connections over
 * WebSocket (subprotocol `pyro5`) at `/pyro/ws`, for the Tyro client in a
 * browser.
 *
 * @example Serve the gateway
 * ```ts ignore
 * import { createGatewayHandler } from "@tyro/tyro/gateway";
 * import { locateNs } from "@tyro/tyro/nameserver";
 *
 * const handler = createGatewayHandler({ nameserver: await locateNs(), expose: "test\\." });
 * Deno.serve({ hostname: "localhost", port: 8080 }, handler);
 * // curl 'http://localhost:8080/pyro/test.echoserver/echo?message=hi'  ->  "hi"
 * ```
 *
 * @module
 */

import { controlOf, PyroProxy } from "./client.ts";
import type { PyroConfig } from "./config.ts";
import { CommunicationError } from "./errors.ts";
import { locateNs } from "./nameserver.ts";
import { Flags } from "./protocol/constants.ts";
import { exceptionToDict } from "./serializers/registry.ts";
import type { Connection } from "./transport/types.ts";
import { isWebSocketUpgrade, upgradeToConnection } from "./transport/websocket.ts";
import type { Logger } from "./server.ts";
import { PyroUri, type UriProtocol, type UriState } from "./uri.ts";
import { type PageEntry, renderPage } from "./_gateway_page.ts";
import {
  assertionError,
  JSON_SERIALIZER,
  parseQuery,
  parseUuid,
  pyJsonDumps,
  pythonRegex,
  randomUuid,
  RawReply,
  type RawSerializer,
  rawSerializer,
  sameKey,
  setOwn,
  splitTarget,
  unquote,
  withTimeout,
} from "./_gateway_util.ts";

export { pythonRegex };

export type { Connection, Logger, PyroConfig, PyroUri, UriProtocol, UriState };

/** The expose regex Pyro5's gateway uses by default: names starting with `http.`. */
export const DEFAULT_EXPOSE = "http\\.";

/** Where the gateway accepts WebSocket connections by default. */
export const DEFAULT_WEBSOCKET_PATH = "/pyro/ws";

/**
 * What the gateway needs of a name server: a Tyro name server proxy (as
 * {@linkcode locateNs} returns), a Pyro5 one, or a local `NameServer`.
 */
export interface GatewayNameServer {
  /**
   * Looks a name up.
   *
   * @param name The registered name.
   * @returns Its URI (a `PyroUri` or URI text), or a promise of it.
   */
  lookup(name: string): unknown;
  /**
   * Lists registrations.
   *
   * @param prefix Only names with this prefix, or null.
   * @param regex Only names matching this regex, or null.
   * @returns Name to URI, or a promise of it.
   */
  list(prefix?: string | null, regex?: string | null): unknown;
}

/** Something that serves Pyro wire connections, such as a `Daemon`. */
export interface WireConnectionHandler {
  /**
   * Serves one connection until it closes.
   *
   * @param conn The connection.
   * @param info The peer's address.
   * @returns Anything (a promise is awaited for errors only).
   */
  handleConnection(conn: Connection, info?: { remoteAddr?: unknown }): unknown;
}

/** Options of {@linkcode createGatewayHandler}, as Pyro5's gateway settings. */
export interface GatewayOptions {
  /**
   * The name server: a proxy (or name server object), or a function that
   * returns one for each request. Without it the gateway locates one with
   * {@linkcode locateNs} (`nsHost`, `nsPort`, `config`) and keeps it.
   */
  nameserver?: GatewayNameServer | (() => GatewayNameServer | Promise<GatewayNameServer>);
  /** Name server host for locating it (Pyro5 searches as `locate_ns()` does). */
  nsHost?: string;
  /** Name server port for locating it. */
  nsPort?: number;
  /**
   * A (Python-syntax) regex that object names must match from their
   * start to be reachable; empty exposes everything.
   *
   * @default {"http\\."}
   */
  expose?: string;
  /** When set, requests must carry it in `X-Pyro-Gateway-Key` or a `$key` parameter. */
  gatewayKey?: string;
  /**
   * Seconds a Pyro call (and connect) may take, Pyro5's COMMTIMEOUT; 0 for no limit.
   *
   * @default {config.COMMTIMEOUT (0)}
   */
  timeout?: number;
  /**
   * The `Access-Control-Allow-Origin` value sent with responses (the
   * command line gateway uses `*`).
   *
   * @default {""}
   */
  cors?: string;
  /** Pyro5 configuration items for the proxies and for locating the name server. */
  config?: Partial<PyroConfig>;
  /** Opens the byte connection of each object proxy (a transport of your choice). */
  connect?: (uri: PyroUri, signal?: AbortSignal) => Promise<Connection>;
  /**
   * Also take keyword arguments from a JSON object in a POST body
   * (`Content-Type: application/json`); body values win over query
   * parameters. Pyro5's gateway reads the query string only.
   *
   * @default {false}
   */
  jsonBody?: boolean;
  /** Accept Pyro wire connections over WebSocket at `websocketPath` and hand them to this (e.g. a Daemon). */
  websocket?: WireConnectionHandler;
  /**
   * The path of WebSocket connections.
   *
   * @default {"/pyro/ws"}
   */
  websocketPath?: string;
  /**
   * How many name server entries the index page lists.
   *
   * @default {10}
   */
  indexLimit?: number;
  /** Where request errors are reported (the gateway itself never prints). */
  logger?: Logger;
}

/** Connection details `Deno.serve` passes to a handler. */
export interface GatewayRequestInfo {
  /** The client's address. */
  remoteAddr?: unknown;
}

/** The gateway's fetch handler; `close()` releases the name server proxy it located. */
export interface GatewayHandler {
  /**
   * The name server the gateway uses, located now when needed.
   *
   * @returns The name server (proxy).
   * @throws {NamingError} When it cannot be located.
   */
  nameserver(): Promise<GatewayNameServer>;
  /**
   * Answers one HTTP request.
   *
   * @param req The request.
   * @param info The client's address (Deno.serve's second argument).
   * @returns The response.
   */
  (req: Request, info?: GatewayRequestInfo): Promise<Response>;
  /** Releases the name server proxy the gateway located itself. */
  close(): void;
}

const ONEWAY_OPTION = "oneway";
const JSON_TYPE = "application/json; charset=utf-8";
const STATUS_TEXT: Record<number, string> = {
  200: "OK",
  302: "Found",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  500: "Internal Server Error",
};

/**
 * Makes the gateway's fetch handler (Pyro5's `pyro_app`). It answers:
 * `/` with a redirect to `/pyro/`; `/pyro/` with the index page;
 * `/pyro/<name>/<method>` (GET or POST) with the call's JSON result, or
 * the exception's JSON and status 500; OPTIONS with the CORS headers;
 * other methods with 405 and other paths with 404. A wrong gateway key
 * and a name outside the expose regex get 403.
 *
 * @param options Name server, expose regex, key, timeout, CORS and WebSocket settings.
 * @returns The handler; call its `close()` when done.
 * @throws {SyntaxError} When the expose regex is invalid.
 *
 * @example Call an object through the handler, without a socket
 * ```ts
 * import { createGatewayHandler } from "@tyro/tyro/gateway";
 * import assert from "node:assert/strict";
 *
 * const handler = createGatewayHandler({
 *   nameserver: { lookup: () => "PYRO:x@localhost:1", list: () => ({}) },
 * });
 * const res = await handler(new Request("http://localhost/pyro/secret.thing/method"));
 * assert.equal(res.status, 403); // not matching the default expose regex `http\.`
 * await res.body?.cancel();
 * handler.close();
 * ```
 */
export function createGatewayHandler(options: GatewayOptions = {}): GatewayHandler {
  const exposeSource = options.expose ?? DEFAULT_EXPOSE;
  const exposeRe = exposeSource ? pythonRegex(exposeSource) : null;
  const cors = options.cors ?? "";
  const gatewayKey = options.gatewayKey ?? "";
  const timeout = options.timeout ?? (options.config?.COMMTIMEOUT ?? 0);
  const wsPath = options.websocketPath ?? DEFAULT_WEBSOCKET_PATH;
  const limit = options.indexLimit ?? 10;
  const logger = options.logger;
  let located: Promise<GatewayNameServer> | null = null;
  let locatedProxy: GatewayNameServer | null = null;

  const corsHeaders = (headers: Record<string, string>): Headers => {
    const h = new Headers(headers);
    h.set("Access-Control-Allow-Origin", cors);
    h.set("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    h.set("Access-Control-Allow-Headers", "Content-Type");
    return h;
  };
  const respond = (
    status: number,
    body: BodyInit | null,
    headers: Record<string, string>,
  ): Response =>
    new Response(body, { status, statusText: STATUS_TEXT[status], headers: corsHeaders(headers) });
  const text = (status: number, body: string) =>
    respond(status, body, { "Content-Type": "text/plain" });
  const notFound = () => text(404, "Error 404: Not Found");

  const getNameServer = async (): Promise<GatewayNameServer> => {
    const ns = options.nameserver;
    if (typeof ns === "function") return await ns();
    if (ns) return ns;
    located ??= locateNs(options.nsHost, options.nsPort, {
      config: options.config,
      timeout: timeout > 0 ? timeout * 1000 : undefined,
    }).then((p) => locatedProxy = p as unknown as GatewayNameServer);
    try {
      return await located;
    } catch (e) {
      located = null;
      throw e;
    }
  };
  /** Runs a name server call; a located proxy whose connection failed is dropped. */
  const nsCall = async <T>(call: (ns: GatewayNameServer) => unknown): Promise<T> => {
    const ns = await getNameServer();
    try {
      return await withTimeout(Promise.resolve(call(ns) as T), timeout);
    } catch (e) {
      if (ns === locatedProxy && e instanceof CommunicationError) {
        located = null;
        locatedProxy = null;
        releaseProxy(ns);
      }
      throw e;
    }
  };

  const newProxy = (uri: PyroUri | string): { proxy: PyroProxy; ser: RawSerializer } => {
    const proxy = new PyroProxy(uri, {
      config: options.config,
      serializer: "json",
      timeout: timeout > 0 ? timeout * 1000 : 0,
      ...(options.connect ? { connect: options.connect } : {}),
    });
    const ser = rawSerializer(proxy.serializer);
    proxy.serializer = ser;
    return { proxy, ser };
  };

  const homepage = async (): Promise<Response> => {
    let listing: Record<string, unknown>;
    let location = "";
    try {
      const ns = await getNameServer();
      location = nsLocation(ns);
      listing = await nsCall<Record<string, unknown>>((n) => n.list(null, exposeSource || null));
    } catch (e) {
      logger?.warn("Name server error", e);
      return text(
        500,
        "Cannot connect to the Pyro name server. Is it running? Refresh page to retry.",
      );
    }
    const names = Object.keys(listing ?? {}).sort().slice(0, limit);
    const entries = await Promise.all(names.map(async (name): Promise<PageEntry> => {
      const value = listing[name];
      const uri = Array.isArray(value) ? value[0] : value;
      const { proxy } = newProxy(uri instanceof PyroUri ? uri : String(uri));
      try {
        await proxy.bind();
        return {
          name,
          methods: [...proxy.methods].sort(),
          attributes: [...proxy.attrs].sort(),
        };
      } catch (e) {
        logger?.warn(`ERROR getting metadata for ${uri}`, e);
        return { name, methods: null, attributes: [], error: (e as Error)?.message ?? String(e) };
      } finally {
        proxy.release();
      }
    }));
    const html = renderPage({
      location,
      expose: exposeSource,
      limit,
      entries,
      keyRequired: gatewayKey !== "",
      version: "protocol 502",
    });
    return respond(200, html, { "Content-Type": "text/html; charset=utf-8" });
  };

  const errorResponse = (e: unknown, where: string, params: Record<string, unknown>) => {
    logger?.warn(`ERROR handling ${where} with params ${JSON.stringify(params)}`, e);
    const err = e instanceof Error ? e : new Error(String(e));
    return respond(500, pyJsonDumps(exceptionToDict(err)), { "Content-Type": JSON_TYPE });
  };

  const callObject = async (
    req: Request,
    path: string,
    params: Record<string, unknown>,
  ): Promise<Response> => {
    const pyroOptions = (req.headers.get("x-pyro-options") ?? "").split(",");
    if (!path) return await homepage();
    const m = /^([^\n]+)\/([^\n]+)/.exec(path);
    if (!m) return notFound();
    const [, objectName, method] = m;
    if (gatewayKey) {
      const given = req.headers.get("x-pyro-gateway-key") || params["$key"] || "";
      if (typeof given !== "string" || !sameKey(given, gatewayKey)) {
        return text(403, "403 Forbidden - incorrect gateway api key");
      }
      delete params["$key"];
    }
    if (exposeRe && !exposeRe.test(objectName)) {
      return text(403, "403 Forbidden - access to the requested object has been denied");
    }
    let proxy: PyroProxy | null = null;
    try {
      const uri = await nsCall<unknown>((ns) => ns.lookup(objectName));
      const made = newProxy(uri instanceof PyroUri ? uri : String(uri));
      proxy = made.proxy;
      const corrHeader = req.headers.get("x-pyro-correlation-id") ?? "";
      const corr = corrHeader ? parseUuid(corrHeader) : randomUuid();
      proxy.correlationId = corr.bytes;
      await proxy.bind();
      const okHeaders = { "Content-Type": JSON_TYPE, "X-Pyro-Correlation-Id": corr.text };
      if (method === "$meta") {
        const meta = { methods: [...proxy.methods], attributes: [...proxy.attrs] };
        return respond(200, pyJsonDumps(meta), okHeaders);
      }
      made.ser.raw = true;
      const oneway = pyroOptions.includes(ONEWAY_OPTION);
      let result: unknown;
      if (proxy.attrs.has(method)) {
        if (Object.keys(params).length) {
          throw assertionError("attribute lookup can't have query parameters");
        }
        result = await proxy.getAttr(method);
      } else {
        result = await proxy.invoke(method, [], params, { flags: oneway ? Flags.ONEWAY : 0 });
      }
      if (result === undefined || result === null || oneway) {
        return respond(200, null, okHeaders);
      }
      if (result instanceof RawReply) return respond(200, result.payload, okHeaders);
      if (typeof (result as AsyncIterable<unknown>)[Symbol.asyncIterator] === "function") {
        // A remote iterator cannot be answered statelessly: close it and
        // answer with the error the daemon sent along with the stream id.
        const id = proxy.responseAnnotations.get("STRM");
        if (id) {
          await proxy.invoke("close_stream", [new TextDecoder().decode(id)], {}, {
            objectId: "Pyro.Daemon",
            flags: Flags.ONEWAY,
          }).catch(() => {});
        }
        return respond(
          500,
          pyJsonDumps({
            __class__: "Pyro5.errors.ProtocolError",
            __exception__: true,
            args: ["result of call is an iterator"],
            attributes: { _pyroTraceback: null },
          }),
          { "Content-Type": JSON_TYPE },
        );
      }
      return respond(200, pyJsonDumps(result), okHeaders);
    } catch (e) {
      if (e instanceof RawReply) {
        return respond(500, e.payload, { "Content-Type": JSON_TYPE });
      }
      return errorResponse(e, path, params);
    } finally {
      proxy?.release();
    }
  };

  const bodyParams = async (req: Request): Promise<Record<string, unknown>> => {
    if (
      !options.jsonBody || req.method !== "POST" ||
      !(req.headers.get("content-type") ?? "").toLowerCase().includes("application/json")
    ) {
      return {};
    }
    const bytes = new Uint8Array(await req.arrayBuffer());
    if (!bytes.length) return {};
    const value = JSON_SERIALIZER.loads(bytes);
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      throw new TypeError("the JSON body must be an object of keyword arguments");
    }
    return value as Record<string, unknown>;
  };

  const handler = async (req: Request, info?: GatewayRequestInfo): Promise<Response> => {
    const { path: rawPath, query } = splitTarget(req.url);
    if (options.websocket && rawPath === wsPath && isWebSocketUpgrade(req)) {
      return websocket(req, query, info);
    }
    const path = unquote(rawPath).replace(/^\/+/, "");
    if (!path) {
      return new Response(null, {
        status: 302,
        statusText: "Found",
        headers: { Location: "/pyro/" },
      });
    }
    if (!path.startsWith("pyro/")) return notFound();
    if (req.method === "OPTIONS") return text(200, "200 OK");
    if (req.method !== "GET" && req.method !== "POST") {
      return text(405, "Error 405: Method Not Allowed");
    }
    const params = parseQuery(query);
    try {
      for (const [k, v] of Object.entries(await bodyParams(req))) setOwn(params, k, v);
    } catch (e) {
      return errorResponse(e, path.slice(5), params);
    }
    return await callObject(req, path.slice(5), params);
  };

  const websocket = (req: Request, query: string, info?: GatewayRequestInfo): Response => {
    if (gatewayKey) {
      const given = req.headers.get("x-pyro-gateway-key") || parseQuery(query)["$key"] || "";
      if (typeof given !== "string" || !sameKey(given, gatewayKey)) {
        return text(403, "403 Forbidden - incorrect gateway api key");
      }
    }
    // (Deno refuses to read remoteAddr once the request is upgraded)
    let remoteAddr: unknown;
    try {
      remoteAddr = info?.remoteAddr;
    } catch { /* request gone */ }
    const { response, conn } = upgradeToConnection(req, { remoteAddr });
    try {
      Promise.resolve(options.websocket!.handleConnection(conn, { remoteAddr }))
        .catch((e) => logger?.warn("WebSocket connection failed", e));
    } catch (e) {
      logger?.warn("WebSocket connection failed", e);
      conn.close();
    }
    return response;
  };

  return Object.assign(handler, {
    nameserver: getNameServer,
    close(): void {
      const pending = located;
      located = null;
      locatedProxy = null;
      pending?.then(releaseProxy, () => {});
    },
  });
}

/** The name server's location, when it is a proxy. */
function nsLocation(ns: unknown): string {
  try {
    return controlOf(ns).uri.location ?? "";
  } catch {
    return "";
  }
}

function releaseProxy(ns: unknown): void {
  try {
    controlOf(ns).release();
  } catch { /* not a proxy */ }
}
