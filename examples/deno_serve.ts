/**
 * Deno.serve: plug the daemon into an HTTP server of your own. Requests to
 * `/pyro` that ask for a WebSocket upgrade become Pyro connections, handed
 * to `daemon.handleConnection`; every other route is yours. The daemon
 * binds no socket of its own (`bind: false`).
 *
 * A WebSocket carries the same Pyro wire messages as a TCP socket, so the
 * client works in browsers too (`connectWebSocket` uses the standard
 * `WebSocket` global).
 *
 * Run: `deno task example:deno_serve`
 *
 * @module
 */

import { connect, Daemon, expose } from "@tyro/tyro";
import { connectWebSocket, upgradeToConnection } from "@tyro/tyro/transport";

class Guestbook {
  readonly #entries: string[] = [];

  @expose
  sign(name: string): number {
    this.#entries.push(name);
    return this.#entries.length;
  }

  @expose
  entries(): string[] {
    return [...this.#entries];
  }
}

const guestbook = new Guestbook();
const daemon = new Daemon({ bind: false, location: "127.0.0.1:0" });
daemon.register(guestbook, "example.guestbook");

const stop = new AbortController();
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, signal: stop.signal, onListen() {} },
  (req, info) => {
    const url = new URL(req.url);
    if (url.pathname === "/pyro") {
      // The WebSocket upgrade: the response goes back to the HTTP client,
      // the connection goes to the daemon.
      const { response, conn } = upgradeToConnection(req, { remoteAddr: info.remoteAddr });
      daemon.handleConnection(conn);
      return response;
    }
    if (url.pathname === "/entries") {
      // An ordinary HTTP route, using the same object locally.
      return Response.json(guestbook.entries());
    }
    return new Response("not found", { status: 404 });
  },
);
const base = `127.0.0.1:${server.addr.port}`;

// A Pyro client over WebSocket: the `connect` option opens the connection.
const book = await connect<Guestbook>("PYRO:example.guestbook@" + base, {
  connect: (_uri, signal) => connectWebSocket(`ws://${base}/pyro`, { signal }),
});
console.log("signed as entry", await book.sign("Ada"));
console.log("signed as entry", await book.sign("Grace"));
console.log("entries over Pyro:", (await book.entries()).join(", "));

// The same data over plain HTTP.
const res = await fetch(`http://${base}/entries`);
console.log("entries over HTTP:", (await res.json()).join(", "));
console.log("connections served by the daemon:", daemon.connectionCount);

await book[Symbol.asyncDispose]();
await daemon.close();
stop.abort();
await server.finished;
console.log("done");
