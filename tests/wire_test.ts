/**
 * MessageConnection.shutdown(): the sending side is closed at once, the
 * connection when the peer closes too, or after the timeout when it doesn't.
 */
import assert from "node:assert/strict";
import { MessageConnection } from "../_wire.ts";

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
