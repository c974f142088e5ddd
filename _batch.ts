/**
 * Batched calls: record calls on a proxy and send them in one `<batch>`
 * message, as Pyro5's `BatchProxy`.
 *
 * @module
 */

import { type CallOptions, controlOf } from "./client.ts";
import { PyroError } from "./errors.ts";
import { Flags } from "./protocol/constants.ts";
import { ExceptionWrapper } from "./serializers/registry.ts";

interface Recorded {
  method: string;
  args: unknown[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  promise: Promise<unknown>;
}

const noop = () => {};
const NO_KWARGS = Object.freeze({});

/** Rejects a recorded call; a result nobody awaits must not be an unhandled rejection. */
function fail(c: Recorded, e: unknown): void {
  c.promise.catch(noop);
  c.reject(e);
}

/** A batch of recorded calls; see {@linkcode batch}. */
export type Batch<T> =
  & {
    readonly [
      K in keyof T as K extends string ? T[K] extends (...args: never[]) => unknown ? K : never
        : never
    ]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : never;
  }
  & BatchControl;

/** The control part of a batch. */
export interface BatchControl {
  /**
   * Sends all recorded calls in one message and settles their promises.
   * Calls after a failed one are not executed (their promises reject).
   *
   * @param options `oneway` to send without waiting for results.
   * @returns The results in order, up to the first failure.
   */
  $send(options?: { oneway?: boolean } & CallOptions): Promise<unknown[]>;
}

/**
 * Records calls on a remote object to send them in one `<batch>` message,
 * as Pyro5's `BatchProxy`. Each recorded call returns a promise of its own
 * result, settled by `$send()`.
 *
 * @param remote The remote view.
 * @returns The batch recorder.
 *
 * @example Record two calls
 * ```ts ignore
 * const b = batch(calc);
 * const sum = b.add(1, 2);
 * const product = b.mul(3, 4);
 * await b.$send();
 * console.log(await sum, await product);
 * ```
 */
export function batch<T = unknown>(
  remote: unknown,
): unknown extends T ? Record<string, (...args: unknown[]) => Promise<unknown>> & BatchControl
  : Batch<T> {
  const proxy = controlOf(remote);
  const calls: Recorded[] = [];
  const recorders = new Map<string, (...args: unknown[]) => Promise<unknown>>();
  const control: BatchControl = {
    async $send(options = {}) {
      const these = calls.splice(0);
      // Pyro5 sends (method, args, kwargs) tuples; only serpent and marshal tell a tuple from
      // a list on the wire, so only they pay for freezing
      const tuples = proxy.serializer.id <= 2;
      const triples: unknown[] = new Array(these.length);
      for (let i = 0; i < these.length; i++) {
        const c = these[i];
        triples[i] = tuples
          ? Object.freeze([c.method, Object.freeze(c.args), NO_KWARGS])
          : [c.method, c.args, NO_KWARGS];
      }
      let flags = Flags.BATCH;
      if (options.oneway) flags |= Flags.ONEWAY;
      let results: unknown;
      try {
        results = await proxy.invoke("<batch>", triples, null, { ...options, flags });
      } catch (e) {
        for (const c of these) fail(c, e);
        throw e;
      }
      if (options.oneway) {
        for (const c of these) c.resolve(undefined);
        return [];
      }
      const list = Array.isArray(results) ? results : [];
      const out: unknown[] = [];
      let failed: unknown = null;
      for (let i = 0; i < these.length; i++) {
        const c = these[i];
        if (failed) {
          fail(
            c,
            new PyroError("batch call not executed: an earlier call in the batch failed", {
              cause: failed,
            }),
          );
          continue;
        }
        const r = list[i];
        if (r instanceof ExceptionWrapper) {
          failed = r.exception;
          fail(c, r.exception);
        } else if (i >= list.length) {
          fail(c, new PyroError("batch call not executed"));
        } else {
          out.push(r);
          c.resolve(r);
        }
      }
      return out;
    },
  };
  return new Proxy(control, {
    get(target, key) {
      if (key === "$send") return target.$send;
      if (typeof key === "symbol" || key === "then") return undefined;
      let record = recorders.get(key);
      if (!record) {
        record = (...args: unknown[]) => {
          let resolve!: (v: unknown) => void, reject!: (e: unknown) => void;
          const promise = new Promise<unknown>((res, rej) => (resolve = res, reject = rej));
          calls.push({ method: key, args, resolve, reject, promise });
          return promise;
        };
        recorders.set(key, record);
      }
      return record;
    },
  }) as never;
}
