/**
 * SerializedBlob (Pyro5's KEEPSERIALIZED calls): a dispatcher passes call
 * data on without decoding it, between Tyro and Pyro5 both ways.
 */
import assert from "node:assert/strict";
import { connect, controlOf, createProxy, SerializedBlob } from "../client.ts";
import { Daemon, expose } from "../server.ts";
import { peerAvailable, runPython, startPython } from "./_peer.ts";

class Worker {
  @expose
  process(blob: SerializedBlob): unknown {
    assert.ok(blob instanceof SerializedBlob);
    return { info: blob.info, data: blob.deserialized() };
  }
}

class Dispatcher {
  constructor(readonly workerUri: string) {}
  @expose
  async dispatch(blob: SerializedBlob): Promise<unknown> {
    assert.ok(blob.containsBlob); // still serialized: passed on as it came
    const worker = createProxy(this.workerUri);
    try {
      return await worker.process(blob);
    } finally {
      controlOf(worker).release();
    }
  }
}

for (const ser of ["serpent", "json", "marshal", "msgpack"]) {
  Deno.test(`a blob passes a Tyro dispatcher undecoded to a Tyro worker (${ser})`, async () => {
    await using daemon = new Daemon({ host: "127.0.0.1" });
    const workerUri = daemon.register(new Worker(), "worker").toString();
    daemon.register(new Dispatcher(workerUri), "dispatcher");
    const serving = daemon.serve();
    await using d = await connect(daemon.uriFor("dispatcher"), { serializer: ser });
    const result = await d.dispatch(new SerializedBlob("job-1", ["widget", 3, { size: 2 }]));
    assert.deepEqual(result, { info: "job-1", data: ["widget", 3, { size: 2 }] });
    await assert.rejects(
      controlOf(d).invoke("dispatch", [new SerializedBlob("x", []), 2]),
      /SerializedBlob is used, it must be the only argument/,
    );
    await daemon.close();
    await serving;
  });
}

const PY_WORKER = `
import Pyro5.api
class Worker:
    @Pyro5.api.expose
    def process(self, blob):
        return {"info": blob.info, "data": list(blob.deserialized())}
d = Pyro5.api.Daemon(host="127.0.0.1")
print("uri:", d.register(Worker(), "worker"), flush=True)
d.requestLoop()
`;

Deno.test({
  name: "a Tyro dispatcher passes a Python client's blob on to a Python worker",
  ignore: !peerAvailable(),
  async fn() {
    await using worker = startPython(["-c", PY_WORKER]);
    const workerUri = (await worker.waitForLine(/^uri: /)).slice(5).trim();
    await using daemon = new Daemon({ host: "127.0.0.1" });
    daemon.register(new Dispatcher(workerUri), "dispatcher");
    const serving = daemon.serve();
    const r = await runPython(
      `
import sys, json
import Pyro5.api
from Pyro5.client import SerializedBlob
p = Pyro5.api.Proxy(sys.argv[1])
print(json.dumps(p.dispatch(SerializedBlob("py-job", ("gadget", 7)))))
`,
      { args: [daemon.uriFor("dispatcher").toString()] },
    );
    assert.deepEqual(JSON.parse(new TextDecoder().decode(r.stdout)), {
      info: "py-job",
      data: ["gadget", 7],
    });
    // and a Tyro client's blob straight to the Python worker
    await using w = await connect(workerUri);
    assert.deepEqual(await w.process(new SerializedBlob("ts-job", ["gizmo", 1])), {
      info: "ts-job",
      data: ["gizmo", 1],
    });
    await daemon.close();
    await serving;
  },
});
