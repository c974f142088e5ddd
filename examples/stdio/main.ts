/**
 * Stdio: attach Tyro to a stream that already exists. This program starts
 * `server.ts` as a subprocess and calls the object in it over the
 * subprocess's stdin and stdout, with no sockets at all (the way language
 * servers and many plugin systems talk to their child processes).
 *
 * `fromStreams()` turns any readable/writable byte stream pair into a
 * connection; the proxy's `connect` option hands it to the client.
 *
 * Run: `deno task example:stdio`
 *
 * @module
 */

import { connect } from "@tyro/tyro";
import { fromStreams } from "@tyro/tyro/transport";

interface Spellbook {
  reverse(text: string): string;
  shout(text: string): string;
  pid(): number;
}

// The subprocess: `deno run` of the server half, with no permissions.
// (`deno` from the PATH, so that `--allow-run=deno` covers it.)
const child = new Deno.Command("deno", {
  args: ["run", "--quiet", "--no-prompt", new URL("server.ts", import.meta.url).href],
  stdin: "piped",
  stdout: "piped",
  stderr: "inherit",
}).spawn();

// The URI names the object; its location is not used, since `connect`
// supplies the connection (there is only one: the child's stdio).
const spellbook = await connect<Spellbook>("PYRO:example.spellbook@localhost:0", {
  connect: () => Promise.resolve(fromStreams({ readable: child.stdout, writable: child.stdin })),
});
console.log(await spellbook.reverse("stressed"));
console.log(await spellbook.shout("abracadabra"));
const pid = await spellbook.pid();
console.log("answered by the subprocess:", pid === child.pid);

// Closing the proxy closes the child's stdin; the child then exits.
await spellbook[Symbol.asyncDispose]();
const status = await child.status;
console.log("subprocess exit code:", status.code);
console.log("done");
