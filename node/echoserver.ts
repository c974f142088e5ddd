/**
 * The echo server command line for Node.js (`node dist/node/echoserver.mjs`),
 * as `python3 -m Pyro5.utils.echoserver`.
 *
 * @module
 */

import process from "node:process";
import { main } from "../cli/echoserver.ts";
import { exit, stopSignal } from "./_cli.ts";

exit(await main(process.argv.slice(2), stopSignal()));
