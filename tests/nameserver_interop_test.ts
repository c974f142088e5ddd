/**
 * The Tyro name server and tools against Python Pyro5's, both ways: the
 * Pyro5 `nsc` tool and the Tyro one give the same output against either
 * name server, daemons of each kind register in the other's name server and
 * are called through `PYRONAME:`/`PYROMETA:`, broadcast discovery works on
 * loopback, SQLite storage survives `kill -9`, every serializer works, and
 * many clients can register at once.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { peerAvailable, peerEnv, PythonProcess, ROOT, runPython, startPython } from "./_peer.ts";
import {
  AutoCleaner,
  BroadcastServer,
  locateNs,
  NameServer,
  NAMESERVER_NAME,
  resolve,
  startNs,
} from "../nameserver.ts";
import { NamingError } from "../errors.ts";
import { controlOf, createProxy } from "../client.ts";
import { Daemon, expose } from "../server.ts";
import { main as nscMain } from "../cli/nsc.ts";
import { PyroUri } from "../uri.ts";

const ignore = !peerAvailable();
const keys = (o: object): string[] => Object.keys(o).sort();
const decoder = new TextDecoder();

function freeTcpPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/**
 * A free UDP port whose TCP port of the same number is free too: Pyro5's
 * `locate_ns(port=p)` first tries a name server on TCP `localhost:p`, and a
 * UDP port that happened to equal a test name server's TCP port once made it
 * find that one directly (as `localhost`) instead of by broadcast.
 */
async function freeUdpPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const s = dgram.createSocket("udp4");
    await new Promise<void>((r) => s.bind(0, "0.0.0.0", r));
    const port = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch { /* its TCP twin is taken: another */ }
  }
  throw new Error("no UDP port with a free TCP twin");
}

interface Transcript {
  code: number;
  out: string;
  err: string;
}

/** Runs `python3 -m Pyro5.nsc ...` with optional stdin. */
async function pyNsc(args: string[], stdin?: string): Promise<Transcript> {
  const child = new Deno.Command("python3", {
    args: ["-m", "Pyro5.nsc", ...args],
    env: peerEnv(),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const w = child.stdin.getWriter();
  if (stdin) await w.write(new TextEncoder().encode(stdin));
  await w.close();
  const r = await child.output();
  return { code: r.code, out: decoder.decode(r.stdout), err: decoder.decode(r.stderr) };
}

/** Runs the Tyro nsc `main()` in this process, capturing its output. */
async function tyroNsc(args: string[], stdin?: string): Promise<Transcript> {
  let out = "", err = "";
  let input = stdin ?? "";
  const code = await nscMain(args, {
    out: (l) => out += l + "\n",
    err: (l) => err += l + "\n",
    prompt: (text) => {
      out += text;
      if (input === "") return Promise.resolve(null);
      const i = input.indexOf("\n");
      const line = i < 0 ? input : input.slice(0, i);
      input = i < 0 ? "" : input.slice(i + 1);
      return Promise.resolve(line);
    },
    env: {},
  });
  return { code, out, err };
}

/** Runs the Tyro name server CLI as a subprocess with the least permissions it needs. */
function startTyroNsCli(args: string[]): PythonProcess {
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-write",
      "--allow-env=PYRO_*",
      "--allow-sys=networkInterfaces",
      new URL("cli/ns.ts", ROOT).pathname,
      ...args,
    ],
    cwd: ROOT.pathname,
    env: { NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new PythonProcess(child);
}

/** The command sequence both tools run against both name servers. */
const SESSION: [string[], string?][] = [
  [["ping"]],
  [["-v", "ping"]],
  [["register", "a.one", "PYRO:one@127.0.0.1:1111"]],
  [["register", "a.one", "PYRO:one@127.0.0.1:1111"]],
  [["register", "a.two", "PYRO:two@127.0.0.1:2222"]],
  [["register", "b.three", "PYRO:three@127.0.0.1:3333"]],
  [["register", "bad", "notauri"]],
  [["register", "onlyname"]],
  [["setmeta", "a.one", "role:x"]],
  [["setmeta", "a.two", "role:x", "lang:y"]],
  [["setmeta", "b.three", "tmp"]],
  [["setmeta", "b.three"]],
  [["setmeta", "zzz", "t"]],
  [["setmeta"]],
  [["list"]],
  [["list", "a."]],
  [["list", "nothing"]],
  [["listmatching", "a\\..*"]],
  [["listmatching", "("]],
  [["listmatching"]],
  [["lookup", "a.one"]],
  [["lookup", "a.two"]],
  [["lookup", "zzz"]],
  [["lookup"]],
  [["yplookup_all", "role:x"]],
  [["yplookup_all", "role:x", "lang:y"]],
  [["yplookup_any", "lang:y", "nothing"]],
  [["yplookup_all", "nothing"]],
  [["yplookup_any"]],
  [["remove", "a.one"]],
  [["remove", "a.one"]],
  [["remove"]],
  [["removematching", "b\\..*"], "n\n"],
  [["removematching", "b\\..*"], "y\n"],
  [["removematching", "x"], ""],
  [["removematching"]],
  [["list"]],
  [["bogus"]],
  [[]],
];

/** Makes transcripts comparable: the name server port, set order and regex engine messages. */
function normalize(t: Transcript, port: number): string {
  const out = t.out
    .replaceAll(`:${port}`, ":PORT")
    .replace(
      /\{('[^']*'(?:, '[^']*')*)\}/g,
      (_m, items: string) => `{${items.split(", ").sort().join(", ")}}`,
    )
    .replace(/invalid regex: .*/g, "invalid regex: <reason>");
  return `[exit ${t.code}]\n${out}`;
}

async function runSession(
  tool: (args: string[], stdin?: string) => Promise<Transcript>,
  port: number,
): Promise<string[]> {
  const transcripts: string[] = [];
  for (const [args, stdin] of SESSION) {
    const full = args.length
      ? ["-n", "127.0.0.1", "-p", String(port), ...args]
      : ["-n", "127.0.0.1"];
    const t = await tool(full, stdin);
    // usage problems: same message on stderr, exit code 1 (SystemExit) or 2 (argparse)
    if (t.code === 1 && !t.out) assert.match(t.err, /requires/);
    if (t.code === 2) {
      assert.match(
        t.err,
        /error: (argument command: invalid choice|the following arguments are required)/,
      );
    }
    transcripts.push(`$ nsc ${args.join(" ")}\n${normalize(t, port)}`);
  }
  return transcripts;
}

Deno.test({
  name: "nsc: Pyro5's tool and Tyro's give the same output against Tyro's and Pyro5's name servers",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const results: Record<string, string[]> = {};
  for (const tool of ["python", "tyro"] as const) {
    const run = tool === "python" ? pyNsc : tyroNsc;
    {
      await using ns = await startNs({ host: "127.0.0.1", port: 0 });
      results[`${tool} nsc -> tyro ns`] = await runSession(run, ns.uri.port!);
    }
    {
      const port = freeTcpPort();
      await using py = startPython([
        "-m",
        "Pyro5.nameserver",
        "-n",
        "127.0.0.1",
        "-p",
        String(port),
      ]);
      await py.waitForLine(/^URI = /);
      results[`${tool} nsc -> python ns`] = await runSession(run, port);
    }
  }
  const reference = results["python nsc -> python ns"];
  // sanity: the reference transcript has the phrases we expect
  const all = reference.join("\n");
  for (
    const phrase of [
      "Name server ping ok.",
      "Locating name server...",
      "Name server found: PYRO:Pyro.NameServer@127.0.0.1:PORT",
      "Done.",
      "Registered a.one",
      "Error: NamingError - name already registered: a.one",
      "Error: PyroError - invalid uri",
      "Metadata updated",
      "Metadata cleared",
      "Error: NamingError - unknown name: zzz",
      "--------START LIST \nPyro.NameServer --> PYRO:Pyro.NameServer@127.0.0.1:PORT\n    metadata: {'class:Pyro5.nameserver.NameServer'}",
      "--------START LIST - prefix 'a.'",
      "--------END LIST - regex 'a\\..*'",
      "--------START LIST  - searched by metadata",
      "    metadata: {'lang:y', 'role:x'}",
      "PYRO:two@127.0.0.1:2222\nmetadata: {'lang:y', 'role:x'}",
      "Removed a.one",
      "Nothing removed",
      "Are you sure (y/n)?1 items removed.",
      "Are you sure (y/n)?Error: EOFError - EOF when reading a line",
    ]
  ) {
    assert.ok(all.includes(phrase), `reference output lacks ${JSON.stringify(phrase)}`);
  }
  for (const [what, transcript] of Object.entries(results)) {
    for (let i = 0; i < reference.length; i++) {
      assert.equal(transcript[i], reference[i], `${what}, step ${i}`);
    }
  }
});

Deno.test({
  name: "nsc: the Tyro tool finds no name server as Pyro5's does, and works over a unix socket",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const port = freeTcpPort();
  const py = await pyNsc(["-n", "127.0.0.1", "-p", String(port), "-v", "ping"]);
  const ty = await tyroNsc(["-n", "127.0.0.1", "-p", String(port), "-v", "ping"]);
  assert.equal(py.out, "Locating name server...\nError: Failed to locate the nameserver\n");
  assert.deepEqual([ty.code, ty.out], [py.code, py.out]);

  const dir = await Deno.makeTempDir({ prefix: "tyro_ns_" });
  try {
    const sock = `${dir}/ns.sock`;
    await using ns = await startNs({ unixSocket: sock });
    assert.equal(ns.uri.toString(), `PYRO:Pyro.NameServer@./u:${sock}`);
    assert.equal(ns.broadcastSkipped, "unixsocket");
    const a = await pyNsc(["-u", sock, "register", "u.x", "PYRO:x@./u:/tmp/x.sock"]);
    assert.equal(a.out, "Registered u.x\n", a.err);
    const b = await tyroNsc(["-u", sock, "-v", "lookup", "u.x"]);
    assert.equal(
      b.out,
      `Locating name server...\nName server found: PYRO:Pyro.NameServer@./u:${sock}\nPYRO:x@./u:/tmp/x.sock\nDone.\n`,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "ns: the Tyro launcher prints what Pyro5's prints",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const normalizeLines = (lines: string[], ports: number[]) =>
    lines.map((l) => ports.reduce((s, p) => s.replaceAll(String(p), "P"), l));
  const cases: string[][] = [
    ["-n", "127.0.0.1"],
    ["-n", "0.0.0.0", "--bcport", "BC"],
    ["-n", "0.0.0.0", "--bcport", "BC", "--nathost", "ext.example", "--natport", "5555"],
    ["-n", "0.0.0.0", "-x"],
    ["-n", "::1"],
  ];
  for (const c of cases) {
    const outputs: string[][] = [];
    for (const which of ["python", "tyro"]) {
      const port = freeTcpPort();
      const bc = await freeUdpPort();
      const args = [...c.map((a) => a === "BC" ? String(bc) : a), "-p", String(port)];
      const proc = which === "python"
        ? startPython(["-m", "Pyro5.nameserver", ...args])
        : startTyroNsCli(args);
      try {
        await proc.waitForLine(/URI = /);
      } finally {
        await proc.stop();
      }
      outputs.push(normalizeLines(proc.output, [port, bc]));
    }
    assert.deepEqual(outputs[1], outputs[0], `ns ${c.join(" ")}`);
  }
  // bad arguments
  for (const args of [["-s", "foo"], ["-p", "abc"]]) {
    const py = await runPython(
      "import runpy,sys; sys.argv=['ns']+sys.argv[1:]; runpy.run_module('Pyro5.nameserver', run_name='__main__')",
      {
        args: ["-n", "127.0.0.1", "-p", "0", ...args],
        allowFailure: true,
      },
    );
    const proc = startTyroNsCli(["-n", "127.0.0.1", "-p", "0", ...args]);
    const status = await proc.child.status;
    const err = await proc.stop();
    assert.equal(status.code, py.code, `ns ${args.join(" ")}: ${err}`);
    const lastPy = py.stderr.trimEnd().split("\n").pop()!;
    const lastTyro = err.trimEnd().split("\n").pop()!;
    assert.equal(lastTyro.replace(/^ns: /, ""), lastPy.replace(/^ns: /, ""));
  }
});

const PY_DAEMON = `
import sys
from Pyro5.api import Daemon, expose, locate_ns
from Pyro5 import config

@expose
class PyEcho:
    def echo(self, message):
        return ["python", message]

config.SERIALIZER = sys.argv[2]
daemon = Daemon(host="127.0.0.1")
uri = daemon.register(PyEcho, "py.echo.obj")
ns = locate_ns("127.0.0.1", int(sys.argv[1]))
ns.register("py.echo", uri, metadata={"lang:python", "role:echo"})
print("REGISTERED", uri, flush=True)
daemon.requestLoop()
`;

class TsEcho {
  @expose
  echo(message: unknown): unknown {
    return ["tyro", message];
  }
}

Deno.test({
  name:
    "a Python daemon registers in the Tyro name server; Tyro calls it through PYRONAME and PYROMETA",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await using ns = await startNs({ host: "127.0.0.1", port: 0 });
  const port = ns.uri.port!;
  for (const serializer of ["serpent", "json", "marshal", "msgpack"]) {
    await using py = startPython(["-c", PY_DAEMON, String(port), serializer]);
    await py.waitForLine(/^REGISTERED /);
    const [uri, meta] = ns.nameserver.lookup("py.echo", true) as readonly [PyroUri, Set<string>];
    assert.match(uri.toString(), /^PYRO:py\.echo\.obj@127\.0\.0\.1:\d+$/);
    assert.deepEqual(meta, new Set(["lang:python", "role:echo"]));
    const byName = createProxy(`PYRONAME:py.echo@127.0.0.1:${port}`, { serializer });
    assert.deepEqual(await byName.echo("hi"), ["python", "hi"]);
    await byName[Symbol.asyncDispose]();
    const byMeta = createProxy(`PYROMETA:role:echo,lang:python@127.0.0.1:${port}`, { serializer });
    assert.deepEqual(await byMeta.echo(serializer), ["python", serializer]);
    await byMeta[Symbol.asyncDispose]();
    const r = await runPython(
      `
import sys
from Pyro5.api import Proxy
from Pyro5 import config
config.SERIALIZER = sys.argv[2]
print(Proxy("PYRONAME:py.echo@127.0.0.1:" + sys.argv[1]).echo("n"), Proxy("PYROMETA:lang:python@127.0.0.1:" + sys.argv[1]).echo("m"))
`,
      { args: [String(port), serializer] },
    );
    assert.equal(decoder.decode(r.stdout), "['python', 'n'] ['python', 'm']\n", r.stderr);
    const none = createProxy(`PYROMETA:role:nothing@127.0.0.1:${port}`);
    await assert.rejects(
      () => none.echo(1),
      (e: Error) =>
        e.name === "NamingError" &&
        e.message ===
          "no registrations available with desired metadata properties {'role:nothing'}",
    );
    assert.equal(ns.nameserver.remove("py.echo"), 1);
  }
});

Deno.test({
  name:
    "a Tyro daemon registers in the Python name server; Python calls it through PYRONAME and PYROMETA",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const port = freeTcpPort();
  await using pyNs = startPython(["-m", "Pyro5.nameserver", "-n", "127.0.0.1", "-p", String(port)]);
  await pyNs.waitForLine(/^URI = /);
  await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
  const uri = daemon.register(new TsEcho(), "ts.echo.obj");
  const serving = daemon.serve();
  for (const serializer of ["serpent", "json", "marshal", "msgpack"]) {
    await using ns = await locateNs("127.0.0.1", port, { serializer });
    assert.equal(await ns.register("ts.echo", uri, false, new Set(["lang:ts", "role:echo"])), null);
    const looked = await ns.lookup("ts.echo");
    assert.ok(looked instanceof PyroUri);
    assert.equal(looked.toString(), uri.toString());
    const list = await ns.list("ts.");
    assert.deepEqual({ ...list }, { "ts.echo": uri.toString() });
    assert.equal(await ns.count(), 2);
    const r = await runPython(
      `
import sys
from Pyro5.api import Proxy
from Pyro5 import config
config.SERIALIZER = sys.argv[2]
print(Proxy("PYRONAME:ts.echo@127.0.0.1:" + sys.argv[1]).echo("by name"))
print(Proxy("PYROMETA:role:echo,lang:ts@127.0.0.1:" + sys.argv[1]).echo("by meta"))
`,
      { args: [String(port), serializer] },
    );
    assert.equal(decoder.decode(r.stdout), "['tyro', 'by name']\n['tyro', 'by meta']\n", r.stderr);
    // and a Tyro client through the Python name server
    const viaName = createProxy(`PYRONAME:ts.echo@127.0.0.1:${port}`, { serializer });
    assert.deepEqual(await viaName.echo(1), ["tyro", 1]);
    await viaName[Symbol.asyncDispose]();
    assert.equal((await resolve(`PYROMETA:lang:ts@127.0.0.1:${port}`)).toString(), uri.toString());
    assert.equal(await ns.remove("ts.echo"), 1);
  }
  await daemon.close();
  await serving;
});

Deno.test({
  name:
    "every serializer: lookup, list and register against the Tyro name server from Tyro and Python",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await using nsh = await startNs({ host: "127.0.0.1", port: 0 });
  const port = nsh.uri.port!;
  for (const serializer of ["serpent", "json", "marshal", "msgpack"]) {
    await using ns = await locateNs("127.0.0.1", port, { serializer });
    assert.equal(controlOf(ns).serializer.name, serializer);
    await ns.register(`s.${serializer}.plain`, "PYRO:plain@127.0.0.1:1");
    await ns.register(`s.${serializer}.meta`, new PyroUri("PYRO:meta@127.0.0.1:2"), true, [
      "m1",
      "m2",
    ]);
    await assert.rejects(
      () => ns.register(`s.${serializer}.plain`, "PYRO:x@h:1", true),
      (e: Error) =>
        e.name === "NamingError" && e.message === `name already registered: s.${serializer}.plain`,
    );
    const [u, m] = await ns.lookup(`s.${serializer}.meta`, true) as readonly [
      PyroUri,
      Iterable<string>,
    ];
    assert.equal(u.toString(), "PYRO:meta@127.0.0.1:2");
    assert.deepEqual(new Set(m), new Set(["m1", "m2"]));
    const listed = await ns.list(`s.${serializer}.`, null, true);
    assert.deepEqual(Object.keys(listed).sort(), [`s.${serializer}.meta`, `s.${serializer}.plain`]);
    const plain = listed[`s.${serializer}.plain`] as readonly [string, Iterable<string>];
    assert.equal(plain[0], "PYRO:plain@127.0.0.1:1");
    assert.deepEqual([...plain[1]], []);
    const yp = await ns.yplookup(null, ["m2"], false);
    assert.deepEqual({ ...yp }, { [`s.${serializer}.meta`]: "PYRO:meta@127.0.0.1:2" });
    await assert.rejects(
      () => ns.lookup("nope"),
      (e: Error) => e.name === "NamingError" && e.message === "unknown name: nope",
    );
    await assert.rejects(() => ns.list("a", "b"), (e: Error) => e.name === "ValueError");
    assert.equal(await ns.remove(null, `s.${serializer}.`), 2);
  }
  const r = await runPython(
    `
import sys
from Pyro5.api import locate_ns, URI
from Pyro5 import config
out = []
for ser in ["serpent", "json", "marshal", "msgpack"]:
    config.SERIALIZER = ser
    ns = locate_ns("127.0.0.1", int(sys.argv[1]))
    ns.register("p." + ser, "PYRO:o@127.0.0.1:1")
    ns.register("q." + ser, URI("PYRO:o@127.0.0.1:2"), metadata={"m"})
    uri, meta = ns.lookup("q." + ser, return_metadata=True)
    assert isinstance(uri, URI) and str(uri) == "PYRO:o@127.0.0.1:2", uri
    assert set(meta) == {"m"}, meta
    listed = ns.list(return_metadata=True)
    assert list(listed["p." + ser][1]) == [], listed
    assert set(ns.yplookup(meta_all=["m"], return_metadata=False)) == {"q." + s for s in out + [ser]}
    out.append(ser)
print(len(ns.list()))
`,
    { args: [String(port)] },
  );
  assert.equal(decoder.decode(r.stdout), "9\n", r.stderr);
});

Deno.test({
  name:
    "broadcast discovery on loopback: Tyro and Python clients find Tyro's responder, Tyro finds Python's",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  await using ns = await startNs({ host: "127.0.0.1", port: 0 });
  assert.equal(ns.broadcastSkipped, "localhost");
  const bcport = await freeUdpPort();
  await using bc = await BroadcastServer.create(ns.internalUri, { bcport });
  assert.equal(bc.locationStr, `0.0.0.0:${bcport}`);
  for (const addrs of [["127.255.255.255"], ["127.0.0.1"], ["0.0.0.0"]]) {
    await using found = await locateNs(null, bcport, {
      config: { BROADCAST_ADDRS: addrs, NS_HOST: "127.0.0.1" },
    });
    assert.equal(controlOf(found).uri.toString(), ns.uri.toString(), addrs.join());
    assert.equal(await found.ping(), null);
  }
  const r = await runPython(
    `
import sys
from Pyro5.api import locate_ns
from Pyro5 import config
config.BROADCAST_ADDRS = ["127.255.255.255"]
ns = locate_ns(port=int(sys.argv[1]))
ns.ping()
print(ns._pyroUri)
`,
    { args: [String(bcport)] },
  );
  assert.equal(decoder.decode(r.stdout).trim(), ns.uri.toString(), r.stderr);

  // a responder for a name server on 0.0.0.0 answers with the interface address
  const anyBc = await freeUdpPort();
  await using _bcAny = await BroadcastServer.create(
    `PYRO:${NAMESERVER_NAME}@0.0.0.0:${ns.uri.port}`,
    { bcport: anyBc },
  );
  await using viaAny = await locateNs(null, anyBc, {
    config: { BROADCAST_ADDRS: ["127.0.0.1"], NS_HOST: "127.0.0.1" },
  });
  assert.equal(
    controlOf(viaAny).uri.toString(),
    `PYRO:${NAMESERVER_NAME}@127.0.0.1:${ns.uri.port}`,
  );

  // a Python name server's broadcast responder
  const pyBc = await freeUdpPort();
  await using py = startPython([
    "-c",
    `
import sys
from Pyro5.nameserver import start_ns, BroadcastServer
uri, daemon, _ = start_ns(host="127.0.0.1", port=0, enableBroadcast=False)
bc = BroadcastServer(uri, bchost="", bcport=int(sys.argv[1]))
bc.runInThread()
print("URI", uri, flush=True)
daemon.requestLoop()
`,
    String(pyBc),
  ]);
  const line = await py.waitForLine(/^URI /);
  await using pyNs = await locateNs(null, pyBc, {
    config: { BROADCAST_ADDRS: ["127.255.255.255", "0.0.0.0"], NS_HOST: "127.0.0.1" },
  });
  assert.equal(controlOf(pyNs).uri.toString(), line.slice(4));
  assert.equal(await pyNs.count(), 1);
  // nothing answers: NamingError after the broadcast rounds and the direct attempt
  const silent = await freeUdpPort();
  await assert.rejects(
    () =>
      locateNs(null, silent, {
        config: { BROADCAST_ADDRS: ["127.0.0.1"], NS_HOST: "127.0.0.1", NS_PORT: freeTcpPort() },
      }),
    (e: Error) => e.name === "NamingError" && e.message === "Failed to locate the nameserver",
  );
});

Deno.test({
  name:
    "SQLite storage survives a restart and kill -9 right after register; Pyro5 reads the same file",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "tyro_ns_" });
  try {
    const file = `${dir}/names.sqlite`;
    const port = freeTcpPort();
    const args = ["-n", "127.0.0.1", "-p", String(port), "-s", `sql:${file}`];
    {
      const ns1 = startTyroNsCli(args);
      await ns1.waitForLine(/^URI = /);
      const ns = await locateNs("127.0.0.1", port);
      await Promise.all(
        Array.from(
          { length: 20 },
          (_, i) => ns.register(`kill.${i}`, `PYRO:o${i}@127.0.0.1:${1000 + i}`, false, [`n:${i}`]),
        ),
      );
      await ns.register("kill.last", "PYRO:last@127.0.0.1:999");
      ns1.child.kill("SIGKILL"); // at once: no clean shutdown, no WAL checkpoint
      await ns1.child.status;
      await ns1.stop();
      controlOf(ns).release();
    }
    {
      const ns2 = startTyroNsCli(args);
      try {
        assert.equal(
          await ns2.waitForLine(/^Persistent store/),
          "Persistent store contains 22 existing registrations.",
        );
        await ns2.waitForLine(/^URI = /);
        await using ns = await locateNs("127.0.0.1", port);
        assert.equal(await ns.count(), 22);
        assert.equal((await ns.lookup("kill.last")).toString(), "PYRO:last@127.0.0.1:999");
        const [, meta] = await ns.lookup("kill.7", true) as readonly [PyroUri, Iterable<string>];
        assert.deepEqual(new Set(meta), new Set(["n:7"]));
        await ns.remove("kill.0");
      } finally {
        await ns2.stop();
      }
    }
    {
      await using py = startPython(["-m", "Pyro5.nameserver", ...args]);
      assert.equal(
        await py.waitForLine(/^Persistent store/),
        "Persistent store contains 21 existing registrations.",
      );
      await py.waitForLine(/^URI = /);
      const r = await pyNsc(["-n", "127.0.0.1", "-p", String(port), "lookup", "kill.7"]);
      assert.equal(r.out, "PYRO:o7@127.0.0.1:1007\nmetadata: {'n:7'}\n", r.err);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "many concurrent clients register in the Tyro name server (SQLite), from Tyro and Python",
  ignore,
  sanitizeResources: false,
  sanitizeOps: false,
}, async () => {
  const dir = await Deno.makeTempDir({ prefix: "tyro_ns_" });
  try {
    await using nsh = await startNs({ host: "127.0.0.1", port: 0, storage: `sql:${dir}/c.sqlite` });
    const port = nsh.uri.port!;
    const serializers = ["serpent", "json", "marshal", "msgpack"];
    const python = Array.from({ length: 4 }, (_, p) =>
      runPython(
        `
import sys
from Pyro5.api import locate_ns
ns = locate_ns("127.0.0.1", int(sys.argv[1]))
for i in range(50):
    ns.register("py.%s.%d" % (sys.argv[2], i), "PYRO:o@127.0.0.1:%d" % (1000 + i), metadata={"p" + sys.argv[2]})
print(ns.count() > 0)
`,
        { args: [String(port), String(p)] },
      ));
    const tyro = Array.from({ length: 40 }, async (_, c) => {
      await using ns = await locateNs("127.0.0.1", port, { serializer: serializers[c % 4] });
      for (let i = 0; i < 25; i++) {
        await ns.register(`ts.${c}.${i}`, `PYRO:o@127.0.0.1:${2000 + i}`, true, [`c${c}`]);
      }
      return Object.keys(await ns.list(`ts.${c}.`)).length;
    });
    const counts = await Promise.all(tyro);
    assert.deepEqual(counts, Array(40).fill(25));
    for (const r of await Promise.all(python)) {
      assert.equal(decoder.decode(r.stdout), "True\n", r.stderr);
    }
    assert.equal(nsh.nameserver.count(), 1 + 40 * 25 + 4 * 50);
    assert.equal(Object.keys(nsh.nameserver.yplookup(["p2"])).length, 50);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("AutoCleaner removes registrations that stay unreachable (no Python needed)", async () => {
  const ns = new NameServer();
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const alive = `PYRO:alive@127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const deadPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  ns.register(NAMESERVER_NAME, "PYRO:Pyro.NameServer@127.0.0.1:1");
  ns.register("alive", alive);
  ns.register("dead", `PYRO:dead@127.0.0.1:${deadPort}`);
  ns.register("deadunix", "PYRO:x@./u:/nonexistent/tyro.sock");
  const accepting = (async () => {
    for await (const c of listener) c.close();
  })();
  const cleaner = new AutoCleaner(ns, {
    interval: 0.05,
    maxUnreachableTime: 0.15,
    loopDelay: 0.05,
    connectTimeout: 1,
  });
  try {
    assert.deepEqual(await cleaner.cleanOnce(), []);
    assert.equal(ns.count(), 4);
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual((await cleaner.cleanOnce()).sort(), ["dead", "deadunix"]);
    assert.deepEqual(keys(ns.list()), [NAMESERVER_NAME, "alive"]);
    // the background loop does the same
    ns.register("dead2", `PYRO:dead@127.0.0.1:${deadPort}`);
    cleaner.start();
    const until = Date.now() + 5000;
    while (ns.count() > 2 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(keys(ns.list()), [NAMESERVER_NAME, "alive"]);
  } finally {
    await cleaner.stop();
    listener.close();
    await accepting.catch(() => {});
  }
});

Deno.test("resolve() waits up to delayMs for a name to be registered (no Python needed)", async () => {
  await using nsh = await startNs({ host: "127.0.0.1", port: 0 });
  const where = `@127.0.0.1:${nsh.uri.port}`;
  await assert.rejects(
    () => resolve(`PYRONAME:late.name${where}`),
    (e: Error) => e instanceof NamingError && e.message === "unknown name: late.name",
  );
  const timer = setTimeout(
    () => nsh.nameserver.register("late.name", "PYRO:late@127.0.0.1:1", false, ["late"]),
    300,
  );
  try {
    const started = Date.now();
    assert.equal(
      (await resolve(`PYRONAME:late.name${where}`, { delayMs: 3000 })).toString(),
      "PYRO:late@127.0.0.1:1",
    );
    assert.ok(Date.now() - started >= 250);
    assert.equal((await resolve(`PYROMETA:late${where}`)).toString(), "PYRO:late@127.0.0.1:1");
    const viaConfig = await resolve(`PYRONAME:late.name${where}`, {
      config: { NS_LOOKUP_DELAY: 1 },
    });
    assert.equal(viaConfig.toString(), "PYRO:late@127.0.0.1:1");
  } finally {
    clearTimeout(timer);
  }
});
