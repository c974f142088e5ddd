/**
 * MessageConnection.shutdown(): the sending side is closed at once, the
 * connection when the peer closes too, or after the timeout when it doesn't.
 */
import assert from "node:assert/strict";
import { MessageConnection } from "../_wire.ts";
import { giveBackBody, giveBackPart, lendBody, lendPart } from "../_slab.ts";
import type { Connection } from "../transport/types.ts";

async function pair(listener: Deno.TcpListener) {
  const [client, server] = await Promise.all([
    Deno.connect({ hostname: "127.0.0.1", port: listener.addr.port }),
    listener.accept(),
  ]);
  let closed!: () => void;
  const done = new Promise<void>((r) => closed = r);
  const wire = new MessageConnection(client, {
    maxMessageSize: 1 << 20,
    onMessage: () => {},
    onClose: () => closed(),
  });
  wire.start();
  return { wire, server, done };
}

Deno.test("shutdown() closes when the peer closes, or after the timeout when it never does", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const silent = [await pair(listener), await pair(listener)];
  const polite = await pair(listener);

  const started = performance.now();
  silent[0].wire.shutdown(600);
  silent[1].wire.shutdown(100);
  polite.wire.shutdown(5000);
  // the peers see the end of the stream
  const buf = new Uint8Array(16);
  for (const { server } of [...silent, polite]) assert.equal(await server.read(buf), null);
  polite.server.close();
  await polite.done;
  assert.ok(performance.now() - started < 1000, "closed when the peer closed");

  const times = await Promise.all(silent.map(async ({ done }) => {
    await done;
    return performance.now() - started;
  }));
  assert.ok(times[1] >= 90 && times[1] < 550, `second closed after ${times[1]} ms`);
  assert.ok(times[0] >= 590 && times[0] < 3000, `first closed after ${times[0]} ms`);
  assert.equal(silent[0].wire.closed && silent[1].wire.closed, true);
  for (const { server } of silent) server.close();
});

/** A connection that records its writes, taking at most `chunk` bytes a call, and never reads. */
class Recorder implements Connection {
  writes: Uint8Array[] = [];
  failWith: Error | null = null;
  closed = false;
  #release!: (n: null) => void;
  constructor(readonly chunk = Infinity) {}
  read(): Promise<number | null> {
    return new Promise((r) => this.#release = r);
  }
  write(data: Uint8Array): Promise<number> {
    if (this.failWith) return Promise.reject(this.failWith);
    const n = Math.min(this.chunk, data.length);
    this.writes.push(data.slice(0, n));
    return Promise.resolve(n);
  }
  close(): void {
    this.closed = true;
    this.#release?.(null);
  }
  get bytes(): number[] {
    return this.writes.flatMap((w) => [...w]);
  }
}

function wireOn(conn: Connection) {
  const closes: unknown[] = [];
  const wire = new MessageConnection(conn, {
    maxMessageSize: 1 << 24,
    onMessage: () => {},
    onClose: (e) => closes.push(e),
  });
  wire.start();
  return { wire, closes };
}

Deno.test("writes: parts queued together leave in one write, a large part on its own, short writes are resumed", async () => {
  const conn = new Recorder();
  const { wire } = wireOn(conn);
  const large = new Uint8Array(100_000).fill(7);
  wire.enqueue(new Uint8Array([1, 2]));
  wire.enqueue([new Uint8Array([3]), large, new Uint8Array([4])]);
  await wire.send(new Uint8Array([5]));
  assert.deepEqual(conn.writes.map((w) => w.length), [3, 100_000, 2]);
  assert.deepEqual([...conn.writes[0], ...conn.writes[2]], [1, 2, 3, 4, 5]);

  const slow = new Recorder(3);
  const second = wireOn(slow);
  second.wire.enqueue(new Uint8Array([1, 2, 3, 4, 5, 6, 7]));
  await second.wire.send(new Uint8Array([8, 9]));
  assert.deepEqual(slow.bytes, [1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(slow.writes.map((w) => w.length), [3, 3, 3]);
  wire.close();
  second.wire.close();
});

Deno.test("writes: a failed write rejects send(), closes the connection and reports the error", async () => {
  const conn = new Recorder();
  conn.failWith = new Error("broken pipe");
  const { wire, closes } = wireOn(conn);
  await assert.rejects(wire.send(new Uint8Array([1])), /broken pipe/);
  assert.equal(wire.closed, true);
  assert.equal(conn.closed, true);
  assert.deepEqual(closes.map((e) => (e as Error).message), ["broken pipe"]);
  assert.equal(wire.enqueue(new Uint8Array([2])), false);
  await assert.rejects(wire.send(new Uint8Array([3])), /connection is closed/);
});

Deno.test("writes: 16 messages queued in one turn leave at once, the rest after that write", async () => {
  const conn = new Recorder();
  const { wire } = wireOn(conn);
  for (let i = 0; i < 19; i++) wire.enqueue(new Uint8Array([i, i]));
  await wire.send(new Uint8Array([19, 19]));
  assert.deepEqual(conn.writes.map((w) => w.length), [32, 8]);
  assert.deepEqual(conn.bytes, Array.from({ length: 20 }, (_, i) => [i, i]).flat());
  wire.close();
});

Deno.test("writes: a lent part goes back once written; the caller's own bytes and lent bodies never", async () => {
  const conn = new Recorder();
  const { wire } = wireOn(conn);
  const part = lendPart(300_001).fill(1);
  const own = new Uint8Array(300_001);
  const body = lendBody(300_001);
  await wire.send([part]);
  await wire.send([own]);
  await wire.send([body]);
  const again = [lendPart(300_001), lendPart(300_001), lendBody(300_001)];
  assert.equal(again.filter((a) => a.buffer === part.buffer).length, 1);
  assert.equal(again.some((a) => a.buffer === own.buffer || a.buffer === body.buffer), false);
  wire.close();
});

Deno.test("lent memory: each kind goes back only its own way, once; small sizes are never lent", () => {
  const size = 400_003;
  const p = lendPart(size), b = lendBody(size);
  giveBackBody(p); // the wrong way: left alone
  giveBackPart(b);
  const next = [lendPart(size), lendBody(size)];
  assert.equal(next.some((x) => x.buffer === p.buffer || x.buffer === b.buffer), false);
  giveBackPart(p);
  giveBackPart(p); // twice: the second is ignored
  giveBackBody(b);
  const reused = [lendPart(size), lendBody(size), lendPart(size)].map((x) => x.buffer);
  assert.equal(reused.filter((x) => x === p.buffer).length, 1);
  assert.equal(reused.filter((x) => x === b.buffer).length, 1);
  assert.equal(lendPart(size).length, size);
  const small = lendPart(1000);
  giveBackPart(small);
  assert.notEqual(lendPart(1000).buffer, small.buffer);
});
