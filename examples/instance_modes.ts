/**
 * Instance modes: when you register a class (not an instance), the daemon
 * makes the instances itself, as `@behavior` says:
 *
 * - `single`: one instance for everybody,
 * - `session` (the default): one instance per client connection,
 * - `percall`: a fresh instance for every call.
 *
 * Run: `deno task example:instance_modes`
 *
 * @module
 */

import { behavior, connect, Daemon, expose } from "@tyro/tyro";

// Numbers the instances as they are made, so the output shows which one answered.
let made = 0;

@behavior({ instanceMode: "single" })
class Single {
  readonly instance = ++made;
  #count = 0;
  @expose
  increment(): string {
    return `instance ${this.instance}, count ${++this.#count}`;
  }
}

@behavior({ instanceMode: "session" })
class Session {
  readonly instance = ++made;
  #count = 0;
  @expose
  increment(): string {
    return `instance ${this.instance}, count ${++this.#count}`;
  }
}

@behavior({ instanceMode: "percall" })
class PerCall {
  readonly instance = ++made;
  #count = 0;
  @expose
  increment(): string {
    return `instance ${this.instance}, count ${++this.#count}`;
  }
}

interface Counter {
  increment(): string;
}

await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
const serving = daemon.serve();

for (const cls of [Single, Session, PerCall]) {
  made = 0;
  const uri = daemon.register(cls, `example.${cls.name.toLowerCase()}`);
  // Two clients, each with its own connection, call twice each.
  await using alice = await connect<Counter>(uri);
  await using bob = await connect<Counter>(uri);
  console.log(`${cls.name}:`);
  console.log("  alice:", await alice.increment());
  console.log("  alice:", await alice.increment());
  console.log("  bob:  ", await bob.increment());
  console.log("  bob:  ", await bob.increment());
}

await daemon.close();
await serving;
console.log("done");
