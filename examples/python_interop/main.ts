/**
 * Python interop: Tyro speaks Pyro5's wire protocol, so Python and
 * TypeScript objects call each other.
 *
 * 1. A Python Pyro5 client (`client.py`) calls an object in a Tyro daemon.
 * 2. A Tyro client calls an object in a Python Pyro5 daemon (`server.py`).
 *
 * Needs `python3` with Pyro5 (`pip install Pyro5`). By default it uses the
 * copy that `tests/fetch_peer.sh` unpacks into `.peer/`; set
 * `TYRO_PEER_PYTHONPATH` to use another (empty: Python's own path).
 *
 * Run: `deno task example:python_interop`
 *
 * @module
 */

import { connect, Daemon, expose } from "@tyro/tyro";

const here = import.meta.dirname!;
const pythonPath = Deno.env.get("TYRO_PEER_PYTHONPATH") ??
  `${here}/../../.peer/root/usr/lib/python3/dist-packages`;
const pythonEnv = { PYTHONPATH: pythonPath, PYTHONUNBUFFERED: "1" };

// 1. A Tyro object, called from Python.

class Library {
  readonly #books = new Map([["Dune", 412], ["Solaris", 204], ["Neuromancer", 271]]);
  readonly #lent = new Set(["Solaris"]);

  @expose
  titles(): string[] {
    return [...this.#books.keys()];
  }

  /**
   * Python may pass `reader` by keyword: Tyro binds it by parameter name.
   * A RangeError reaches Python as a ValueError.
   */
  @expose
  lend(title: string, reader: string): { title: string; reader: string } {
    if (this.#lent.has(title)) throw new RangeError(`${title} is lent out already`);
    this.#lent.add(title);
    return { title, reader };
  }

  @expose
  pages(title: string): number {
    return this.#books.get(title) ?? 0;
  }

  /** A generator: Python iterates it remotely. */
  @expose
  *first(n: number): Generator<string> {
    yield* this.titles().slice(0, n);
  }
}

{
  await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
  const uri = daemon.register(new Library(), "example.library");
  const serving = daemon.serve();
  const out = await new Deno.Command("python3", {
    args: [`${here}/client.py`, uri.toString()],
    env: pythonEnv,
    stdout: "piped",
    stderr: "piped",
  }).output();
  for (const line of new TextDecoder().decode(out.stdout).trimEnd().split("\n")) {
    console.log("python client:", line);
  }
  if (out.code !== 0) {
    console.error(new TextDecoder().decode(out.stderr));
    throw new Error(`the Python client failed (exit code ${out.code}); is Pyro5 installed?`);
  }
  await daemon.close();
  await serving;
}

// 2. A Python object, called from Tyro.

interface Weather {
  forecast(city: string, days?: number): { city: string; day: number; sky: string }[];
  hours(n: number): Generator<string>;
  fail(): number;
  stop(): void;
}

const python = new Deno.Command("python3", {
  args: [`${here}/server.py`],
  env: pythonEnv,
  stdout: "piped",
  stderr: "inherit",
}).spawn();
// Read the first line of its output: the URI.
const lines = python.stdout.pipeThrough(new TextDecoderStream()).getReader();
let text = "";
while (!text.includes("\n")) {
  const { value, done } = await lines.read();
  if (done) throw new Error("the Python daemon did not start; is Pyro5 installed?");
  text += value;
}
const uri = text.slice(0, text.indexOf("\n")).replace("uri: ", "");

{
  await using weather = await connect<Weather>(uri);
  for (const f of await weather.forecast("Lisbon", 2)) {
    console.log(`tyro client: day ${f.day} in ${f.city}: ${f.sky}`);
  }
  const hours: string[] = [];
  for await (const h of weather.hours(3)) hours.push(h);
  console.log("tyro client: hours:", hours.join(" "));
  try {
    await weather.fail();
  } catch (e) {
    // The Python exception, with its Python type name.
    const type = (e as { remoteType?: string }).remoteType;
    console.log(`tyro client: error: ${type} - ${(e as Error).message}`);
  }
  await weather.stop(); // oneway: the Python daemon shuts down
}
await lines.cancel();
console.log("python daemon exit code:", (await python.status).code);
console.log("done");
