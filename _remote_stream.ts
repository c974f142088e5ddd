/**
 * Remote iterators: a stream id from the daemon becomes an async generator
 * that pulls items with `get_next_stream_item`, optionally ahead of the
 * consumer, and closes the stream when the consumer leaves early.
 *
 * @internal
 * @module
 */

import type { PyroProxy } from "./client.ts";
import { ConnectionClosedError } from "./errors.ts";
import { Flags } from "./protocol/constants.ts";

/** The async generator of a remote item stream. */
export async function* remoteStream(
  proxy: PyroProxy,
  streamId: string,
): AsyncGenerator<unknown, void, undefined> {
  let finished = false;
  const window = Math.max(0, proxy.prefetch | 0);
  const next = () => {
    const p = proxy.invoke("get_next_stream_item", [streamId], {}, { objectId: "Pyro.Daemon" });
    p.catch(() => {}); // prefetched requests past the end fail; nobody awaits those
    return p;
  };
  // With prefetch, up to `window` further requests are in flight while the
  // consumer handles an item; the daemon answers them in order.
  const ahead: Promise<unknown>[] = [];
  try {
    while (true) {
      while (ahead.length <= window) ahead.push(next());
      let item: unknown;
      try {
        item = await ahead.shift()!;
      } catch (e) {
        const type = (e as { remoteType?: string }).remoteType;
        if (type === "builtins.StopIteration" || type === "builtins.StopAsyncIteration") {
          finished = true;
          return;
        }
        if (e instanceof ConnectionClosedError) finished = true;
        throw e;
      }
      yield item;
    }
  } finally {
    if (!finished && proxy.connected) {
      await proxy.invoke("close_stream", [streamId], {}, {
        objectId: "Pyro.Daemon",
        flags: Flags.ONEWAY,
      }).catch(() => {});
    }
  }
}
