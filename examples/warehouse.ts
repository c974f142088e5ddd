/**
 * Warehouse: objects found through the name server.
 *
 * A warehouse object is registered in a daemon and under a logical name in
 * a name server. Visitors find it by that name (`PYRONAME:`), never by its
 * host and port, and take and store items in it.
 *
 * Run: `deno task example:warehouse`
 *
 * @module
 */

import { connect, Daemon, expose } from "@tyro/tyro";
import { locateNs, startNs } from "@tyro/tyro/nameserver";

/** The remote object: a shared list of items. */
class Warehouse {
  #contents = ["chair", "bike", "flashlight", "laptop", "couch"];

  @expose
  list(): string[] {
    return [...this.#contents];
  }

  @expose
  take(visitor: string, item: string): string {
    const i = this.#contents.indexOf(item);
    if (i < 0) throw new RangeError(`there is no ${item} in the warehouse`);
    this.#contents.splice(i, 1);
    return `${visitor} took the ${item}`;
  }

  @expose
  store(visitor: string, item: string): string {
    this.#contents.push(item);
    return `${visitor} stored the ${item}`;
  }
}

// 1. A name server on a free port of this host (port 0: the OS picks one).
await using ns = await startNs({ host: "127.0.0.1", port: 0 });
const nsPort = ns.uri.port!;

// 2. A daemon serving the warehouse, registered in the name server.
await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
const uri = daemon.register(new Warehouse(), "example.warehouse");
const serving = daemon.serve();
{
  await using nameserver = await locateNs("127.0.0.1", nsPort);
  await nameserver.register("example.warehouse", uri.toString());
  console.log("registered names:", Object.keys(await nameserver.list()).sort().join(", "));
}

// 3. Visitors only know the name. The proxy asks the name server for the
//    real address on its first call.
interface WarehouseApi {
  list(): string[];
  take(visitor: string, item: string): string;
  store(visitor: string, item: string): string;
}

async function visit(visitor: string, take: string, store: string): Promise<void> {
  await using warehouse = await connect<WarehouseApi>(
    `PYRONAME:example.warehouse@127.0.0.1:${nsPort}`,
  );
  console.log(await warehouse.take(visitor, take));
  console.log(await warehouse.store(visitor, store));
  try {
    await warehouse.take(visitor, "unicorn");
  } catch (e) {
    // The remote exception arrives as an error on the client.
    console.log(`${visitor} could not take it: ${(e as Error).message}`);
  }
}

await visit("Janet", "bike", "lamp");
await visit("Henry", "laptop", "piano");

await using warehouse = await connect<WarehouseApi>(
  `PYRONAME:example.warehouse@127.0.0.1:${nsPort}`,
);
console.log("contents:", (await warehouse.list()).join(", "));

await daemon.close();
await serving;
console.log("done");
