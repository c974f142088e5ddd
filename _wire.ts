/**
 * A message connection: runs the read loop of a byte connection through a
 * {@linkcode MessageReader} and coalesces writes that are ready together
 * into one write. Shared by the client and the daemon.
 *
 * @internal
 * @module
 */

import { MessageReader } from "./protocol/message_reader.ts";
import type { Message } from "./protocol/message.ts";
import { allocate, giveBackPart } from "./_slab.ts";
import type { Connection } from "./transport/types.ts";
import { unrefTimer } from "./_timers.ts";

/** Options of a {@linkcode MessageConnection}. */
export interface MessageConnectionOptions {
  /** Largest accepted message. */
  maxMessageSize: number;
  /** Called for each complete message, in order. */
  onMessage: (msg: Message) => void;
  /** Called once when the connection ends; `error` is set when it ended by an error. */
  onClose: (error?: unknown) => void;
  /** Milliseconds without any incoming byte before the connection is closed (0: never). */
  idleTimeoutMs?: number;
  /**
   * Called when the peer ends a connection that {@linkcode MessageConnection.shutdown}
   * half closed; returning true takes over the close (to make it a little later).
   */
  onEndAfterShutdown?: (wire: MessageConnection) => boolean;
  /** False when nobody reads the incoming messages' correlation ids (they come back null). */
  correlationIds?: boolean;
}

/** The coalescing buffer of a connection that has not needed one (never written to). */
const NO_BYTES = new Uint8Array(0);

/** The read buffer starts small (idle connections are cheap) and grows while reads fill it. */
const READ_BUFFER_START = 1024;
const READ_BUFFER_MAX = 256 * 1024;

/** One connection's message I/O. */
export class MessageConnection {
  readonly conn: Connection;
  readonly #options: MessageConnectionOptions;
  // The queue and the batch being written are two arrays that trade places, each with its own
  // count: a written batch's slots are cleared, not cut off (an array emptied with `length = 0`
  // gets a new backing store on its next push, ~150 bytes per message).
  #queue: Uint8Array[] = [];
  #queued = 0;
  #coalesce = NO_BYTES;
  /** Parts taken from the queue, written in order from `#batchPos` up to `#batchEnd`. */
  #batch: Uint8Array[] = [];
  #batchEnd = 0;
  #batchPos = 0;
  /** What is left of the write in progress. */
  #current: Uint8Array | null = null;
  /** A large part being written as it is: given back once written, if lent (see `lendPart`). */
  #part: Uint8Array | null = null;
  #writing = false;
  /** Settles when the writing in progress ends (made only when asked for). */
  #drain: { promise: Promise<void>; resolve(): void; reject(e: unknown): void } | null = null;
  /** The write loop is waiting its coalescing turn. */
  #coalescing = false;
  /** Writes are held back (see cork()). */
  #corked = false;
  #closed = false;
  /** When the last bytes came in (kept only with an idle timeout). */
  #lastRead = 0;
  #idleTimer: ReturnType<typeof setInterval> | undefined;

  readonly #reader: MessageReader;
  #messageStart = 0;

  constructor(conn: Connection, options: MessageConnectionOptions) {
    this.conn = conn;
    this.#options = options;
    this.#reader = new MessageReader({
      maxMessageSize: options.maxMessageSize,
      correlationIds: options.correlationIds,
    });
  }

  /** True once closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Starts the read loop. */
  start(): Promise<void> {
    const idle = this.#options.idleTimeoutMs ?? 0;
    if (idle > 0) {
      this.#lastRead = Date.now();
      this.#idleTimer = setInterval(() => {
        const now = Date.now();
        if (now - this.#lastRead > idle) return this.close(new IdleTimeout(idle));
        // A message that trickles in (a byte now and then, never idle for long) must still
        // arrive at a minimal rate once it has taken longer than the timeout.
        const started = this.#messageStart;
        if (started && now - started > idle) {
          const rate = this.#reader.buffered / ((now - started) / 1000);
          if (rate < MIN_MESSAGE_RATE) this.close(new SlowMessage(rate));
        }
      }, Math.max(50, Math.min(idle / 2, 1000)));
    }
    return this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const reader = this.#reader;
    const watch = this.#idleTimer !== undefined;
    // the first buffer is cut from a shared slab (a new ArrayBuffer per connection costs more)
    let buf = allocate(READ_BUFFER_START);
    // the messages of each read, in one array kept for the connection's life
    const msgs: (Message | null)[] = [];
    try {
      while (!this.#closed) {
        // the rest of a large body is read in place rather than copied out of `buf`
        const target = reader.bodyTarget(IN_PLACE_READ);
        if (target !== null) {
          const n = await this.conn.read(target);
          if (n === null) break;
          if (watch) this.#lastRead = Date.now();
          const m = reader.bodyWritten(n);
          if (m !== null) {
            this.#messageStart = 0;
            this.#options.onMessage(m);
          }
          continue;
        }
        // a large message like the last one is read where its body can stay
        const landing = reader.landing();
        let n: number | null = null;
        try {
          n = await this.conn.read(landing ?? buf);
        } finally {
          // a read that ended the stream or failed hands the landing back
          if (landing !== null && n === null) reader.pushLanded(landing, 0, msgs);
        }
        if (n === null) {
          if (this.#shutDown && this.#options.onEndAfterShutdown?.(this)) return;
          break;
        }
        const count = landing === null
          ? reader.pushInto(buf, n, msgs)
          : reader.pushLanded(landing, n, msgs);
        if (watch) {
          // the idle and slow-message checks (COMMTIMEOUT) only
          this.#lastRead = Date.now();
          if (!reader.inMessage) this.#messageStart = 0;
          else if (count || !this.#messageStart) this.#messageStart = this.#lastRead;
        }
        if (landing === null && n === buf.length && buf.length < READ_BUFFER_MAX) {
          buf = new Uint8Array(buf.length * 4);
        }
        for (let i = 0; i < count; i++) {
          const m = msgs[i]!;
          msgs[i] = null;
          this.#options.onMessage(m);
        }
        if (count > KEPT_SLOTS) msgs.length = 0;
        // a reply made at once leaves before the next read is asked for (one message: nothing
        // else to join it; several keep the coalescing turn)
        if (count === 1) this.flush();
      }
      this.close(reader.inMessage ? new TruncatedMessage() : undefined);
    } catch (e) {
      this.close(this.#closed ? undefined : e);
    }
  }

  /**
   * Sends bytes. Writes that queue up while another write is in progress
   * go out together in one write.
   *
   * @param bytes One encoded message.
   * @returns Resolves when the bytes were handed to the transport.
   */
  send(bytes: Uint8Array | readonly Uint8Array[]): Promise<void> {
    if (!this.enqueue(bytes)) return Promise.reject(new ClosedConnection());
    return this.#whenWritten();
  }

  /**
   * Queues bytes like {@linkcode MessageConnection.send}, without a promise
   * to watch: a failed write closes the connection (`onClose` gets the error).
   *
   * @param bytes One encoded message, or its parts.
   * @returns False when the connection is already closed.
   */
  enqueue(bytes: Uint8Array | readonly Uint8Array[]): boolean {
    if (this.#closed) return false;
    const queue = this.#queue;
    if (bytes instanceof Uint8Array) queue[this.#queued++] = bytes;
    else for (let i = 0; i < bytes.length; i++) queue[this.#queued++] = bytes[i];
    if (!this.#writing && !this.#corked) {
      this.#startWriting();
    } else if (this.#coalescing && this.#current === null && this.#queued >= EARLY_FLUSH) {
      this.#flushEarly();
    }
    return true;
  }

  /** Holds writes back until {@linkcode MessageConnection.uncork} (e.g. a CONNECT until its first call is queued). */
  cork(): void {
    this.#corked = true;
  }

  /** Lets held writes go out, together. */
  uncork(): void {
    if (!this.#corked) return;
    this.#corked = false;
    if (!this.#writing && this.#queued && !this.#closed) this.#startWriting();
  }

  /** Starts writing what is queued now instead of at the end of this turn. */
  flush(): void {
    if (this.#coalescing && this.#current === null && !this.#corked) this.#pump();
  }

  // The write loop, without an async function: one turn of the event loop
  // lets more messages queue up (replies to the other messages of the same
  // read, calls made in the same turn), then small parts go out together in
  // one write and a large part as it is. (An async loop allocated about 1 KB
  // per call; these callbacks are made once per connection.)

  #startWriting(): void {
    this.#writing = true;
    this.#coalescing = true;
    queueMicrotask(this.#turn);
  }

  readonly #turn = (): void => {
    this.#coalescing = false;
    // a write started early goes on with the rest when it is done
    if (this.#current === null) this.#pump();
  };

  readonly #written = (n: number): void => {
    const rest = this.#current!;
    if (n < rest.length) this.#current = rest.subarray(n);
    else {
      this.#current = null;
      if (this.#part !== null) giveBackPart(this.#part), this.#part = null;
    }
    this.#pump();
  };

  readonly #failed = (e: unknown): void => {
    this.#current = null;
    this.#part = null; // not given back: the transport may still hold it
    this.close(e);
    this.#stopWriting(e);
  };

  /** Starts the next write, or ends the writing when everything queued is written. */
  #pump(): void {
    if (this.#closed) return this.#stopWriting();
    const data = this.#current ?? this.#next();
    if (data === null) {
      // while the peer works on what was written: ready a buffer for a large answer
      this.#reader.prepareBody();
      return this.#stopWriting();
    }
    this.#current = data;
    let written: Promise<number>;
    try {
      written = this.conn.write(data);
    } catch (e) {
      return this.#failed(e);
    }
    written.then(this.#written, this.#failed);
  }

  /** The next write: small parts joined, a large part on its own; null when nothing is left. */
  #next(): Uint8Array | null {
    let batch = this.#batch;
    let pos = this.#batchPos;
    if (pos >= this.#batchEnd) {
      // the written batch's parts are let go at once (an idle connection holds none)
      const written = this.#batchEnd;
      if (written > KEPT_SLOTS) batch.length = 0;
      else for (let i = 0; i < written; i++) batch[i] = NO_BYTES;
      this.#batchEnd = this.#batchPos = 0;
      if (this.#queued === 0) return null;
      // and its array becomes the queue
      this.#batch = this.#queue;
      this.#batchEnd = this.#queued;
      this.#queue = batch;
      this.#queued = 0;
      batch = this.#batch;
      pos = 0;
    }
    if (batch[pos].length > LARGE_PART) {
      this.#batchPos = pos + 1;
      return this.#part = batch[pos];
    }
    const batchEnd = this.#batchEnd;
    let end = pos + 1;
    while (end < batchEnd && batch[end].length <= LARGE_PART) end++;
    this.#batchPos = end;
    return this.#concat(batch, pos, end);
  }

  #stopWriting(error?: unknown): void {
    this.#writing = false;
    const drain = this.#drain;
    if (drain === null) return;
    this.#drain = null;
    if (error === undefined) drain.resolve();
    else drain.reject(error);
  }

  /** Resolves when what is queued now has been written (rejects if that failed). */
  #whenWritten(): Promise<void> {
    if (!this.#writing) return Promise.resolve();
    if (this.#drain === null) {
      let resolve!: () => void, reject!: (e: unknown) => void;
      const promise = new Promise<void>((res, rej) => (resolve = res, reject = rej));
      this.#drain = { promise, resolve, reject };
    }
    return this.#drain.promise;
  }

  /**
   * Many messages queued in one go (replies to a pipelined read): the first
   * ones leave now, so that the peer works on them while the rest are made.
   */
  #flushEarly(): void {
    const queue = this.#queue;
    for (let i = 0; i < this.#queued; i++) if (queue[i].length > LARGE_PART) return;
    this.#pump();
  }

  /** Joins small parts into one write, in a buffer reused once that write has finished. */
  #concat(parts: Uint8Array[], from: number, to: number): Uint8Array {
    if (to - from === 1) return parts[from];
    let n = 0;
    for (let i = from; i < to; i++) n += parts[i].length;
    let out: Uint8Array;
    if (n <= SMALL_WRITE && this.#coalesce.length < n) {
      // a connection's first small writes (handshake, a call) need no buffer of its own
      out = allocate(n);
    } else if (n <= MAX_COALESCE_BUFFER) {
      if (this.#coalesce.length < n) {
        this.#coalesce = new Uint8Array(
          Math.min(MAX_COALESCE_BUFFER, Math.max(n, this.#coalesce.length * 2, 4096)),
        );
      }
      out = this.#coalesce.subarray(0, n);
    } else {
      out = new Uint8Array(n);
    }
    let o = 0;
    for (let i = from; i < to; i++) out.set(parts[i], o), o += parts[i].length;
    return out;
  }

  /**
   * Ends the connection from this side without cancelling the pending read
   * (a cancelled read costs an error with a stack trace): shuts down the
   * sending side and closes when the peer closes too, or after `timeoutMs`.
   * Transports without a half close are closed at once.
   *
   * @param timeoutMs How long to wait for the peer to close.
   */
  shutdown(timeoutMs = 1000): void {
    if (this.#closed) return;
    if (this.#writing) {
      // what was sent before (a oneway call) still goes out first
      this.#whenWritten().then(() => this.shutdown(timeoutMs), () => this.close());
      return;
    }
    const conn = this.conn as Connection & { closeWrite?: () => Promise<void> | void };
    if (typeof conn.closeWrite !== "function") return this.close();
    try {
      const r = conn.closeWrite();
      if (r instanceof Promise) r.catch(() => this.close());
    } catch {
      return this.close();
    }
    this.#shutDown = true;
    linger(this, timeoutMs);
  }

  /** shutdown() half closed the connection. */
  #shutDown = false;

  /** Closes the connection once everything queued has been written. */
  end(): void {
    if (this.#writing) this.#whenWritten().then(() => this.close(), () => this.close());
    else this.close();
  }

  /**
   * Closes the connection.
   *
   * @param error Why, when it ended by an error.
   */
  close(error?: unknown): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#idleTimer !== undefined) clearInterval(this.#idleTimer);
    lingering.delete(this);
    try {
      this.conn.close();
    } catch { /* already closed */ }
    this.#options.onClose(error);
  }
}

/**
 * Connections half-closed by shutdown(), with the time by which their peer
 * must have closed too. One timer watches them all, and it is not stopped
 * when they all close: a timer set and cleared per connection cost about
 * 10 µs of each new connection's CPU (measured). It keeps no process alive.
 */
const lingering = new Map<MessageConnection, number>();
let sweeper: ReturnType<typeof setTimeout> | undefined;
let sweepAt = Infinity;

function linger(conn: MessageConnection, ms: number): void {
  const deadline = Date.now() + ms;
  lingering.set(conn, deadline);
  if (deadline < sweepAt) sweepIn(ms, deadline);
}

function sweepIn(ms: number, at: number): void {
  if (sweeper !== undefined) clearTimeout(sweeper);
  sweepAt = at;
  sweeper = setTimeout(sweep, ms);
  unrefTimer(sweeper);
}

function sweep(): void {
  sweeper = undefined;
  sweepAt = Infinity;
  const now = Date.now();
  let next = Infinity;
  for (const [conn, deadline] of lingering) {
    if (deadline <= now) conn.close(); // deletes it
    else if (deadline < next) next = deadline;
  }
  if (next < Infinity) sweepIn(next - now, next);
}

const LARGE_PART = 64 * 1024;
/** Writes this small are joined in slab memory until the connection has a buffer of its own. */
const SMALL_WRITE = 1024;
/**
 * Queued messages that go out at once instead of waiting for the rest: with
 * 64 calls in flight this lets client and daemon work at the same time
 * instead of in turns (measured: 240k → 300–400k pipelined calls/s).
 */
const EARLY_FLUSH = 16;
/** A written batch's array is kept for reuse up to this many parts (a larger one is let go). */
const KEPT_SLOTS = 64;
/** Bodies with at least this much still to come are read straight into place. */
const IN_PLACE_READ = 64 * 1024;
const MAX_COALESCE_BUFFER = 256 * 1024;

/** Bytes per second a message must arrive at once it takes longer than the idle timeout. */
const MIN_MESSAGE_RATE = 1024;

/** The stream ended in the middle of a message. */
export class TruncatedMessage extends Error {
  constructor() {
    super("connection closed in the middle of a message");
    this.name = "TruncatedMessage";
  }
}

/** A message trickled in too slowly. */
export class SlowMessage extends Error {
  constructor(rate: number) {
    super(`message arriving too slowly (${Math.round(rate)} bytes/s)`);
    this.name = "SlowMessage";
  }
}

/** The connection was idle too long. */
export class IdleTimeout extends Error {
  constructor(ms: number) {
    super(`connection idle for more than ${ms} ms`);
    this.name = "IdleTimeout";
  }
}

/** Sending on a closed connection. */
export class ClosedConnection extends Error {
  constructor() {
    super("connection is closed");
    this.name = "ClosedConnection";
  }
}
