/**
 * The server half of the stdio example: a daemon that talks Pyro over its
 * own stdin and stdout. It binds no socket and needs no permissions; it
 * serves the one connection it is given, and exits when stdin closes.
 *
 * stdout carries the Pyro wire messages, so nothing else may be printed
 * there: diagnostics go to stderr.
 *
 * @module
 */

import { Daemon, expose } from "@tyro/tyro";
import { fromStreams } from "@tyro/tyro/transport";

class Spellbook {
  @expose
  reverse(text: string): string {
    return [...text].reverse().join("");
  }

  @expose
  shout(text: string): string {
    return text.toUpperCase() + "!";
  }

  @expose
  pid(): number {
    return Deno.pid;
  }
}

// `bind: false`: no socket; `location` only names the daemon in URIs.
await using daemon = new Daemon({ bind: false, location: "localhost:0" });
daemon.register(new Spellbook(), "example.spellbook");

const conn = fromStreams({ readable: Deno.stdin.readable, writable: Deno.stdout.writable });
await daemon.handleConnection(conn); // resolves when the parent closes our stdin
console.error("stdio server: stdin closed, exiting");
