/**
 * Timer helpers shared by the client, the daemon and the transports.
 *
 * @internal
 * @module
 */

/**
 * Lets the process exit with the timer pending (Deno's timers may be
 * numbers, Node's are objects; browsers have no such notion).
 *
 * @param timer What `setTimeout`/`setInterval` returned.
 */
export function unrefTimer(timer: unknown): void {
  if (typeof timer === "number") {
    (globalThis as { Deno?: { unrefTimer(id: number): void } }).Deno?.unrefTimer(timer);
  } else (timer as { unref?: () => void } | undefined)?.unref?.();
}
