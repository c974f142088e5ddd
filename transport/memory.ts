/**
 * An in-memory connection pair, for tests and for running a client and a
 * daemon in one process without sockets.
 *
 * @module
 */

import { type Connection, fromStreams } from "./types.ts";

/**
 * Makes two connected in-memory connections.
 *
 * @returns `[a, b]`: what is written to one is read from the other.
 *
 * @example Connect a pair
 * ```ts
 * import { memoryPair } from "@tyro/tyro/transport";
 * import assert from "node:assert/strict";
 *
 * const [a, b] = memoryPair();
 * await a.write(new Uint8Array([7]));
 * const buf = new Uint8Array(1);
 * assert.equal(await b.read(buf), 1);
 * a.close();
 * b.close();
 * ```
 */
export function memoryPair(): [Connection, Connection] {
  const ab = new TransformStream<Uint8Array, Uint8Array>();
  const ba = new TransformStream<Uint8Array, Uint8Array>();
  let aOpen = true, bOpen = true;
  const a = fromStreams({ readable: ba.readable, writable: ab.writable }, () => {
    aOpen = false;
    if (bOpen) b.close();
  });
  const b = fromStreams({ readable: ab.readable, writable: ba.writable }, () => {
    bOpen = false;
    if (aOpen) a.close();
  });
  return [a, b];
}
