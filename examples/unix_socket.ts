/**
 * Unix domain socket: a daemon bound to a socket file instead of a TCP
 * port. Its URIs look like `PYRO:id@./u:/path/to/socket`; only processes on
 * this machine that may open the file can connect.
 *
 * Run: `deno task example:unix_socket [socket path]`
 * (Deno scopes permissions to the exact socket path, so the task grants
 * them for the default path only.)
 *
 * @module
 */

import { connect, Daemon, expose } from "@tyro/tyro";

class Thermometer {
  #celsius = 21.5;

  @expose
  read(): number {
    return this.#celsius;
  }

  @expose
  warmUp(degrees: number): number {
    return this.#celsius += degrees;
  }
}

interface ThermometerApi {
  read(): number;
  warmUp(degrees: number): number;
}

const socketPath = Deno.args[0] ?? "/tmp/tyro-example-unix.sock";

await using daemon = new Daemon({ unixSocket: socketPath });
const uri = daemon.register(new Thermometer(), "example.thermometer");
const serving = daemon.serve();
console.log("uri:", uri.toString());
console.log("location is a unix socket:", daemon.locationStr === `./u:${socketPath}`);

{
  await using thermometer = await connect<ThermometerApi>(uri);
  console.log("temperature:", await thermometer.read());
  console.log("after warming up:", await thermometer.warmUp(2));
}

await daemon.close(); // also removes the socket file
await serving;
const left = await Deno.lstat(socketPath).then(() => true, () => false);
console.log("socket file left behind:", left);
console.log("done");
