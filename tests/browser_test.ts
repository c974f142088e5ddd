/**
 * Browser tests in headless Chromium (Debian's `chromium` at
 * /usr/bin/chromium, driven by npm:playwright-core): the gateway's page
 * lists objects and calls a method, and the Tyro client, bundled with
 * `deno bundle --platform=browser`, calls a daemon over WebSocket.
 * Screenshots and the bundle go to `.tools/browser-test/` (ignored by git).
 * Skipped when Chromium is missing (outside CI).
 */
import assert from "node:assert/strict";
import { EchoServer } from "../cli/echoserver.ts";
import { createGatewayHandler } from "../gateway.ts";
import { locateNs, startNs } from "../nameserver.ts";
import { Daemon } from "../server.ts";

const CHROMIUM = "/usr/bin/chromium";
const ROOT = new URL("../", import.meta.url);
const OUT = new URL(".tools/browser-test/", ROOT);

function chromiumAvailable(): boolean {
  try {
    Deno.statSync(CHROMIUM);
    return true;
  } catch {
    if (Deno.env.get("CI")) {
      throw new Error(`${CHROMIUM} is missing in CI: apt-get install chromium`);
    }
    // deno-lint-ignore no-console
    console.warn(
      `tests/browser_test.ts: skipped, ${CHROMIUM} is missing (apt-get install chromium)`,
    );
    return false;
  }
}

/**
 * Bundles the Tyro client for the browser; returns the file's text. An
 * import map swaps the two Node-only modules in the client's graph for
 * stubs: the socket transport (a browser has no TCP) and node:zlib.
 */
async function bundle(): Promise<string> {
  await Deno.mkdir(OUT, { recursive: true });
  const out = new URL("tyro.js", OUT).pathname;
  const importMap = new URL("import_map.json", OUT).pathname;
  await Deno.writeTextFile(
    importMap,
    JSON.stringify({
      imports: {
        "node:zlib": new URL("tests/browser/zlib_stub.ts", ROOT).href,
        [new URL("transport/socket.ts", ROOT).href]: new URL("tests/browser/socket_stub.ts", ROOT)
          .href,
      },
    }),
  );
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform=browser",
      "--format=esm",
      "--import-map",
      importMap,
      "-o",
      out,
      new URL("tests/browser/entry.ts", ROOT).pathname,
    ],
    cwd: ROOT.pathname,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) throw new Error(`deno bundle failed:\n${new TextDecoder().decode(stderr)}`);
  const text = await Deno.readTextFile(out);
  const nodeImport = /^import .* from "node:[^"]+";$/m.exec(text);
  if (nodeImport) throw new Error(`the browser bundle imports a Node module: ${nodeImport[0]}`);
  return text;
}

Deno.test({
  name: "headless Chromium: the gateway page and the Tyro client over WebSocket",
  ignore: !chromiumAvailable(),
  async fn(t) {
    // playwright-core's bundled `is-wsl` probes /proc/sys/fs/binfmt_misc/WSLInterop when
    // it loads, which Deno allows only with --allow-all; with this variable set the probe
    // is deferred to the `open` helper, which launching a browser never uses.
    const wslTest = Deno.env.get("__IS_WSL_TEST__");
    Deno.env.set("__IS_WSL_TEST__", "1");
    const { chromium } = await import("playwright-core").finally(() =>
      wslTest === undefined
        ? Deno.env.delete("__IS_WSL_TEST__")
        : Deno.env.set("__IS_WSL_TEST__", wslTest)
    );
    const script = await bundle();
    const page = await Deno.readTextFile(new URL("tests/browser/client.html", ROOT));

    await using ns = await startNs({ host: "127.0.0.1", port: 0 });
    await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
    const echoUri = daemon.register(new EchoServer(), "test.echoserver");
    ns.nameserver.register("test.echoserver", echoUri);
    daemon.serve();
    const nsProxy = await locateNs("127.0.0.1", ns.uri.port!);
    const gateway = createGatewayHandler({
      nameserver: nsProxy,
      expose: "test\\.",
      websocket: daemon,
    });
    const ac = new AbortController();
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, signal: ac.signal, onListen() {} },
      (req, info) => {
        const path = new URL(req.url).pathname;
        const asset = (body: string, type: string) =>
          new Response(body, { headers: { "Content-Type": type } });
        if (path === "/tyro.js") return asset(script, "text/javascript");
        if (path === "/favicon.ico") return new Response(null, { status: 204 });
        if (path === "/client.html") return asset(page, "text/html; charset=utf-8");
        return gateway(req, info);
      },
    );
    const base = `http://127.0.0.1:${server.addr.port}`;
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const errors: string[] = [];
    try {
      const tab = await browser.newPage({ viewport: { width: 1100, height: 900 } });
      tab.setDefaultTimeout(10_000);
      tab.on("pageerror", (e: Error) => errors.push(e.message));
      tab.on("console", (m: { type(): string; text(): string }) => {
        // (the 500 of the error call is logged as a failed resource load)
        if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) {
          errors.push("console: " + m.text());
        }
      });

      await t.step(
        "the gateway page lists the name server's objects and calls a method",
        async () => {
          await tab.goto(base + "/");
          assert.equal(new URL(tab.url()).pathname, "/pyro/");
          const table = await tab.textContent("#objects");
          assert.match(table ?? "", /test\.echoserver/);
          assert.match(table ?? "", /generator/);
          // pick the method from the table, give the argument, call
          await tab.click('#objects a[data-object="test.echoserver"][data-method="echo"]');
          assert.equal(await tab.inputValue("#call_object"), "test.echoserver");
          assert.equal(await tab.inputValue("#call_method"), "echo");
          await tab.fill("#call_params", "message=hello from Chromium");
          await tab.click("#call_button");
          await tab.waitForFunction(`document.getElementById("pyro_status").textContent === "200"`);
          assert.equal(await tab.textContent("#pyro_response"), '"hello from Chromium"');
          await tab.screenshot({ path: new URL("gateway.png", OUT).pathname, fullPage: true });
          // $meta from the name link, and an exception from an example link
          await tab.click('#objects a[data-object="test.echoserver"][data-method="$meta"]');
          await tab.waitForFunction(
            `document.getElementById("pyro_response").textContent.includes('"attributes"')`,
          );
          await tab.click('a.example[data-object="test.echoserver"][data-method="error"]');
          await tab.waitForFunction(`document.getElementById("pyro_status").textContent === "500"`);
          const shown = await tab.textContent("#pyro_response");
          assert.match(shown ?? "", /^SERVER ERROR 500\n/);
          assert.match(shown ?? "", /builtins\.ValueError/);
          await tab.screenshot({
            path: new URL("gateway-error.png", OUT).pathname,
            fullPage: true,
          });
        },
      );

      await t.step("the Tyro client in the page calls a daemon over WebSocket", async () => {
        await tab.goto(base + "/client.html");
        await tab.waitForFunction(`document.body.dataset.ready === "1"`);
        const wsUrl = `ws://127.0.0.1:${server.addr.port}/pyro/ws`;
        const result = await tab.evaluate(
          ([ws, uri]) =>
            (globalThis as unknown as { runDemo(a: string, b: string): unknown }).runDemo(ws, uri),
          [wsUrl, echoUri.toString()],
        ) as {
          echo: string;
          items: string[];
          error: { name: string; message: string; remoteType: string; traceback: string };
          hundredCallsMs: number;
        };
        assert.equal(result.echo, "hello from the browser");
        assert.deepEqual(result.items, ["one", "two", "three"]);
        assert.equal(result.error.remoteType, "builtins.ValueError");
        assert.equal(result.error.name, "ValueError");
        assert.equal(
          result.error.message,
          "this is the generated error from echoserver echo() method",
        );
        assert.match(result.error.traceback, /ValueError/);
        assert.ok(result.hundredCallsMs < 2000, `100 calls took ${result.hundredCallsMs} ms`);
        await tab.screenshot({ path: new URL("client.png", OUT).pathname, fullPage: true });
      });
      assert.deepEqual(errors, []);
    } catch (e) {
      if (errors.length) (e as Error).message += `\npage errors: ${errors.join("\n")}`;
      throw e;
    } finally {
      await browser.close();
      gateway.close();
      await nsProxy[Symbol.asyncDispose]();
      ac.abort();
      await server.finished;
    }
  },
});
