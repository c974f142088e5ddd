/**
 * Timeouts and reconnecting.
 *
 * - A proxy's `timeout` bounds how long a call may take: a slow call fails
 *   with a TimeoutError, and the proxy stays usable.
 * - When the server goes away in the middle of a call, the call fails with
 *   a ConnectionClosedError, unless the proxy's `maxRetries` allows it to
 *   reconnect and send the call again. Here the server "crashes" and a new
 *   one starts on the same port, while a call is in flight.
 *
 * A retried call may run twice on the server: retry only calls that are
 * safe to repeat.
 *
 * Run: `deno task example:timeouts_reconnect`
 *
 * @module
 */

import { controlOf, createProxy, Daemon, expose } from "@tyro/tyro";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Clock {
  constructor(readonly generation: number) {}

  @expose
  whoAreYou(): string {
    return `server generation ${this.generation}`;
  }

  @expose
  async slow(ms: number): Promise<string> {
    await sleep(ms);
    return `slept ${ms} ms in generation ${this.generation}`;
  }
}

interface ClockApi {
  whoAreYou(): string;
  slow(ms: number): string;
}

/**
 * A server we can crash: it accepts connections itself and hands each one
 * to `daemon.handleConnection`, so it can drop them all at once.
 */
async function startServer(generation: number, port: number) {
  let listener: Deno.TcpListener | undefined;
  for (let attempt = 0; !listener; attempt++) {
    try {
      listener = Deno.listen({ hostname: "127.0.0.1", port });
    } catch (e) {
      // A port just released may take a moment to become free again.
      if (!(e instanceof Deno.errors.AddrInUse) || attempt === 50) throw e;
      await sleep(20);
    }
  }
  const daemon = new Daemon({ bind: false, location: `127.0.0.1:${listener.addr.port}` });
  daemon.register(new Clock(generation), "example.clock");
  const connections = new Set<Deno.Conn>();
  let listening = true;
  const stopListening = () => {
    if (listening) listener.close();
    listening = false;
  };
  const accepting = (async () => {
    try {
      for await (const conn of listener) {
        connections.add(conn);
        daemon.handleConnection(conn).finally(() => connections.delete(conn));
      }
    } catch { /* the listener was closed */ }
  })();
  return {
    port: listener.addr.port,
    /** Stops accepting connections. */
    stopListening,
    /** Drops every connection without answering, as a crashed process would. */
    dropConnections(): void {
      for (const conn of connections) conn.close();
    },
    async close(): Promise<void> {
      stopListening();
      await accepting;
      await daemon.close();
    },
  };
}

const first = await startServer(1, 0);
const port = first.port; // the next server will take over this port
const uri = `PYRO:example.clock@127.0.0.1:${port}`;

// 1. Timeouts.
const clock = createProxy<ClockApi>(uri, { timeout: 300 }); // milliseconds
console.log(await clock.whoAreYou());
try {
  await clock.slow(1000);
} catch (e) {
  console.log("slow call:", (e as Error).name);
}
console.log("fast call:", await clock.slow(10)); // the proxy still works

// 2. The server dies during a call; a new one runs on the same port.
controlOf(clock).timeout = 0; // no limit
const patient = createProxy<ClockApi>(uri, { maxRetries: 2 });
console.log(await patient.whoAreYou());
const noRetries = clock.slow(500);
const withRetries = patient.slow(500);
await sleep(100);
// A retry reconnects at once; it does not wait for a server to come back.
// So the new server listens before the old one's connections drop.
first.stopListening();
const second = await startServer(2, port);
first.dropConnections();
console.log(`server restarted on port ${port}`); // the port differs each run

try {
  await noRetries;
} catch (e) {
  console.log("without retries:", (e as Error).name);
}
console.log("with retries:", await withRetries);
// The proxy without retries reconnects on its next call.
console.log("next call without retries:", await clock.whoAreYou());

// 3. No server at all: reconnecting fails.
await second.close();
try {
  await patient.whoAreYou();
} catch (e) {
  console.log("no server:", (e as Error).name);
}

await controlOf(clock)[Symbol.asyncDispose]();
await controlOf(patient)[Symbol.asyncDispose]();
await first.close();
console.log("done");
