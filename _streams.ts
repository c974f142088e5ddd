/**
 * The daemon's item streams: iterators returned by remote calls, pulled
 * item by item by `get_next_stream_item`, with Pyro5's lifetime and linger
 * rules.
 *
 * @internal
 * @module
 */

import type { ClientSession } from "./_call.ts";
import { StopIterationError } from "./_daemon_parts.ts";
import { unrefTimer } from "./_timers.ts";
import { PyroError } from "./errors.ts";

interface StreamEntry {
  session: ClientSession | null;
  created: number;
  lingerSince: number;
  iterator: Iterator<unknown> | AsyncIterator<unknown>;
}

/** The open item streams of one daemon. */
export class ItemStreams {
  readonly #streams = new Map<string, StreamEntry>();
  readonly #lifetimeMs: number;
  readonly #lingerMs: number;
  #housekeeper: ReturnType<typeof setInterval> | undefined;

  /**
   * @param lifetimeMs How long a stream may live (0: forever), ITER_STREAM_LIFETIME.
   * @param lingerMs How long a stream outlives its client (0: not at all), ITER_STREAM_LINGER.
   */
  constructor(lifetimeMs: number, lingerMs: number) {
    this.#lifetimeMs = lifetimeMs;
    this.#lingerMs = lingerMs;
  }

  /** The number of open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /** Registers an iterator for a client and returns its new stream id. */
  open(
    session: ClientSession | null,
    iterator: Iterator<unknown> | AsyncIterator<unknown>,
  ): string {
    const id = crypto.randomUUID();
    this.#streams.set(id, { session, created: Date.now(), lingerSince: 0, iterator });
    this.#ensureHousekeeper();
    return id;
  }

  /**
   * The next item of a stream. A finished or failed stream is removed.
   *
   * @throws {PyroError} "item stream terminated" for an unknown stream.
   * @throws {StopIterationError} At the end of the stream.
   */
  async next(id: string, session: ClientSession | null): Promise<unknown> {
    const s = this.#streams.get(id);
    if (!s) throw new PyroError("item stream terminated");
    if (s.session === null) {
      s.session = session; // a client came back for a lingering stream
      s.lingerSince = 0;
    }
    let r: IteratorResult<unknown>;
    try {
      r = await s.iterator.next();
    } catch (e) {
      this.#streams.delete(id);
      throw e;
    }
    if (r.done) {
      this.#streams.delete(id);
      throw new StopIterationError();
    }
    return r.value;
  }

  /** Closes a stream (its iterator's `return()` runs). */
  close(id: string): void {
    const s = this.#streams.get(id);
    if (!s) return;
    this.#streams.delete(id);
    try {
      const r = s.iterator.return?.();
      if (r && typeof (r as Promise<unknown>).catch === "function") {
        (r as Promise<unknown>).catch(() => {});
      }
    } catch { /* the iterator's cleanup failed: nothing to report to anyone */ }
  }

  /** A client went away: its streams linger (ITER_STREAM_LINGER) or close at once. */
  disconnected(session: ClientSession): void {
    for (const [id, s] of this.#streams) {
      if (s.session !== session) continue;
      if (this.#lingerMs > 0) {
        s.session = null;
        s.lingerSince = Date.now();
      } else {
        this.close(id);
      }
    }
    this.#ensureHousekeeper();
  }

  /** Drops streams past their lifetime or linger time. */
  housekeeping(): void {
    const now = Date.now();
    for (const [id, s] of this.#streams) {
      if (
        (this.#lifetimeMs > 0 && now - s.created > this.#lifetimeMs) ||
        (s.lingerSince && now - s.lingerSince > this.#lingerMs)
      ) {
        this.close(id);
      }
    }
    if (this.#streams.size === 0) this.#stopHousekeeper();
  }

  /** Closes every stream. */
  closeAll(): void {
    for (const id of [...this.#streams.keys()]) this.close(id);
    this.#stopHousekeeper();
  }

  #ensureHousekeeper(): void {
    if (this.#housekeeper || this.#streams.size === 0) return;
    this.#housekeeper = setInterval(() => this.housekeeping(), 1000);
    unrefTimer(this.#housekeeper);
  }

  #stopHousekeeper(): void {
    clearInterval(this.#housekeeper);
    this.#housekeeper = undefined;
  }
}
