/**
 * Server classes for the Node.js tests (`node/test_node.mjs`), written with
 * TC39 decorators: the build down-levels them (Node 20 has no decorators),
 * so the tests see the decorator path exactly as a Node user's bundled code
 * would. The decorators come in as arguments, so this module holds no copy
 * of the library (its metadata keys are the bundle's own).
 *
 * @module
 */

// deno-lint-ignore-file no-explicit-any

/** The library functions the classes are made with. */
export interface FixtureDeps {
  /** `expose`. */
  expose: any;
  /** `oneway`. */
  oneway: any;
  /** `behavior`. */
  behavior: any;
  /** `currentContext`. */
  currentContext: () => any;
}

/**
 * Makes the test classes.
 *
 * @param deps The decorators and `currentContext` of the bundle under test.
 * @returns The classes.
 */
export function defineTestClasses(deps: FixtureDeps): Record<string, any> {
  const { expose, oneway, behavior, currentContext } = deps;

  @behavior({ instanceMode: "session" })
  class Counter {
    #n = 0;
    @expose
    increment(): number {
      return ++this.#n;
    }
  }

  @behavior({ instanceMode: "percall" })
  class PerCall {
    #n = 0;
    @expose
    increment(): number {
      return ++this.#n;
    }
  }

  @behavior({ instanceMode: "single" })
  class Single {
    #n = 0;
    @expose
    increment(): number {
      return ++this.#n;
    }
  }

  /** Pyro5's test echo server, the parts the tests use. */
  class Echo {
    #verbose = false;
    @expose
    echo(message: unknown): unknown {
      return message;
    }
    @expose
    error(): never {
      const e = new RangeError("this is the generated error from echoserver echo() method");
      e.name = "ValueError";
      throw e;
    }
    @expose
    *generator(): Generator<string> {
      yield "one";
      yield "two";
      yield "three";
    }
    @expose
    get verbose(): boolean {
      return this.#verbose;
    }
    set verbose(v: boolean) {
      this.#verbose = v;
    }
  }

  class Tools {
    received: unknown[] = [];
    @expose
    add(a: number, b: number): number {
      return a + b;
    }
    @expose
    async delay(ms: number, value: unknown): Promise<unknown> {
      await new Promise((r) => setTimeout(r, ms));
      return value;
    }
    @expose
    async *countdown(n: number): AsyncGenerator<number> {
      for (let i = n; i > 0; i--) yield i;
    }
    @expose
    *infinite(): Generator<number> {
      let i = 0;
      while (true) yield i++;
    }
    @expose
    fail(): never {
      throw new TypeError("bad type here");
    }
    @expose
    correlation(): number[] | null {
      const id = currentContext()?.correlationId;
      return id ? [...id] : null;
    }
    @oneway
    async slowRemember(x: unknown): Promise<void> {
      await new Promise((r) => setTimeout(r, 300));
      this.received.push(x);
    }
    @oneway
    remember(x: unknown): void {
      this.received.push(x);
    }
    hidden(): string {
      return "not exposed";
    }
  }

  /** A subclass adds to its parent's exposed members without changing them. */
  class MoreTools extends Tools {
    @expose
    mul(a: number, b: number): number {
      return a * b;
    }
  }

  return { Counter, PerCall, Single, Echo, Tools, MoreTools };
}
