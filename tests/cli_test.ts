/**
 * The CLI entry points run as their `deno task` does, with exactly the
 * permission flags of deno.json (the same flags `deno task compile` bakes
 * into the binaries): ns, nsc, echoserver and gateway.
 */
import assert from "node:assert/strict";

const ROOT = new URL("../", import.meta.url);
const TASKS = (JSON.parse(Deno.readTextFileSync(new URL("deno.json", ROOT))) as {
  tasks: Record<string, string>;
}).tasks;

/** The `deno run` arguments of a task: its flags and its file. */
function taskArgs(name: string): string[] {
  const words = TASKS[name].match(/"[^"]*"|\S+/g)!.map((w) => w.replace(/^"|"$/g, ""));
  assert.deepEqual(words.slice(0, 2), ["deno", "run"], `task ${name} is a deno run`);
  return words.slice(1);
}

function spawn(name: string, args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [...taskArgs(name), ...args],
    cwd: ROOT.pathname,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).spawn();
}

/** Reads stdout lines until one matches (bounded in time). */
async function waitFor(child: Deno.ChildProcess, re: RegExp, seen: string[]): Promise<string> {
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let rest = "";
  const deadline = Date.now() + 20_000;
  try {
    while (Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      rest += value;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const l of lines) {
        seen.push(l);
        if (re.test(l)) return l;
      }
    }
  } finally {
    reader.releaseLock();
  }
  // say why the program ended: its error output, when it has already exited
  let stderr = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const exited = await Promise.race([
    child.status.then(() => true),
    new Promise<boolean>((r) => timer = setTimeout(() => r(false), 500)),
  ]);
  clearTimeout(timer);
  if (exited) {
    stderr = await new Response(child.stderr).text().catch(() => "");
  }
  throw new Error(`no line matching ${re}; output:\n${seen.join("\n")}\nerrors:\n${stderr}`);
}

async function stop(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGTERM");
  } catch { /* gone */ }
  await child.status;
  await child.stdout.cancel().catch(() => {});
  await child.stderr.cancel().catch(() => {});
}

Deno.test("deno task ns, nsc, echoserver and gateway run with their own permission flags", async () => {
  // below Linux's ephemeral range (32768–60999), where client sockets of earlier tests can sit
  const port = 20_000 + Math.floor(Math.random() * 12_000);
  const ns = spawn("ns", ["-n", "127.0.0.1", "-p", String(port)]);
  const echo = spawn("echoserver", ["-H", "127.0.0.1"]);
  let gateway: Deno.ChildProcess | undefined;
  try {
    const nsLines: string[] = [];
    assert.equal(
      await waitFor(ns, /^URI = /, nsLines),
      `URI = PYRO:Pyro.NameServer@127.0.0.1:${port}`,
    );
    const echoLines: string[] = [];
    const echoUri = (await waitFor(echo, /^echo uri: /, echoLines)).slice(10);
    const nsc = (args: string[]) =>
      new Deno.Command(Deno.execPath(), {
        args: [...taskArgs("nsc"), "-n", "127.0.0.1", "-p", String(port), ...args],
        cwd: ROOT.pathname,
        env: { NO_COLOR: "1" },
      }).output();
    let out = await nsc(["ping"]);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.match(new TextDecoder().decode(out.stdout), /Name server ping ok\./);
    out = await nsc(["register", "http.echo", echoUri]);
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    out = await nsc(["lookup", "http.echo"]);
    assert.ok(new TextDecoder().decode(out.stdout).includes(echoUri));
    // the gateway finds the name server through PYRO_NS_HOST/PYRO_NS_PORT, as Pyro5's does
    gateway = spawn("gateway", ["-H", "127.0.0.1", "-p", "0"], {
      PYRO_NS_HOST: "127.0.0.1",
      PYRO_NS_PORT: String(port),
    });
    const gwLines: string[] = [];
    await waitFor(gateway, /http:\/\/127\.0\.0\.1:\d+/, gwLines);
    const url = /http:\/\/127\.0\.0\.1:\d+/.exec(gwLines.join("\n"))![0];
    const r = await fetch(`${url}/pyro/http.echo/echo?message=hi`);
    assert.equal(r.status, 200);
    assert.equal(await r.json(), "hi");
  } finally {
    if (gateway) await stop(gateway);
    await stop(echo);
    await stop(ns);
  }
});
