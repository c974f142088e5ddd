import assert from "node:assert/strict";
import { EchoServer } from "./cli/echoserver.ts";
import { main } from "./cli/gateway.ts";
import {
  createGatewayHandler,
  DEFAULT_EXPOSE,
  type GatewayOptions,
  pythonRegex,
} from "./gateway.ts";
import { NameServer, startNs } from "./nameserver.ts";
import { Daemon, expose } from "./server.ts";
import { memoryPair } from "./transport/memory.ts";
import { peerAvailable, startPython } from "./tests/_peer.ts";

class Slow {
  @expose
  async delay(ms: string): Promise<string> {
    await new Promise((r) => setTimeout(r, Number(ms)));
    return "done";
  }
}

class Typed {
  @expose
  kinds(a: unknown, b?: unknown): unknown {
    return [typeof a, typeof b, a, b ?? null];
  }
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A gateway handler without sockets: a local name server object, and a
 * daemon reached over in-memory connections.
 */
function socketless(options: GatewayOptions = {}) {
  const daemon = new Daemon({ bind: false, location: "localhost:1" });
  const ns = new NameServer();
  ns.register("http.echo", daemon.register(new EchoServer(), "http.echo"));
  ns.register("http.slow", daemon.register(new Slow(), "http.slow"));
  ns.register("http.typed", daemon.register(new Typed(), "http.typed"));
  ns.register("http.<b>bold</b>", daemon.register(new EchoServer(), "bold"));
  ns.register("private.echo", daemon.register(new EchoServer(), "private.echo"));
  ns.register("http.gone", "PYRO:gone@localhost:1");
  const handler = createGatewayHandler({
    nameserver: ns,
    connect: () => {
      const [a, b] = memoryPair();
      daemon.handleConnection(b);
      return Promise.resolve(a);
    },
    ...options,
  });
  const call = async (path: string, init: RequestInit = {}) => {
    const res = await handler(new Request("http://gw.test" + path, init));
    return { status: res.status, headers: res.headers, body: await res.text() };
  };
  return {
    handler,
    ns,
    call,
    json: async (path: string, init: RequestInit = {}) => {
      const r = await call(path, init);
      return { ...r, value: r.body ? JSON.parse(r.body) : undefined };
    },
    async [Symbol.asyncDispose]() {
      handler.close();
      await daemon.close();
    },
  };
}

Deno.test("createGatewayHandler() routes as Pyro5's gateway: redirect, 404, 405, OPTIONS", async () => {
  await using gw = socketless({ cors: "*" });
  const root = await gw.call("/");
  assert.equal(root.status, 302);
  assert.equal(root.headers.get("location"), "/pyro/");
  assert.equal(root.headers.get("access-control-allow-origin"), null);
  for (const path of ["/pyro", "/other", "/pyro/http.echo", "/pyro/http.echo/", "/pyro//echo"]) {
    const r = await gw.call(path);
    assert.equal(r.status, 404, path);
    assert.equal(r.body, "Error 404: Not Found");
    assert.equal(r.headers.get("content-type"), "text/plain");
    assert.equal(r.headers.get("access-control-allow-origin"), "*");
  }
  for (const method of ["PUT", "DELETE", "HEAD", "PATCH"]) {
    const r = await gw.call("/pyro/http.echo/echo", { method });
    assert.equal(r.status, 405, method);
    if (method !== "HEAD") assert.equal(r.body, "Error 405: Method Not Allowed");
  }
  assert.equal((await gw.call("/x", { method: "PUT" })).status, 404);
  const opt = await gw.call("/pyro/http.echo/echo", { method: "OPTIONS" });
  assert.equal(opt.status, 200);
  assert.equal(opt.body, "200 OK");
  assert.equal(opt.headers.get("access-control-allow-methods"), "GET, POST, OPTIONS");
  assert.equal(opt.headers.get("access-control-allow-headers"), "Content-Type");
});

Deno.test("createGatewayHandler() calls methods with query parameters as keyword arguments", async () => {
  await using gw = socketless();
  const r = await gw.call("/pyro/http.echo/echo?message=hi");
  assert.equal(r.status, 200);
  assert.equal(r.body, '"hi"');
  assert.equal(r.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(r.headers.get("access-control-allow-origin"), "");
  assert.match(r.headers.get("x-pyro-correlation-id")!, UUID_RE);
  // a repeated parameter is a list, '+' is a space, %-escapes are UTF-8
  assert.equal((await gw.call("/pyro/http.echo/echo?message=1+2&message=x")).body, '["1 2", "x"]');
  assert.equal((await gw.call("/pyro/http.echo/echo?message=%C3%A9%E2%82%AC")).body, '"é€"');
  // POST works the same, with the arguments in the query string
  const post = await gw.call("/pyro/http.echo/echo?message=q", { method: "POST", body: "{}" });
  assert.equal(post.body, '"q"');
  // NaN and Infinity as Pyro5's json serializer writes them
  assert.equal((await gw.call("/pyro/http.echo/nan")).body, "NaN");
  assert.equal((await gw.call("/pyro/http.echo/inf")).body, "Infinity");
  assert.equal((await gw.call("/pyro/http.echo/__dunder__")).body, '"should be allowed (dunder)"');
  // an exposed attribute is read
  assert.equal((await gw.call("/pyro/http.echo/verbose")).body, "false");
});

Deno.test("createGatewayHandler() answers $meta with the methods and attributes", async () => {
  await using gw = socketless();
  const r = await gw.json("/pyro/http.echo/$meta");
  assert.equal(r.status, 200);
  assert.match(r.body, /^\{"methods": \[.*\], "attributes": \["verbose"\]\}$/);
  assert.deepEqual(r.value.methods.sort(), [
    "__dunder__",
    "echo",
    "error",
    "error_with_text",
    "generator",
    "inf",
    "nan",
    "oneway_echo",
    "oneway_slow",
    "shutdown",
    "slow",
  ]);
});

Deno.test("createGatewayHandler() answers exceptions with their JSON class dict and status 500", async () => {
  await using gw = socketless();
  const err = await gw.json("/pyro/http.echo/error");
  assert.equal(err.status, 500);
  assert.equal(err.headers.get("content-type"), "application/json; charset=utf-8");
  assert.equal(err.headers.get("x-pyro-correlation-id"), null);
  assert.equal(err.value.__class__, "builtins.ValueError");
  assert.equal(err.value.__exception__, true);
  assert.deepEqual(err.value.args, ["this is the generated error from echoserver echo() method"]);
  assert.ok(Array.isArray(err.value.attributes._pyroTraceback));

  const badKwarg = await gw.json("/pyro/http.echo/echo?message=x&nonsense=1");
  assert.equal(badKwarg.status, 500);
  assert.equal(badKwarg.value.__class__, "builtins.TypeError");

  const unknown = await gw.call("/pyro/http.echo/nope");
  assert.equal(unknown.status, 500);
  assert.equal(
    unknown.body,
    '{"__class__": "builtins.AttributeError", "__exception__": true, "args": ["remote object ' +
      "'PYRO:http.echo@localhost:1' has no exposed attribute or method 'nope'\"], " +
      '"attributes": {}}',
  );

  const noName = await gw.call("/pyro/http.nothere/echo");
  assert.equal(noName.status, 500);
  assert.equal(
    noName.body,
    '{"__class__": "Pyro5.errors.NamingError", "__exception__": true, "args": ["unknown name: ' +
      'http.nothere"], "attributes": {}}',
  );

  const attrArgs = await gw.call("/pyro/http.echo/verbose?x=1");
  assert.equal(attrArgs.status, 500);
  assert.equal(
    attrArgs.body,
    '{"__class__": "builtins.AssertionError", "__exception__": true, "args": ["attribute lookup ' +
      'can\'t have query parameters"], "attributes": {}}',
  );

  // a remote iterator cannot be returned statelessly
  const gen = await gw.json("/pyro/http.echo/generator");
  assert.equal(gen.status, 500);
  assert.equal(gen.value.__class__, "Pyro5.errors.ProtocolError");
  assert.deepEqual(gen.value.args, ["result of call is an iterator"]);

  // unreachable daemon
  const gone = await gw.json("/pyro/http.gone/echo?message=x");
  assert.equal(gone.status, 500);
  assert.equal(gone.value.__exception__, true);
});

Deno.test("createGatewayHandler() sends oneway calls and correlation ids as Pyro5 does", async () => {
  await using gw = socketless();
  const ow = await gw.call("/pyro/http.echo/echo?message=x", {
    headers: { "X-Pyro-Options": "oneway" },
  });
  assert.equal(ow.status, 200);
  assert.equal(ow.body, "");
  assert.match(ow.headers.get("x-pyro-correlation-id")!, UUID_RE);
  const owMethod = await gw.call("/pyro/http.echo/oneway_echo?message=x");
  assert.equal(owMethod.status, 200);
  assert.equal(owMethod.body, "");

  const corr = await gw.call("/pyro/http.echo/echo?message=2", {
    headers: { "X-Pyro-Correlation-Id": "{11112222-1111-2222-3333-222244449999}" },
  });
  assert.equal(corr.headers.get("x-pyro-correlation-id"), "11112222-1111-2222-3333-222244449999");
  const bad = await gw.call("/pyro/http.echo/echo?message=2", {
    headers: { "X-Pyro-Correlation-Id": "bad" },
  });
  assert.equal(bad.status, 500);
  assert.equal(
    bad.body,
    '{"__class__": "builtins.ValueError", "__exception__": true, "args": ["badly formed ' +
      'hexadecimal UUID string"], "attributes": {}}',
  );
});

Deno.test("createGatewayHandler() exposes only names matching the expose regex", async (t) => {
  await t.step("the default is http\\.", async () => {
    assert.equal(DEFAULT_EXPOSE, "http\\.");
    await using gw = socketless();
    const r = await gw.call("/pyro/private.echo/echo?message=x");
    assert.equal(r.status, 403);
    assert.equal(r.body, "403 Forbidden - access to the requested object has been denied");
    // re.match semantics: anchored at the start only
    assert.equal((await gw.call("/pyro/x.http.echo/echo")).status, 403);
  });
  await t.step("an empty regex exposes everything", async () => {
    await using gw = socketless({ expose: "" });
    assert.equal((await gw.call("/pyro/private.echo/echo?message=x")).body, '"x"');
  });
  await t.step("a custom regex", async () => {
    await using gw = socketless({ expose: "private\\.|http\\.e" });
    assert.equal((await gw.call("/pyro/private.echo/echo?message=x")).status, 200);
    assert.equal((await gw.call("/pyro/http.slow/delay?ms=1")).status, 403);
  });
});

Deno.test("createGatewayHandler() checks the gateway key in a header or a $key parameter", async () => {
  await using gw = socketless({ gatewayKey: "s3cret" });
  const none = await gw.call("/pyro/http.echo/echo?message=x");
  assert.equal(none.status, 403);
  assert.equal(none.body, "403 Forbidden - incorrect gateway api key");
  assert.equal((await gw.call("/pyro/http.echo/echo?message=x&$key=wrong")).status, 403);
  const header = await gw.call("/pyro/http.echo/echo?message=x", {
    headers: { "X-Pyro-Gateway-Key": "s3cret" },
  });
  assert.equal(header.body, '"x"');
  // the $key parameter is removed before the call
  assert.equal((await gw.call("/pyro/http.echo/echo?message=y&$key=s3cret")).body, '"y"');
  // the page itself needs no key (as Pyro5), but the 404 check comes first
  assert.equal((await gw.call("/pyro/")).status, 200);
  assert.equal((await gw.call("/pyro/x")).status, 404);
});

Deno.test("createGatewayHandler() with jsonBody takes typed keyword arguments from a POST body", async () => {
  await using gw = socketless({ jsonBody: true });
  const body =
    '{"a": 12345678901234567890, "b": [1.5, null, {"data": "AQI=", "encoding": "base64"}]}';
  const r = await gw.call("/pyro/http.typed/kinds", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body,
  });
  assert.equal(r.status, 200);
  assert.equal(
    r.body,
    '["bigint", "object", 12345678901234567890, [1.5, null, {"data": "AQI=", "encoding": "base64"}]]',
  );
  // query parameters still count; the body wins
  const mixed = await gw.json("/pyro/http.typed/kinds?a=1&b=q", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: '{"a": 2}',
  });
  assert.deepEqual(mixed.value, ["number", "string", 2, "q"]);
  const bad = await gw.json("/pyro/http.typed/kinds", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: "[1]",
  });
  assert.equal(bad.status, 500);
  assert.equal(bad.value.__class__, "builtins.TypeError");
});

Deno.test("createGatewayHandler() ignores a POST body by default, as Pyro5", async () => {
  await using gw = socketless();
  const r = await gw.json("/pyro/http.typed/kinds?a=1", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: '{"a": 2}',
  });
  assert.deepEqual(r.value, ["string", "undefined", "1", null]);
});

Deno.test("createGatewayHandler() applies the timeout to calls", async () => {
  await using gw = socketless({ timeout: 0.1 });
  const r = await gw.json("/pyro/http.slow/delay?ms=400");
  assert.equal(r.status, 500);
  assert.equal(r.value.__class__, "Pyro5.errors.TimeoutError");
  assert.equal((await gw.json("/pyro/http.slow/delay?ms=1")).value, "done");
  await new Promise((r) => setTimeout(r, 400)); // let the slow call finish in the daemon
});

Deno.test("the gateway page lists the exposed objects and escapes their names", async () => {
  await using gw = socketless();
  const r = await gw.call("/pyro/");
  assert.equal(r.status, 200);
  assert.equal(r.headers.get("content-type"), "text/html; charset=utf-8");
  assert.match(r.body, /<title>Pyro HTTP gateway<\/title>/);
  assert.match(r.body, /data-object="http\.echo" data-method="\$meta">http\.echo<\/a>/);
  assert.match(r.body, /data-object="http\.echo" data-method="echo">echo<\/a>/);
  assert.match(r.body, /data-method="verbose">verbose<\/a>/);
  assert.ok(!r.body.includes("<b>bold</b>"));
  assert.ok(r.body.includes("http.&#60;b&#62;bold&#60;/b&#62;"));
  assert.ok(!r.body.includes("private.echo"));
  assert.match(r.body, /\?\?error:.*\?\?/); // http.gone cannot be reached
  assert.ok(!/<script[^>]+src=/.test(r.body), "self-contained");

  await using few = socketless({ indexLimit: 1 });
  const one = await few.call("/pyro/");
  assert.equal((one.body.match(/data-method="\$meta"/g) ?? []).length - 1, 1); // + 1 example link
});

Deno.test("the gateway page and calls report a name server that cannot be reached", async () => {
  const handler = createGatewayHandler({
    nameserver: () => Promise.reject(new Error("no name server")),
  });
  const page = await handler(new Request("http://gw.test/pyro/"));
  assert.equal(page.status, 500);
  assert.equal(
    await page.text(),
    "Cannot connect to the Pyro name server. Is it running? Refresh page to retry.",
  );
  const call = await handler(new Request("http://gw.test/pyro/http.x/y"));
  assert.equal(call.status, 500);
  assert.equal(
    await call.text(),
    '{"__class__": "builtins.Exception", "__exception__": true, "args": ["no name server"], ' +
      '"attributes": {}}',
  );
  handler.close();
});

Deno.test("createGatewayHandler() locates a name server by host and port", async () => {
  await using ns = await startNs({ host: "127.0.0.1", port: 0 });
  await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
  ns.nameserver.register("http.echo", daemon.register(new EchoServer(), "http.echo"));
  daemon.serve();
  const handler = createGatewayHandler({ nsHost: "127.0.0.1", nsPort: ns.uri.port! });
  try {
    const r = await handler(new Request("http://gw.test/pyro/http.echo/echo?message=hi"));
    assert.equal(await r.text(), '"hi"');
    const page = await handler(new Request("http://gw.test/pyro/"));
    assert.match(await page.text(), new RegExp(`name server on 127\\.0\\.0\\.1:${ns.uri.port}`));
  } finally {
    handler.close();
  }
});

Deno.test("pythonRegex() translates Python's regex syntax and anchors like re.match", () => {
  assert.ok(pythonRegex("http\\.").test("http.echo"));
  assert.ok(!pythonRegex("http\\.").test("x.http.echo"));
  assert.ok(pythonRegex("a|b").test("b.x"));
  assert.ok(pythonRegex("(?P<p>te)st\\.(?P=p)").test("test.te"));
  assert.ok(pythonRegex("(?i)HTTP").test("http.x"));
  assert.ok(pythonRegex("\\Aab\\Z").test("ab"));
  assert.ok(!pythonRegex("\\Aab\\Z").test("abc"));
  assert.throws(() => pythonRegex("("), SyntaxError);
});

Deno.test("cli/gateway.ts prints help and rejects bad arguments", async () => {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env: {} };
  assert.equal(await main(["-h"], io), 0);
  assert.match(out.join("\n"), /-g GATEWAYKEY, --gatewaykey GATEWAYKEY/);
  assert.match(out.join("\n"), /default=0\.000000\)/);
  assert.equal(await main(["-p", "x"], io), 2);
  assert.match(err.at(-1)!, /argument -p\/--port: invalid int value: 'x'/);
  assert.equal(await main(["--bogus"], io), 2);
  assert.equal(await main(["-e", "("], io), 1);
});

Deno.test("cli/gateway.ts serves the gateway until stopped", async () => {
  await using ns = await startNs({ host: "127.0.0.1", port: 0 });
  await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
  ns.nameserver.register("test.echo", daemon.register(new EchoServer(), "test.echo"));
  daemon.serve();
  const out: string[] = [];
  const stop = new AbortController();
  const ready = Promise.withResolvers<string>();
  const done = main(["-H", "127.0.0.1", "-p", "0", "-e", "test\\.", "-g", "k"], {
    out: (l) => out.push(l),
    err: (l) => out.push(l),
    signal: stop.signal,
    env: { PYRO_NS_HOST: "127.0.0.1", PYRO_NS_PORT: String(ns.uri.port) },
    onReady: ready.resolve,
  });
  const url = await ready.promise;
  const r = await fetch(url + "test.echo/echo?message=hi&$key=k");
  assert.equal(await r.text(), '"hi"');
  assert.equal(r.headers.get("access-control-allow-origin"), "*");
  stop.abort();
  assert.equal(await done, 0);
  assert.deepEqual(out, [
    "Exposing objects with names matching:  test\\.",
    `Connected to name server at:  PYRO:Pyro.NameServer@127.0.0.1:${ns.uri.port}`,
    `Pyro HTTP gateway running on ${url}`,
  ]);
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/pyro\/$/);
});

Deno.test({
  name: "the Tyro gateway answers as Python's httpgateway, side by side on the same name server",
  ignore: !peerAvailable(),
  async fn() {
    // a Python name server and echo server, a Tyro echo server registered in it too
    await using pyNs = startPython(["-m", "Pyro5.nameserver", "-n", "127.0.0.1", "-p", "0"]);
    const nsLine = await pyNs.waitForLine(/^URI = /);
    const nsPort = Number(/:(\d+)$/.exec(nsLine)![1]);
    const env = { PYRO_NS_HOST: "127.0.0.1", PYRO_NS_PORT: String(nsPort) };
    await using pyEcho = startPython(
      ["-m", "Pyro5.utils.echoserver", "-H", "127.0.0.1", "-n"],
      env,
    );
    await pyEcho.waitForLine(/echoserver running/);
    await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
    const tyroUri = daemon.register(new EchoServer(), "test.tyroecho");
    daemon.serve();
    await using pyGw = startPython(
      ["-m", "Pyro5.utils.httpgateway", "-H", "127.0.0.1", "-p", "0", "-e", "test\\.|Pyro\\."],
      env,
    );
    const gwLine = await pyGw.waitForLine(/^Pyro HTTP gateway running on /);
    const pyBase = gwLine.slice("Pyro HTTP gateway running on ".length);

    const { locateNs } = await import("./nameserver.ts");
    const nsProxy = await locateNs("127.0.0.1", nsPort);
    await nsProxy.register("test.tyroecho", tyroUri);
    const handler = createGatewayHandler({
      nameserver: nsProxy,
      expose: "test\\.|Pyro\\.",
      cors: "*",
    });
    try {
      const requests: [string, RequestInit?][] = [
        ["/"],
        ["/pyro"],
        ["/elsewhere"],
        ["/pyro/test.echoserver"],
        ["/pyro/test.echoserver/", {}],
        ["/pyro/other.thing/echo"],
        ["/pyro/a/b/c"],
        ["/pyro/test.echoserver/echo", { method: "PUT" }],
        ["/pyro/test.echoserver/echo", { method: "OPTIONS" }],
        ["/pyro/test.echoserver/$meta"],
        ["/pyro/test.echoserver/echo?message=hi"],
        ["/pyro/test.echoserver/echo?message=a&message=b+c&empty="],
        ["/pyro/test.echoserver/echo?message=%C3%A9%E2%82%AC%F0%9F%98%80"],
        ["/pyro/test.echoserver/echo?message=q", { method: "POST", body: '{"message": 1}' }],
        ["/pyro/test.echoserver/nan"],
        ["/pyro/test.echoserver/inf"],
        ["/pyro/test.echoserver/verbose"],
        ["/pyro/test.echoserver/verbose?x=1"],
        ["/pyro/test.echoserver/error"],
        ["/pyro/test.echoserver/echo"],
        ["/pyro/test.echoserver/echo?msg=x"],
        ["/pyro/test.echoserver/nope"],
        ["/pyro/test.echoserver/oneway_echo?message=x"],
        ["/pyro/test.echoserver/echo?message=x", { headers: { "X-Pyro-Options": "oneway" } }],
        ["/pyro/test.echoserver/echo?message=c", {
          headers: { "X-Pyro-Correlation-Id": "11112222-1111-2222-3333-222244449999" },
        }],
        ["/pyro/test.echoserver/echo?message=c", { headers: { "X-Pyro-Correlation-Id": "bad" } }],
        ["/pyro/test.nothere/echo"],
        ["/pyro/Pyro.NameServer/list?prefix=test."],
        ["/pyro/Pyro.NameServer/lookup?name=test.echoserver"],
        ["/pyro/test.tyroecho/$meta"],
        ["/pyro/test.tyroecho/echo?message=%C3%A9"],
        ["/pyro/test.tyroecho/error"],
        ["/pyro/test.tyroecho/nan"],
        ["/pyro/test.tyroecho/verbose"],
      ];
      for (const [path, init] of requests) {
        const what = `${init?.method ?? "GET"} ${path}`;
        const py = await fetch(pyBase.replace(/\/pyro\/$/, "") + path, {
          ...init,
          redirect: "manual",
        });
        const ours = await handler(new Request("http://127.0.0.1" + path, init));
        const pyBody = await py.text();
        const ourBody = await ours.text();
        assert.equal(ours.status, py.status, what);
        for (const h of ["content-type", "location", "access-control-allow-origin"]) {
          assert.equal(ours.headers.get(h), py.headers.get(h), `${what}: ${h}`);
        }
        assert.equal(
          ours.headers.has("x-pyro-correlation-id"),
          py.headers.has("x-pyro-correlation-id"),
          what,
        );
        const fixedCorr = (init?.headers as Record<string, string> | undefined)?.[
          "X-Pyro-Correlation-Id"
        ];
        if (fixedCorr && py.status === 200) {
          assert.equal(
            ours.headers.get("x-pyro-correlation-id"),
            py.headers.get("x-pyro-correlation-id"),
            what,
          );
        }
        if (path.endsWith("$meta")) {
          const a = JSON.parse(ourBody), b = JSON.parse(pyBody);
          assert.deepEqual(
            [a.methods.sort(), a.attributes.sort()],
            [b.methods.sort(), b.attributes.sort()],
            what,
          );
        } else {
          assert.equal(ourBody, pyBody, what);
        }
      }
      // the index page: both list the same names
      const pyPage = await (await fetch(pyBase)).text();
      const ourPage = await (await handler(new Request("http://127.0.0.1/pyro/"))).text();
      for (const name of ["Pyro.NameServer", "test.echoserver", "test.tyroecho"]) {
        assert.ok(pyPage.includes(name) && ourPage.includes(name), name);
      }
      // a remote iterator: Pyro5's gateway fails (500, plain text); ours answers 500 with JSON
      const pyGen = await fetch(pyBase + "test.echoserver/generator");
      assert.equal(pyGen.status, 500);
      await pyGen.body?.cancel();
      const ourGen = await handler(new Request("http://127.0.0.1/pyro/test.echoserver/generator"));
      assert.equal(ourGen.status, 500);
      assert.equal(JSON.parse(await ourGen.text()).__class__, "Pyro5.errors.ProtocolError");
    } finally {
      handler.close();
      await nsProxy[Symbol.asyncDispose]();
    }
  },
});
