/**
 * Hardening: bad input closes only the offending connection with a logged
 * ProtocolError, while a normal client keeps getting correct answers, and
 * afterwards the daemon's connection count returns to where it started.
 */
import assert from "node:assert/strict";
import { connect, controlOf } from "../client.ts";
import { EchoServer } from "../cli/echoserver.ts";
import { ProtocolError } from "../errors.ts";
import { Daemon, type Logger } from "../server.ts";
import { encodeMessage } from "../protocol/message.ts";
import { MessageType } from "../protocol/constants.ts";
import { serializerFor } from "../serializers/mod.ts";

function capturingLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  const add = (m: string) => lines.push(m);
  return { lines, debug: add, info: add, warn: add, error: add };
}

async function rawConn(port: number): Promise<Deno.TcpConn> {
  return await Deno.connect({ hostname: "127.0.0.1", port });
}

/** Reads until the peer closes; returns what was read (bounded). */
async function readUntilClosed(conn: Deno.Conn, ms = 3000): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  const timer = setTimeout(() => conn.close(), ms);
  try {
    while (true) {
      const n = await conn.read(buf);
      if (n === null) break;
      chunks.push(buf.slice(0, n));
    }
  } catch { /* closed by the timer */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* closed */ }
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) out.set(c, o), o += c.length;
  return out;
}

const connectMsg = (serializerId = 1) =>
  encodeMessage({
    type: MessageType.CONNECT,
    serializerId,
    payload: serializerFor(serializerId).dumps({ handshake: "hello", object: "test.echoserver" }),
  });

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("bad input closes one connection; the daemon keeps serving everyone else", async (t) => {
  const logger = capturingLogger();
  await using daemon = new Daemon({
    host: "127.0.0.1",
    logger,
    config: { MAX_MESSAGE_SIZE: 1 << 20 },
  });
  daemon.register(new EchoServer(), "test.echoserver");
  const serving = daemon.serve();
  const port = (daemon.addr as Deno.NetAddr).port;
  await using good = await connect(daemon.uriFor("test.echoserver"));
  assert.equal(await good.echo("before"), "before");
  const base = daemon.connectionCount;

  const cases: [string, Uint8Array[], RegExp][] = [
    [
      "garbage bytes",
      [new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
      /tag is not PYRO/,
    ],
    ["a wrong version", [(() => {
      const m = connectMsg();
      m[5] = 0xf5;
      return m;
    })()], /invalid protocol version: 501/],
    ["a wrong magic number", [(() => {
      const m = connectMsg();
      m[38] = 0;
      return m;
    })()], /magic number/],
    ["an oversized declared length", [(() => {
      const m = connectMsg().slice(0, 40);
      new DataView(m.buffer).setUint32(12, 0x7fffffff);
      return m;
    })()], /message too large/],
    ["an unknown serializer id", [
      encodeMessage({ type: MessageType.CONNECT, serializerId: 9, payload: new Uint8Array(3) }),
    ], /unknown serializer id 9/],
    ["an INVOKE before CONNECT", [
      encodeMessage({ type: MessageType.INVOKE, serializerId: 1, payload: new Uint8Array(3) }),
    ], /expected a CONNECT message first/],
    ["a truncated message then EOF", [connectMsg().slice(0, 50)], /middle of a message/],
  ];
  for (const [name, chunks, logged] of cases) {
    await t.step(name, async () => {
      const before = logger.lines.length;
      const c = await rawConn(port);
      for (const ch of chunks) await c.write(ch);
      if (name.includes("truncated")) c.closeWrite();
      await readUntilClosed(c);
      await waitFor(() => logger.lines.slice(before).some((l) => logged.test(l)));
      assert.equal(await good.echo(name), name);
    });
  }

  await t.step("malformed payloads for every serializer get a SerializeError reply", async () => {
    for (const id of [1, 2, 3, 4]) {
      const c = await rawConn(port);
      await c.write(connectMsg(id));
      await c.write(
        encodeMessage({
          type: MessageType.INVOKE,
          serializerId: id,
          seq: 1,
          payload: new Uint8Array([0xc1, 0xff, 0x00, 0x7b]),
        }),
      );
      const reply = await readUntilClosed(c, 300);
      assert.ok(reply.length > 80, `serializer ${id} answered`);
      assert.equal(await good.echo(id), id);
    }
  });

  await t.step("prototype pollution payloads stay plain data", async () => {
    const polluted = JSON.parse(
      '{"__proto__": {"polluted": 1}, "constructor": {"prototype": {"polluted": 2}}}',
    );
    const back = await good.echo(polluted) as Record<string, unknown>;
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.ok(Object.hasOwn(back, "__proto__"));
    assert.equal(Object.getPrototypeOf(back), Object.prototype);
  });

  await t.step("10,000-deep nesting is refused, the connection survives", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    await assert.rejects(good.echo(deep), (e: Error) => /depth|deep|nest|recurs/i.test(e.message));
    assert.equal(await good.echo("after"), "after");
  });

  await waitFor(() => daemon.connectionCount === base);
  assert.equal(await good.echo("end"), "end");
  controlOf(good).release();
  await daemon.close();
  await serving;
});

Deno.test("COMMTIMEOUT closes connections that trickle or idle; 1,000 idle connections are held", async () => {
  const logger = capturingLogger();
  await using daemon = new Daemon({ host: "127.0.0.1", logger, config: { COMMTIMEOUT: 0.3 } });
  daemon.register(new EchoServer(), "test.echoserver");
  const serving = daemon.serve();
  const port = (daemon.addr as Deno.NetAddr).port;
  const trickle = await rawConn(port);
  await trickle.write(connectMsg().slice(0, 1));
  const closed = readUntilClosed(trickle, 5000);
  const t0 = Date.now();
  await closed;
  assert.ok(Date.now() - t0 < 3000, "the trickling connection was closed by COMMTIMEOUT");
  // a byte every 100 ms is never idle for 300 ms, but far too slow for a message
  const slow = await rawConn(port);
  const msg = connectMsg();
  const slowClosed = readUntilClosed(slow, 6000);
  const t1 = Date.now();
  let sent = 0;
  for (; sent < msg.length && Date.now() - t1 < 5000; sent++) {
    try {
      await slow.write(msg.subarray(sent, sent + 1));
    } catch {
      break; // closed by the daemon
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  await slowClosed;
  assert.ok(sent < msg.length, "the trickling message was cut off before it was complete");
  assert.ok(Date.now() - t1 < 3000, "within a few COMMTIMEOUT periods");
  assert.ok(logger.lines.some((l) => /arriving too slowly/.test(l)), logger.lines.join("\n"));
  await daemon.close();
  await serving;

  const d2 = new Daemon({ host: "127.0.0.1" });
  d2.register(new EchoServer(), "test.echoserver");
  const s2 = d2.serve();
  const p2 = (d2.addr as Deno.NetAddr).port;
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = () => {
    gc?.();
    return Deno.memoryUsage().heapUsed;
  };
  const heapBefore = heap();
  const idle: Deno.TcpConn[] = [];
  for (let i = 0; i < 1000; i++) idle.push(await rawConn(p2));
  await waitFor(() => d2.connectionCount === 1000, 10_000);
  await using good = await connect(d2.uriFor("test.echoserver"));
  assert.equal(await good.echo("still answering"), "still answering");
  for (const c of idle) c.close();
  await waitFor(() => d2.connectionCount === 1, 10_000);
  if (gc) {
    // 1,000 connections came and went: the heap is back near where it started.
    const grown = heap() - heapBefore;
    assert.ok(grown < 8 * 1024 * 1024, `heap grew by ${grown} bytes`);
  }
  controlOf(good).release();
  await d2.close();
  await s2;
});

Deno.test("MAX_CONNECTIONS makes further clients wait instead of failing", async () => {
  await using daemon = new Daemon({ host: "127.0.0.1", config: { MAX_CONNECTIONS: 2 } });
  daemon.register(new EchoServer(), "test.echoserver");
  const serving = daemon.serve();
  const uri = daemon.uriFor("test.echoserver");
  const a = await connect(uri);
  const b = await connect(uri);
  let cDone = false;
  const cP = connect(uri).then((c) => (cDone = true, c));
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(cDone, false, "the third client waits for a slot");
  controlOf(a).release();
  const c = await cP;
  assert.equal(await c.echo(3), 3);
  controlOf(b).release();
  controlOf(c).release();
  await daemon.close();
  await serving;
});

Deno.test("ProtocolError is what a broken stream produces", () => {
  assert.ok(new ProtocolError("x") instanceof Error);
});
