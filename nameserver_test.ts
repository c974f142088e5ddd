import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import {
  MemoryStorage,
  NameServer,
  NAMESERVER_NAME,
  NameServerDaemon,
  type NameServerStorage,
  resolve,
  SqlStorage,
  storageFromSpec,
} from "./nameserver.ts";
import { compilePyRegex, pyReMatch, pySetRepr, pyStrRepr, pyTruthy } from "./_ns_util.ts";
import { NamingError, PyroError } from "./errors.ts";
import { PyroUri } from "./uri.ts";
import { decodeMessage, type Message } from "./protocol/mod.ts";
import { serializerFor } from "./serializers/mod.ts";
import { isTuple } from "./serializers/types.ts";
import { fromTagged, manifest, pyDiff, vectorBytes } from "./tests/_vectors.ts";

type Storages = [string, () => Promise<{ storage: NameServerStorage; cleanup(): Promise<void> }>][];

const STORAGES: Storages = [
  [
    "memory",
    () => Promise.resolve({ storage: new MemoryStorage(), cleanup: () => Promise.resolve() }),
  ],
  ["sql", async () => {
    const dir = await Deno.makeTempDir({ prefix: "tyro_ns_" });
    const storage = new SqlStorage(`${dir}/names.sqlite`);
    return {
      storage,
      cleanup: async () => {
        storage.close();
        await Deno.remove(dir, { recursive: true });
      },
    };
  }],
];

/** Asserts a call throws `cls` with exactly `message`. */
function throwsExactly(
  fn: () => unknown,
  cls: abstract new (...a: never[]) => Error,
  message: string,
  name?: string,
) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(
      e instanceof cls,
      `expected ${cls.name}, got ${(e as Error)?.name}: ${(e as Error)?.message}`,
    );
    assert.equal((e as Error).message, message);
    if (name) assert.equal((e as Error).name, name);
    return true;
  });
}

function keys(o: object): string[] {
  return Object.keys(o).sort();
}

for (const [kind, make] of STORAGES) {
  Deno.test(`NameServer (${kind} storage)`, async (t) => {
    const { storage, cleanup } = await make();
    try {
      const ns = new NameServer(storage);

      await t.step("register() and lookup() with and without metadata", () => {
        assert.equal(ns.count(), 0);
        assert.equal(ns.register("example.echo", "PYRO:echo@localhost:1111"), null);
        assert.equal(
          ns.register("example.meta", "PYRO:meta@localhost:2222", false, ["lang:ts", "role:echo"]),
          null,
        );
        assert.equal(
          ns.register(
            "example.uriobj",
            new PyroUri("PYRO:obj@127.0.0.1:3333"),
            false,
            new Set<string>(),
          ),
          null,
        );
        assert.equal(ns.count(), 3);
        const uri = ns.lookup("example.echo");
        assert.ok(uri instanceof PyroUri);
        assert.equal(uri.toString(), "PYRO:echo@localhost:1111");
        const withMeta = ns.lookup("example.meta", true);
        assert.ok(isTuple(withMeta));
        const [u, m] = withMeta as readonly [PyroUri, Set<string>];
        assert.equal(u.toString(), "PYRO:meta@localhost:2222");
        assert.deepEqual(m, new Set(["lang:ts", "role:echo"]));
        assert.deepEqual(
          (ns.lookup("example.uriobj", true) as readonly [PyroUri, Set<string>])[1],
          new Set(),
        );
      });

      await t.step("lookup() of an unknown name is a NamingError", () => {
        throwsExactly(
          () => ns.lookup("does.not.exist"),
          NamingError,
          "unknown name: does.not.exist",
        );
      });

      await t.step("register() checks its arguments as Pyro5 does", () => {
        throwsExactly(
          () => ns.register("example.echo", "PYRO:x@h:1", true),
          NamingError,
          "name already registered: example.echo",
        );
        throwsExactly(
          () => ns.register("x", 42 as unknown as string),
          TypeError,
          "only URIs or strings can be registered",
        );
        throwsExactly(
          () => ns.register(42 as unknown as string, "PYRO:x@h:1"),
          TypeError,
          "name must be a str",
        );
        throwsExactly(
          () => ns.register("x", "PYRO:x@h:1", false, "tag" as unknown as string[]),
          TypeError,
          "metadata should not be a str, but another iterable (set, list, etc)",
        );
        throwsExactly(() => ns.register("x", "not a uri"), PyroError, "invalid uri");
        throwsExactly(() => ns.register("x", "PYRO:x"), PyroError, "invalid uri");
        assert.throws(
          () => ns.register("x", "PYRO:x@h:1", false, 5 as unknown as string[]),
          TypeError,
        );
        assert.equal(ns.count(), 3);
        // not safe: replaces
        ns.register("example.echo", "PYRO:echo@localhost:1112", false);
        assert.equal(ns.lookup("example.echo").toString(), "PYRO:echo@localhost:1112");
        ns.register("example.echo", "PYRO:echo@localhost:1111", 0 as unknown as boolean);
      });

      await t.step("list() returns everything, by prefix or by regex", () => {
        assert.deepEqual({ ...ns.list() }, {
          "example.echo": "PYRO:echo@localhost:1111",
          "example.meta": "PYRO:meta@localhost:2222",
          "example.uriobj": "PYRO:obj@127.0.0.1:3333",
        });
        assert.deepEqual(keys(ns.list("example.")), [
          "example.echo",
          "example.meta",
          "example.uriobj",
        ]);
        assert.deepEqual(keys(ns.list("example.m")), ["example.meta"]);
        assert.deepEqual(keys(ns.list("EXAMPLE.")), [], "prefix is case-sensitive");
        assert.deepEqual(keys(ns.list("example_")), [], "no LIKE wildcards");
        assert.deepEqual(keys(ns.list("%")), []);
        assert.deepEqual(keys(ns.list(null, "example\\.m.*")), ["example.meta"]);
        assert.deepEqual(keys(ns.list(null, "meta")), [], "regex matches at the start");
        assert.deepEqual(keys(ns.list(null, ".*(?P<x>echo)")), ["example.echo"]);
        assert.deepEqual(keys(ns.list("", "")), keys(ns.list()));
        const meta = ns.list(null, null, true);
        assert.deepEqual(meta["example.meta"], [
          "PYRO:meta@localhost:2222",
          new Set(["lang:ts", "role:echo"]),
        ]);
        assert.ok(isTuple(meta["example.meta"]));
        assert.deepEqual(meta["example.echo"], ["PYRO:echo@localhost:1111", new Set()]);
        assert.deepEqual(
          ns.list("example.m", null, true)["example.meta"][1],
          new Set(["lang:ts", "role:echo"]),
        );
        assert.deepEqual(
          ns.list(null, "example.m", true)["example.meta"][1],
          new Set(["lang:ts", "role:echo"]),
        );
      });

      await t.step("list() errors", () => {
        throwsExactly(
          () => ns.list("a", "b"),
          RangeError,
          "you can only filter on one thing at a time",
          "ValueError",
        );
        assert.throws(() => ns.list(null, "("), (e: unknown) => {
          assert.ok(e instanceof NamingError);
          assert.match(e.message, /^invalid regex: /);
          return true;
        });
      });

      await t.step("yplookup() by all or any tags", () => {
        ns.register(
          "example.both",
          "PYRO:both@localhost:4444",
          false,
          new Set(["lang:ts", "role:echo", "x"]),
        );
        assert.deepEqual(keys(ns.yplookup(["role:echo"])), ["example.both", "example.meta"]);
        assert.deepEqual(keys(ns.yplookup(["role:echo", "x"])), ["example.both"]);
        assert.deepEqual(keys(ns.yplookup(new Set(["role:echo", "x", "x"]))), ["example.both"]);
        assert.deepEqual(keys(ns.yplookup(["nothing"])), []);
        assert.deepEqual(keys(ns.yplookup(null, ["x", "nothing"])), ["example.both"]);
        assert.deepEqual(keys(ns.yplookup(null, ["lang:ts"])), ["example.both", "example.meta"]);
        assert.deepEqual(keys(ns.yplookup()), []);
        assert.deepEqual(keys(ns.yplookup([], [])), []);
        const r = ns.yplookup(["x"]);
        assert.deepEqual(r["example.both"], [
          "PYRO:both@localhost:4444",
          new Set(["lang:ts", "role:echo", "x"]),
        ]);
        assert.deepEqual({ ...ns.yplookup(null, ["x"], false) }, {
          "example.both": "PYRO:both@localhost:4444",
        });
        throwsExactly(
          () => ns.yplookup(["a"], ["b"]),
          RangeError,
          "you can't use meta_all or meta_any at the same time",
          "ValueError",
        );
        throwsExactly(
          () => ns.yplookup("abc" as unknown as string[]),
          TypeError,
          "metadata_all should not be a str, but another iterable (set, list, etc)",
        );
        throwsExactly(
          () => ns.yplookup(null, "abc" as unknown as string[]),
          TypeError,
          "metadata_any should not be a str, but another iterable (set, list, etc)",
        );
        ns.remove("example.both");
      });

      await t.step("set_metadata() replaces or clears tags", () => {
        assert.equal(ns.set_metadata("example.echo", new Set(["updated"])), null);
        assert.deepEqual(
          (ns.lookup("example.echo", true) as readonly [PyroUri, Set<string>])[1],
          new Set(["updated"]),
        );
        assert.equal(ns.lookup("example.echo").toString(), "PYRO:echo@localhost:1111");
        ns.set_metadata("example.echo", null);
        assert.deepEqual(
          (ns.lookup("example.echo", true) as readonly [PyroUri, Set<string>])[1],
          new Set(),
        );
        ns.set_metadata("example.echo", ["a", "b"]);
        assert.deepEqual(ns.list(null, null, true)["example.echo"][1], new Set(["a", "b"]));
        ns.set_metadata("example.echo", []);
        throwsExactly(() => ns.set_metadata("nope", ["a"]), NamingError, "unknown name: nope");
        throwsExactly(
          () => ns.set_metadata("example.echo", "abc" as unknown as string[]),
          TypeError,
          "metadata should not be a str, but another iterable (set, list, etc)",
        );
      });

      await t.step("ping() and count()", () => {
        assert.equal(ns.ping(), null);
        assert.equal(ns.count(), 3);
      });

      await t.step("remove() by name, prefix and regex; never the name server itself", () => {
        ns.register(NAMESERVER_NAME, "PYRO:Pyro.NameServer@localhost:9090", false, [
          "class:Pyro5.nameserver.NameServer",
        ]);
        ns.register("other.a", "PYRO:a@h:1");
        ns.register("other.b", "PYRO:b@h:1");
        assert.equal(ns.remove("example.echo"), 1);
        assert.equal(ns.remove("example.echo"), 0);
        assert.equal(ns.remove("does.not.exist"), 0);
        assert.equal(ns.remove(NAMESERVER_NAME), 0);
        assert.equal(ns.remove(), 0);
        assert.equal(ns.remove(null, "Pyro."), 0);
        assert.equal(ns.remove(null, null, ".*"), 4);
        assert.deepEqual(keys(ns.list()), [NAMESERVER_NAME]);
        ns.register("p.1", "PYRO:a@h:1");
        ns.register("p.2", "PYRO:a@h:1");
        ns.register("q.1", "PYRO:a@h:1");
        assert.equal(ns.remove(null, "p."), 2);
        assert.equal(
          ns.remove("nope", null, "q"),
          1,
          "falls through to regex when the name is unknown",
        );
        assert.equal(ns.count(), 1);
      });

      await t.step("names with unusual characters", () => {
        for (
          const name of [
            "__proto__",
            "constructor",
            "naïve.ñame",
            "emoji.🐍",
            "with space",
            "a'b\"c",
          ]
        ) {
          ns.register(name, "PYRO:x@h:1", true, [name]);
          assert.equal(ns.lookup(name).toString(), "PYRO:x@h:1");
          assert.equal(ns.list(name)[name], "PYRO:x@h:1");
          assert.ok(Object.hasOwn(ns.list(), name));
          assert.deepEqual(keys(ns.yplookup([name])), [name]);
          assert.equal(ns.remove(name), 1);
        }
        assert.equal(Object.getPrototypeOf(ns.list()), null);
      });
    } finally {
      await cleanup();
    }
  });
}

Deno.test("SqlStorage keeps registrations across reopening, in Pyro5's schema", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tyro_ns_" });
  try {
    const file = `${dir}/ns.sqlite`;
    let s = new SqlStorage(file);
    s.set("a", "PYRO:a@h:1", ["t1", "t2"]);
    s.set("b", "PYRO:b@h:2", []);
    s.set("a", "PYRO:a@h:3", ["t3"]);
    s.close();
    s = new SqlStorage(file);
    assert.equal(s.count(), 2);
    assert.deepEqual(s.get("a"), { uri: "PYRO:a@h:3", metadata: new Set(["t3"]) });
    assert.deepEqual(s.get("b"), { uri: "PYRO:b@h:2", metadata: new Set() });
    assert.equal(s.get("c"), undefined);
    s.clear();
    assert.equal(s.count(), 0);
    s.close();
    // Pyro5's tables and columns
    const db = new DatabaseSync(file);
    const cols = (t: string) =>
      (db.prepare(`PRAGMA table_info(${t})`).all() as { name: string }[]).map((r) => r.name);
    assert.deepEqual(cols("pyro_names"), ["id", "name", "uri"]);
    assert.deepEqual(cols("pyro_metadata"), ["object", "metadata"]);
    assert.equal(
      (db.prepare("PRAGMA journal_mode").get() as { journal_mode: string }).journal_mode,
      "wal",
    );
    db.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("SqlStorage migrates a database without the metadata table", async () => {
  const dir = await Deno.makeTempDir({ prefix: "tyro_ns_" });
  try {
    const file = `${dir}/old.sqlite`;
    const db = new DatabaseSync(file);
    db.exec(
      "CREATE TABLE pyro_names (id integer PRIMARY KEY, name nvarchar NOT NULL UNIQUE, uri nvarchar NOT NULL)",
    );
    db.exec("INSERT INTO pyro_names(name, uri) VALUES ('old.name', 'PYRO:old@h:1')");
    db.close();
    const s = new SqlStorage(file);
    assert.deepEqual(s.get("old.name"), { uri: "PYRO:old@h:1", metadata: new Set() });
    s.set("old.name", "PYRO:old@h:1", ["m"]);
    assert.deepEqual([...s.searchMetadata(new Set(["m"]), undefined).keys()], ["old.name"]);
    s.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("storageFromSpec() accepts memory and sql:FILE only", () => {
  assert.ok(storageFromSpec(undefined) instanceof MemoryStorage);
  assert.ok(storageFromSpec("memory") instanceof MemoryStorage);
  throwsExactly(() => storageFromSpec("foo"), RangeError, "invalid storage type 'foo'");
  throwsExactly(() => storageFromSpec("sql:"), RangeError, "invalid storage type 'sql:'");
  throwsExactly(
    () => storageFromSpec("sql::memory:"),
    RangeError,
    "We don't support the sqlite :memory: database type. Just use the default volatile in-memory store.",
  );
  assert.throws(() => new SqlStorage("/nonexistent-dir/x/y.sqlite"), NamingError);
});

Deno.test("helpers: Python truthiness, regexes and reprs", () => {
  assert.equal(pyTruthy([]), false);
  assert.equal(pyTruthy(new Set()), false);
  assert.equal(pyTruthy({}), false);
  assert.equal(pyTruthy(""), false);
  assert.equal(pyTruthy(0), false);
  assert.equal(pyTruthy(["a"]), true);
  assert.ok(pyReMatch(compilePyRegex("(?P<a>x)(?P=a)"), "xx"));
  assert.ok(!pyReMatch(compilePyRegex("b"), "ab"));
  assert.ok(pyReMatch(compilePyRegex("(?i)AB"), "abc"));
  assert.ok(pyReMatch(compilePyRegex("\\Aab\\Z"), "ab"));
  assert.ok(!pyReMatch(compilePyRegex("\\Aab\\Z"), "abc"));
  assert.equal(pyStrRepr("it's"), `"it's"`);
  assert.equal(pyStrRepr("a\nb"), "'a\\nb'");
  assert.equal(pySetRepr(["b", "a"]), "{'a', 'b'}");
  assert.equal(pySetRepr([]), "set()");
});

Deno.test("NameServerDaemon registers the name server with Pyro5's metadata", async () => {
  const d = new NameServerDaemon({ bind: false, location: "127.0.0.1:47650" });
  try {
    assert.equal(d.nameserver.count(), 1);
    const [uri, meta] = d.nameserver.lookup(NAMESERVER_NAME, true) as readonly [
      PyroUri,
      Set<string>,
    ];
    assert.equal(uri.toString(), "PYRO:Pyro.NameServer@127.0.0.1:47650");
    assert.deepEqual(meta, new Set(["class:Pyro5.nameserver.NameServer"]));
    assert.deepEqual(
      d.metadataFor(NAMESERVER_NAME).methods,
      new Set([
        "count",
        "list",
        "lookup",
        "ping",
        "register",
        "remove",
        "set_metadata",
        "yplookup",
      ]),
    );
    assert.equal(d.metadataFor(NAMESERVER_NAME).attrs.size, 0);
  } finally {
    await d.close();
  }
  assert.throws(
    () => new NameServerDaemon({ bind: false, config: { NS_AUTOCLEAN: 1 } }),
    /NS_AUTOCLEAN cannot be smaller than 3/,
  );
  assert.throws(
    () => new NameServerDaemon({ bind: false, storage: "bogus" }),
    /invalid storage type 'bogus'/,
  );
});

Deno.test("resolve() returns PYRO URIs unchanged and refuses other values", async () => {
  const u = new PyroUri("PYRO:x@h:1");
  assert.equal(await resolve(u), u);
  assert.equal((await resolve("PYRO:x@h:1")).toString(), "PYRO:x@h:1");
  await assert.rejects(() => resolve(5 as unknown as string), TypeError);
});

// ---- the golden vectors: a name server session replayed without sockets ----

async function replay(
  scenario: string,
  serializer: string,
): Promise<{ sent: Message[]; replies: Message[] }> {
  const m = manifest().messages.filter((x) =>
    x.scenario === scenario && x.serializer === serializer
  )
    .sort((a, b) => a.index - b.index);
  const d = new NameServerDaemon({ bind: false, location: "127.0.0.1:47650" });
  const replies: Message[] = [];
  const session = d.openSession((bytes) => replies.push(decodeMessage(bytes)), () => {});
  const sent: Message[] = [];
  try {
    for (const v of m.filter((x) => x.direction === "client->server")) {
      const msg = decodeMessage(vectorBytes(v.file));
      sent.push(msg);
      await session.receive(msg);
    }
  } finally {
    session.close();
    await d.close();
  }
  return { sent, replies };
}

function expectedReplies(scenario: string, serializer: string) {
  return manifest().messages.filter((x) =>
    x.scenario === scenario && x.serializer === serializer && x.direction === "server->client"
  ).sort((a, b) => a.index - b.index);
}

/** Sorts string lists inside a value, since json/msgpack send sets as lists in any order. */
function normalize(v: unknown): unknown {
  if (Array.isArray(v)) {
    const items = v.map(normalize);
    return items.every((x) => typeof x === "string") && !isTuple(v) ? [...items].sort() : items;
  }
  if (
    v !== null && typeof v === "object" && !(v instanceof Set) && !(v instanceof PyroUri) &&
    !(v instanceof Error)
  ) {
    const o = Object.create(null);
    for (const [k, x] of Object.entries(v)) o[k] = normalize(x);
    return o;
  }
  return v;
}

for (const serializer of ["serpent", "json", "marshal", "msgpack"]) {
  Deno.test(`golden vectors: name server session (${serializer}) gets Pyro5's answers`, async () => {
    const { replies } = await replay("nameserver", serializer);
    const expected = expectedReplies("nameserver", serializer);
    assert.equal(replies.length, expected.length);
    const ser = serializerFor(serializer);
    for (let i = 0; i < expected.length; i++) {
      const v = expected[i];
      const got = replies[i];
      assert.equal(got.type, v.msg_type, v.call);
      assert.equal(got.seq, v.seq, v.call);
      const value = ser.loads(got.payload);
      if (v.call.includes("lookup: EXCEPTION builtins.ValueError")) {
        // Pyro5 5.15 with marshal cannot send lookup(return_metadata=True); Tyro answers correctly
        assert.equal(got.flags & 1, 0);
        const [uri, meta] = value as [PyroUri, Set<string>];
        assert.equal(String(uri), "PYRO:obj_meta@127.0.0.1:51235");
        assert.deepEqual(meta, new Set(["lang:python", "role:echo"]));
        continue;
      }
      assert.equal(got.flags & 1, v.flags & 1, `exception flag of ${v.call}`);
      const want = fromTagged(v.decoded);
      if (want instanceof Error) {
        assert.ok(value instanceof Error, v.call);
        assert.equal(value.constructor, want.constructor, v.call);
        assert.equal(value.message, want.message, v.call);
        assert.equal((value as PyroError).remoteType, (want as PyroError).remoteType, v.call);
        continue;
      }
      const diff = pyDiff(normalize(value), normalize(want));
      assert.equal(diff, null, `${v.call}: ${diff}`);
    }
  });
}

for (const serializer of ["json", "msgpack"]) {
  Deno.test(`golden vectors: list(return_metadata=True) after a registration without metadata (${serializer}) works`, async () => {
    const { replies } = await replay("nameserver_list_metadata", serializer);
    const expected = expectedReplies("nameserver_list_metadata", serializer);
    assert.equal(replies.length, expected.length);
    const last = replies[replies.length - 1];
    assert.equal(last.flags & 1, 0, "no exception (Pyro5 5.15 sends a SerializeError here)");
    const value = serializerFor(serializer).loads(last.payload) as Record<string, unknown>;
    assert.deepEqual(value["example.nometa"], ["PYRO:test.echoserver@127.0.0.1:51234", []]);
    assert.deepEqual(value[NAMESERVER_NAME], [
      "PYRO:Pyro.NameServer@127.0.0.1:47650",
      ["class:Pyro5.nameserver.NameServer"],
    ]);
  });
}
