/**
 * Autoproxy: a method returns an object registered in the daemon, and the
 * client receives a proxy for it instead of a copy. Registered objects
 * passed as arguments travel the same way.
 *
 * Here a shop hands out shopping baskets. Each basket is a remote object of
 * its own, living in the server; the client only holds proxies.
 *
 * Run: `deno task example:autoproxy`
 *
 * @module
 */

import { connect, controlOf, Daemon, expose } from "@tyro/tyro";

class Basket {
  readonly #items: string[] = [];
  constructor(readonly owner: string) {}

  @expose
  add(item: string): number {
    this.#items.push(item);
    return this.#items.length;
  }

  @expose
  items(): string[] {
    return [...this.#items];
  }
}

class Shop {
  readonly #baskets = new Map<string, Basket>();
  constructor(readonly daemon: Daemon) {}

  /** Makes a basket and registers it: the caller gets a proxy for it. */
  @expose
  basket(owner: string): Basket {
    let b = this.#baskets.get(owner);
    if (!b) {
      b = new Basket(owner);
      this.daemon.register(b, `example.basket.${owner}`);
      this.#baskets.set(owner, b);
    }
    return b;
  }

  /**
   * Receives a basket back as an argument. It arrives as a proxy (as any
   * proxy does); its URI names the object, so the shop finds its own basket.
   */
  @expose
  checkout(basket: unknown): string {
    const b = this.#baskets.get(controlOf(basket).uri.object.replace("example.basket.", ""));
    if (!b) return "that is not one of our baskets";
    controlOf(basket).release(); // the server never used it to connect, but tidy up anyway
    this.#baskets.delete(b.owner);
    this.daemon.unregister(b);
    return `${b.owner} paid for ${b.items().join(" and ")}`;
  }
}

interface BasketApi {
  add(item: string): number;
  items(): string[];
}
interface ShopApi {
  basket(owner: string): BasketApi;
  checkout(basket: unknown): string;
}

await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
const uri = daemon.register(new Shop(daemon), "example.shop");
const serving = daemon.serve();

await using shop = await connect<ShopApi>(uri);
const basket = await shop.basket("ann");
// `basket` is a proxy: its URI names an object in the server.
console.log("basket proxy for:", controlOf(basket).uri.object);
console.log("its methods:", [...controlOf(basket).methods].sort().join(", "));
await basket.add("apples");
console.log("items in basket:", await basket.add("pears"));
console.log("objects in the daemon:", daemon.registered().join(", "));

// The same basket, asked for again, is the same remote object.
const again = await shop.basket("ann");
console.log("same basket again:", (await again.items()).join(", "));

// Passing the proxy back: the server receives its own object.
console.log(await shop.checkout(basket));
console.log("objects in the daemon:", daemon.registered().join(", "));

controlOf(basket).release();
controlOf(again).release();
await daemon.close();
await serving;
console.log("done");
