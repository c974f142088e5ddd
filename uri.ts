/**
 * Pyro object URIs: `PYRO:obj@host:port`, `PYRO:obj@./u:/path/to/socket`,
 * `PYRONAME:name[@host[:port]]` and `PYROMETA:tag1,tag2[@host[:port]]`.
 * Parsing and formatting follow Pyro5's `Pyro5.core.URI` exactly.
 *
 * @example Parse a URI
 * ```ts
 * import { PyroUri } from "@tyro/tyro";
 * import assert from "node:assert/strict";
 *
 * const uri = new PyroUri("PYRO:test.echoserver@localhost:9999");
 * assert.equal(uri.object, "test.echoserver");
 * assert.equal(uri.port, 9999);
 * assert.equal(uri.toString(), "PYRO:test.echoserver@localhost:9999");
 * ```
 *
 * @module
 */

import { PyroError } from "./errors.ts";

/** The URI protocols Pyro5 knows. */
export type UriProtocol = "PYRO" | "PYRONAME" | "PYROMETA";

/** Pyro5's URI state tuple: `(protocol, object, sockname, host, port)`. */
export type UriState = readonly [
  protocol: string,
  object: string | ReadonlySet<string> | readonly string[],
  sockname: string | null,
  host: string | null,
  port: number | null,
];

/** The default name server port used when a `PYRONAME:`/`PYROMETA:` location omits it. */
export const DEFAULT_NS_PORT = 9090;

const URI_RE = /^([Pp][Yy][Rr][Oo][a-zA-Z]*):(\S+?)(?:@(.+))?$/s;
const IPV6_LOCATION_RE = /^\[([0-9a-fA-F:%]+)\](:(\d+))?/;

/**
 * A parsed Pyro URI, the `Pyro5.core.URI` of Tyro. It serializes to
 * Pyro5's `{"__class__": "Pyro5.core.URI", "state": (...)}` form.
 */
export class PyroUri {
  /** `PYRO`, `PYRONAME` or `PYROMETA`. */
  protocol: UriProtocol;
  /** The object id or name; for `PYROMETA` the tags joined by commas (see {@linkcode PyroUri.metaTags}). */
  object: string;
  /** The metadata tags of a `PYROMETA` URI, empty otherwise. */
  metaTags: Set<string>;
  /** Unix domain socket path, or null. */
  sockname: string | null = null;
  /** Host name or address (IPv6 without brackets), or null. */
  host: string | null = null;
  /** Port number, or null. */
  port: number | null = null;

  /**
   * Parses a URI string, or copies another URI.
   *
   * @param uri The URI text, e.g. `PYRO:obj@localhost:9090`, or a URI to copy.
   * @param defaultNsPort Port for `PYRONAME`/`PYROMETA` locations without one.
   * @throws {PyroError} When the text is not a valid Pyro URI.
   */
  constructor(uri: string | PyroUri, defaultNsPort: number = DEFAULT_NS_PORT) {
    if (uri instanceof PyroUri) {
      this.protocol = uri.protocol;
      this.object = uri.object;
      this.metaTags = new Set(uri.metaTags);
      this.sockname = uri.sockname;
      this.host = uri.host;
      this.port = uri.port;
      return;
    }
    if (typeof uri !== "string") throw new TypeError("uri parameter object is of wrong type");
    const match = URI_RE.exec(uri);
    if (!match) throw new PyroError("invalid uri");
    const protocol = match[1].toUpperCase();
    this.object = match[2];
    this.metaTags = new Set();
    const location = match[3];
    if (protocol === "PYRONAME") {
      this.protocol = protocol;
      this.#parseLocation(location, defaultNsPort);
    } else if (protocol === "PYRO") {
      this.protocol = protocol;
      if (!location) throw new PyroError("invalid uri");
      this.#parseLocation(location, null);
    } else if (protocol === "PYROMETA") {
      this.protocol = protocol;
      this.metaTags = new Set(this.object.split(",").map((m) => m.trim()));
      this.#parseLocation(location, defaultNsPort);
    } else {
      throw new PyroError("invalid uri (protocol)");
    }
  }

  #parseLocation(location: string | undefined, defaultPort: number | null): void {
    if (!location) return;
    if (location.startsWith("./u:")) {
      this.sockname = location.slice(4);
      if (!this.sockname || this.sockname.includes(":")) {
        throw new PyroError("invalid uri (location)");
      }
      return;
    }
    let portText: string | undefined;
    if (location.startsWith("[")) {
      if (location.startsWith("[[")) {
        throw new PyroError("invalid ipv6 address: enclosed in too many brackets");
      }
      const m = IPV6_LOCATION_RE.exec(location);
      if (!m) {
        throw new PyroError(
          "invalid ipv6 address: the part between brackets must be a numeric ipv6 address",
        );
      }
      this.host = m[1];
      portText = m[3];
    } else {
      const colon = location.indexOf(":");
      this.host = colon < 0 ? location : location.slice(0, colon);
      portText = colon < 0 ? undefined : location.slice(colon + 1);
    }
    if (!portText) {
      this.port = defaultPort;
      return;
    }
    if (!/^\s*[+-]?\d+\s*$/.test(portText)) {
      throw new PyroError("invalid port in uri, port=" + portText);
    }
    this.port = parseInt(portText, 10);
  }

  /**
   * Builds a URI from Pyro5's state tuple `(protocol, object, sockname, host, port)`.
   *
   * @param state The state tuple as it comes over the wire.
   * @returns The URI.
   * @throws {PyroError} When the state is malformed.
   */
  static fromState(state: unknown): PyroUri {
    if (!Array.isArray(state) || state.length !== 5) throw new PyroError("invalid uri state");
    const [protocol, object, sockname, host, port] = state;
    const uri = Object.create(PyroUri.prototype) as PyroUri;
    const p = String(protocol).toUpperCase();
    if (p !== "PYRO" && p !== "PYRONAME" && p !== "PYROMETA") {
      throw new PyroError("invalid uri (protocol)");
    }
    uri.protocol = p;
    if (object instanceof Set || Array.isArray(object)) {
      uri.metaTags = new Set([...object].map(String));
      uri.object = [...uri.metaTags].join(",");
    } else {
      uri.object = String(object);
      uri.metaTags = p === "PYROMETA"
        ? new Set(uri.object.split(",").map((m) => m.trim()))
        : new Set();
    }
    uri.sockname = sockname == null ? null : String(sockname);
    uri.host = host == null ? null : String(host);
    uri.port = port == null ? null : Number(port);
    return uri;
  }

  /**
   * Pyro5's state tuple for this URI, as serialized on the wire.
   *
   * @returns `[protocol, object, sockname, host, port]`; for `PYROMETA` the object is the tag set.
   */
  state(): UriState {
    const object = this.protocol === "PYROMETA" ? new Set(this.metaTags) : this.object;
    return Object.freeze([this.protocol, object, this.sockname, this.host, this.port]) as UriState;
  }

  /**
   * The location part: `host:port`, `[ipv6]:port` or `./u:sockname`; null when absent.
   *
   * @returns The location text or null.
   */
  get location(): string | null {
    if (this.host) {
      if (this.host.includes(":")) return `[${this.host}]:${this.port}`;
      return `${this.host}:${this.port}`;
    }
    if (this.sockname) return "./u:" + this.sockname;
    return null;
  }

  /**
   * Formats the URI as Pyro5 does.
   *
   * @returns The URI text, e.g. `PYRO:obj@localhost:9090`.
   */
  toString(): string {
    const object = this.protocol === "PYROMETA" ? [...this.metaTags].join(",") : this.object;
    const location = this.location;
    return location ? `${this.protocol}:${object}@${location}` : `${this.protocol}:${object}`;
  }

  /**
   * The URI text, for `JSON.stringify`.
   *
   * @returns The same as {@linkcode PyroUri.toString}.
   */
  toJSON(): string {
    return this.toString();
  }

  /**
   * Tells whether two URIs are equal, as Pyro5 compares them (by their text).
   *
   * @param other Another URI or URI text.
   * @returns True when both denote the same object.
   */
  equals(other: PyroUri | string): boolean {
    return String(other) === this.toString();
  }
}

/**
 * Parses a URI string (a shorthand for `new PyroUri(text)`).
 *
 * @param uri The URI text or a URI.
 * @returns The parsed URI.
 * @throws {PyroError} When the text is not a valid Pyro URI.
 *
 * @example Parse a unix socket URI
 * ```ts
 * import { parseUri } from "@tyro/tyro";
 * import assert from "node:assert/strict";
 *
 * const uri = parseUri("PYRO:obj@./u:/tmp/pyro.sock");
 * assert.equal(uri.sockname, "/tmp/pyro.sock");
 * assert.equal(uri.host, null);
 * ```
 */
export function parseUri(uri: string | PyroUri): PyroUri {
  return uri instanceof PyroUri ? uri : new PyroUri(uri);
}
