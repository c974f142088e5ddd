/**
 * Integration: Tyro client against Tyro daemon over every transport,
 * looped over the four serializers.
 */
import assert from "node:assert/strict";
import { batch, connect, controlOf, createProxy, getAttr, PyroProxy, setAttr } from "../client.ts";
import { EchoServer } from "../cli/echoserver.ts";
import {
  CommunicationError,
  ConnectionClosedError,
  RemoteError,
  SerializeError,
  TimeoutError,
} from "../errors.ts";
import { behavior, currentContext, Daemon, expose, oneway } from "../server.ts";
import { memoryPair } from "../transport/memory.ts";
import { Complex, tuple } from "../serializers/types.ts";
import { PyroUri } from "../uri.ts";
import { decodeMessage, encodeMessage, type Message, uuidToBytes } from "../protocol/message.ts";
import { MessageReader } from "../protocol/message_reader.ts";
import { MessageType } from "../protocol/constants.ts";
import { serializerFor } from "../serializers/mod.ts";

const SERIALIZERS = ["serpent", "json", "marshal", "msgpack"] as const;

let counter = 0;

@behavior({ instanceMode: "session" })
class Counter {
  #n = 0;
  @expose
  increment(): number {
    return ++this.#n;
  }
}

@behavior({ instanceMode: "percall" })
class PerCall {
  #n = 0;
  @expose
  increment(): number {
    return ++this.#n;
  }
}

@behavior({ instanceMode: "single" })
class Single {
  #n = 0;
  @expose
  increment(): number {
    return ++this.#n;
  }
}

class Tools {
  received: unknown[] = [];
  @expose
  add(a: number, b: number): number {
    return a + b;
  }
  @expose
  greet(name: string, greeting = "hello"): string {
    return `${greeting}, ${name}`;
  }
  @expose
  async delay(ms: number, value: unknown): Promise<unknown> {
    await new Promise((r) => setTimeout(r, ms));
    return value;
  }
  @expose
  async *countdown(n: number): AsyncGenerator<number> {
    for (let i = n; i > 0; i--) yield i;
  }
  @expose
  *infinite(): Generator<number> {
    let i = 0;
    while (true) yield i++;
  }
  @expose
  context(): unknown {
    const ctx = currentContext()!;
    ctx.responseAnnotations.set("RESP", new TextEncoder().encode("ok"));
    return [
      ctx.correlationId ? [...ctx.correlationId] : null,
      new TextDecoder().decode(ctx.annotations.get("XTRA") ?? new Uint8Array()),
    ];
  }
  @oneway
  async slowRemember(x: unknown): Promise<void> {
    await new Promise((r) => setTimeout(r, 300));
    this.received.push(x);
  }
  @oneway
  remember(x: unknown): void {
    this.received.push(x);
  }
  @expose
  fail(): never {
    throw new TypeError("bad type here");
  }
  @expose
  makeChild(): Child {
    return this.child;
  }
  child = new Child();
  hidden(): string {
    return "no";
  }
}

class Child {
  @expose
  name(): string {
    return "child";
  }
}

type Transport = "memory" | "tcp4" | "tcp6" | "unix";

async function withDaemon(
  transport: Transport,
  fn: (
    daemon: Daemon,
    uriOf: (id: string) => string,
    opts: { connect?: () => Promise<ReturnType<typeof memoryPair>[0]> },
  ) => Promise<void>,
): Promise<void> {
  const sock = `/tmp/tyro-test-${Deno.pid}-${counter++}.sock`;
  const daemon = transport === "memory"
    ? new Daemon({ bind: false, location: "memory:0" })
    : transport === "unix"
    ? new Daemon({ unixSocket: sock })
    : new Daemon({ host: transport === "tcp4" ? "127.0.0.1" : "::1", port: 0 });
  const serving = transport === "memory" ? Promise.resolve() : daemon.serve();
  const opts = transport === "memory"
    ? {
      connect: () => {
        const [a, b] = memoryPair();
        daemon.handleConnection(b);
        return Promise.resolve(a);
      },
    }
    : {};
  try {
    await fn(daemon, (id) => daemon.uriFor(id).toString(), opts);
  } finally {
    await daemon.close();
    await serving;
  }
}

for (const transport of ["memory", "tcp4", "tcp6", "unix"] as Transport[]) {
  for (const ser of SERIALIZERS) {
    Deno.test(`client and daemon over ${transport} with ${ser}`, async (t) => {
      await withDaemon(transport, async (daemon, uriOf, opts) => {
        const echoObj = new EchoServer();
        daemon.register(echoObj, "test.echoserver");
        const tools = new Tools();
        daemon.register(tools, "tools");
        daemon.register(Counter, "counter");
        daemon.register(PerCall, "percall");
        daemon.register(Single, "single");
        const popts = {
          serializer: ser,
          connect: opts.connect ? () => opts.connect!() : undefined,
        };

        await using echo = await connect(uriOf("test.echoserver"), popts);
        await using tl = await connect<Tools>(uriOf("tools"), popts);

        await t.step("echo of plain values", async () => {
          const values: unknown[] = [
            null,
            true,
            false,
            0,
            -1,
            2 ** 31,
            2 ** 53 - 1,
            1.5,
            -0.25,
            "",
            "héllo ☃ 𝄞",
            [1, [2, "x"]],
            { a: 1, b: [true, null] },
          ];
          if (ser !== "json") values.push(2n ** 64n + 1n, -(2n ** 70n));
          for (const v of values) assert.deepEqual(await echo.echo(v), v);
          assert.ok(Number.isNaN(await echo.nan()));
          assert.equal(await echo.inf(), Infinity);
        });
        await t.step("echo of bytes, sets, tuples, maps, complex", async () => {
          const bytes = new Uint8Array([0, 1, 2, 255]);
          assert.deepEqual(await echo.echo(bytes), bytes);
          if (ser === "serpent" || ser === "marshal") {
            const tup = await echo.echo(tuple(1, "a")) as unknown[];
            assert.ok(Object.isFrozen(tup));
            assert.deepEqual([...tup], [1, "a"]);
            assert.deepEqual(await echo.echo(new Set([1, 2])), new Set([1, 2]));
            assert.deepEqual(
              await echo.echo(new Map<unknown, unknown>([[1, "a"], [2, "b"]])),
              new Map([[1, "a"], [2, "b"]]),
            );
            assert.deepEqual(await echo.echo(new Complex(1, -2)), new Complex(1, -2));
          } else {
            assert.deepEqual(await echo.echo(new Set([1, 2])), [1, 2]);
          }
        });
        await t.step("a URI and a proxy go through as themselves", async () => {
          const uri = new PyroUri("PYRO:x@localhost:1234");
          const back = await echo.echo(uri);
          assert.ok(back instanceof PyroUri);
          assert.equal(String(back), "PYRO:x@localhost:1234");
          if (ser !== "marshal") {
            const p = await echo.echo(tl);
            assert.equal(String(controlOf(p).uri), uriOf("tools"));
            assert.ok(controlOf(p).methods.has("add"));
          }
        });
        await t.step("keyword arguments by name", async () => {
          const p = controlOf(tl);
          assert.equal(await p.invoke("greet", ["ann"], { greeting: "hi" }), "hi, ann");
          assert.equal(await tl.greet("bob"), "hello, bob");
          await assert.rejects(
            p.invoke("greet", ["ann"], { nope: 1 }),
            (e: Error) =>
              e instanceof TypeError &&
              e.message === "greet() got an unexpected keyword argument 'nope'",
          );
        });
        await t.step("remote exceptions keep their type and traceback", async () => {
          await assert.rejects(echo.error(), (e: RemoteError) => {
            assert.ok(e instanceof RemoteError);
            assert.equal(e.remoteType, "builtins.ValueError");
            assert.equal(e.message, "this is the generated error from echoserver echo() method");
            assert.ok(
              e.remoteTraceback!.join("").includes("ValueError: this is the generated error"),
            );
            return true;
          });
          await assert.rejects(
            tl.fail(),
            (e: Error) => e instanceof TypeError && e.message === "bad type here",
          );
        });
        await t.step("private, unexposed and Object.prototype members are refused", async () => {
          const p = controlOf(echo);
          for (
            const [name, msg] of [
              ["_private", "attempt to access private attribute '_private'"],
              ["constructor", "attempt to access private attribute 'constructor'"],
              ["__proto__", "attempt to access private attribute '__proto__'"],
              ["toString", "attempt to access private attribute 'toString'"],
            ]
          ) {
            await assert.rejects(
              p.invoke(name, [], {}, { objectId: "test.echoserver" }).catch((e) => {
                throw e;
              }),
              (e: Error) =>
                e.name === "AttributeError" && e.message.includes(msg!) ||
                e.message.includes("has no exposed"),
            );
          }
          // bypass local metadata checks by using a fresh proxy without metadata
          const raw = new PyroProxy(uriOf("tools"), popts);
          await raw.bind();
          raw.setMetadata({ methods: ["hidden", "add", "hasOwnProperty"] });
          await assert.rejects(
            raw.invoke("hidden"),
            (e: RemoteError) =>
              e.remoteType === "builtins.AttributeError" &&
              e.message === "attempt to access unexposed attribute 'hidden'",
          );
          await assert.rejects(
            raw.invoke("hasOwnProperty", ["x"]),
            (e: RemoteError) => e.remoteType === "builtins.AttributeError",
          );
          assert.equal(
            await raw.invoke("__dunder__", [], {}, { objectId: "test.echoserver" }),
            "should be allowed (dunder)",
          );
          raw.release();
          assert.equal(await echo.__dunder__(), "should be allowed (dunder)");
          await assert.rejects(
            Promise.resolve().then(() => echo.no_such_method()),
            (e: Error) => e.name === "AttributeError",
          );
        });
        if (ser !== "marshal") {
          await t.step("properties through __getattr__/__setattr__", async () => {
            assert.equal(await getAttr(echo, "verbose"), false);
            await setAttr(echo, "verbose", true);
            assert.equal(await getAttr(echo, "verbose"), true);
            await setAttr(echo, "verbose", false);
            await assert.rejects(
              getAttr(echo, "mustShutdown"),
              (e: RemoteError) => e.remoteType === "builtins.AttributeError",
            );
          });
          await t.step("batch calls stop at the first failure", async () => {
            const b = batch(echo);
            const r1 = b.echo(1);
            const r2 = b.echo("two");
            const r3 = b.error();
            const r4 = b.echo("never");
            const results = await b.$send();
            assert.deepEqual(results, [1, "two"]);
            assert.equal(await r1, 1);
            assert.equal(await r2, "two");
            await assert.rejects(r3, (e: RemoteError) => e.remoteType === "builtins.ValueError");
            await assert.rejects(r4, /not executed/);
          });
        }
        await t.step("oneway calls return at once and run on the server", async () => {
          const started = performance.now();
          await tl.slowRemember("slow");
          assert.ok(performance.now() - started < 250);
          await tl.remember("x1");
          await tl.add(0, 0);
          assert.ok(tools.received.includes("x1"));
        });
        await t.step("remote iterators stream on demand and close early", async () => {
          const items: unknown[] = [];
          for await (const x of echo.generator()) items.push(x);
          assert.deepEqual(items, ["one", "two", "three"]);
          const down: unknown[] = [];
          for await (const x of tl.countdown(3)) down.push(x);
          assert.deepEqual(down, [3, 2, 1]);
          let n = 0;
          for await (const x of tl.infinite()) {
            assert.equal(x, n);
            if (++n === 5) break;
          }
          controlOf(tl).prefetch = 8;
          const fetched: unknown[] = [];
          for await (const x of tl.countdown(20)) fetched.push(x);
          assert.deepEqual(fetched, [...Array(20).keys()].map((i) => 20 - i));
          let m = 0;
          for await (const _ of tl.infinite()) if (++m === 3) break;
          controlOf(tl).prefetch = 0;
          await tl.add(1, 1); // let the oneway close_stream land
          assert.equal(daemon.streamCount, 0);
        });
        await t.step("pipelined calls on one connection each get their own answer", async () => {
          const calls = [];
          for (let i = 0; i < 200; i++) calls.push(tl.delay(i % 7, i));
          assert.deepEqual(await Promise.all(calls), [...Array(200).keys()]);
        });
        await t.step("instance modes", async () => {
          await using c1 = await connect(uriOf("counter"), popts);
          await using c2 = await connect(uriOf("counter"), popts);
          assert.equal(await c1.increment(), 1);
          assert.equal(await c1.increment(), 2);
          assert.equal(await c2.increment(), 1);
          await using pc = await connect(uriOf("percall"), popts);
          assert.equal(await pc.increment(), 1);
          assert.equal(await pc.increment(), 1);
          await using s1 = await connect(uriOf("single"), popts);
          await using s2 = await connect(uriOf("single"), popts);
          assert.equal(await s1.increment(), 1);
          assert.equal(await s2.increment(), 2);
        });
        await t.step("autoproxy returns registered objects as proxies", async () => {
          daemon.register(tools.child, "child");
          const child = await tl.makeChild();
          assert.equal(controlOf(child).uri.object, "child");
          assert.ok(controlOf(child).methods.has("name"));
          if (transport !== "memory") { // a received proxy connects by its URI
            assert.equal(await (child as unknown as { name(): Promise<string> }).name(), "child");
          }
          controlOf(child).release();
        });
        await t.step("correlation id and annotations reach the method", async () => {
          const p = controlOf(tl);
          p.correlationId = uuidToBytes("5eed0000-0000-4000-8000-000000000042");
          p.annotations.set("XTRA", new TextEncoder().encode("extra"));
          const [corr, xtra] = await tl.context() as [number[], string];
          assert.deepEqual(corr, [...p.correlationId]);
          assert.equal(xtra, "extra");
          assert.equal(new TextDecoder().decode(p.responseAnnotations.get("RESP")), "ok");
          p.correlationId = null;
          p.annotations.clear();
        });
        await t.step("timeouts per call and per proxy", async () => {
          await assert.rejects(
            controlOf(tl).invoke("delay", [500, 1], {}, { timeout: 50 }),
            TimeoutError,
          );
          const ac = new AbortController();
          const p = controlOf(tl).invoke("delay", [500, 1], {}, { signal: ac.signal });
          ac.abort(new Error("stop"));
          await assert.rejects(p, /stop/);
          assert.equal(await tl.add(2, 3), 5); // the connection still works
        });
        await t.step("ping", async () => {
          await controlOf(echo).ping();
        });
      });
    });
  }
}

Deno.test("a refused handshake gives CONNECTFAIL with the hook's message", async () => {
  const daemon = new Daemon({
    host: "127.0.0.1",
    validateHandshake: (_s, data) => {
      if (data !== "secret") throw new Error("go away");
      return "welcome";
    },
  });
  daemon.register(new EchoServer(), "test.echoserver");
  const serving = daemon.serve();
  const uri = daemon.uriFor("test.echoserver");
  await assert.rejects(
    connect(uri),
    (e: Error) =>
      e instanceof CommunicationError &&
      e.message === `connection to ${uri.location} rejected: go away`,
  );
  let response: unknown;
  const ok = await connect(uri, { handshake: "secret", onHandshakeResponse: (r) => response = r });
  assert.equal(response, "welcome");
  assert.equal(await ok.echo(1), 1);
  await assert.rejects(
    connect(daemon.uriFor("nothing"), { handshake: "secret" }),
    (e: Error) => e.message.endsWith("rejected: unknown object"),
  );
  controlOf(ok).release();
  await daemon.close();
  await serving;
});

Deno.test("each CONNECTOK carries this handshake's answer and this object's members, connection after connection", async () => {
  class First {
    @expose
    a(): number {
      return 1;
    }
  }
  class Second {
    @expose
    b(): number {
      return 2;
    }
    @expose
    @oneway
    c(): void {}
  }
  const daemon = new Daemon({
    host: "127.0.0.1",
    // the answer repeats, then changes, then is an object (never kept)
    validateHandshake: (_s, data) =>
      data === "obj" ? { n: 1 } : data === "two" ? "second" : "first",
  });
  daemon.register(new First(), "x");
  const serving = daemon.serve();
  const uri = daemon.uriFor("x");
  const bind = async (handshake: string, serializer = "serpent") => {
    let response: unknown;
    const p = await connect(uri, {
      handshake,
      serializer,
      onHandshakeResponse: (r) => response = r,
    });
    const c = controlOf(p);
    const seen = { response, methods: [...c.methods].sort(), oneway: [...c.oneway].sort() };
    c.release();
    return seen;
  };
  const first = { response: "first", methods: ["a"], oneway: [] };
  assert.deepEqual(await bind("one"), first);
  assert.deepEqual(await bind("one"), first);
  assert.deepEqual(await bind("one", "msgpack"), first);
  assert.deepEqual(await bind("two"), { response: "second", methods: ["a"], oneway: [] });
  assert.deepEqual(await bind("obj"), { response: { n: 1 }, methods: ["a"], oneway: [] });
  assert.deepEqual(await bind("one"), first);
  // the same id, another object: its own members
  daemon.unregister("x");
  daemon.register(new Second(), "x");
  const second = { response: "first", methods: ["b", "c"], oneway: ["c"] };
  assert.deepEqual(await bind("one"), second);
  assert.deepEqual(await bind("one"), second);
  await daemon.close();
  await serving;
});

Deno.test("a proxy reconnects after the daemon restarts (maxRetries)", async () => {
  let daemon = new Daemon({ host: "127.0.0.1" });
  daemon.register(new EchoServer(), "test.echoserver");
  let serving = daemon.serve();
  const port = (daemon.addr as Deno.NetAddr).port;
  const remote = createProxy(daemon.uriFor("test.echoserver"), { maxRetries: 2 });
  assert.equal(await remote.echo(1), 1);
  await daemon.close();
  await serving;
  daemon = new Daemon({ host: "127.0.0.1", port });
  daemon.register(new EchoServer(), "test.echoserver");
  serving = daemon.serve();
  assert.equal(await remote.echo(2), 2);
  const noRetry = createProxy(daemon.uriFor("test.echoserver"));
  assert.equal(await noRetry.echo(3), 3);
  await daemon.close();
  await serving;
  await assert.rejects(noRetry.echo(4), (e: Error) => e instanceof CommunicationError);
  controlOf(remote).release();
  controlOf(noRetry).release();
});

Deno.test("await on a proxy does not hang, and it refuses property writes", async () => {
  const remote = createProxy("PYRO:x@127.0.0.1:1");
  assert.equal(await Promise.resolve(remote as unknown), remote);
  assert.throws(() => {
    (remote as Record<string, unknown>).x = 1;
  }, TypeError);
  await assert.rejects(
    remote.anything(),
    (e: Error) => e instanceof CommunicationError && !(e instanceof ConnectionClosedError),
  );
});

Deno.test("item streams expire after ITER_STREAM_LIFETIME, and close at once without linger", async () => {
  const daemon = new Daemon({
    host: "127.0.0.1",
    config: { ITER_STREAM_LIFETIME: 0.2, ITER_STREAM_LINGER: 0 },
  });
  daemon.register(new Tools(), "tools");
  const serving = daemon.serve();
  const tl = await connect<Tools>(daemon.uriFor("tools"));
  const it = tl.infinite()[Symbol.asyncIterator]();
  assert.deepEqual(await it.next(), { value: 0, done: false });
  assert.equal(daemon.streamCount, 1);
  await new Promise((r) => setTimeout(r, 1500));
  daemon.housekeeping();
  assert.equal(daemon.streamCount, 0);
  await assert.rejects(it.next(), (e: Error) => e.message === "item stream terminated");
  const it2 = tl.infinite()[Symbol.asyncIterator]();
  await it2.next();
  assert.equal(daemon.streamCount, 1);
  controlOf(tl).release(); // the client goes away: with no linger its streams close
  const end = Date.now() + 3000;
  while (daemon.streamCount > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  assert.equal(daemon.streamCount, 0);
  await daemon.close();
  await serving;
});

Deno.test("a proxy's first call goes out behind its CONNECT, checked against the metadata after", async (t) => {
  class Slow {
    calls = 0;
    done = false;
    @expose
    add(a: number, b: number): number {
      this.calls++;
      return a + b;
    }
    @oneway
    async later(): Promise<void> {
      await new Promise((r) => setTimeout(r, 200));
      this.done = true;
    }
  }
  const warnings: unknown[] = [];
  const logger = {
    warn: (...a: unknown[]) => warnings.push(a),
    info: () => {},
    debug: () => {},
    error: (...a: unknown[]) => warnings.push(a),
  };
  const obj = new Slow();
  const daemon = new Daemon({
    bind: false,
    location: "mem:0",
    logger,
    validateHandshake: (_s, data) => {
      if (data !== "secret") throw new Error("go away");
      return null;
    },
  });
  daemon.register(obj, "slow");
  let writes = 0, opened = 0;
  const open = () => {
    opened++;
    const [a, b] = memoryPair();
    daemon.handleConnection(b);
    return Promise.resolve({
      read: (buf: Uint8Array) => a.read(buf),
      write: (buf: Uint8Array) => (writes++, a.write(buf)),
      close: () => a.close(),
    });
  };
  type S = { add(a: number, b: number): Promise<number>; later(): Promise<void> };
  await t.step("CONNECT and the call leave in one write", async () => {
    writes = 0;
    const p = createProxy<S>("PYRO:slow@mem:0", { connect: open, handshake: "secret" });
    assert.equal(await p.add(2, 3), 5);
    assert.equal(writes, 1);
    controlOf(p).release();
  });
  await t.step(
    "a first call that cannot be encoded: its error, and no connection is made",
    async () => {
      opened = 0;
      const before = daemon.connectionCount;
      const p = createProxy<S & { echo(x: unknown): Promise<unknown> }>("PYRO:slow@mem:0", {
        connect: open,
        handshake: "secret",
      });
      await assert.rejects(p.echo(() => 1), SerializeError);
      assert.equal(opened, 0);
      assert.equal(daemon.connectionCount, before);
      assert.equal(await p.add(1, 1), 2);
      assert.equal(opened, 1);
      controlOf(p).release();
      const deadline = Date.now() + 2000;
      while (daemon.connectionCount > before && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.equal(daemon.connectionCount, before);
    },
  );
  await t.step("a refused handshake: the handshake's error, the call never runs", async () => {
    const before = obj.calls;
    const p = createProxy<S>("PYRO:slow@mem:0", { connect: open, handshake: "wrong" });
    await assert.rejects(
      p.add(1, 1),
      (e: Error) => e instanceof CommunicationError && e.message.endsWith("rejected: go away"),
    );
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(obj.calls, before);
    assert.deepEqual(warnings, []);
  });
  await t.step("an unknown method is refused as by a bound proxy", async () => {
    const p = createProxy<S & { nope(): Promise<void> }>("PYRO:slow@mem:0", {
      connect: open,
      handshake: "secret",
    });
    await assert.rejects(
      p.nope(),
      (e: Error) =>
        e.name === "AttributeError" &&
        e.message === "remote object 'PYRO:slow@mem:0' has no exposed attribute or method 'nope'",
    );
    controlOf(p).release();
  });
  await t.step("a oneway method returns before it has run", async () => {
    const p = createProxy<S>("PYRO:slow@mem:0", { connect: open, handshake: "secret" });
    assert.equal(await p.later(), undefined);
    assert.equal(obj.done, false);
    assert.equal(await p.add(1, 2), 3);
    controlOf(p).release();
  });
  await daemon.close();
});

Deno.test("a daemon closed by the call it is serving still sends that call's answer", async () => {
  for (let round = 0; round < 5; round++) {
    const daemon = new Daemon({ host: "127.0.0.1" });
    const echo = new EchoServer();
    daemon.register(echo, "test.echoserver");
    const serving = daemon.serve();
    const closed = echo.mustShutdown.then(() => daemon.close());
    const p = await connect<EchoServer>(daemon.uriFor("test.echoserver"));
    assert.equal(await p.shutdown(), null);
    await closed;
    await serving;
    controlOf(p).release();
  }
});

Deno.test("a oneway call made right before release() is still delivered", async () => {
  class Counter {
    n = 0;
    @oneway
    inc(): void {
      this.n++;
    }
  }
  const counter = new Counter();
  const daemon = new Daemon({ host: "127.0.0.1" });
  daemon.register(counter, "counter");
  const serving = daemon.serve();
  for (let i = 0; i < 5; i++) {
    const p = await connect<Counter>(daemon.uriFor("counter"));
    p.inc(); // not awaited
    controlOf(p).release();
  }
  const deadline = Date.now() + 2000;
  while (counter.n < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(counter.n, 5);
  await daemon.close();
  await serving;
});

Deno.test("release() ends the connection, alone or with a new connection made in the same turn", async () => {
  const daemon = new Daemon({ host: "127.0.0.1" });
  daemon.register(new EchoServer(), "test.echoserver");
  const serving = daemon.serve();
  const settled = async (n: number) => {
    const deadline = Date.now() + 2000;
    while (daemon.connectionCount !== n && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(daemon.connectionCount, n);
  };
  const p = await connect<EchoServer>(daemon.uriFor("test.echoserver"));
  assert.equal(await p.echo(1), 1);
  await settled(1);
  // released, and a new connection made in the same turn: the old one is half closed first
  controlOf(p).release();
  const q = createProxy<EchoServer>(daemon.uriFor("test.echoserver"));
  assert.equal(await q.echo(2), 2);
  await settled(1);
  // released with nothing after it: half closed at the end of the turn
  controlOf(q).release();
  await settled(0);
  // a released proxy connects again on its next call
  assert.equal(await p.echo(3), 3);
  await settled(1);
  controlOf(p).release();
  await settled(0);
  await daemon.close();
  await serving;
});

Deno.test("a released connection that ends during a connect is closed once that connect has written, or has failed", async () => {
  const daemon = new Daemon({ host: "127.0.0.1" });
  daemon.register(new EchoServer(), "test.echoserver");
  const serving = daemon.serve();
  const uri = daemon.uriFor("test.echoserver");
  const port = (daemon.addr as Deno.NetAddr).port;
  const closed = new Set<Deno.Conn>();
  let last: Deno.Conn | null = null;
  const tracked = async (): Promise<Deno.Conn> => {
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    const close = c.close.bind(c);
    c.close = () => (closed.add(c), close());
    return last = c;
  };
  const idle = async () => {
    const deadline = Date.now() + 2000;
    while (daemon.connectionCount !== 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.equal(daemon.connectionCount, 0);
    await new Promise((r) => setTimeout(r, 20)); // the end reaches the client's read
  };
  for (const outcome of ["connects", "fails"]) {
    const a = createProxy<EchoServer>(uri, { connect: tracked });
    assert.equal(await a.echo(1), 1);
    const aConn = last!;
    const gate = Promise.withResolvers<void>();
    controlOf(a).release();
    // another proxy starts a connect that waits; the daemon ends the released connection meanwhile
    const b = createProxy<EchoServer>(uri, {
      connect: () => gate.promise.then(tracked),
    });
    const answer = b.echo(2);
    await idle();
    assert.ok(!closed.has(aConn), "closed before the connect in progress has written");
    if (outcome === "connects") {
      gate.resolve();
      assert.equal(await answer, 2);
      controlOf(b).release();
    } else {
      gate.reject(new Error("no route"));
      await assert.rejects(answer, (e: Error) => e.message.endsWith("no route"));
    }
    assert.ok(
      closed.has(aConn),
      `not closed after the connect ${outcome === "fails" ? "failed" : "wrote"}`,
    );
    await idle();
  }
  await daemon.close();
  await serving;
});

Deno.test("a first call that cannot be serialized leaves the proxy usable", async () => {
  const daemon = new Daemon({ host: "127.0.0.1" });
  daemon.register(new EchoServer(), "test.echoserver");
  const serving = daemon.serve();
  const p = createProxy<EchoServer>(daemon.uriFor("test.echoserver"), { timeout: 2000 });
  await assert.rejects(p.echo(() => 1), SerializeError);
  assert.equal(await p.echo("after"), "after");
  controlOf(p).release();
  const q = createProxy(daemon.uriFor("test.echoserver"), { timeout: 2000 });
  await controlOf(q).bind(); // a bind alone sends its CONNECT
  assert.ok(controlOf(q).methods.has("echo"));
  controlOf(q).release();
  await daemon.close();
  await serving;
});

Deno.test("openSession: receive and close work as detached callbacks, and close ends the session once", async () => {
  class Greeter {
    @expose
    hello(name: string): string {
      return `hello ${name}`;
    }
  }
  const daemon = new Daemon({ bind: false, location: "127.0.0.1:1" });
  daemon.register(new Greeter(), "greeter");
  const ser = serializerFor("msgpack");
  const replies: Message[] = [];
  let closes = 0;
  const disconnected: number[] = [];
  const d2 = new Daemon({
    bind: false,
    location: "127.0.0.1:2",
    onDisconnect: (s) => disconnected.push(s.id),
  });
  d2.register(new Greeter(), "greeter");
  for (const d of [daemon, d2]) {
    const { receive, close, session } = d.openSession(
      (bytes) => replies.push(decodeMessage(bytes)),
      () => closes++,
    );
    await receive(decodeMessage(encodeMessage({
      type: MessageType.CONNECT,
      serializerId: ser.id,
      seq: 1,
      payload: ser.dumps({ handshake: null, object: "greeter" }),
    })));
    await receive(decodeMessage(encodeMessage({
      type: MessageType.INVOKE,
      serializerId: ser.id,
      seq: 2,
      payload: ser.dumpsCall("greeter", "hello", ["tyro"], {}),
    })));
    close();
    close();
    if (d === d2) assert.deepEqual(disconnected, [session.id]);
  }
  assert.deepEqual(replies.map((m) => [m.type, m.seq]), [
    [MessageType.CONNECTOK, 1],
    [MessageType.RESULT, 2],
    [MessageType.CONNECTOK, 1],
    [MessageType.RESULT, 2],
  ]);
  assert.equal(ser.loads(replies[1].payload), "hello tyro");
  assert.equal(closes, 2);
  await daemon.close();
  await d2.close();
});

Deno.test("large messages: memory is reused only when nothing holds a view of it", async () => {
  class Store {
    kept: Uint8Array[] = [];
    @expose
    keep(b: Uint8Array): Uint8Array {
      this.kept.push(b);
      return b;
    }
  }
  const daemon = new Daemon({ host: "127.0.0.1" });
  const serving = daemon.serve();
  for (const serializer of ["serpent", "json", "marshal", "msgpack"]) {
    const store = new Store();
    daemon.register(store, `store.${serializer}`);
    const p = await connect<Store>(daemon.uriFor(`store.${serializer}`), { serializer });
    const sent: Uint8Array[] = [];
    const got: Uint8Array[] = [];
    // 1 MB: read where the body stays (a landing) from the second message on; 8.5 MB: past
    // the prepared-buffer sizes. Each a little smaller, so that memory given back fits.
    for (const size of [1_000_010, 8_500_010]) {
      for (let i = 0; i < 4; i++) {
        const b = new Uint8Array(size - i).fill(sent.length + 1);
        sent.push(b);
        got.push(await p.keep(b));
      }
    }
    // what either side kept is as it came, after later messages of the same size
    for (let i = 0; i < sent.length; i++) {
      assert.deepEqual(got[i], sent[i], `${serializer}: result ${i}`);
      assert.deepEqual(store.kept[i], sent[i], `${serializer}: kept ${i}`);
    }
    controlOf(p).release();
  }
  await daemon.close();
  await serving;
});

Deno.test("a call sent without a correlation id gets a random one, in its context and its reply", async () => {
  const seen: Uint8Array[] = [];
  class Ids {
    @expose
    id(read: boolean): number {
      if (read) {
        const ctx = currentContext()!;
        seen.push(ctx.correlationId!);
        assert.equal(ctx.correlationId, seen[0]); // drawn once, then kept for the call
      }
      return 1;
    }
  }
  const d = new Daemon({ bind: false, location: "127.0.0.1:1" });
  d.register(new Ids(), "ids");
  const [client, server] = memoryPair();
  const served = d.handleConnection(server);
  const ser = serializerFor("msgpack");
  const message = (type: number, seq: number, payload: Uint8Array) =>
    encodeMessage({ type, serializerId: ser.id, seq, payload });
  await client.write(
    message(MessageType.CONNECT, 1, ser.dumps({ handshake: null, object: "ids" })),
  );
  await client.write(message(MessageType.INVOKE, 2, ser.dumpsCall("ids", "id", [true], {})));
  await client.write(message(MessageType.INVOKE, 3, ser.dumpsCall("ids", "id", [false], {})));
  const reader = new MessageReader();
  const replies: Message[] = [];
  const buf = new Uint8Array(4096);
  while (replies.length < 3) {
    const n = await client.read(buf);
    if (n === null) break;
    replies.push(...reader.push(buf, n));
  }
  client.close();
  await served;
  await d.close();
  const [connectOk, read, notRead] = replies;
  assert.equal(connectOk.type, MessageType.CONNECTOK);
  assert.equal(seen.length, 1);
  // the reply carries the id the method saw; a call whose method did not ask gets its own
  assert.deepEqual(read.correlationId, seen[0]);
  assert.ok(notRead.correlationId !== null);
  assert.notDeepEqual(notRead.correlationId, read.correlationId);
  for (const id of [read.correlationId!, notRead.correlationId!]) {
    assert.equal(id[6] >> 4, 4); // uuid version 4
    assert.equal(id[8] >> 6, 2); // RFC 4122 variant
  }
  assert.equal(ser.loads(notRead.payload), 1);
});
