/**
 * The name server control tool for Node.js (`node dist/node/nsc.mjs`), as
 * `python3 -m Pyro5.nsc`.
 *
 * @module
 */

import process from "node:process";
import { createInterface } from "node:readline";
import { main } from "../cli/nsc.ts";
import { exit, processEnv } from "./_cli.ts";

let lines: AsyncIterator<string> | null = null;

exit(
  await main(process.argv.slice(2), {
    // deno-lint-ignore no-console
    out: (line) => console.log(line),
    // deno-lint-ignore no-console
    err: (line) => console.error(line),
    async prompt(text: string): Promise<string | null> {
      process.stdout.write(text);
      lines ??= createInterface({ input: process.stdin, terminal: false })[Symbol.asyncIterator]();
      const r = await lines.next();
      return r.done ? null : r.value;
    },
    env: processEnv(),
  }),
);
