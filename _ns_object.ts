/**
 * The name server object, `Pyro.NameServer`, and its remote interface.
 *
 * @module
 */

import { compilePyRegex, pyReMatch, pyTruthy, pyTypeName } from "./_ns_util.ts";
import type { NameServerStorage } from "./_ns_storage.ts";
import { storageFromSpec } from "./_ns_storage.ts";
import type { Remote } from "./client.ts";
import { NamingError } from "./errors.ts";
import { expose } from "./server.ts";
import { tuple } from "./serializers/types.ts";
import { PyroUri } from "./uri.ts";

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
  register(
    name: string,
    uri: string | PyroUri,
    safe?: boolean,
    metadata?: Iterable<string> | null,
  ): null;
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

/**
 * A RangeError that a Pyro5 peer sees as `builtins.ValueError`.
 *
 * @param message The message.
 * @returns The error.
 */
export function valueError(message: string): RangeError {
  const e = new RangeError(message);
  e.name = "ValueError";
  return e;
}

function tagSet(value: unknown, what: string): Set<string> | null {
  if (!pyTruthy(value)) return null;
  if (typeof value === "string") {
    throw new TypeError(`${what} should not be a str, but another iterable (set, list, etc)`);
  }
  if (
    value === null || typeof value !== "object" ||
    typeof (value as Iterable<unknown>)[Symbol.iterator] !== "function"
  ) {
    throw new TypeError(`'${pyTypeName(value)}' object is not iterable`);
  }
  const tags = new Set<string>();
  for (const t of value as Iterable<unknown>) {
    if (typeof t !== "string") {
      throw new TypeError(`metadata items must be str, not ${pyTypeName(t)}`);
    }
    tags.add(t);
  }
  return tags;
}

function dict<V>(entries: Iterable<[string, V]>): Record<string, V> {
  const out = Object.create(null) as Record<string, V>;
  for (const [k, v] of entries) {
    Object.defineProperty(out, k, {
      value: v,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
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
  register(
    name: string,
    uri: string | PyroUri,
    safe = false,
    metadata: Iterable<string> | null = null,
  ): null {
    let text: string;
    if (uri instanceof PyroUri) text = uri.toString();
    else if (typeof uri !== "string") throw new TypeError("only URIs or strings can be registered");
    else {
      new PyroUri(uri); // validates the text
      text = uri;
    }
    if (typeof name !== "string") throw new TypeError("name must be a str");
    const tags = tagSet(metadata, "metadata");
    if (pyTruthy(safe) && this.storage.has(name)) {
      throw new NamingError("name already registered: " + name);
    }
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
  remove(
    name: string | null = null,
    prefix: string | null = null,
    regex: string | null = null,
  ): number {
    if (
      pyTruthy(name) && typeof name === "string" && name !== NAMESERVER_NAME &&
      this.storage.has(name)
    ) {
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
    if (pyTruthy(prefix) && pyTruthy(regex)) {
      throw valueError("you can only filter on one thing at a time");
    }
    let entries;
    if (pyTruthy(prefix)) {
      entries = [...this.storage.entries(String(prefix))];
    } else if (pyTruthy(regex)) {
      let re: RegExp;
      try {
        re = compilePyRegex(String(regex));
      } catch (e) {
        const why = (e as Error).message.replace(
          /^Invalid regular expression: \/.*\/[a-z]*: /s,
          "",
        );
        throw new NamingError("invalid regex: " + why);
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
