/**
 * `deno task demo`: Tyro in one minute. It starts a name server, serves an
 * object from a daemon under a logical name, and calls it through a
 * `PYRONAME:` URI, showing each step and how long it took. Everything runs
 * on 127.0.0.1 with ports picked by the OS, and the program exits when done.
 *
 * @module
 */

import { connect, controlOf, Daemon, expose } from "@tyro/tyro";
import { locateNs, startNs } from "@tyro/tyro/nameserver";

/** The example object. */
class Greeter {
  #greeted = 0;

  @expose
  greet(name: string): string {
    this.#greeted++;
    return `Hello, ${name}!`;
  }

  @expose
  stats(): { greeted: number; runtime: string } {
    return { greeted: this.#greeted, runtime: `Deno ${Deno.version.deno}` };
  }

  @expose
  fail(): never {
    throw new RangeError("no greeting for you");
  }

  @expose
  *countdown(from: number): Generator<number> {
    for (let i = from; i > 0; i--) yield i;
  }
}

interface GreeterApi {
  greet(name: string): string;
  stats(): { greeted: number; runtime: string };
  fail(): never;
  countdown(from: number): Generator<number>;
}

const ms = (start: number) => `${(performance.now() - start).toFixed(2)} ms`;

let t = performance.now();
await using ns = await startNs({ host: "127.0.0.1", port: 0 });
console.log(`1. name server started: ${ns.uri}`);
console.log(`   (${ms(t)})`);

t = performance.now();
await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
const uri = daemon.register(new Greeter(), "demo.greeter");
const serving = daemon.serve();
{
  await using nameserver = await locateNs("127.0.0.1", ns.uri.port);
  await nameserver.register("demo.greeter", uri.toString());
}
console.log(`2. daemon serving ${uri}, registered as "demo.greeter"`);
console.log(`   (${ms(t)})`);

const name = `PYRONAME:demo.greeter@127.0.0.1:${ns.uri.port}`;
t = performance.now();
await using greeter = await connect<GreeterApi>(name);
console.log(`3. client connected to ${name}`);
console.log(`   (name lookup, connect and handshake: ${ms(t)})`);

t = performance.now();
console.log(`4. greet("world") -> ${await greeter.greet("world")}`);
console.log(`   (one round trip: ${ms(t)})`);

t = performance.now();
const calls = 1000;
for (let i = 0; i < calls; i++) await greeter.greet(`caller ${i}`);
const elapsed = performance.now() - t;
console.log(`5. ${calls} more calls, one after the other`);
console.log(
  `   (${elapsed.toFixed(0)} ms, ${(elapsed / calls * 1000).toFixed(0)} µs per call)`,
);

const stats = await greeter.stats();
console.log(`6. stats() -> greeted ${stats.greeted} times`);
console.log(`   (served by ${stats.runtime})`);

try {
  await greeter.fail();
} catch (e) {
  console.log(`7. fail() -> ${(e as Error).name}: ${(e as Error).message}`);
}

const items: number[] = [];
for await (const n of greeter.countdown(3)) items.push(n);
console.log(`8. countdown(3) streamed -> ${items.join(", ")}`);

controlOf(greeter).release();
await daemon.close();
await serving;
console.log("demo finished");
