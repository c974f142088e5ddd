/**
 * The name server control tool, interchangeable with `python3 -m Pyro5.nsc`:
 *
 * ```sh
 * deno task nsc -n localhost -p 9090 list
 * deno task nsc register example.echo PYRO:echo@localhost:9999
 * deno task nsc yplookup_any role:echo
 * ```
 *
 * Options: `-n/--host`, `-p/--port` (the broadcast port when no host is
 * given), `-u/--unixsocket`, `-v/--verbose`. Commands: `list [prefix]`,
 * `listmatching pattern`, `lookup name`, `register name uri`, `remove name`,
 * `removematching pattern`, `setmeta name [tags...]`, `yplookup_all tags...`,
 * `yplookup_any tags...` (also as Pyro4's `listmeta_all`/`listmeta_any`),
 * `ping`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { pySetRepr } from "../_ns_util.ts";
import { controlOf } from "../client.ts";
import { configFromEnv } from "../config.ts";
import { getRemoteTraceback } from "../errors.ts";
import { locateNs, type NameServerProxy } from "../nameserver.ts";
import { pyroConfigFromProcessEnv } from "./ns.ts";

const PROG = "nsc";
const COMMANDS = [
  "list",
  "lookup",
  "register",
  "remove",
  "removematching",
  "listmatching",
  "yplookup_all",
  "yplookup_any",
  "setmeta",
  "ping",
] as const;
const ALIASES: Record<string, string> = {
  listmeta_all: "yplookup_all",
  listmeta_any: "yplookup_any",
};
const USAGE = `usage: ${PROG} [-h] [-n HOST] [-p PORT] [-u UNIXSOCKET] [-v]
           {${COMMANDS.join(",")}}`;
const HELP = `${USAGE}

Pyro name server control utility.

positional arguments:
  {${COMMANDS.join(",")}}

options:
  -h, --help            show this help message and exit
  -n HOST, --host HOST  hostname of the NS
  -p PORT, --port PORT  port of the NS (or bc-port if host isn't specified)
  -u UNIXSOCKET, --unixsocket UNIXSOCKET
                        Unix domain socket name of the NS
  -v, --verbose         verbose output`;

/** Where the tool writes and reads (tests pass their own). */
export interface NscIo {
  /** Writes one line of normal output. */
  out(line: string): void;
  /** Writes one line of error output. */
  err(line: string): void;
  /** Writes a prompt and reads one line of input; null at end of input. */
  prompt(text: string): Promise<string | null>;
  /** The environment to read `PYRO_*` items from (default: the process environment). */
  env?: Record<string, string | undefined>;
}

async function readLine(): Promise<string | null> {
  const buf = new Uint8Array(1);
  const bytes: number[] = [];
  while (true) {
    const n = await Deno.stdin.read(buf);
    if (n === null) return bytes.length ? new TextDecoder().decode(new Uint8Array(bytes)) : null;
    if (buf[0] === 10) return new TextDecoder().decode(new Uint8Array(bytes));
    bytes.push(buf[0]);
  }
}

function defaultIo(): NscIo {
  return {
    // deno-lint-ignore no-console
    out: (line) => console.log(line),
    // deno-lint-ignore no-console
    err: (line) => console.error(line),
    prompt: async (text) => {
      await Deno.stdout.write(new TextEncoder().encode(text));
      return await readLine();
    },
  };
}

/** Exits with a message on stderr and code 1 (Python's `SystemExit("...")`). */
class Usage extends Error {}

function metadataOf(entry: unknown): [string, unknown[]] {
  if (Array.isArray(entry)) return [String(entry[0]), [...(entry[1] ?? [])]];
  return [String(entry), []];
}

function printList(io: NscIo, result: Record<string, unknown>, title = ""): void {
  io.out(`--------START LIST ${title}`);
  for (const name of Object.keys(result).sort()) {
    const [uri, metadata] = metadataOf(result[name]);
    io.out(`${name} --> ${uri}`);
    if (metadata.length) io.out(`    metadata: ${pySetRepr(metadata)}`);
  }
  io.out(`--------END LIST ${title}`);
}

async function handleCommand(
  io: NscIo,
  ns: NameServerProxy,
  cmd: string,
  args: string[],
): Promise<void> {
  switch (cmd) {
    case "ping":
      await ns.ping();
      io.out("Name server ping ok.");
      return;
    case "list":
      if (args.length === 0) printList(io, await ns.list(null, null, true));
      else printList(io, await ns.list(args[0], null, true), `- prefix '${args[0]}'`);
      return;
    case "listmatching":
      if (args.length !== 1) throw new Usage("requires one argument: pattern");
      printList(io, await ns.list(null, args[0], true), `- regex '${args[0]}'`);
      return;
    case "lookup": {
      if (args.length !== 1) throw new Usage("requires one argument: name");
      const [uri, metadata] = await ns.lookup(args[0], true) as readonly [
        unknown,
        Iterable<string>,
      ];
      io.out(String(uri));
      const tags = [...(metadata ?? [])];
      if (tags.length) io.out(`metadata: ${pySetRepr(tags)}`);
      return;
    }
    case "register":
      if (args.length !== 2) throw new Usage("requires two arguments: name uri");
      await ns.register(args[0], args[1], true);
      io.out(`Registered ${args[0]}`);
      return;
    case "remove": {
      if (args.length !== 1) throw new Usage("requires one argument: name");
      const count = await ns.remove(args[0]);
      io.out(count > 0 ? `Removed ${args[0]}` : "Nothing removed");
      return;
    }
    case "removematching": {
      if (args.length !== 1) throw new Usage("requires one argument: pattern");
      const answer = await io.prompt(
        "Potentially removing lots of items from the Name server. Are you sure (y/n)?",
      );
      if (answer === null) {
        const e = new Error("EOF when reading a line");
        e.name = "EOFError";
        throw e;
      }
      if (answer.trim() === "y" || answer.trim() === "Y") {
        const count = await ns.remove(null, null, args[0]);
        io.out(`${count} items removed.`);
      }
      return;
    }
    case "setmeta": {
      if (args.length < 1) throw new Usage("requires arguments: uri and zero or more meta tags");
      const metadata = new Set(args.slice(1));
      await ns.set_metadata(args[0], metadata);
      io.out(metadata.size ? "Metadata updated" : "Metadata cleared");
      return;
    }
    case "yplookup_all":
    case "yplookup_any":
      if (args.length < 1) throw new Usage("requires at least one metadata tag argument");
      printList(
        io,
        cmd === "yplookup_all"
          ? await ns.yplookup(args, null, true)
          : await ns.yplookup(null, args, true),
        " - searched by metadata",
      );
      return;
  }
}

function usageError(io: NscIo, message: string): number {
  io.err(USAGE);
  io.err(`${PROG}: error: ${message}`);
  return 2;
}

/**
 * Runs one name server command.
 *
 * @param args The command line arguments.
 * @param io Output, input and environment (for tests).
 * @returns The exit code: 0 on success (and, as Pyro5's tool, when no name
 * server is found), 1 when the command fails, 2 for bad arguments.
 */
export async function main(args: string[], io: NscIo = defaultIo()): Promise<number> {
  let tokens;
  try {
    ({ tokens } = parseArgs({
      args,
      options: {
        help: { type: "boolean", short: "h" },
        host: { type: "string", short: "n" },
        port: { type: "string", short: "p" },
        unixsocket: { type: "string", short: "u" },
        verbose: { type: "boolean", short: "v" },
      },
      allowPositionals: true,
      strict: false,
      tokens: true,
    }));
  } catch (e) {
    return usageError(io, (e as Error).message);
  }
  // argparse's parse_known_args: known options anywhere, the first positional is the command,
  // everything else (also unknown options) goes to the command
  let host = "", portText: string | undefined, unixsocket: string | undefined, verbose = false;
  let command: string | undefined;
  const rest: string[] = [];
  for (const t of tokens) {
    if (t.kind === "option-terminator") continue;
    if (t.kind === "positional") {
      if (command === undefined) command = t.value;
      else rest.push(t.value);
      continue;
    }
    const needsValue = t.name === "host" || t.name === "port" || t.name === "unixsocket";
    if (needsValue && t.value === undefined) {
      return usageError(io, `argument ${optionName(t.name)}: expected one argument`);
    }
    if (t.name === "help") {
      io.out(HELP);
      return 0;
    } else if (t.name === "host") host = t.value!;
    else if (t.name === "port") portText = t.value;
    else if (t.name === "unixsocket") unixsocket = t.value;
    else if (t.name === "verbose") verbose = true;
    else rest.push(t.inlineValue ? `${t.rawName}=${t.value}` : t.rawName);
  }
  let port: number | undefined;
  if (portText !== undefined) {
    if (!/^\s*[+-]?\d+\s*$/.test(portText)) {
      return usageError(io, `argument -p/--port: invalid int value: '${portText}'`);
    }
    port = parseInt(portText, 10);
  }
  if (command === undefined) return usageError(io, "the following arguments are required: command");
  command = ALIASES[command] ?? command;
  if (!(COMMANDS as readonly string[]).includes(command)) {
    return usageError(
      io,
      `argument command: invalid choice: '${command}' (choose from ${
        COMMANDS.map((c) => `'${c}'`).join(", ")
      })`,
    );
  }
  const config = io.env ? configFromEnv(io.env) : pyroConfigFromProcessEnv();
  if (verbose) io.out("Locating name server...");
  if (unixsocket) host = "./u:" + unixsocket;
  let ns: NameServerProxy;
  try {
    ns = await locateNs(host, port, { config });
  } catch (e) {
    io.out(`Error: ${(e as Error).message}`);
    return 0;
  }
  try {
    if (verbose) io.out(`Name server found: ${controlOf(ns).uri}`);
    try {
      await handleCommand(io, ns, command, rest);
    } catch (e) {
      if (e instanceof Usage) {
        io.err(e.message);
        return 1;
      }
      const err = e as Error;
      io.out(`Error: ${err.name} - ${err.message}`);
      const tb = getRemoteTraceback(err);
      if (tb) io.err(tb.trimEnd());
      io.err(`${err.name}: ${err.message}`);
      return 1;
    }
    if (verbose) io.out("Done.");
    return 0;
  } finally {
    controlOf(ns).release();
  }
}

function optionName(name: string): string {
  return { host: "-n/--host", port: "-p/--port", unixsocket: "-u/--unixsocket" }[name] ?? name;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
