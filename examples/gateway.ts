/**
 * The HTTP gateway: objects in a name server called with plain HTTP and
 * JSON, by browsers and other non-Pyro clients (Pyro5's
 * `Pyro5.utils.httpgateway`).
 *
 * A name server, a daemon with two objects registered in it, and the
 * gateway's fetch handler served with `Deno.serve`. Only names matching
 * the expose regex (default `http\.`) are reachable through the gateway.
 * The program then does what a browser would: `GET
 * /pyro/<name>/<method>?arg=value` (the query parameters become keyword
 * arguments, all strings) answers with the method's result as JSON.
 * `/pyro/` is a page that lists the exposed objects and calls their
 * methods; the program prints its address. (`deno task gateway` runs a
 * stand-alone gateway, as `python -m Pyro5.utils.httpgateway` does.)
 *
 * Run: `deno task example:gateway`
 *
 * @module
 */

import { Daemon, expose } from "@tyro/tyro";
import { createGatewayHandler } from "@tyro/tyro/gateway";
import { locateNs, startNs } from "@tyro/tyro/nameserver";

class Greeter {
  #count = 0;

  @expose
  greet(name: string): string {
    this.#count++;
    return `Hello, ${name}!`;
  }

  @expose
  add(a: string, b: string): number {
    return Number(a) + Number(b);
  }

  @expose
  stats(): { greeted: number } {
    return { greeted: this.#count };
  }

  @expose
  fail(): never {
    throw new RangeError("no greeting for you");
  }
}

// 1. A name server, and a daemon whose objects are registered in it: one
//    under an `http.` name, one under a name the gateway must not expose.
await using ns = await startNs({ host: "127.0.0.1", port: 0 });
const nsPort = ns.uri.port!;
await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
const serving = daemon.serve();
{
  await using nameserver = await locateNs("127.0.0.1", nsPort);
  await nameserver.register("http.greeter", daemon.register(new Greeter(), "http.greeter"));
  await nameserver.register("private.greeter", daemon.register(new Greeter(), "private.greeter"));
}

// 2. The gateway: a fetch handler that finds the name server itself.
const gateway = createGatewayHandler({ nsHost: "127.0.0.1", nsPort });
const stop = new AbortController();
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, signal: stop.signal, onListen() {} },
  gateway,
);
const base = `http://127.0.0.1:${server.addr.port}`;

// 3. A browser's view: plain GET requests, JSON answers.
async function get(path: string): Promise<Response> {
  return await fetch(base + path);
}

let res = await get("/pyro/http.greeter/greet?name=World");
console.log("greet:", res.status, await res.text());
res = await get("/pyro/http.greeter/add?a=2&b=40");
console.log("add:", res.status, await res.text());
res = await get("/pyro/http.greeter/stats");
console.log("stats:", res.status, await res.text());

// `$meta` tells which methods (and attributes) an object exposes.
res = await get("/pyro/http.greeter/$meta");
console.log("methods:", (await res.json()).methods.sort().join(", "));

// A remote exception arrives as status 500 and the exception as JSON.
res = await get("/pyro/http.greeter/fail");
const error = await res.json();
console.log("fail:", res.status, error.__class__, "-", error.args[0]);

// Names outside the expose regex are forbidden, even though registered.
res = await get("/pyro/private.greeter/greet?name=World");
console.log("private.greeter:", res.status, res.statusText);
await res.body?.cancel();

// 4. The page for people: it lists the exposed objects and calls methods.
res = await get("/pyro/");
const page = await res.text();
console.log("page at /pyro/:", res.status, res.headers.get("content-type"));
console.log("page lists http.greeter:", page.includes("http.greeter"));
console.log("page lists private.greeter:", page.includes("private.greeter"));
console.log(`open the page in a browser: ${base}/pyro/`);

gateway.close();
stop.abort();
await server.finished;
await daemon.close();
await serving;
console.log("done");
