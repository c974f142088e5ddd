import assert from "node:assert/strict";
import { connect, controlOf } from "../client.ts";
import { EchoServer } from "../cli/echoserver.ts";
import { CommunicationError, RemoteError } from "../errors.ts";
import { createGatewayHandler } from "../gateway.ts";
import { Daemon } from "../server.ts";
import {
  connectWebSocket,
  isWebSocketUpgrade,
  PYRO_WEBSOCKET_PROTOCOL,
  upgradeToConnection,
  websocketConnection,
} from "./websocket.ts";
import type { Connection } from "./types.ts";

interface Echo {
  echo(message: unknown): unknown;
  error(): never;
  generator(): Generator<string>;
}

/** A daemon served over WebSocket by Deno.serve on a free loopback port. */
function wsDaemon(
  handler?: (
    req: Request,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ) => Response | Promise<Response>,
) {
  const daemon = new Daemon({ bind: false, location: "127.0.0.1:0" });
  daemon.register(new EchoServer(), "test.echoserver");
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    handler ?? ((req, info) => {
      const remoteAddr = info.remoteAddr;
      const { response, conn } = upgradeToConnection(req, { remoteAddr });
      daemon.handleConnection(conn);
      return response;
    }),
  );
  const url = `ws://127.0.0.1:${server.addr.port}/pyro/ws`;
  return {
    daemon,
    url,
    port: server.addr.port,
    async [Symbol.asyncDispose]() {
      await daemon.close();
      ac.abort();
      await server.finished;
    },
  };
}

function wsConnect(url: string) {
  return (_uri: unknown, signal?: AbortSignal) => connectWebSocket(url, { signal });
}

Deno.test("connectWebSocket() carries calls, remote iterators and exceptions to a daemon", async () => {
  await using srv = await wsDaemon();
  await using echo = await connect<Echo>("PYRO:test.echoserver@127.0.0.1:0", {
    connect: wsConnect(srv.url),
  });
  assert.equal(await echo.echo("hello"), "hello");
  assert.deepEqual(await echo.echo({ a: [1, 2.5, null], b: "é€😀" }), {
    a: [1, 2.5, null],
    b: "é€😀",
  });
  const items: string[] = [];
  for await (const item of echo.generator()) items.push(item);
  assert.deepEqual(items, ["one", "two", "three"]);
  await assert.rejects(
    () => echo.error(),
    (e: unknown) => {
      assert.ok(e instanceof RemoteError);
      assert.equal(e.remoteType, "builtins.ValueError");
      assert.equal(e.message, "this is the generated error from echoserver echo() method");
      return true;
    },
  );
});

Deno.test("connectWebSocket() carries large messages and concurrent calls", async () => {
  await using srv = await wsDaemon();
  await using echo = await connect<Echo>("PYRO:test.echoserver@127.0.0.1:0", {
    connect: wsConnect(srv.url),
    serializer: "msgpack",
  });
  const big = new Uint8Array(3 * 1024 * 1024);
  for (let i = 0; i < big.length; i += 4093) big[i] = i & 0xff;
  const back = await echo.echo(big) as Uint8Array;
  assert.equal(back.length, big.length);
  assert.deepEqual(back, big);
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => echo.echo(i)));
  assert.deepEqual(many, Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("a call over WebSocket does not wait for delayed ACKs (one frame per message)", async () => {
  await using srv = await wsDaemon();
  await using echo = await connect<Echo>("PYRO:test.echoserver@127.0.0.1:0", {
    connect: wsConnect(srv.url),
  });
  await echo.echo("warm up");
  const n = 200;
  const start = performance.now();
  for (let i = 0; i < n; i++) await echo.echo("x");
  const ms = performance.now() - start;
  // With the 40 ms delayed-ACK trap this takes 8 s; it takes ~20 ms here.
  assert.ok(ms < 2000, `${n} calls took ${ms.toFixed(0)} ms`);
});

Deno.test("upgradeToConnection() selects the pyro5 subprotocol", async () => {
  await using srv = await wsDaemon();
  const ws = new WebSocket(srv.url, ["other", PYRO_WEBSOCKET_PROTOCOL]);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  assert.equal(ws.protocol, PYRO_WEBSOCKET_PROTOCOL);
  const closed = new Promise((r) => ws.onclose = r);
  ws.close();
  await closed;
});

Deno.test("upgradeToConnection() refuses what it cannot upgrade", () => {
  assert.throws(
    () => upgradeToConnection(new Request("http://localhost/pyro/ws")),
    (e: unknown) =>
      e instanceof TypeError &&
      e.message === "Cannot upgrade the request: it is not a WebSocket upgrade request",
  );
  const req = new Request("http://localhost/pyro/ws", {
    headers: { upgrade: "websocket", "sec-websocket-protocol": "chat" },
  });
  assert.ok(isWebSocketUpgrade(req));
  assert.throws(() => upgradeToConnection(req, { requireProtocol: true }), TypeError);
  assert.ok(!isWebSocketUpgrade(new Request("http://localhost/", { method: "POST" })));
});

Deno.test("connectWebSocket() fails with a CommunicationError when nothing listens", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  await assert.rejects(
    () => connectWebSocket(`ws://127.0.0.1:${port}/pyro/ws`),
    (e: unknown) => e instanceof CommunicationError && e.message.startsWith("cannot connect to"),
  );
});

Deno.test("connectWebSocket() rejects with the reason of an aborted signal", async () => {
  await using srv = await wsDaemon();
  const reason = new Error("stop");
  await assert.rejects(
    () => connectWebSocket(srv.url, { signal: AbortSignal.abort(reason) }),
    (e: unknown) => e === reason,
  );
});

Deno.test("a WebSocket connection reads frames as one byte stream and ends on a text frame", async () => {
  const accepted = Promise.withResolvers<Connection>();
  await using srv = await wsDaemon((req) => {
    const { response, conn } = upgradeToConnection(req);
    accepted.resolve(conn);
    return response;
  });
  const client = await connectWebSocket(srv.url);
  const server = await accepted.promise;
  await client.write(new Uint8Array([1, 2, 3]));
  await client.write(new Uint8Array([4, 5]));
  const buf = new Uint8Array(2);
  const got: number[] = [];
  while (got.length < 5) {
    const n = await server.read(buf);
    assert.ok(n !== null);
    got.push(...buf.subarray(0, n));
  }
  assert.deepEqual(got, [1, 2, 3, 4, 5]);
  // server → client too, with a write before the socket is known to be open
  await server.write(new Uint8Array([9]));
  assert.equal(await client.read(buf), 1);
  assert.equal(buf[0], 9);

  // a text frame is not Pyro data: the stream ends
  const raw = new WebSocket(srv.url, PYRO_WEBSOCKET_PROTOCOL);
  await new Promise((r) => raw.onopen = r);
  raw.send("hello");
  const rawClosed = new Promise<CloseEvent>((r) => raw.onclose = r);
  assert.equal((await rawClosed).code, 1003);

  client.close();
  assert.equal(await server.read(buf), null);
  server.close();
});

Deno.test("websocketConnection() on a closed socket reads null and refuses writes", async () => {
  await using srv = await wsDaemon((req) => upgradeToConnection(req).response);
  const ws = new WebSocket(srv.url, PYRO_WEBSOCKET_PROTOCOL);
  await new Promise((r) => ws.onopen = r);
  const closed = new Promise((r) => ws.onclose = r);
  ws.close();
  await closed;
  const conn = websocketConnection(ws);
  assert.equal(await conn.read(new Uint8Array(4)), null);
  await assert.rejects(() => conn.write(new Uint8Array([1])), CommunicationError);
  conn.close();
});

Deno.test("the gateway hands WebSocket connections at /pyro/ws to a daemon, with the gateway key", async () => {
  const daemon = new Daemon({ bind: false, location: "127.0.0.1:0" });
  daemon.register(new EchoServer(), "test.echoserver");
  const handler = createGatewayHandler({
    nameserver: { lookup: () => null, list: () => ({}) },
    websocket: daemon,
    gatewayKey: "s3cret",
  });
  const ac = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
    handler,
  );
  try {
    const base = `ws://127.0.0.1:${server.addr.port}/pyro/ws`;
    await assert.rejects(() => connectWebSocket(base), CommunicationError);
    const echo = await connect<Echo>("PYRO:test.echoserver@127.0.0.1:0", {
      connect: wsConnect(base + "?$key=s3cret"),
    });
    assert.equal(await echo.echo(42), 42);
    controlOf(echo).release();
  } finally {
    handler.close();
    await daemon.close();
    ac.abort();
    await server.finished;
  }
});
