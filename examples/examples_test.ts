/**
 * Runs every example as a subprocess, with the permissions of its
 * `deno task example:<name>` (the flags below, or the task's own when
 * deno.json has it), and checks its exit code and its output: every stdout
 * line, except the lines an example marks as varying (timings, ports,
 * random picks), must equal the expected ones, in order.
 *
 * @module
 */

import assert from "node:assert/strict";
import { peerAvailable } from "../tests/_peer.ts";
import { opensslAvailable } from "../tests/_tls_certs.ts";

const ROOT = new URL("../", import.meta.url);
const SOCKET = "/tmp/tyro-example-unix.sock";

interface Example {
  /** The file, relative to the repository root. */
  file: string;
  /** The `deno run` permission flags, as in the task. */
  flags: string[];
  /** Lines that vary from run to run; they are dropped before comparing. */
  varying?: RegExp;
  /** The stdout lines, in order (a RegExp matches a whole line). */
  expect: (string | RegExp)[];
  /** Skip (the example needs something this machine lacks). */
  ignore?: boolean;
}

const NET = "--allow-net=127.0.0.1";

/** Every example; the flags are the least each one needs. */
export const EXAMPLES: Record<string, Example> = {
  warehouse: {
    file: "examples/warehouse.ts",
    flags: [NET],
    expect: [
      "registered names: Pyro.NameServer, example.warehouse",
      "Janet took the bike",
      "Janet stored the lamp",
      "Janet could not take it: there is no unicorn in the warehouse",
      "Henry took the laptop",
      "Henry stored the piano",
      "Henry could not take it: there is no unicorn in the warehouse",
      "contents: chair, flashlight, couch, lamp, piano",
      "done",
    ],
  },
  stockmarket: {
    file: "examples/stockmarket.ts",
    flags: [NET],
    expect: [
      "symbols: ACME, GLOBEX, INITECH",
      "history: ACME mon",
      "history: ACME tue",
      "history: ACME wed",
      "quote: ACME 99.54",
      "quote: GLOBEX 50.39",
      "quote: ACME 100.16",
      "quote: GLOBEX 51.20",
      "quote: ACME 99.66",
      "quote: GLOBEX 51.87",
      "open streams on the server: 0",
      "streams closed by the server: 1",
      "watched: INITECH: 3 quotes, GLOBEX: 3 quotes",
      "done",
    ],
  },
  chat: {
    file: "examples/chat.ts",
    flags: [NET],
    expect: [
      "alice joined; members: alice",
      "  [alice's screen] server: bob joined",
      "bob joined; members: alice, bob",
      "alice says hi",
      "  [alice's screen] alice: hi bob!",
      "  [bob's screen] alice: hi bob!",
      "bob answers",
      "  [alice's screen] bob: hello alice",
      "  [bob's screen] bob: hello alice",
      "joining twice fails: the nick bob is taken",
      "  [bob's screen] server: alice left",
      "done",
    ],
  },
  banks: {
    file: "examples/banks.ts",
    flags: [NET],
    varying: /^ {2}\(this time: /,
    expect: [
      "banks in the yellow pages: example.banks.maple, example.banks.tulip",
      "banks with currency:eur: example.banks.tulip",
      "PYROMETA:example.bank,currency:eur -> Tulip Bank",
      "deposit: 100",
      "withdraw: 70",
      "withdraw failed: insufficient funds in ada's account",
      "any bank: a known bank",
      "any bank: a known bank",
      "any bank: a known bank",
      "done",
    ],
  },
  instance_modes: {
    file: "examples/instance_modes.ts",
    flags: [NET],
    expect: [
      "Single:",
      "  alice: instance 1, count 1",
      "  alice: instance 1, count 2",
      "  bob:   instance 1, count 3",
      "  bob:   instance 1, count 4",
      "Session:",
      "  alice: instance 1, count 1",
      "  alice: instance 1, count 2",
      "  bob:   instance 2, count 1",
      "  bob:   instance 2, count 2",
      "PerCall:",
      "  alice: instance 1, count 1",
      "  alice: instance 2, count 1",
      "  bob:   instance 3, count 1",
      "  bob:   instance 4, count 1",
      "done",
    ],
  },
  batch_oneway: {
    file: "examples/batch_oneway.ts",
    flags: [NET],
    varying: / returned after \d+ ms$/,
    expect: [
      "batch results: 3, 12, 2.5",
      "sum: 3 product: 12 quotient: 2.5",
      "second batch results: 10",
      "before the failure: 10",
      "the failure: division by zero",
      "after the failure: not executed",
      "log right after the oneway call: []",
      'log a moment later: ["first entry"]',
      'final log: ["first entry","second entry","third entry"]',
      "done",
    ],
  },
  autoproxy: {
    file: "examples/autoproxy.ts",
    flags: [NET],
    expect: [
      "basket proxy for: example.basket.ann",
      "its methods: add, items",
      "items in basket: 2",
      "objects in the daemon: Pyro.Daemon, example.shop, example.basket.ann",
      "same basket again: apples, pears",
      "ann paid for apples and pears",
      "objects in the daemon: Pyro.Daemon, example.shop",
      "done",
    ],
  },
  timeouts_reconnect: {
    file: "examples/timeouts_reconnect.ts",
    flags: [NET],
    varying: /^server restarted on port /,
    expect: [
      "server generation 1",
      "slow call: TimeoutError",
      "fast call: slept 10 ms in generation 1",
      "server generation 1",
      "without retries: ConnectionClosedError",
      "with retries: slept 500 ms in generation 2",
      "next call without retries: server generation 2",
      "no server: CommunicationError",
      "done",
    ],
  },
  unix_socket: {
    file: "examples/unix_socket.ts",
    flags: [`--allow-read=${SOCKET}`, `--allow-write=${SOCKET}`, `--allow-net=unix:${SOCKET}`],
    expect: [
      `uri: PYRO:example.thermometer@./u:${SOCKET}`,
      "location is a unix socket: true",
      "temperature: 21.5",
      "after warming up: 23.5",
      "socket file left behind: false",
      "done",
    ],
  },
  stdio: {
    file: "examples/stdio/main.ts",
    flags: ["--allow-run=deno"],
    expect: [
      "desserts",
      "ABRACADABRA!",
      "answered by the subprocess: true",
      "subprocess exit code: 0",
      "done",
    ],
  },
  deno_serve: {
    file: "examples/deno_serve.ts",
    flags: [NET],
    expect: [
      "signed as entry 1",
      "signed as entry 2",
      "entries over Pyro: Ada, Grace",
      "entries over HTTP: Ada, Grace",
      "connections served by the daemon: 1",
      "done",
    ],
  },
  tls: {
    file: "examples/tls.ts",
    // openssl writes the certificates to a temp folder, whose path is not
    // known in advance: reading and writing cannot be narrowed further.
    flags: [NET, "--allow-run=openssl", "--allow-read", "--allow-write"],
    ignore: !opensslAvailable(),
    expect: [
      "made a CA, a server certificate and client certificates for alice and bob",
      "alice: the vault opens for alice",
      "bob: refused, CommunicationError: access denied for bob",
      "anonymous: refused, ConnectionClosedError",
      "done",
    ],
  },
  gateway: {
    file: "examples/gateway.ts",
    flags: [NET],
    varying: /^open the page in a browser: http:\/\/127\.0\.0\.1:\d+\/pyro\/$/,
    expect: [
      'greet: 200 "Hello, World!"',
      "add: 200 42",
      'stats: 200 {"greeted": 1}',
      "methods: add, fail, greet, stats",
      "fail: 500 builtins.ValueError - no greeting for you",
      "private.greeter: 403 Forbidden",
      "page at /pyro/: 200 text/html; charset=utf-8",
      "page lists http.greeter: true",
      "page lists private.greeter: false",
      "done",
    ],
  },
  python_interop: {
    file: "examples/python_interop/main.ts",
    flags: [NET, "--allow-run=python3", "--allow-env=TYRO_PEER_PYTHONPATH"],
    ignore: !peerAvailable(),
    expect: [
      "python client: titles: Dune, Solaris, Neuromancer",
      "python client: lent: Dune to python",
      "python client: pages: 412",
      "python client: error: ValueError - Solaris is lent out already",
      "python client: first three: ['Dune', 'Solaris', 'Neuromancer']",
      "tyro client: day 1 in Lisbon: sunny",
      "tyro client: day 2 in Lisbon: rain",
      "tyro client: hours: 00:00 01:00 02:00",
      "tyro client: error: builtins.ZeroDivisionError - division by zero",
      "python daemon exit code: 0",
      "done",
    ],
  },
  demo: {
    file: "examples/demo.ts",
    flags: [NET],
    varying: /^ {3}\(/, // timings
    expect: [
      /^1\. name server started: PYRO:Pyro\.NameServer@127\.0\.0\.1:\d+$/,
      /^2\. daemon serving PYRO:demo\.greeter@127\.0\.0\.1:\d+, registered as "demo\.greeter"$/,
      /^3\. client connected to PYRONAME:demo\.greeter@127\.0\.0\.1:\d+$/,
      '4. greet("world") -> Hello, world!',
      "5. 1000 more calls, one after the other",
      "6. stats() -> greeted 1001 times",
      "7. fail() -> ValueError: no greeting for you",
      "8. countdown(3) streamed -> 3, 2, 1",
      "demo finished",
    ],
  },
};

/** The flags of `deno task <task>` in deno.json, when it exists and runs `file`. */
function taskFlags(task: string, file: string): string[] | null {
  const json = JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT)));
  const line: string | undefined = json.tasks?.[task];
  if (!line) return null;
  const words = line.trim().split(/\s+/);
  assert.deepEqual(words.slice(0, 2), ["deno", "run"], `task ${task} should be "deno run ..."`);
  assert.equal(words.at(-1), file, `task ${task} should run ${file}`);
  return words.slice(2, -1);
}

async function run(
  flags: string[],
  file: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const deno = Deno.execPath();
  const dir = deno.slice(0, Math.max(deno.lastIndexOf("/"), deno.lastIndexOf("\\")));
  const child = new Deno.Command(deno, {
    args: ["run", "--no-prompt", ...flags, file, ...args],
    cwd: ROOT,
    // Examples that start `deno` find this same one first on the PATH.
    env: { PATH: `${dir}${Deno.build.os === "windows" ? ";" : ":"}${Deno.env.get("PATH") ?? ""}` },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
  const out = await child.output();
  clearTimeout(timer);
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

for (const [name, example] of Object.entries(EXAMPLES)) {
  Deno.test({
    name: `example ${name} runs and prints what it should`,
    ignore: example.ignore,
    async fn() {
      let flags = taskFlags(name === "demo" ? "demo" : `example:${name}`, example.file) ??
        example.flags;
      let expect = example.expect;
      let args: string[] = [];
      if (name === "unix_socket") {
        // A socket path of our own, so that a concurrent run cannot collide.
        const dir = await Deno.makeTempDir({ prefix: "tyro-example-" });
        const path = `${dir}/example.sock`;
        flags = flags.map((f) => f.replaceAll(SOCKET, path));
        expect = expect.map((l) => typeof l === "string" ? l.replaceAll(SOCKET, path) : l);
        args = [path];
        try {
          return await check(flags, args, expect);
        } finally {
          await Deno.remove(dir, { recursive: true });
        }
      }
      await check(flags, args, expect);

      async function check(
        flags: string[],
        args: string[],
        expect: (string | RegExp)[],
      ): Promise<void> {
        const { code, stdout, stderr } = await run(flags, example.file, args);
        assert.equal(code, 0, `${name} exited with ${code}\n${stdout}\n${stderr}`);
        const lines = stdout.trimEnd().split("\n").filter((l) => !example.varying?.test(l));
        // Where a line matches its pattern, compare the pattern with itself.
        const shown = lines.map((l, i) => {
          const e = expect[i];
          return e instanceof RegExp && e.test(l) ? e : l;
        });
        assert.deepEqual(shown, expect, `${name} printed:\n${stdout}\n${stderr}`);
      }
    },
  });
}

Deno.test("every example is in the table of examples_test.ts", () => {
  const found: string[] = [];
  for (const entry of Deno.readDirSync(new URL("examples/", ROOT))) {
    if (entry.name.endsWith("_test.ts") || entry.name.startsWith("_")) continue;
    if (entry.isDirectory) found.push(`examples/${entry.name}/main.ts`);
    else if (entry.name.endsWith(".ts")) found.push(`examples/${entry.name}`);
  }
  const listed = Object.values(EXAMPLES).map((e) => e.file);
  assert.deepEqual(found.sort(), listed.sort());
});
