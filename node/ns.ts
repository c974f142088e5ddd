/**
 * The name server command line for Node.js (`node dist/node/ns.mjs`), as
 * `python3 -m Pyro5.nameserver`.
 *
 * @module
 */

import process from "node:process";
import { main } from "../cli/ns.ts";
import { exit, processEnv, stopSignal } from "./_cli.ts";

exit(
  await main(process.argv.slice(2), {
    // deno-lint-ignore no-console
    out: (line) => console.log(line),
    // deno-lint-ignore no-console
    err: (line) => console.error(line),
    signal: stopSignal(),
    env: processEnv(),
  }),
);
