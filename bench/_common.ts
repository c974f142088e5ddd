/**
 * Shared helpers of the side-by-side benchmark: CPU and memory readings from
 * `/proc`, medians, and the line protocol between the orchestrator
 * (`bench/compare.ts`) and its client and server processes.
 *
 * Every client process (Tyro's `bench/_tyro_client.ts`, Pyro5's
 * `bench/pyro5_bench.py client`) takes one JSON spec as its argument and
 * prints one JSON line per repetition, `{"rep": i, "value": x, ...}`, then
 * `{"done": true}`. Server processes print `READY <uri>` once serving.
 *
 * @module
 */

import process from "node:process";

/** One scenario run by a client process. */
export interface ClientSpec {
  /** The scenario name. */
  scenario:
    | "calls"
    | "pipelined"
    | "oneway"
    | "batch"
    | "connect"
    | "bulk"
    | "iter"
    | "ns"
    | "concurrent"
    | "hold"
    | "echo";
  /** The object (or name server) URI. */
  uri: string;
  /** The serializer name. */
  serializer: string;
  /** Measured repetitions. */
  reps: number;
  /** Seconds per timed repetition (upper bound where a count is also given). */
  seconds: number;
  /** Seconds of warm-up before the first repetition. */
  warmup: number;
  /** Scenario size: calls, items, bytes, connections, depending on the scenario. */
  count: number;
  /** Calls in flight (pipelined), or proxies per process (concurrent). */
  width?: number;
  /** URI of the server's `bench.stats` object (its CPU seconds and RSS). */
  statsUri?: string;
  /** Connection steps of the `hold` scenario. */
  steps?: number[];
}

/** One repetition's result line. */
export interface RepResult {
  /** Repetition index (0-based). */
  rep: number;
  /** The figure (per second, MB/s, ...). */
  value: number;
  /** CPU seconds (client + server) per 10,000 operations, when measured. */
  cpuPer10k?: number;
  /** Client CPU seconds per 10,000 operations. */
  clientCpuPer10k?: number;
  /** Server CPU seconds per 10,000 operations. */
  serverCpuPer10k?: number;
  /** Extra scenario data. */
  [key: string]: unknown;
}

/**
 * CPU seconds (user + system) of this process so far (getrusage; needs no
 * permission, unlike `/proc`, which Deno only reads with `--allow-all`).
 *
 * @returns Seconds.
 */
export function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/** A median with its range. */
export interface Stat {
  /** The median. */
  median: number;
  /** The smallest value. */
  min: number;
  /** The largest value. */
  max: number;
  /** Every value, in run order. */
  values: number[];
}

/**
 * Median and range of some values; NaN and null entries are dropped.
 *
 * @param values The values.
 * @returns The statistic, or null when nothing is left.
 */
export function stat(values: (number | null | undefined)[]): Stat | null {
  const v = values.filter((x): x is number => typeof x === "number" && Number.isFinite(x));
  if (v.length === 0) return null;
  const s = [...v].sort((a, b) => a - b);
  const mid = s.length >> 1;
  const median = s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
  return { median, min: s[0], max: s[s.length - 1], values: v };
}

/**
 * Seconds since some fixed point, high resolution.
 *
 * @returns Seconds.
 */
export function now(): number {
  return performance.now() / 1000;
}

/**
 * Prints one JSON line on stdout (the result channel of client processes).
 *
 * @param value The value.
 */
export function emit(value: unknown): void {
  const line = JSON.stringify(value) + "\n";
  const bytes = new TextEncoder().encode(line);
  let off = 0;
  while (off < bytes.length) off += Deno.stdout.writeSync(bytes.subarray(off));
}

/**
 * Reads lines from stdin, one per call (the barrier channel of concurrent clients).
 *
 * @returns A function giving the next line, or null at the end.
 */
export function stdinLines(): () => Promise<string | null> {
  const reader = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  let buf = "";
  return async () => {
    while (true) {
      const i = buf.indexOf("\n");
      if (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        return line;
      }
      const { value, done } = await reader.read();
      if (done) return null;
      buf += value;
    }
  };
}
