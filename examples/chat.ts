/**
 * Chat: callbacks. Each chat client runs a small daemon of its own and
 * passes a listener object to the chat server; the server calls the
 * listener back to deliver messages.
 *
 * A registered object passed as an argument travels as a proxy (autoproxy),
 * so the server receives a proxy for the client's listener. Everything runs
 * in one process here; in real life the server and each client are separate
 * programs, possibly on separate machines.
 *
 * Run: `deno task example:chat`
 *
 * @module
 */

import { connect, controlOf, Daemon, expose, type Remote } from "@tyro/tyro";

/** What the server calls on each client. */
interface Listener {
  message(from: string, text: string): void;
}

/** The chat server: remembers the listeners and calls each of them back. */
class ChatServer {
  readonly #members = new Map<string, Remote<Listener>>();

  @expose
  async join(nick: string, listener: Remote<Listener>): Promise<string[]> {
    if (this.#members.has(nick)) throw new Error(`the nick ${nick} is taken`);
    await this.#broadcast("server", `${nick} joined`);
    this.#members.set(nick, listener);
    return [...this.#members.keys()];
  }

  @expose
  async say(nick: string, text: string): Promise<void> {
    await this.#broadcast(nick, text);
  }

  @expose
  async leave(nick: string): Promise<void> {
    const listener = this.#members.get(nick);
    if (!listener) return;
    this.#members.delete(nick);
    controlOf(listener).release(); // closes the connection to that client
    await this.#broadcast("server", `${nick} left`);
  }

  async #broadcast(from: string, text: string): Promise<void> {
    // One after the other, so that the output below is in a fixed order.
    for (const [nick, listener] of this.#members) {
      try {
        await listener.message(from, text);
      } catch {
        this.#members.delete(nick); // that client is gone
      }
    }
  }
}

/** The object a client registers in its own daemon for the server to call. */
class ChatListener implements Listener {
  constructor(readonly nick: string) {}

  @expose
  message(from: string, text: string): void {
    console.log(`  [${this.nick}'s screen] ${from}: ${text}`);
  }
}

/** A chat client: its own daemon holds the listener the server calls back. */
class ChatClient implements AsyncDisposable {
  readonly daemon = new Daemon({ host: "127.0.0.1", port: 0 });
  readonly #serving = this.daemon.serve();
  readonly #listener: ChatListener;

  constructor(readonly nick: string) {
    this.#listener = new ChatListener(nick);
    this.daemon.register(this.#listener);
  }

  /** Joins: the registered listener goes to the server as a proxy. */
  async join(server: Remote<ChatServerApi>): Promise<void> {
    const members = await server.join(this.nick, this.#listener);
    console.log(`${this.nick} joined; members: ${members.join(", ")}`);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.daemon.close();
    await this.#serving;
  }
}

/** The chat server as its clients see it. */
interface ChatServerApi {
  join(nick: string, listener: Listener): string[];
  say(nick: string, text: string): void;
  leave(nick: string): void;
}

await using serverDaemon = new Daemon({ host: "127.0.0.1", port: 0 });
const uri = serverDaemon.register(new ChatServer(), "example.chat");
const serving = serverDaemon.serve();

{
  await using alice = new ChatClient("alice");
  await using bob = new ChatClient("bob");
  await using server = await connect<ChatServerApi>(uri);

  await alice.join(server);
  await bob.join(server);
  console.log("alice says hi");
  await server.say("alice", "hi bob!");
  console.log("bob answers");
  await server.say("bob", "hello alice");
  try {
    await bob.join(server);
  } catch (e) {
    console.log("joining twice fails:", (e as Error).message);
  }
  await server.leave("alice");
  await server.leave("bob");
}

await serverDaemon.close();
await serving;
console.log("done");
