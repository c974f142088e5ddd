/**
 * Tyro's test echo server, behaving as `python3 -m Pyro5.utils.echoserver`:
 * the object `test.echoserver` with the same members, and the same options
 * (`-H host -p port -u unixsocket -n -N -v -q`).
 *
 * ```sh
 * deno task echoserver -H 127.0.0.1 -p 9999
 * ```
 *
 * @module
 */

import process from "node:process";
import { inspect, parseArgs } from "node:util";
import { controlOf } from "../client.ts";
import { pyroConfigFromProcessEnv } from "./ns.ts";
import { Daemon, expose, oneway } from "../server.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The echo object, with the members of Pyro5's `EchoServer`. */
@expose
export class EchoServer {
  #verbose = false;
  /** Set when a client called `shutdown()`. */
  mustShutdown: Promise<void>;
  #shutdown!: () => void;
  /** Where verbose output goes. */
  log: (line: string) => void = () => {};

  /** Creates the echo object. */
  constructor() {
    this.mustShutdown = new Promise((r) => this.#shutdown = r);
  }

  /**
   * Returns the message.
   *
   * @param message Anything.
   * @returns The same.
   */
  echo(message: unknown): unknown {
    if (this.#verbose) this.log(`${new Date().toString()} - echo: ${inspect(message)}`);
    return message;
  }

  /**
   * Throws a ValueError.
   *
   * @returns Never.
   */
  error(): never {
    if (this.#verbose) this.log(`${new Date().toString()} - error: generating exception`);
    throw valueError("this is the generated error from echoserver echo() method");
  }

  /**
   * Throws a ValueError with a message.
   *
   * @returns Never.
   */
  error_with_text(): never {
    if (this.#verbose) this.log(`${new Date().toString()} - error: generating exception`);
    throw valueError("the message of the error");
  }

  /**
   * Like echo, but oneway.
   *
   * @param message Anything.
   * @returns A bogus value nobody receives.
   */
  @oneway
  oneway_echo(message: unknown): string {
    if (this.#verbose) this.log(`${new Date().toString()} - oneway_echo: ${inspect(message)}`);
    return "bogus return value";
  }

  /**
   * Answers after 5 seconds.
   *
   * @returns A message.
   */
  async slow(): Promise<string> {
    if (this.#verbose) this.log(`${new Date().toString()} - slow: waiting a bit...`);
    await sleep(5000);
    if (this.#verbose) this.log(`${new Date().toString()} - slow: returning result`);
    return "Finally, an answer!";
  }

  /**
   * Yields three strings on demand.
   *
   * @returns The generator.
   */
  *generator(): Generator<string> {
    yield "one";
    yield "two";
    yield "three";
  }

  /**
   * Returns NaN.
   *
   * @returns NaN.
   */
  nan(): number {
    return NaN;
  }

  /**
   * Returns infinity.
   *
   * @returns Infinity.
   */
  inf(): number {
    return Infinity;
  }

  /**
   * Finishes after 5 seconds; oneway.
   *
   * @returns A bogus value nobody receives.
   */
  @oneway
  async oneway_slow(): Promise<string> {
    if (this.#verbose) this.log(`${new Date().toString()} - oneway_slow: waiting a bit...`);
    await sleep(5000);
    if (this.#verbose) this.log(`${new Date().toString()} - oneway_slow: returning result`);
    return "bogus return value";
  }

  /**
   * Not reachable remotely.
   *
   * @returns A string.
   */
  _private(): string {
    return "should not be allowed";
  }

  /**
   * Reachable remotely, as in Pyro5.
   *
   * @returns A string.
   */
  __dunder__(): string {
    return "should be allowed (dunder)";
  }

  /** Asks the echo server to stop. */
  shutdown(): void {
    if (this.#verbose) this.log(`${new Date().toString()} - shutting down`);
    this.#shutdown();
  }

  /**
   * Whether calls are printed.
   *
   * @returns The flag.
   */
  get verbose(): boolean {
    return this.#verbose;
  }

  set verbose(onoff: boolean) {
    this.#verbose = Boolean(onoff);
  }
}

function valueError(message: string): Error {
  const e = new Error(message);
  e.name = "ValueError";
  return e;
}

/**
 * Runs the echo server until a client calls `shutdown()` or `signal` aborts.
 *
 * @param args Command line arguments.
 * @param signal Stops the server.
 * @returns The exit code.
 */
export async function main(args: string[], signal?: AbortSignal): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        host: { type: "string", short: "H", default: "localhost" },
        port: { type: "string", short: "p", default: "0" },
        unixsocket: { type: "string", short: "u" },
        naming: { type: "boolean", short: "n", default: false },
        nameserver: { type: "boolean", short: "N", default: false },
        verbose: { type: "boolean", short: "v", default: false },
        quiet: { type: "boolean", short: "q", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    // deno-lint-ignore no-console
    console.error(`echoserver: error: ${(e as Error).message}`);
    return 2;
  }
  if (values.help) {
    // deno-lint-ignore no-console
    console.log(
      "usage: echoserver [-h] [-H HOST] [-p PORT] [-u UNIXSOCKET] [-n] [-N] [-v] [-q]\n\n" +
        "Tyro test echo/nameserver command line launcher.",
    );
    return 0;
  }
  const quiet = values.verbose ? false : values.quiet;
  // deno-lint-ignore no-console
  const print = (line: string) => console.log(line);
  if (!quiet) print("Starting Pyro's built-in test echo server.");
  const stops: (() => Promise<void>)[] = [];
  let nsHost: string | undefined, nsPort: number | undefined;
  if (values.nameserver) {
    values.naming = true;
    const ns = await import("../nameserver.ts");
    const started = await ns.startNs({ host: values.host });
    stops.push(() => started.close());
    nsHost = started.uri.host ?? undefined;
    nsPort = started.uri.port ?? undefined;
  }
  const daemon = new Daemon({
    host: values.host,
    port: Number(values.port),
    unixSocket: values.unixsocket,
    config: pyroConfigFromProcessEnv(),
  });
  const echo = new EchoServer();
  echo.verbose = values.verbose;
  echo.log = print;
  const objectName = "test.echoserver";
  const uri = daemon.register(echo, objectName);
  if (values.naming) {
    const ns = await import("../nameserver.ts");
    const nsProxy = await ns.locateNs(nsHost, nsPort);
    await nsProxy.register(objectName, uri);
    if (values.verbose) print(`using name server at ${controlOf(nsProxy).uri}`);
    controlOf(nsProxy).release();
  } else if (values.verbose) {
    print("not using a name server.");
  }
  if (!quiet) {
    print(`object name: ${objectName}`);
    print(`echo uri: ${uri}`);
    print("echoserver running.");
  }
  const stop = new AbortController();
  echo.mustShutdown.then(() => stop.abort());
  signal?.addEventListener("abort", () => stop.abort(), { once: true });
  const onSignal = () => stop.abort();
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  await daemon.serve({ signal: stop.signal });
  process.off("SIGINT", onSignal);
  process.off("SIGTERM", onSignal);
  for (const s of stops) await s();
  return 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
