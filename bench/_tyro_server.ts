/**
 * The Tyro server process of the side-by-side benchmark.
 *
 * ```sh
 * deno run --allow-net=127.0.0.1 bench/_tyro_server.ts daemon   # prints READY <uri>
 * deno run --allow-net=127.0.0.1 bench/_tyro_server.ts ns       # a name server holding "bench.obj"
 * ```
 *
 * Both also serve `bench.stats` (the process's CPU seconds and RSS), which
 * the client asks at the edges of each timed repetition: Deno reads
 * `/proc/<pid>` only with `--allow-all`.
 *
 * It runs until its stdin closes (or SIGTERM), so the orchestrator cannot leave it behind.
 *
 * @module
 */

import process from "node:process";
import { Daemon, expose, oneway } from "../server.ts";

/** The benchmark object; `bench/pyro5_bench.py` has the same members. */
export class BenchObject {
  #count = 0;

  /**
   * Returns its argument.
   *
   * @param x Anything.
   * @returns The same.
   */
  @expose
  echo(x: unknown): unknown {
    return x;
  }

  /** Counts one call (oneway). */
  @oneway
  inc(): void {
    this.#count++;
  }

  /**
   * The number of `inc` calls executed.
   *
   * @returns The count.
   */
  @expose
  count(): number {
    return this.#count;
  }

  /** Sets the count to 0. */
  @expose
  reset(): void {
    this.#count = 0;
  }

  /**
   * Yields 0 .. n-1.
   *
   * @param n How many.
   * @returns The generator.
   */
  @expose
  *gen(n: number): Generator<number> {
    for (let i = 0; i < n; i++) yield i;
  }
}

/** The server's own readings, asked for at the edges of each timed repetition. */
export class BenchStats {
  /**
   * CPU seconds (user + system) of this process.
   *
   * @returns Seconds.
   */
  @expose
  cpu(): number {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  }

  /**
   * Resident memory of this process.
   *
   * @returns Bytes.
   */
  @expose
  rss(): number {
    return Deno.memoryUsage().rss;
  }
}

async function main(mode: string): Promise<void> {
  const stop = new AbortController();
  let ready: string;
  let served: Promise<void>;
  if (mode === "ns") {
    const { startNs } = await import("../nameserver.ts");
    const ns = await startNs({
      host: "127.0.0.1",
      port: 0,
      enableBroadcast: false,
      autoclean: false,
      signal: stop.signal,
    });
    ns.nameserver.register("bench.obj", "PYRO:bench@127.0.0.1:9999");
    ns.daemon.register(new BenchStats(), "bench.stats");
    ready = ns.uri.toString();
    served = ns.served;
  } else {
    const daemon = new Daemon({ host: "127.0.0.1", port: 0 });
    ready = daemon.register(new BenchObject(), "bench").toString();
    daemon.register(new BenchStats(), "bench.stats");
    served = daemon.serve({ signal: stop.signal });
  }
  // deno-lint-ignore no-console
  console.log(`READY ${ready}`);
  try {
    Deno.addSignalListener("SIGTERM", () => stop.abort());
  } catch { /* no signals */ }
  (async () => {
    const buf = new Uint8Array(64);
    try {
      while ((await Deno.stdin.read(buf)) !== null) { /* wait for EOF */ }
    } catch { /* closed */ }
    stop.abort();
  })();
  await served;
  Deno.exit(0);
}

if (import.meta.main) await main(Deno.args[0] ?? "daemon");
