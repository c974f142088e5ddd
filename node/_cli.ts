/**
 * What the Node.js command line entries share: the process environment,
 * and an abort signal for SIGINT/SIGTERM.
 *
 * @module
 */

import process from "node:process";

/**
 * The process environment, as the launchers' `io.env`.
 *
 * @returns A copy of `process.env`.
 */
export function processEnv(): Record<string, string | undefined> {
  return { ...process.env };
}

/**
 * A signal that aborts on SIGINT or SIGTERM.
 *
 * @returns The signal.
 */
export function stopSignal(): AbortSignal {
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  return stop.signal;
}

/**
 * Ends the process with `code` once stdout and stderr are flushed.
 *
 * @param code The exit code.
 */
export function exit(code: number): void {
  process.exitCode = code;
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
