// Tyro on Node.js (>= 20): the built bundle (dist/node/tyro.mjs) end to end.
//
//   deno task build:node && node --test node/test_node.mjs
//
// Tyro client <-> Tyro daemon over TCP (IPv4, IPv6), a unix socket and an
// in-memory pair with every serializer; the name server (memory storage,
// PYRONAME); the SQL storage's error on a Node without node:sqlite; and
// interop with the real Python Pyro5 (.peer/, see tests/fetch_peer.sh).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BUNDLE = join(ROOT, "dist/node/tyro.mjs");
const ECHOSERVER = join(ROOT, "dist/node/echoserver.mjs");
const NS_CLI = join(ROOT, "dist/node/ns.mjs");
const NSC_CLI = join(ROOT, "dist/node/nsc.mjs");
const FIXTURES = join(ROOT, "dist/node-test/fixtures.mjs");
if (!existsSync(BUNDLE) || !existsSync(FIXTURES)) {
  throw new Error(`${BUNDLE} is missing: run "deno task build:node" first`);
}
const tyro = await import(BUNDLE);
const { defineTestClasses } = await import(FIXTURES);
const {
  batch,
  connect,
  controlOf,
  Daemon,
  getAttr,
  locateNs,
  memoryPair,
  NamingError,
  setAttr,
  startNs,
  TimeoutError,
} = tyro;
const { Counter, Echo, MoreTools, PerCall, Single, Tools } = defineTestClasses(tyro);

const SERIALIZERS = ["serpent", "json", "marshal", "msgpack"];
const TRANSPORTS = ["memory", "tcp4", "tcp6", "unix"];
const TMP = mkdtempSync(join(tmpdir(), "tyro-node-"));
after(() => rmSync(TMP, { recursive: true, force: true }));

const PEER_PATH = join(ROOT, ".peer/root/usr/lib/python3/dist-packages");
const PEER = existsSync(join(PEER_PATH, "Pyro5/__init__.py"));
if (!PEER && process.env.CI) {
  throw new Error("the Pyro5 peer is missing in CI: run tests/fetch_peer.sh");
}
const peerSkip = PEER ? false : "the Python Pyro5 peer is not in .peer/ (tests/fetch_peer.sh)";

let sockets = 0;

/** Runs `fn` with a daemon on `transport`, and the proxy options that reach it. */
async function withDaemon(transport, fn) {
  const daemon = transport === "memory"
    ? new Daemon({ bind: false, location: "memory:0" })
    : transport === "unix"
    ? new Daemon({ unixSocket: join(TMP, `d${sockets++}.sock`) })
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

// remote builtins arrive as the matching JS error (TypeError, ...) carrying remoteType
const isRemote = (type) => (e) => e?.remoteType === type;

describe("Tyro client and Tyro daemon", () => {
  for (const transport of TRANSPORTS) {
    for (const ser of SERIALIZERS) {
      test(`over ${transport} with ${ser}`, async (t) => {
        await withDaemon(transport, async (daemon, uriOf, opts) => {
          const tools = new Tools();
          daemon.register(new Echo(), "echo");
          daemon.register(tools, "tools");
          const popts = { serializer: ser, ...opts };
          const echo = await connect(uriOf("echo"), popts);
          const tl = await connect(uriOf("tools"), popts);
          try {
            await t.test("echo values", async () => {
              const values = [
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
                "x".repeat(200_000),
              ];
              if (ser !== "json") values.push(2n ** 64n + 1n, -(2n ** 70n));
              for (const v of values) assert.deepEqual(await echo.echo(v), v);
              const bytes = new Uint8Array([0, 1, 2, 255]);
              assert.deepEqual(await echo.echo(bytes), bytes);
              const big = new Uint8Array(1 << 20).map((_, i) => i * 7);
              assert.deepEqual(await echo.echo(big), big);
              assert.equal(await tl.add(2, 3), 5);
            });
            await t.test("exceptions", async () => {
              await assert.rejects(tl.fail(), isRemote("builtins.TypeError"));
              await assert.rejects(echo.error(), isRemote("builtins.ValueError"));
              await assert.rejects(() => tl.hidden());
              assert.equal(await tl.add(1, 1), 2); // the connection survives
              await assert.rejects(
                controlOf(tl).invoke("delay", [200, 1], {}, { timeout: 50 }),
                TimeoutError,
              );
              assert.equal(await tl.add(2, 2), 4);
            });
            await t.test("oneway", async () => {
              const started = performance.now();
              await tl.slowRemember("slow");
              assert.ok(performance.now() - started < 250);
              await tl.remember("x1");
              await tl.add(0, 0);
              assert.ok(tools.received.includes("x1"));
            });
            await t.test("batch", async () => {
              const b = batch(echo);
              const r1 = b.echo(1);
              const r2 = b.echo("two");
              const r3 = b.error();
              const r4 = b.echo("never");
              assert.deepEqual(await b.$send(), [1, "two"]);
              assert.equal(await r1, 1);
              assert.equal(await r2, "two");
              await assert.rejects(r3, isRemote("builtins.ValueError"));
              await assert.rejects(r4, /not executed/);
            });
            await t.test("remote iterators", async () => {
              const items = [];
              for await (const x of echo.generator()) items.push(x);
              assert.deepEqual(items, ["one", "two", "three"]);
              const down = [];
              for await (const x of tl.countdown(3)) down.push(x);
              assert.deepEqual(down, [3, 2, 1]);
              let n = 0;
              for await (const x of tl.infinite()) {
                assert.equal(x, n);
                if (++n === 5) break;
              }
              await tl.add(1, 1); // let the oneway close_stream land
              assert.equal(daemon.streamCount, 0);
            });
            await t.test("pipelining", async () => {
              const calls = [];
              for (let i = 0; i < 200; i++) calls.push(tl.delay(i % 7, i));
              assert.deepEqual(await Promise.all(calls), [...Array(200).keys()]);
            });
            if (ser !== "marshal") {
              await t.test("attributes", async () => {
                assert.equal(await getAttr(echo, "verbose"), false);
                await setAttr(echo, "verbose", true);
                assert.equal(await getAttr(echo, "verbose"), true);
              });
            }
          } finally {
            await echo[Symbol.asyncDispose]();
            await tl[Symbol.asyncDispose]();
          }
        });
      });
    }
  }

  test("serpent and json bytes: base64 through Node's Buffer, with the same checks", () => {
    const enc = new TextEncoder();
    const data = new Uint8Array(30_000).map((_, i) => (i * 131) & 0xff);
    const b64 = Buffer.from(data).toString("base64");
    const doc = (body) => enc.encode(`# serpent utf-8 python3.2\n${body}`);
    const serpent = tyro.serializerFor("serpent");
    assert.equal(new TextDecoder().decode(serpent.dumps(data)).includes(b64), true);
    assert.deepEqual(serpent.loads(doc(`{'data': '${b64}', 'encoding': 'base64'}`)), data);
    // a line break, a character outside the alphabet: Buffer would skip them, the dict stays
    // as it is (the lenient decoder decides) or the literal is refused
    const broken = b64.slice(0, 100) + "\\\n" + b64.slice(100);
    assert.deepEqual(serpent.loads(doc(`{'data': '${broken}', 'encoding': 'base64'}`)), data);
    const bad = "!".repeat(8000);
    assert.deepEqual(serpent.loads(doc(`{'data': '${bad}', 'encoding': 'base64'}`)), {
      data: bad,
      encoding: "base64",
    });
    const hundred = data.slice(0, 100);
    const small = serpent.loads(serpent.dumps(hundred));
    assert.deepEqual(small, hundred);
    assert.equal(small.buffer.byteLength, 100); // not a view of Node's shared Buffer pool
    const json = tyro.serializerFor("json");
    assert.deepEqual(json.loads(json.dumps(data)), data);
  });

  test("instance modes from down-levelled @behavior", async () => {
    await withDaemon("tcp4", async (daemon, uriOf) => {
      daemon.register(Counter, "counter");
      daemon.register(PerCall, "percall");
      daemon.register(Single, "single");
      const c1 = await connect(uriOf("counter")), c2 = await connect(uriOf("counter"));
      assert.equal(await c1.increment(), 1);
      assert.equal(await c1.increment(), 2);
      assert.equal(await c2.increment(), 1);
      const pc = await connect(uriOf("percall"));
      assert.equal(await pc.increment(), 1);
      assert.equal(await pc.increment(), 1);
      const s1 = await connect(uriOf("single")), s2 = await connect(uriOf("single"));
      assert.equal(await s1.increment(), 1);
      assert.equal(await s2.increment(), 2);
      for (const p of [c1, c2, pc, s1, s2]) controlOf(p).release();
    });
  });

  test("a decorated subclass keeps its parent's exposed methods", () => {
    const m = tyro.exposedMembers(MoreTools);
    assert.ok(m.methods.has("mul"));
    assert.ok(m.methods.has("add"));
  });

  test("a daemon rebinds its port at once, and a proxy reconnects (maxRetries)", async () => {
    let daemon = new Daemon({ host: "127.0.0.1" });
    daemon.register(new Echo(), "echo");
    let serving = daemon.serve();
    const port = daemon.addr.port;
    const remote = tyro.createProxy(daemon.uriFor("echo"), { maxRetries: 2 });
    const noRetry = tyro.createProxy(daemon.uriFor("echo"));
    assert.equal(await remote.echo(1), 1);
    assert.equal(await noRetry.echo(1), 1);
    await daemon.close();
    await serving;
    await assert.rejects(noRetry.echo(2), tyro.CommunicationError);
    daemon = new Daemon({ host: "127.0.0.1", port });
    daemon.register(new Echo(), "echo");
    serving = daemon.serve();
    assert.equal(await remote.echo(3), 3);
    await daemon.close();
    await serving;
    controlOf(remote).release();
    controlOf(noRetry).release();
  });

  test("connect errors are CommunicationErrors; a bound port is refused at once", async () => {
    const d = new Daemon({ host: "127.0.0.1", port: 0 });
    const port = d.addr.port;
    assert.throws(() => new Daemon({ host: "127.0.0.1", port }), /EADDRINUSE/);
    await d.close();
    await assert.rejects(
      connect(`PYRO:x@127.0.0.1:${port}`).then((p) => controlOf(p).bind()),
      (e) => e instanceof tyro.CommunicationError && /ECONNREFUSED/.test(e.message),
    );
  });
});

describe("name server (memory storage)", () => {
  let ns, daemon, serving;
  before(async () => {
    ns = await startNs({ host: "127.0.0.1", port: 0 });
    daemon = new Daemon({ host: "127.0.0.1", port: 0 });
    daemon.register(new Echo(), "test.echo");
    serving = daemon.serve();
  });
  after(async () => {
    await daemon.close();
    await serving;
    await ns.close();
  });

  test("register, lookup, list, remove", async () => {
    assert.equal(ns.broadcastSkipped, "localhost");
    const proxy = await locateNs("127.0.0.1", ns.uri.port);
    try {
      const uri = daemon.uriFor("test.echo").toString();
      await proxy.register("test.echo", uri, false, ["tag:a", "tag:b"]);
      assert.equal((await proxy.lookup("test.echo")).toString(), uri);
      const all = await proxy.list();
      assert.deepEqual(Object.keys(all).sort(), ["Pyro.NameServer", "test.echo"]);
      assert.deepEqual(await proxy.list("test."), { "test.echo": uri });
      assert.deepEqual(Object.keys(await proxy.yplookup(["tag:a"])), ["test.echo"]);
      assert.equal(await proxy.count(), 2);
      await proxy.register("test.gone", "PYRO:x@localhost:1");
      assert.equal(await proxy.remove("test.gone"), 1);
      await assert.rejects(proxy.lookup("test.gone"), isRemote("Pyro5.errors.NamingError"));
    } finally {
      controlOf(proxy).release();
    }
  });

  test("PYRONAME resolution", async () => {
    for (const ser of SERIALIZERS) {
      const echo = await connect(`PYRONAME:test.echo@127.0.0.1:${ns.uri.port}`, {
        serializer: ser,
      });
      assert.equal(await echo.echo("via the name server"), "via the name server");
      controlOf(echo).release();
    }
  });

  test("broadcast discovery (node:dgram)", async () => {
    const bs = await tyro.BroadcastServer.create(ns.uri, { bchost: "127.0.0.1", bcport: 0 });
    try {
      const found = await tyro.broadcastLocate(bs.port, {
        addresses: ["127.0.0.1"],
        rounds: 2,
        timeoutMs: 500,
      });
      assert.equal(found, ns.uri.toString());
    } finally {
      bs.close();
    }
  });

  test("SQL storage: a clear error without node:sqlite", async () => {
    const file = join(TMP, "names.sqlite");
    const hasSqlite = !!process.getBuiltinModule?.("node:sqlite");
    if (hasSqlite) {
      const s = new tyro.SqlStorage(file);
      s.set("a", "PYRO:a@localhost:1", []);
      assert.equal(s.count(), 1);
      s.close();
      return;
    }
    assert.throws(
      () => new tyro.SqlStorage(file),
      (e) => e instanceof NamingError && /node:sqlite/.test(e.message),
    );
    await assert.rejects(
      startNs({ host: "127.0.0.1", port: 0, storage: `sql:${file}` }),
      (e) => e instanceof NamingError && /node:sqlite/.test(e.message),
    );
  });
});

test("command lines: ns.mjs serves, nsc.mjs lists and registers", async () => {
  const ns = startProcess(process.execPath, [NS_CLI, "-n", "127.0.0.1", "-p", "0"], process.env);
  try {
    const uri = (await ns.line(/^URI = /)).slice("URI = ".length).trim();
    const port = uri.split(":").pop();
    const nsc = async (...args) => {
      const p = startProcess(process.execPath, [NSC_CLI, "-n", "127.0.0.1", "-p", port, ...args]);
      const code = await p.exited;
      const err = await p.stop();
      assert.equal(code, 0, err);
      return p.output();
    };
    await nsc("register", "cli.thing", "PYRO:thing@localhost:4321");
    const listed = await nsc("list");
    assert.match(listed, /cli\.thing --> PYRO:thing@localhost:4321/);
    assert.match(listed, /Pyro\.NameServer --> PYRO:Pyro\.NameServer@127\.0\.0\.1:/);
  } finally {
    await ns.stop();
  }
  assert.equal(await ns.exited, 0); // SIGTERM: a clean shutdown
  assert.match(ns.output(), /NS shut down\./);
});

// ---- interop with Python Pyro5

function pyEnv() {
  return {
    ...process.env,
    PYTHONPATH: PEER_PATH,
    PYTHONHASHSEED: "0",
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
  };
}

/** Starts a process; `line(re)` waits for a stdout line, `stop()` ends it. */
function startProcess(cmd, args, env) {
  const child = spawn(cmd, args, { env, stdio: ["ignore", "pipe", "pipe"] });
  let out = "", err = "";
  const waiters = [];
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve(code)));
  child.stdout.setEncoding("utf8").on("data", (s) => {
    out += s;
    for (const w of [...waiters]) w();
  });
  child.stderr.setEncoding("utf8").on("data", (s) => err += s);
  return {
    child,
    exited,
    output: () => out,
    line(re, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = out.split("\n").find((l) => re.test(l));
          if (m === undefined) return;
          cleanup();
          resolve(m);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${re}:\n${out}\n${err}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`${cmd} exited before ${re}:\n${out}\n${err}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          waiters.splice(waiters.indexOf(check), 1);
          child.off("exit", onExit);
        };
        waiters.push(check);
        child.once("exit", onExit);
        check();
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 3000);
      await exited;
      clearTimeout(t);
      return err;
    },
  };
}

/** Runs a Python script to its end; resolves with stdout, rejects on failure. */
async function runPython(script, args = []) {
  const p = startProcess("python3", ["-c", script, ...args], pyEnv());
  const timer = setTimeout(() => p.child.kill("SIGKILL"), 60_000);
  const code = await p.exited;
  clearTimeout(timer);
  const err = await p.stop();
  if (code !== 0) throw new Error(`python3 exited with ${code}:\n${err}`);
  return p.output();
}

describe("interop with Python Pyro5", { skip: peerSkip }, () => {
  test("Tyro on Node calls python3 -m Pyro5.utils.echoserver", async () => {
    const py = startProcess(
      "python3",
      ["-m", "Pyro5.utils.echoserver", "-H", "127.0.0.1"],
      pyEnv(),
    );
    try {
      const uri = (await py.line(/^echo uri: /)).slice("echo uri: ".length).trim();
      for (const ser of SERIALIZERS) {
        const echo = await connect(uri, { serializer: ser });
        try {
          for (const v of [null, 42, -1.5, "héllo ☃", [1, "a", null], { k: [true, 2] }]) {
            assert.deepEqual(await echo.echo(v), v);
          }
          if (ser !== "json") assert.equal(await echo.echo(2n ** 70n), 2n ** 70n);
          await assert.rejects(echo.error(), isRemote("builtins.ValueError"));
          const items = [];
          for await (const x of echo.generator()) items.push(x);
          assert.deepEqual(items, ["one", "two", "three"]);
          assert.equal(await echo.oneway_echo("fire"), undefined);
          const calls = [];
          for (let i = 0; i < 50; i++) calls.push(echo.echo(i));
          assert.deepEqual(await Promise.all(calls), [...Array(50).keys()]);
        } finally {
          controlOf(echo).release();
        }
      }
    } finally {
      await py.stop();
    }
  });

  test("Python Pyro5 calls the Tyro echo server CLI on Node", async () => {
    const tyroProc = startProcess(process.execPath, [ECHOSERVER, "-H", "127.0.0.1"], process.env);
    try {
      const uri = (await tyroProc.line(/^echo uri: /)).slice("echo uri: ".length).trim();
      const out = JSON.parse(await runPython(PY_ECHO_CLIENT, [uri]));
      for (const ser of SERIALIZERS) {
        const r = out[ser];
        assert.equal(r.echo, "héllo ☃", ser);
        assert.deepEqual(r.list, [1, 2.5, null, true, "x"]);
        if (ser !== "json") assert.equal(r.big, String(2n ** 70n));
        assert.deepEqual(r.error.slice(0, 1), ["ValueError"]);
        assert.deepEqual(r.gen, ["one", "two", "three"]);
        assert.equal(r.oneway, null);
      }
      assert.equal(await tyroProc.exited, 0); // the client called shutdown()
    } finally {
      await tyroProc.stop();
    }
  });

  test("Python Pyro5 uses a Tyro name server and daemon in this Node process", async () => {
    const ns = await startNs({ host: "127.0.0.1", port: 0 });
    const daemon = new Daemon({ host: "127.0.0.1", port: 0 });
    const serving = daemon.serve();
    try {
      daemon.register(new Echo(), "tyro.echo");
      const proxy = await locateNs("127.0.0.1", ns.uri.port);
      await proxy.register("tyro.echo", daemon.uriFor("tyro.echo").toString());
      controlOf(proxy).release();
      const out = JSON.parse(await runPython(PY_NS_CLIENT, ["127.0.0.1", String(ns.uri.port)]));
      assert.equal(out.echo, "from python");
      assert.deepEqual(out.names, ["Pyro.NameServer", "py.thing", "tyro.echo"]);
      assert.equal(out.lookup, "PYRO:thing@localhost:1234");
      assert.equal(
        (await ns.nameserver.lookup("py.thing")).toString(),
        "PYRO:thing@localhost:1234",
      );
    } finally {
      await daemon.close();
      await serving;
      await ns.close();
    }
  });
});

const PY_ECHO_CLIENT = `
import sys, json
import Pyro5.api, Pyro5.errors
from Pyro5 import config
uri = sys.argv[1]
out = {}
for ser in ["serpent", "json", "marshal", "msgpack"]:
    config.SERIALIZER = ser
    r = {}
    with Pyro5.api.Proxy(uri) as p:
        r["echo"] = p.echo("héllo ☃")
        r["list"] = p.echo([1, 2.5, None, True, "x"])
        if ser != "json":
            r["big"] = str(p.echo(2**70))
        try:
            p.error()
        except Exception as e:
            r["error"] = [type(e).__name__, str(e)]
        r["gen"] = list(p.generator())
        r["oneway"] = p.oneway_echo("x")
    out[ser] = r
with Pyro5.api.Proxy(uri) as p:
    p.shutdown()
print(json.dumps(out))
`;

const PY_NS_CLIENT = `
import sys, json
import Pyro5.api
host, port = sys.argv[1], int(sys.argv[2])
out = {}
ns = Pyro5.api.locate_ns(host, port)
ns.register("py.thing", "PYRO:thing@localhost:1234")
out["names"] = sorted(ns.list().keys())
out["lookup"] = str(ns.lookup("py.thing"))
with Pyro5.api.Proxy("PYRONAME:tyro.echo@%s:%d" % (host, port)) as p:
    out["echo"] = p.echo("from python")
print(json.dumps(out))
`;
