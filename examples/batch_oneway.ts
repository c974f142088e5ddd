/**
 * Batch calls and oneway calls: two ways to spend fewer network round trips.
 *
 * - A batch records calls and sends them all in one message; one reply
 *   carries every result.
 * - A oneway method (`@oneway`) returns at once: the client does not wait
 *   for the server to run it and gets no result.
 *
 * Run: `deno task example:batch_oneway`
 *
 * @module
 */

import { batch, connect, Daemon, expose, oneway } from "@tyro/tyro";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Calculator {
  #log: string[] = [];

  @expose
  add(a: number, b: number): number {
    return a + b;
  }

  @expose
  multiply(a: number, b: number): number {
    return a * b;
  }

  @expose
  divide(a: number, b: number): number {
    if (b === 0) throw new RangeError("division by zero");
    return a / b;
  }

  /** Slow, and nobody needs its result: a oneway method. */
  @oneway
  async record(entry: string): Promise<void> {
    await sleep(200);
    this.#log.push(entry);
  }

  @expose
  log(): string[] {
    return this.#log;
  }
}

interface CalculatorApi {
  add(a: number, b: number): number;
  multiply(a: number, b: number): number;
  divide(a: number, b: number): number;
  record(entry: string): void;
  log(): string[];
}

await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
const uri = daemon.register(new Calculator(), "example.calculator");
const serving = daemon.serve();
await using calc = await connect<CalculatorApi>(uri);

// A batch: each recorded call returns a promise, settled when the batch is sent.
const b = batch<CalculatorApi>(calc);
const sum = b.add(1, 2);
const product = b.multiply(3, 4);
const quotient = b.divide(10, 4);
const results = await b.$send(); // one request, one reply
console.log("batch results:", results.join(", "));
console.log("sum:", await sum, "product:", await product, "quotient:", await quotient);

// A failing call stops the batch: the calls after it are not executed.
const b2 = batch<CalculatorApi>(calc);
const ok = b2.add(5, 5);
const bad = b2.divide(1, 0);
const skipped = b2.add(6, 6);
console.log("second batch results:", (await b2.$send()).join(", "));
console.log("before the failure:", await ok);
console.log("the failure:", await bad.catch((e: Error) => e.message));
console.log("after the failure:", await skipped.catch(() => "not executed"));

// A oneway method: the call returns before the server has done the work.
let t = performance.now();
await calc.record("first entry");
console.log(`oneway call returned after ${(performance.now() - t).toFixed(0)} ms`);
console.log("log right after the oneway call:", JSON.stringify(await calc.log()));
await sleep(600);
console.log("log a moment later:", JSON.stringify(await calc.log()));

// A batch sent oneway: no reply at all.
const b3 = batch<CalculatorApi>(calc);
b3.record("second entry");
b3.record("third entry");
t = performance.now();
await b3.$send({ oneway: true });
console.log(`oneway batch returned after ${(performance.now() - t).toFixed(0)} ms`);
await sleep(1000);
console.log("final log:", JSON.stringify(await calc.log()));

await daemon.close();
await serving;
console.log("done");
