/**
 * The name server launcher, interchangeable with `python3 -m Pyro5.nameserver`:
 *
 * ```sh
 * deno task ns -n 0.0.0.0 -p 9090 -s sql:names.sqlite
 * ```
 *
 * Options: `-n/--host`, `-p/--port`, `-u/--unixsocket`, `-s/--storage`
 * (`memory` or `sql:FILE`), `--bchost`, `--bcport`, `--nathost`,
 * `--natport`, `-x/--nobc`. `PYRO_*` environment variables set
 * configuration items (e.g. `PYRO_NS_AUTOCLEAN=30`).
 *
 * @module
 */

import process from "node:process";
import { parseArgs } from "node:util";
import { configFromEnv, DEFAULT_CONFIG, type PyroConfig } from "../config.ts";
import { startNs } from "../nameserver.ts";

const PROG = "ns";
const USAGE = `usage: ${PROG} [-h] [-n HOST] [-p PORT] [-u UNIXSOCKET] [-s STORAGE]
          [--bchost BCHOST] [--bcport BCPORT] [--nathost NATHOST]
          [--natport NATPORT] [-x]`;
const HELP = `${USAGE}

Pyro name server command line launcher.

options:
  -h, --help            show this help message and exit
  -n HOST, --host HOST  hostname to bind server on
  -p PORT, --port PORT  port to bind server on (0=random)
  -u UNIXSOCKET, --unixsocket UNIXSOCKET
                        Unix domain socket name to bind server on
  -s STORAGE, --storage STORAGE
                        Storage system to use (memory, sql:file)
  --bchost BCHOST       hostname to bind broadcast server on (default is "")
  --bcport BCPORT       port to bind broadcast server on (0=random)
  --nathost NATHOST     external hostname in case of NAT
  --natport NATPORT     external port in case of NAT
  -x, --nobc            don't start a broadcast server`;

/** Where the launcher writes and what stops it (tests pass their own). */
export interface NsIo {
  /** Writes one line of normal output. */
  out(line: string): void;
  /** Writes one line of error output. */
  err(line: string): void;
  /** Stops the name server when aborted (default: SIGINT or SIGTERM). */
  signal?: AbortSignal;
  /** The environment to read `PYRO_*` items from (default: the process environment). */
  env?: Record<string, string | undefined>;
  /** Called once the name server runs, with its URI text. */
  onReady?: (uri: string) => void;
}

/**
 * Reads the `PYRO_*` variables one by one, so that `--allow-env=PYRO_*` suffices.
 *
 * @returns The configuration.
 */
export function pyroConfigFromProcessEnv(): PyroConfig {
  const env: Record<string, string | undefined> = {};
  for (const key of Object.keys(DEFAULT_CONFIG)) {
    try {
      env["PYRO_" + key] = process.env["PYRO_" + key];
    } catch { /* no permission: keep the default */ }
  }
  return configFromEnv(env);
}

function defaultIo(): NsIo {
  return {
    // deno-lint-ignore no-console
    out: (line) => console.log(line),
    // deno-lint-ignore no-console
    err: (line) => console.error(line),
  };
}

function intOption(io: NsIo, name: string, value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  if (!/^\s*[+-]?\d+\s*$/.test(value)) {
    io.err(USAGE);
    io.err(`${PROG}: error: argument ${name}: invalid int value: '${value}'`);
    return null;
  }
  return parseInt(value, 10);
}

/**
 * Runs the name server until SIGINT or SIGTERM (or `io.signal`).
 *
 * @param args The command line arguments.
 * @param io Output, stop signal and environment (for tests).
 * @returns The exit code: 0 after a normal stop, 1 when the server cannot start, 2 for bad arguments.
 */
export async function main(args: string[], io: NsIo = defaultIo()): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h" },
        host: { type: "string", short: "n" },
        port: { type: "string", short: "p" },
        unixsocket: { type: "string", short: "u" },
        storage: { type: "string", short: "s", default: "memory" },
        bchost: { type: "string" },
        bcport: { type: "string" },
        nathost: { type: "string" },
        natport: { type: "string" },
        nobc: { type: "boolean", short: "x" },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    io.err(USAGE);
    io.err(`${PROG}: error: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    io.out(HELP);
    return 0;
  }
  const port = intOption(io, "-p/--port", values.port);
  const bcport = intOption(io, "--bcport", values.bcport);
  const natport = intOption(io, "--natport", values.natport);
  if (port === null || bcport === null || natport === null) return 2;
  const config = io.env ? configFromEnv(io.env) : pyroConfigFromProcessEnv();

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = io.signal ? [] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  io.signal?.addEventListener("abort", onSignal, { once: true });
  if (io.signal?.aborted) stop.abort();
  try {
    let ns;
    try {
      ns = await startNs({
        host: values.host,
        port,
        unixSocket: values.unixsocket,
        storage: values.storage,
        enableBroadcast: !values.nobc,
        bchost: values.bchost,
        bcport,
        nathost: values.nathost,
        natport,
        config,
        serve: false,
      });
    } catch (e) {
      const err = e as Error;
      io.err(`${err.name === "RangeError" ? "ValueError" : err.name}: ${err.message}`);
      return 1;
    }
    try {
      if (ns.broadcastSkipped === "ipv6") io.out("Not starting broadcast server for IPv6.");
      else if (ns.broadcastSkipped === "localhost") {
        io.out("Not starting broadcast server for localhost.");
      } else if (ns.broadcastServer) {
        io.out(`Broadcast server running on ${ns.broadcastServer.locationStr}`);
      }
      const existing = ns.nameserver.count();
      if (existing > 1) io.out(`Persistent store contains ${existing} existing registrations.`);
      io.out(`NS running on ${ns.daemon.locationStr} (${ns.hostIp})`);
      if (ns.daemon.natLocationStr) {
        io.out(`internal URI = ${ns.internalUri}`);
        io.out(`external URI = ${ns.uri}`);
      } else {
        io.out(`URI = ${ns.uri}`);
      }
      io.onReady?.(ns.uri.toString());
      await ns.daemon.serve({ signal: stop.signal });
    } finally {
      await ns.close();
    }
    io.out("NS shut down.");
    return 0;
  } finally {
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    io.signal?.removeEventListener("abort", onSignal);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
