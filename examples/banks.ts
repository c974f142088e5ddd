/**
 * Banks: several daemons, found through the name server's yellow pages.
 *
 * Each bank runs in a daemon of its own and registers in the name server
 * with metadata tags. Clients ask for tags, not names: `yplookup` lists the
 * registrations that carry them, and a `PYROMETA:tag@host:port` URI connects
 * to one of them (picked at random when several match).
 *
 * Run: `deno task example:banks`
 *
 * @module
 */

import { connect, Daemon, expose } from "@tyro/tyro";
import { locateNs, startNs } from "@tyro/tyro/nameserver";

class Bank {
  readonly #accounts = new Map<string, number>();
  constructor(readonly bankName: string) {}

  @expose
  name(): string {
    return this.bankName;
  }

  @expose
  deposit(account: string, amount: number): number {
    const balance = (this.#accounts.get(account) ?? 0) + amount;
    this.#accounts.set(account, balance);
    return balance;
  }

  @expose
  withdraw(account: string, amount: number): number {
    const balance = this.#accounts.get(account) ?? 0;
    if (amount > balance) throw new RangeError(`insufficient funds in ${account}'s account`);
    this.#accounts.set(account, balance - amount);
    return balance - amount;
  }
}

interface BankApi {
  name(): string;
  deposit(account: string, amount: number): number;
  withdraw(account: string, amount: number): number;
}

await using ns = await startNs({ host: "127.0.0.1", port: 0 });
const nsLocation = `127.0.0.1:${ns.uri.port}`;
await using registry = await locateNs("127.0.0.1", ns.uri.port);

// Two banks, each in its own daemon, registered with yellow-pages tags.
const banks = [
  { name: "Tulip Bank", id: "example.banks.tulip", tags: ["example.bank", "currency:eur"] },
  { name: "Maple Bank", id: "example.banks.maple", tags: ["example.bank", "currency:cad"] },
];
const daemons: Daemon[] = [];
const serving: Promise<void>[] = [];
for (const bank of banks) {
  const daemon = new Daemon({ host: "127.0.0.1", port: 0 });
  const uri = daemon.register(new Bank(bank.name), bank.id);
  await registry.register(bank.id, uri.toString(), false, bank.tags);
  daemons.push(daemon);
  serving.push(daemon.serve());
}

// Which registrations carry the tag "example.bank"?
const found = await registry.yplookup(["example.bank"]);
console.log("banks in the yellow pages:", Object.keys(found).sort().join(", "));
const eur = await registry.yplookup(["example.bank", "currency:eur"]);
console.log("banks with currency:eur:", Object.keys(eur).join(", "));

// Connect by tags: with all tags given, exactly one bank matches.
{
  await using tulip = await connect<BankApi>(
    `PYROMETA:example.bank,currency:eur@${nsLocation}`,
  );
  console.log("PYROMETA:example.bank,currency:eur ->", await tulip.name());
  console.log("deposit:", await tulip.deposit("ada", 100));
  console.log("withdraw:", await tulip.withdraw("ada", 30));
  try {
    await tulip.withdraw("ada", 500);
  } catch (e) {
    console.log("withdraw failed:", (e as Error).message);
  }
}

// Any bank: the name server picks one of the matches at random.
for (let i = 0; i < 3; i++) {
  await using bank = await connect<BankApi>(`PYROMETA:example.bank@${nsLocation}`);
  const name = await bank.name();
  console.log("any bank:", banks.some((b) => b.name === name) ? "a known bank" : "?");
  console.log(`  (this time: ${name})`); // random: not part of the checked output
}

for (const d of daemons) await d.close();
await Promise.all(serving);
console.log("done");
