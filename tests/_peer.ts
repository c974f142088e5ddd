/**
 * Test support: the real Python Pyro5 peer, unpacked from Debian's
 * packages into `.peer/` by `.ci/run` (or `tests/fetch_peer.sh`).
 *
 * @module
 */

/** The repository root. */
export const ROOT = new URL("../", import.meta.url);

/** The folder holding Pyro5, serpent and msgpack for Python. */
export const PEER_PYTHONPATH = new URL(".peer/root/usr/lib/python3/dist-packages", ROOT).pathname;

let available: boolean | undefined;

/** Tells whether python3 with Pyro5 is available (tests skip with `ignore` otherwise). */
export function peerAvailable(): boolean {
  if (available !== undefined) return available;
  try {
    Deno.statSync(PEER_PYTHONPATH + "/Pyro5/__init__.py");
    available = true;
  } catch {
    available = false;
  }
  if (!available && Deno.env.get("CI")) {
    throw new Error("the Pyro5 peer is missing in CI: run tests/fetch_peer.sh");
  }
  return available;
}

/** The environment for Python peer processes. */
export function peerEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    PYTHONPATH: PEER_PYTHONPATH,
    PYTHONHASHSEED: "0",
    PYTHONUNBUFFERED: "1",
    PYTHONDONTWRITEBYTECODE: "1",
    ...extra,
  };
}

/** The result of {@linkcode runPython}. */
export interface PythonResult {
  code: number;
  stdout: Uint8Array;
  stderr: string;
}

/**
 * Runs a Python snippet to completion with the peer on the path, feeding
 * `stdin`. Fails the test on a non-zero exit unless `allowFailure`.
 */
export async function runPython(
  script: string,
  options: {
    stdin?: Uint8Array;
    args?: string[];
    env?: Record<string, string>;
    allowFailure?: boolean;
    timeoutMs?: number;
  } = {},
): Promise<PythonResult> {
  const cmd = new Deno.Command("python3", {
    args: ["-c", script, ...(options.args ?? [])],
    env: peerEnv(options.env),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  });
  const child = cmd.spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, options.timeoutMs ?? 60_000);
  const writer = child.stdin.getWriter();
  if (options.stdin) await writer.write(options.stdin);
  await writer.close();
  const out = await child.output();
  clearTimeout(timer);
  const stderr = new TextDecoder().decode(out.stderr);
  if (out.code !== 0 && !options.allowFailure) {
    throw new Error(`python3 exited with ${out.code}:\n${stderr}`);
  }
  return { code: out.code, stdout: out.stdout, stderr };
}

/** A running Python process, stopped by `await using` or {@linkcode PythonProcess.stop}. */
export class PythonProcess implements AsyncDisposable {
  readonly child: Deno.ChildProcess;
  #lines: ReadableStreamDefaultReader<string>;
  #buffer: string[] = [];
  #stderr: Promise<string>;
  /** Every line read from stdout so far. */
  readonly output: string[] = [];

  constructor(child: Deno.ChildProcess) {
    this.child = child;
    this.#lines = child.stdout
      .pipeThrough(new TextDecoderStream())
      .pipeThrough(lineSplitter())
      .getReader();
    this.#stderr = new Response(child.stderr).text();
  }

  /** Reads stdout lines until one matches, and returns it (bounded by `timeoutMs`). */
  async waitForLine(match: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const i = this.#buffer.findIndex((l) => match.test(l));
      if (i >= 0) return this.#buffer.splice(0, i + 1)[i];
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(`timed out waiting for ${match}; output: ${this.output.join("\n")}`);
      }
      let timer: ReturnType<typeof setTimeout> | undefined;
      const r = await Promise.race([
        this.#lines.read(),
        new Promise<null>((res) => timer = setTimeout(() => res(null), left)),
      ]);
      clearTimeout(timer);
      if (r === null) continue;
      if (r.done) {
        throw new Error(
          `process ended before ${match}; output: ${this.output.join("\n")}\n${await this.#stderr}`,
        );
      }
      this.output.push(r.value);
      this.#buffer.push(r.value);
    }
  }

  /** Stops the process (SIGTERM, then SIGKILL) and returns its stderr. */
  async stop(): Promise<string> {
    try {
      this.child.kill("SIGTERM");
    } catch { /* already gone */ }
    const timer = setTimeout(() => {
      try {
        this.child.kill("SIGKILL");
      } catch { /* already gone */ }
    }, 3000);
    await this.child.status;
    clearTimeout(timer);
    await this.#lines.cancel().catch(() => {});
    return await this.#stderr;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Starts a Python process (`python3 args...`) with the peer on the path. */
export function startPython(args: string[], env: Record<string, string> = {}): PythonProcess {
  const child = new Deno.Command("python3", {
    args,
    env: peerEnv(env),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  return new PythonProcess(child);
}

function lineSplitter(): TransformStream<string, string> {
  let rest = "";
  return new TransformStream({
    transform(chunk, controller) {
      rest += chunk;
      const lines = rest.split("\n");
      rest = lines.pop()!;
      for (const l of lines) controller.enqueue(l);
    },
    flush(controller) {
      if (rest) controller.enqueue(rest);
    },
  });
}
