/**
 * The name server's autocleaner (Pyro5's NS_AUTOCLEAN): it periodically
 * checks that every registered daemon still accepts connections, and
 * removes registrations that stay unreachable.
 *
 * @module
 */

import type { Logger } from "./server.ts";
import { connectSocket } from "./transport/socket.ts";
import { PyroUri } from "./uri.ts";

/** Options of the autocleaner; times are in seconds, as Pyro5's. */
export interface AutoCleanOptions {
  /** Seconds between checks of all registrations (Pyro5's NS_AUTOCLEAN). */
  interval: number;
  /**
   * Seconds a registration may stay unreachable before it is removed.
   *
   * @default {20}
   */
  maxUnreachableTime?: number;
  /**
   * Seconds between wake-ups of the cleaner loop.
   *
   * @default {2}
   */
  loopDelay?: number;
  /**
   * Seconds a connection attempt may take.
   *
   * @default {config.COMMTIMEOUT or 5}
   */
  connectTimeout?: number;
}

/** What the cleaner needs from a name server. */
export interface CleanableNameServer {
  /** Name to URI text of every registration. */
  entries(): Map<string, string>;
  /** Removes `name` if it is still registered with `uri`; returns whether it did. */
  removeIfUnchanged(name: string, uri: string): boolean;
}

const SKIP = new Set(["Pyro.Daemon", "Pyro.NameServer"]);

/**
 * Checks registrations in the background and removes those whose daemon
 * cannot be connected to for `maxUnreachableTime` seconds.
 */
export class AutoCleaner {
  readonly #ns: CleanableNameServer;
  readonly #opts: Required<AutoCleanOptions>;
  readonly #logger: Logger | undefined;
  readonly #unreachable = new Map<string, number>();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastCleaned = Date.now();
  #running: Promise<void> | null = null;
  #stopped = true;

  /**
   * Creates a cleaner; {@linkcode AutoCleaner.start} starts it.
   *
   * @param ns The name server.
   * @param options Interval and limits.
   * @param logger Where removals are reported.
   */
  constructor(ns: CleanableNameServer, options: AutoCleanOptions, logger?: Logger) {
    if (!(options.interval > 0)) throw new RangeError("NS_AUTOCLEAN must be greater than 0");
    this.#ns = ns;
    this.#opts = {
      interval: options.interval,
      maxUnreachableTime: options.maxUnreachableTime ?? 20,
      loopDelay: options.loopDelay ?? 2,
      connectTimeout: options.connectTimeout ?? 5,
    };
    this.#logger = logger;
  }

  /** Starts the background loop. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#lastCleaned = Date.now();
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (Date.now() - this.#lastCleaned < this.#opts.interval * 1000) return this.#schedule();
      this.#running = this.cleanOnce().then(
        () => {},
        (e) => this.#logger?.warn("autoclean failed", e),
      ).finally(() => {
        this.#running = null;
        this.#schedule();
      });
    }, this.#opts.loopDelay * 1000);
  }

  /**
   * Checks every registration once, removing those unreachable for too long.
   *
   * @returns The names removed in this run.
   */
  async cleanOnce(): Promise<string[]> {
    const removed: string[] = [];
    const entries = [...this.#ns.entries()].filter(([name]) => !SKIP.has(name));
    await Promise.all(entries.map(async ([name, uri]) => {
      if (await this.#reachable(uri)) {
        this.#unreachable.delete(name);
        return;
      }
      const now = Date.now();
      const since = this.#unreachable.get(name) ?? now;
      this.#unreachable.set(name, since);
      if (now - since >= this.#opts.maxUnreachableTime * 1000) {
        this.#unreachable.delete(name);
        if (this.#ns.removeIfUnchanged(name, uri)) {
          this.#logger?.info(
            `autoclean: unregistering ${name}; cannot connect uri ${uri} for ${this.#opts.maxUnreachableTime} sec`,
          );
          removed.push(name);
        }
      }
    }));
    for (const name of this.#unreachable.keys()) {
      if (!entries.some(([n]) => n === name)) this.#unreachable.delete(name);
    }
    this.#lastCleaned = Date.now();
    return removed;
  }

  async #reachable(uriText: string): Promise<boolean> {
    try {
      const uri = new PyroUri(uriText);
      const addr = uri.sockname
        ? { transport: "unix" as const, path: uri.sockname }
        : { hostname: uri.host ?? "", port: uri.port ?? 0 };
      const conn = await connectSocket(addr, { timeoutMs: this.#opts.connectTimeout * 1000 });
      conn.close();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Stops the loop and waits for a running check to finish.
   *
   * @returns Resolves when stopped.
   */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
