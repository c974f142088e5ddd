/**
 * Remote iterators: a stream id from the daemon becomes an async generator
 * that pulls items with `get_next_stream_item`, and closes the stream when
 * the consumer leaves early.
 *
 * Without prefetch every item is one round trip, strictly on demand. With
 * `prefetch` N, items come in `<batch>` calls of `get_next_stream_item` on
 * `Pyro.Daemon` (which Pyro5 daemons answer too): the batch size grows from
 * 1 to N, and the next batch is already on its way while the consumer works
 * through the current one. A batch stops at the end of the stream, as every
 * Pyro5 batch stops at its first exception.
 *
 * @internal
 * @module
 */

import type { PyroProxy } from "./client.ts";
import { ConnectionClosedError } from "./errors.ts";
import { Flags } from "./protocol/constants.ts";
import { ExceptionWrapper } from "./serializers/registry.ts";

const DAEMON = "Pyro.Daemon";

function isEnd(e: unknown): boolean {
  const type = (e as { remoteType?: string } | null)?.remoteType;
  return type === "builtins.StopIteration" || type === "builtins.StopAsyncIteration";
}

/** The async generator of a remote item stream. */
export async function* remoteStream(
  proxy: PyroProxy,
  streamId: string,
): AsyncGenerator<unknown, void, undefined> {
  let finished = false;
  const window = Math.max(0, proxy.prefetch | 0);
  try {
    if (window === 0 || proxy.serializer.name === "marshal") {
      // One request per item; with prefetch (marshal: Pyro5 daemons cannot
      // marshal a batch result that holds the end-of-stream exception) up to
      // `window` further requests are in flight, answered in order.
      const ahead: Promise<unknown>[] = [];
      const next = () => {
        const p = proxy.invoke("get_next_stream_item", [streamId], {}, { objectId: DAEMON });
        p.catch(() => {}); // requests past the end fail; nobody awaits those
        return p;
      };
      while (true) {
        while (ahead.length <= window) ahead.push(next());
        let item: unknown;
        try {
          item = await ahead.shift()!;
        } catch (e) {
          if (isEnd(e)) {
            finished = true;
            return;
          }
          if (e instanceof ConnectionClosedError) finished = true;
          throw e;
        }
        yield item;
      }
    }
    const call = Object.freeze(["get_next_stream_item", Object.freeze([streamId]), {}]);
    let size = 1;
    const fetch = (): Promise<unknown> => {
      const n = size;
      size = Math.min(size * 2, window);
      const p = proxy.invoke("<batch>", Array(n).fill(call), null, {
        objectId: DAEMON,
        flags: Flags.BATCH,
      });
      p.catch(() => {}); // a batch asked for past the end is never awaited
      return p;
    };
    let pending = fetch();
    while (true) {
      let results: unknown;
      try {
        results = await pending;
      } catch (e) {
        if (e instanceof ConnectionClosedError) finished = true;
        throw e;
      }
      const list = Array.isArray(results) ? results : [];
      const ended = list.length > 0 && list[list.length - 1] instanceof ExceptionWrapper;
      if (!ended) pending = fetch(); // the next batch travels while these are consumed
      for (const r of list) {
        if (r instanceof ExceptionWrapper) {
          if (isEnd(r.exception)) {
            finished = true;
            return;
          }
          finished = true; // the daemon dropped the stream with the error
          throw r.exception;
        }
        yield r;
      }
    }
  } finally {
    if (!finished && proxy.connected) {
      await proxy.invoke("close_stream", [streamId], {}, {
        objectId: DAEMON,
        flags: Flags.ONEWAY,
      }).catch(() => {});
    }
  }
}
