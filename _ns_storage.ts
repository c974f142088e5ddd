/**
 * Name server storages: volatile memory and persistent SQLite (`sql:FILE`).
 * Both have the same semantics; the SQLite schema is Pyro5's own
 * (`pyro_names`, `pyro_metadata`), so a database file can be shared with a
 * Pyro5 name server.
 *
 * @module
 */

import process from "node:process";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { NamingError } from "./errors.ts";

/**
 * `node:sqlite`, taken when a SQL storage opens rather than by a static
 * import, so that the library loads where it is missing (Node.js < 22.5).
 */
function sqlite(): typeof import("node:sqlite") {
  const mod = (process as { getBuiltinModule?: (id: string) => unknown }).getBuiltinModule?.(
    "node:sqlite",
  ) as typeof import("node:sqlite") | undefined;
  if (!mod) {
    throw new NamingError(
      `SQL storage needs node:sqlite, which this runtime (Node.js ${process.version}) does not ` +
        "have (Deno and Node.js >= 22.5 have it); use the memory storage",
    );
  }
  return mod;
}

/** One registration: its URI text and its metadata tags. */
export interface StorageEntry {
  /** The URI, as text. */
  uri: string;
  /** The metadata tags (a copy: changing it does not change the storage). */
  metadata: Set<string>;
}

/**
 * Where a name server keeps its registrations. Every method is synchronous,
 * so that each name server call is atomic.
 */
export interface NameServerStorage {
  /**
   * Reads one registration.
   *
   * @param name The name.
   * @returns The entry, or undefined when the name is not registered.
   */
  get(name: string): StorageEntry | undefined;
  /**
   * Tells whether a name is registered.
   *
   * @param name The name.
   * @returns True when registered.
   */
  has(name: string): boolean;
  /**
   * Adds or replaces a registration. Once this returns, the change is durable
   * (for persistent storages).
   *
   * @param name The name.
   * @param uri The URI text.
   * @param metadata The metadata tags.
   */
  set(name: string, uri: string, metadata: Iterable<string>): void;
  /**
   * Removes registrations.
   *
   * @param names The names; unknown names are skipped.
   * @returns How many were removed.
   */
  remove(names: Iterable<string>): number;
  /**
   * The number of registrations.
   *
   * @returns The count.
   */
  count(): number;
  /**
   * Every registration, or those whose name starts with `prefix`, in registration order.
   *
   * @param prefix A name prefix (case-sensitive), or undefined for all.
   * @returns Entries by name.
   */
  entries(prefix?: string): Map<string, StorageEntry>;
  /**
   * The registrations that carry all of `all` (or, when `all` is undefined, any of `any`).
   *
   * @param all Tags that must all be present.
   * @param any Tags of which at least one must be present.
   * @returns Entries by name.
   */
  searchMetadata(
    all: ReadonlySet<string> | undefined,
    any: ReadonlySet<string> | undefined,
  ): Map<string, StorageEntry>;
  /** Removes every registration. */
  clear(): void;
  /** Releases the storage (closes the database). */
  close(): void;
}

/**
 * Volatile storage in a `Map`: the name server forgets everything when it
 * stops. This is the default.
 *
 * @example Store and read a registration
 * ```ts
 * import { MemoryStorage } from "@tyro/tyro/nameserver";
 * import assert from "node:assert/strict";
 *
 * const storage = new MemoryStorage();
 * storage.set("example.echo", "PYRO:echo@localhost:9999", ["role:echo"]);
 * assert.equal(storage.get("example.echo")?.uri, "PYRO:echo@localhost:9999");
 * assert.deepEqual(storage.get("example.echo")?.metadata, new Set(["role:echo"]));
 * ```
 */
export class MemoryStorage implements NameServerStorage {
  readonly #items = new Map<string, StorageEntry>();

  /**
   * Reads one registration.
   *
   * @param name The name.
   * @returns A copy of the entry, or undefined.
   */
  get(name: string): StorageEntry | undefined {
    const e = this.#items.get(name);
    return e && { uri: e.uri, metadata: new Set(e.metadata) };
  }

  /**
   * Tells whether a name is registered.
   *
   * @param name The name.
   * @returns True when registered.
   */
  has(name: string): boolean {
    return this.#items.has(name);
  }

  /**
   * Adds or replaces a registration.
   *
   * @param name The name.
   * @param uri The URI text.
   * @param metadata The metadata tags.
   */
  set(name: string, uri: string, metadata: Iterable<string>): void {
    this.#items.set(name, { uri, metadata: new Set(metadata) });
  }

  /**
   * Removes registrations.
   *
   * @param names The names.
   * @returns How many were removed.
   */
  remove(names: Iterable<string>): number {
    let n = 0;
    for (const name of names) if (this.#items.delete(name)) n++;
    return n;
  }

  /**
   * The number of registrations.
   *
   * @returns The count.
   */
  count(): number {
    return this.#items.size;
  }

  /**
   * Every registration, or those whose name starts with `prefix`.
   *
   * @param prefix A name prefix, or undefined for all.
   * @returns Copies of the entries by name.
   */
  entries(prefix?: string): Map<string, StorageEntry> {
    const out = new Map<string, StorageEntry>();
    for (const [name, e] of this.#items) {
      if (prefix === undefined || name.startsWith(prefix)) {
        out.set(name, { uri: e.uri, metadata: new Set(e.metadata) });
      }
    }
    return out;
  }

  /**
   * The registrations that carry all of `all`, or any of `any`.
   *
   * @param all Tags that must all be present.
   * @param any Tags of which one must be present.
   * @returns Copies of the entries by name.
   */
  searchMetadata(
    all: ReadonlySet<string> | undefined,
    any: ReadonlySet<string> | undefined,
  ): Map<string, StorageEntry> {
    const out = new Map<string, StorageEntry>();
    for (const [name, e] of this.#items) {
      if (matchesMetadata(e.metadata, all, any)) {
        out.set(name, { uri: e.uri, metadata: new Set(e.metadata) });
      }
    }
    return out;
  }

  /** Removes every registration. */
  clear(): void {
    this.#items.clear();
  }

  /** Does nothing: there is nothing to release. */
  close(): void {}
}

function matchesMetadata(
  meta: ReadonlySet<string>,
  all: ReadonlySet<string> | undefined,
  any: ReadonlySet<string> | undefined,
): boolean {
  if (all) {
    for (const t of all) if (!meta.has(t)) return false;
    return true;
  }
  if (any) {
    for (const t of any) if (meta.has(t)) return true;
  }
  return false;
}

interface Statements {
  getId: StatementSync;
  getUri: StatementSync;
  getMeta: StatementSync;
  exists: StatementSync;
  count: StatementSync;
  insertName: StatementSync;
  insertMeta: StatementSync;
  deleteMeta: StatementSync;
  deleteName: StatementSync;
  all: StatementSync;
  prefix: StatementSync;
}

/**
 * Persistent storage in a SQLite database file (`node:sqlite`), with
 * Pyro5's schema. The database runs in WAL mode with `synchronous=FULL`
 * and every change is its own committed transaction, so a registration
 * survives a crash (even `kill -9`) as soon as `set` returns.
 *
 * @example Keep registrations in a file
 * ```ts ignore
 * import { SqlStorage } from "@tyro/tyro/nameserver";
 *
 * const storage = new SqlStorage("/var/lib/pyro/names.sqlite");
 * storage.set("example.echo", "PYRO:echo@localhost:9999", []);
 * storage.close();
 * ```
 */
export class SqlStorage implements NameServerStorage {
  /** The database file. */
  readonly dbfile: string;
  readonly #db: DatabaseSync;
  readonly #st: Statements;

  /**
   * Opens (and if needed creates or upgrades) the database.
   *
   * @param dbfile The database file path.
   * @throws {RangeError} For `:memory:` (use {@linkcode MemoryStorage}).
   * @throws {NamingError} When the database cannot be opened.
   */
  constructor(dbfile: string) {
    if (dbfile === ":memory:") {
      throw new RangeError(
        "We don't support the sqlite :memory: database type. Just use the default volatile in-memory store.",
      );
    }
    this.dbfile = dbfile;
    try {
      this.#db = new (sqlite().DatabaseSync)(dbfile);
      this.#db.exec("PRAGMA busy_timeout=5000");
      this.#db.exec("PRAGMA journal_mode=WAL");
      this.#db.exec("PRAGMA synchronous=FULL");
      this.#db.exec("PRAGMA foreign_keys=ON");
      this.#migrate();
      const p = (sql: string) => this.#db.prepare(sql);
      this.#st = {
        getId: p("SELECT id FROM pyro_names WHERE name=?"),
        getUri: p("SELECT id, uri FROM pyro_names WHERE name=?"),
        getMeta: p("SELECT metadata FROM pyro_metadata WHERE object=?"),
        exists: p("SELECT EXISTS(SELECT 1 FROM pyro_names WHERE name=? LIMIT 1) AS e"),
        count: p("SELECT count(*) AS n FROM pyro_names"),
        insertName: p("INSERT INTO pyro_names(name, uri) VALUES(?,?)"),
        insertMeta: p("INSERT INTO pyro_metadata(object, metadata) VALUES(?,?)"),
        deleteMeta: p("DELETE FROM pyro_metadata WHERE object=?"),
        deleteName: p("DELETE FROM pyro_names WHERE id=?"),
        all: p(
          "SELECT n.name AS name, n.uri AS uri, m.metadata AS metadata FROM pyro_names n " +
            "LEFT JOIN pyro_metadata m ON m.object=n.id ORDER BY n.id",
        ),
        prefix: p(
          "SELECT n.name AS name, n.uri AS uri, m.metadata AS metadata FROM pyro_names n " +
            "LEFT JOIN pyro_metadata m ON m.object=n.id WHERE substr(n.name, 1, ?)=? ORDER BY n.id",
        ),
      };
    } catch (e) {
      if (e instanceof RangeError || e instanceof NamingError) throw e;
      throw new NamingError(`sqlite error in open: ${(e as Error).message}`, { cause: e });
    }
  }

  #migrate(): void {
    const tables = new Set(
      (this.#db.prepare("SELECT name FROM sqlite_master WHERE type='table'").all() as {
        name: string;
      }[])
        .map((r) => r.name),
    );
    const createNames =
      "CREATE TABLE pyro_names (id integer PRIMARY KEY, name nvarchar NOT NULL UNIQUE, " +
      "uri nvarchar NOT NULL)";
    const createMeta =
      "CREATE TABLE pyro_metadata (object integer NOT NULL, metadata nvarchar NOT NULL, " +
      "FOREIGN KEY(object) REFERENCES pyro_names(id))";
    this.#transaction(() => {
      if (!tables.has("pyro_names")) {
        this.#db.exec(createNames);
        this.#db.exec(createMeta);
      } else if (!tables.has("pyro_metadata")) {
        // an old (Pyro4) database without metadata: migrate it
        this.#db.exec("ALTER TABLE pyro_names RENAME TO pyro_names_old");
        this.#db.exec(createNames);
        this.#db.exec(createMeta);
        this.#db.exec("INSERT INTO pyro_names(name, uri) SELECT name, uri FROM pyro_names_old");
        this.#db.exec("DROP TABLE pyro_names_old");
      }
    });
  }

  #transaction<T>(fn: () => T): T {
    this.#db.exec("BEGIN IMMEDIATE");
    try {
      const r = fn();
      this.#db.exec("COMMIT");
      return r;
    } catch (e) {
      try {
        this.#db.exec("ROLLBACK");
      } catch { /* no transaction left */ }
      throw e;
    }
  }

  #wrap<T>(what: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof NamingError) throw e;
      throw new NamingError(`sqlite error in ${what}: ${(e as Error).message}`, { cause: e });
    }
  }

  /**
   * Reads one registration.
   *
   * @param name The name.
   * @returns The entry, or undefined.
   * @throws {NamingError} On a database error.
   */
  get(name: string): StorageEntry | undefined {
    return this.#wrap("getitem", () => {
      const row = this.#st.getUri.get(name) as { id: number; uri: string } | undefined;
      if (!row) return undefined;
      const meta = this.#st.getMeta.all(row.id) as { metadata: string }[];
      return { uri: row.uri, metadata: new Set(meta.map((m) => String(m.metadata))) };
    });
  }

  /**
   * Tells whether a name is registered.
   *
   * @param name The name.
   * @returns True when registered.
   * @throws {NamingError} On a database error.
   */
  has(name: string): boolean {
    return this.#wrap("contains", () => (this.#st.exists.get(name) as { e: number }).e === 1);
  }

  /**
   * Adds or replaces a registration, committed durably before returning.
   *
   * @param name The name.
   * @param uri The URI text.
   * @param metadata The metadata tags.
   * @throws {NamingError} On a database error.
   */
  set(name: string, uri: string, metadata: Iterable<string>): void {
    const tags = new Set(metadata);
    this.#wrap("setitem", () =>
      this.#transaction(() => {
        this.#removeOne(name);
        const r = this.#st.insertName.run(name, uri);
        for (const t of tags) this.#st.insertMeta.run(r.lastInsertRowid, t);
      }));
  }

  #removeOne(name: string): boolean {
    const row = this.#st.getId.get(name) as { id: number } | undefined;
    if (!row) return false;
    this.#st.deleteMeta.run(row.id);
    this.#st.deleteName.run(row.id);
    return true;
  }

  /**
   * Removes registrations in one transaction.
   *
   * @param names The names.
   * @returns How many were removed.
   * @throws {NamingError} On a database error.
   */
  remove(names: Iterable<string>): number {
    const list = [...names];
    if (list.length === 0) return 0;
    return this.#wrap("remove_items", () =>
      this.#transaction(() => {
        let n = 0;
        for (const name of list) if (this.#removeOne(name)) n++;
        return n;
      }));
  }

  /**
   * The number of registrations.
   *
   * @returns The count.
   * @throws {NamingError} On a database error.
   */
  count(): number {
    return this.#wrap("len", () => Number((this.#st.count.get() as { n: number | bigint }).n));
  }

  /**
   * Every registration, or those whose name starts with `prefix` (case-sensitive).
   *
   * @param prefix A name prefix, or undefined for all.
   * @returns Entries by name, in registration order.
   * @throws {NamingError} On a database error.
   */
  entries(prefix?: string): Map<string, StorageEntry> {
    return this.#wrap(prefix === undefined ? "everything" : "optimized_prefix_list", () => {
      const rows = (prefix === undefined
        ? this.#st.all.all()
        : this.#st.prefix.all([...prefix].length, prefix)) as {
          name: string;
          uri: string;
          metadata: unknown;
        }[];
      return groupRows(rows);
    });
  }

  /**
   * The registrations that carry all of `all`, or any of `any`.
   *
   * @param all Tags that must all be present.
   * @param any Tags of which one must be present.
   * @returns Entries by name.
   * @throws {NamingError} On a database error.
   */
  searchMetadata(
    all: ReadonlySet<string> | undefined,
    any: ReadonlySet<string> | undefined,
  ): Map<string, StorageEntry> {
    const tags = [...(all ?? any ?? [])];
    if (tags.length === 0) return all ? this.entries() : new Map();
    return this.#wrap("optimized_metadata_search", () => {
      const marks = tags.map(() => "?").join(",");
      const having = all ? ` GROUP BY object HAVING COUNT(DISTINCT metadata)=${tags.length}` : "";
      const sql = "SELECT n.name AS name, n.uri AS uri, m.metadata AS metadata FROM pyro_names n " +
        "LEFT JOIN pyro_metadata m ON m.object=n.id WHERE n.id IN " +
        `(SELECT object FROM pyro_metadata WHERE metadata IN (${marks})${having}) ORDER BY n.id`;
      const rows = this.#db.prepare(sql).all(...tags) as {
        name: string;
        uri: string;
        metadata: unknown;
      }[];
      return groupRows(rows);
    });
  }

  /**
   * Removes every registration.
   *
   * @throws {NamingError} On a database error.
   */
  clear(): void {
    this.#wrap("clear", () => {
      this.#transaction(() => {
        this.#db.exec("DELETE FROM pyro_metadata");
        this.#db.exec("DELETE FROM pyro_names");
      });
    });
  }

  /** Closes the database (checkpointing the WAL). */
  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }
}

function groupRows(
  rows: { name: string; uri: string; metadata: unknown }[],
): Map<string, StorageEntry> {
  const out = new Map<string, StorageEntry>();
  for (const r of rows) {
    let e = out.get(r.name);
    if (!e) out.set(r.name, e = { uri: r.uri, metadata: new Set() });
    if (r.metadata !== null && r.metadata !== undefined) e.metadata.add(String(r.metadata));
  }
  return out;
}

/**
 * Makes the storage Pyro5 names by a string: `memory` (or empty) or `sql:FILE`.
 *
 * @param spec The storage name.
 * @returns The storage.
 * @throws {RangeError} `invalid storage type '...'` for anything else.
 */
export function storageFromSpec(spec: string | undefined | null): NameServerStorage {
  const s = spec || "memory";
  if (s === "memory") return new MemoryStorage();
  if (s.startsWith("sql:") && s.length > 4) return new SqlStorage(s.slice(4));
  throw new RangeError(`invalid storage type '${s}'`);
}
