/**
 * The HTTP gateway launcher, interchangeable with
 * `python3 -m Pyro5.utils.httpgateway`:
 *
 * ```sh
 * deno task gateway -H localhost -p 8080 -e 'test\.'
 * ```
 *
 * Options: `-H/--host`, `-p/--port`, `-c/--cors`, `-e/--expose`,
 * `-g/--gatewaykey`, `-t/--timeout`. The name server is located as Pyro5
 * does (`PYRO_NS_HOST`, `PYRO_NS_PORT`, broadcast); `PYRO_*` environment
 * variables set configuration items.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { controlOf } from "../client.ts";
import type { PyroConfig } from "../config.ts";
import { configFromEnv } from "../config.ts";
import { createGatewayHandler, DEFAULT_EXPOSE, pythonRegex } from "../gateway.ts";
import { pyroConfigFromProcessEnv } from "./ns.ts";

const PROG = "gateway";
const USAGE = `usage: ${PROG} [-h] [-H HOST] [-c CORS] [-p PORT] [-e EXPOSE]
               [-g GATEWAYKEY] [-t TIMEOUT]`;

function help(timeout: number): string {
  return `${USAGE}

Pyro http gateway command line launcher.

options:
  -h, --help            show this help message and exit
  -H HOST, --host HOST  hostname to bind server on (default=localhost)
  -c CORS, --cors CORS  Allow cross origin domain/url
  -p PORT, --port PORT  port to bind server on (default=8080)
  -e EXPOSE, --expose EXPOSE
                        a regex of object names to expose (default=${DEFAULT_EXPOSE})
  -g GATEWAYKEY, --gatewaykey GATEWAYKEY
                        the api key to use to connect to the gateway itself
  -t TIMEOUT, --timeout TIMEOUT
                        Pyro timeout value to use (COMMTIMEOUT setting,
                        default=${timeout.toFixed(6)})`;
}

/** Where the launcher writes and what stops it (tests pass their own). */
export interface GatewayIo {
  /** Writes one line of normal output. */
  out(line: string): void;
  /** Writes one line of error output. */
  err(line: string): void;
  /** Stops the gateway when aborted (default: SIGINT or SIGTERM). */
  signal?: AbortSignal;
  /** The environment to read `PYRO_*` items from (default: the process environment). */
  env?: Record<string, string | undefined>;
  /** Called once the gateway listens, with its base URL. */
  onReady?: (url: string) => void;
}

function defaultIo(): GatewayIo {
  return {
    // deno-lint-ignore no-console
    out: (line) => console.log(line),
    // deno-lint-ignore no-console
    err: (line) => console.error(line),
  };
}

function usageError(io: GatewayIo, message: string): number {
  io.err(USAGE);
  io.err(`${PROG}: error: ${message}`);
  return 2;
}

/**
 * Runs the gateway until SIGINT or SIGTERM (or `io.signal`).
 *
 * @param args The command line arguments.
 * @param io Output, stop signal and environment (for tests).
 * @returns The exit code: 0 after a normal stop, 1 when the server cannot start, 2 for bad arguments.
 */
export async function main(args: string[], io: GatewayIo = defaultIo()): Promise<number> {
  const config: PyroConfig = io.env ? configFromEnv(io.env) : pyroConfigFromProcessEnv();
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h" },
        host: { type: "string", short: "H", default: "localhost" },
        cors: { type: "string", short: "c", default: "*" },
        port: { type: "string", short: "p", default: "8080" },
        expose: { type: "string", short: "e", default: DEFAULT_EXPOSE },
        gatewaykey: { type: "string", short: "g" },
        timeout: { type: "string", short: "t" },
      },
      allowPositionals: false,
    }));
  } catch (e) {
    return usageError(io, (e as Error).message);
  }
  if (values.help) {
    io.out(help(config.COMMTIMEOUT));
    return 0;
  }
  if (!/^\s*[+-]?\d+\s*$/.test(values.port)) {
    return usageError(io, `argument -p/--port: invalid int value: '${values.port}'`);
  }
  const port = parseInt(values.port, 10);
  let timeout = config.COMMTIMEOUT;
  if (values.timeout !== undefined) {
    timeout = Number(values.timeout.trim());
    if (values.timeout.trim() === "" || Number.isNaN(timeout) || timeout < 0) {
      return usageError(io, `argument -t/--timeout: invalid float value: '${values.timeout}'`);
    }
  }
  const expose = values.expose;
  try {
    if (expose) pythonRegex(expose);
  } catch (e) {
    io.err(`re.error: ${(e as Error).message}`);
    return 1;
  }

  if (expose) io.out(`Exposing objects with names matching:  ${expose}`);
  else io.out("Warning: exposing all objects (no expose regex set)");
  const handler = createGatewayHandler({
    expose,
    cors: values.cors,
    gatewayKey: values.gatewaykey ?? "",
    timeout,
    config: { ...config, COMMTIMEOUT: timeout },
  });

  const stop = new AbortController();
  const onSignal = () => stop.abort();
  const signals: Deno.Signal[] = io.signal ? [] : ["SIGINT", "SIGTERM"];
  for (const s of signals) Deno.addSignalListener(s, onSignal);
  io.signal?.addEventListener("abort", onSignal, { once: true });
  if (io.signal?.aborted) stop.abort();
  try {
    try {
      const ns = await handler.nameserver();
      io.out(`Connected to name server at:  ${controlOf(ns).uri}`);
    } catch {
      io.out("Not yet connected to a name server.");
    }
    let server: Deno.HttpServer<Deno.NetAddr>;
    try {
      server = Deno.serve({
        hostname: values.host,
        port,
        signal: stop.signal,
        onListen: () => {},
        onError: () =>
          new Response("A server error occurred.  Please contact the administrator.", {
            status: 500,
            headers: { "Content-Type": "text/plain" },
          }),
      }, handler);
    } catch (e) {
      io.err(`${(e as Error).name}: ${(e as Error).message}`);
      return 1;
    }
    const addr = server.addr;
    const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
    const url = `http://${host}:${addr.port}/pyro/`;
    io.out(`Pyro HTTP gateway running on ${url}`);
    io.onReady?.(url);
    await server.finished;
    return 0;
  } finally {
    handler.close();
    for (const s of signals) Deno.removeSignalListener(s, onSignal);
    io.signal?.removeEventListener("abort", onSignal);
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
