/**
 * Compile-time checks of the typed proxy: these only need to type-check.
 */
import assert from "node:assert/strict";
import { type Batch, batch, createProxy, type Remote, type RemoteCall } from "../client.ts";

interface Calc {
  add(a: number, b: number): number;
  fetch(url: string): Promise<string>;
  items(n: number): Generator<number>;
  stream(): AsyncGenerator<string>;
  fail(): never;
  readonly name: string;
}

type Equals<A, B> = (<T>() => T extends A ? 1 : 2) extends (<T>() => T extends B ? 1 : 2) ? true
  : false;
function expectType<T extends true>(_ok: T): void {}

Deno.test("Remote<T> maps methods to promises and generators to async generators", () => {
  const calc = createProxy<Calc>("PYRO:calc@127.0.0.1:1");
  expectType<Equals<ReturnType<Remote<Calc>["add"]>, RemoteCall<number>>>(true);
  expectType<Equals<ReturnType<Remote<Calc>["fetch"]>, RemoteCall<string>>>(true);
  expectType<
    Equals<Awaited<ReturnType<Remote<Calc>["items"]>>, AsyncGenerator<number, void, undefined>>
  >(
    true,
  );
  expectType<Equals<Parameters<Remote<Calc>["add"]>, [a: number, b: number]>>(true);
  const typeOnly = () => {
    // @ts-expect-error: attributes are not methods; use getAttr()
    calc.name;
    // @ts-expect-error: wrong argument type
    calc.add("1", 2);
  };
  assert.equal(typeof typeOnly, "function"); // never called: the checks above are compile-time
  const b: Batch<Calc> = batch<Calc>(calc);
  expectType<Equals<ReturnType<Batch<Calc>["add"]>, Promise<number>>>(true);
  assert.equal(typeof b.$send, "function");
});
