/**
 * Stock market: remote iterators. A generator method on the server streams
 * quotes; the client consumes them with `for await`, one item per request,
 * and may stop early: breaking out of the loop closes the stream on the
 * server.
 *
 * Run: `deno task example:stockmarket`
 *
 * @module
 */

import { connect, controlOf, Daemon, expose } from "@tyro/tyro";

interface Quote {
  symbol: string;
  price: number;
}

/** A market with made-up but reproducible prices. */
class StockMarket {
  #seed = 42;
  readonly prices = new Map([["ACME", 100], ["GLOBEX", 50], ["INITECH", 20]]);
  closedStreams = 0;

  /** A tiny deterministic random walk, so every run prints the same quotes. */
  #next(): number {
    this.#seed = (this.#seed * 1103515245 + 12345) % 2147483648;
    return (this.#seed % 201 - 100) / 100; // -1.00 .. +1.00
  }

  @expose
  symbols(): string[] {
    return [...this.prices.keys()];
  }

  /** Streams quotes for the symbols, forever (or until the client stops). */
  @expose
  async *quotes(symbols: string[]): AsyncGenerator<Quote> {
    try {
      while (true) {
        for (const symbol of symbols) {
          const price = Math.round((this.prices.get(symbol)! + this.#next()) * 100) / 100;
          this.prices.set(symbol, price);
          await new Promise((r) => setTimeout(r, 5)); // the market takes its time
          yield { symbol, price };
        }
      }
    } finally {
      this.closedStreams++; // runs when the client breaks out of its loop
    }
  }

  /** A finite stream: the client's loop ends by itself. */
  @expose
  *history(symbol: string): Generator<string> {
    for (const day of ["mon", "tue", "wed"]) yield `${symbol} ${day}`;
  }
}

interface StockMarketApi {
  symbols(): string[];
  quotes(symbols: string[]): AsyncGenerator<Quote>;
  history(symbol: string): Generator<string>;
}

const market = new StockMarket();
await using daemon = new Daemon({ host: "127.0.0.1", port: 0 });
const uri = daemon.register(market, "example.stockmarket");
const serving = daemon.serve();

await using client = await connect<StockMarketApi>(uri);
console.log("symbols:", (await client.symbols()).join(", "));

// A finite remote iterator.
for await (const line of client.history("ACME")) console.log("history:", line);

// An endless one: take six quotes, then break.
let n = 0;
for await (const q of client.quotes(["ACME", "GLOBEX"])) {
  console.log(`quote: ${q.symbol} ${q.price.toFixed(2)}`);
  if (++n === 6) break; // tells the server to close the stream
}

// The break sent a (oneway) close; one more round trip makes sure it arrived.
await controlOf(client).ping();
console.log("open streams on the server:", daemon.streamCount);
console.log("streams closed by the server:", market.closedStreams);

// Several streams at once, over one connection.
const watch = async (symbol: string) => {
  const seen: number[] = [];
  for await (const q of client.quotes([symbol])) {
    seen.push(q.price);
    if (seen.length === 3) break;
  }
  return `${symbol}: ${seen.length} quotes`;
};
console.log("watched:", (await Promise.all([watch("INITECH"), watch("GLOBEX")])).join(", "));

await daemon.close();
await serving;
console.log("done");
