#!/usr/bin/env python3
"""The Python Pyro5 side of Tyro's side-by-side benchmark (bench/compare.ts).

    pyro5_bench.py server daemon     # a Pyro5 daemon with the bench object; prints READY <uri>
    pyro5_bench.py server ns         # a Pyro5 name server holding "bench.obj"
    pyro5_bench.py client '<json>'   # runs one scenario, one JSON line per repetition

The client scenarios mirror bench/_tyro_client.ts one for one (see bench/_common.ts
for the spec and the line protocol). Servers run until stdin closes or SIGTERM.

Run from the repository root with the peer on the path:
PYTHONPATH=.peer/root/usr/lib/python3/dist-packages python3 bench/pyro5_bench.py ...
"""

import json
import os
import resource
import signal
import sys
import threading
import time

import Pyro5
import Pyro5.api
import Pyro5.errors
import Pyro5.nameserver
import serpent

SMALL = ["hello", 42, [1.5, 2]]


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass


@Pyro5.api.expose
class BenchObject:
    """Same members as BenchObject in bench/_tyro_server.ts."""

    def __init__(self):
        self._count = 0
        self._lock = threading.Lock()

    def echo(self, x):
        return x

    @Pyro5.api.oneway
    def inc(self):
        with self._lock:  # Pyro5 runs each oneway call in its own thread
            self._count += 1

    def count(self):
        return self._count

    def reset(self):
        with self._lock:
            self._count = 0

    def gen(self, n):
        for i in range(n):
            yield i


@Pyro5.api.expose
class BenchStats:
    """The server's own readings (CPU seconds, RSS), as in bench/_tyro_server.ts."""

    def cpu(self):
        t = os.times()
        return t.user + t.system

    def rss(self):
        return rss_bytes("self")


def watch_stdin(stop):
    def run():
        try:
            while sys.stdin.buffer.read1(64):
                pass
        except (OSError, ValueError):
            pass
        stop()

    threading.Thread(target=run, daemon=True).start()


def server(mode):
    raise_nofile()
    Pyro5.config.SERVERTYPE = os.environ.get("PYRO_SERVERTYPE", "thread")
    if mode == "ns":
        uri, daemon, bc = Pyro5.nameserver.start_ns("127.0.0.1", 0, enableBroadcast=False)
        daemon.nameserver.register("bench.obj", "PYRO:bench@127.0.0.1:9999")
        daemon.register(BenchStats(), "bench.stats")
        ready = str(uri)
    else:
        daemon = Pyro5.api.Daemon(host="127.0.0.1", port=0)
        ready = str(daemon.register(BenchObject(), "bench"))
        daemon.register(BenchStats(), "bench.stats")
    running = [True]

    def stop(*_):
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    watch_stdin(stop)
    print("READY " + ready, flush=True)
    daemon.requestLoop(lambda: running[0])
    daemon.close()


def cpu_seconds():
    t = os.times()
    return t.user + t.system


def rss_bytes(pid):
    try:
        with open("/proc/%s/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return float("nan")


def emit(value):
    sys.stdout.write(json.dumps(value) + "\n")
    sys.stdout.flush()


_stats = []


def server_cpu(spec):
    if not spec.get("statsUri"):
        return None
    if not _stats:
        s = Pyro5.api.Proxy(spec["statsUri"])
        s._pyroSerializer = "msgpack"
        _stats.append(s)
    return _stats[0].cpu()


def timed(spec, body, per_op=True):
    server_cpu(spec)
    if spec["warmup"] > 0:
        body(time.perf_counter() + spec["warmup"])
    for rep in range(spec["reps"]):
        s0 = server_cpu(spec)
        c0 = cpu_seconds()
        t0 = time.perf_counter()
        ops = body(t0 + spec["seconds"])
        dt = time.perf_counter() - t0
        c1 = cpu_seconds()
        s1 = server_cpu(spec)
        r = {"rep": rep, "value": ops / dt, "ops": ops, "seconds": dt}
        if per_op and ops > 0:
            r["clientCpuPer10k"] = (c1 - c0) / ops * 1e4
            if s0 is not None:
                r["serverCpuPer10k"] = (s1 - s0) / ops * 1e4
                r["cpuPer10k"] = r["clientCpuPer10k"] + r["serverCpuPer10k"]
        emit(r)


def proxy(spec, bind=True):
    p = Pyro5.api.Proxy(spec["uri"])
    p._pyroSerializer = spec["serializer"]
    if bind:
        p._pyroBind()
    return p


def client(spec):
    raise_nofile()
    Pyro5.config.SERIALIZER = spec["serializer"]
    sc = spec["scenario"]
    count = spec["count"]
    if sc == "calls":
        p = proxy(spec)

        def body(deadline):
            n = 0
            while n < count:
                p.echo(SMALL)
                n += 1
                if n & 63 == 0 and time.perf_counter() > deadline:
                    break
            return n

        timed(spec, body)
    elif sc in ("pipelined", "batch"):
        # Pyro5 has no pipelining: its best equivalent is a batch of `width` calls per round trip
        p = proxy(spec)
        size = spec.get("width") or (64 if sc == "pipelined" else 1000)

        def body(deadline):
            n = 0
            while n < count:
                b = Pyro5.api.BatchProxy(p)
                for _ in range(size):
                    b.echo(SMALL)
                results = list(b())
                if len(results) != size:
                    raise RuntimeError("batch returned %d" % len(results))
                n += size
                if time.perf_counter() > deadline:
                    break
            return n

        timed(spec, body)
    elif sc == "oneway":
        p = proxy(spec)

        def body(deadline):
            p.reset()
            n = 0
            while n < count:
                p.inc()
                n += 1
                if n & 63 == 0 and time.perf_counter() > deadline:
                    break
            limit = time.perf_counter() + 30
            while p.count() < n and time.perf_counter() < limit:
                pass
            return n

        timed(spec, body)
    elif sc == "connect":
        def body(deadline):
            n = 0
            while n < count:
                # connects on the first call, as the Tyro side does
                with proxy(spec, bind=False) as p:
                    p.echo(1)
                n += 1
                if n & 7 == 0 and time.perf_counter() > deadline:
                    break
            return n

        timed(spec, body)
    elif sc == "bulk":
        p = proxy(spec)
        data = bytes((i * 31) & 0xFF for i in range(256)) * (count // 256)
        tobytes = p._pyroSerializer in ("serpent",)
        try:
            back = p.echo(data)
        except Exception as x:  # Pyro5's json serializer refuses bytes
            emit({"unsupported": "%s: %s" % (type(x).__name__, x)})
            return
        if tobytes or isinstance(back, dict):
            back = serpent.tobytes(back)
        if len(back) != len(data):
            raise RuntimeError("bulk echo did not return the bytes")

        def body(deadline):
            n = 0
            while True:
                r = p.echo(data)
                if isinstance(r, dict):
                    serpent.tobytes(r)
                n += 1
                if time.perf_counter() >= deadline:
                    break
            return n * 2 * len(data) / 1e6

        timed(spec, body, per_op=False)
    elif sc == "iter":
        p = proxy(spec)

        def body(deadline):
            n = 0
            for _ in p.gen(count):
                n += 1
            if n != count:
                raise RuntimeError("iterator gave %d items" % n)
            return n

        timed(spec, body)
    elif sc == "ns":
        host, port = spec["uri"].split("@", 1)[1].rsplit(":", 1)
        ns = Pyro5.api.locate_ns(host, int(port))
        ns._pyroSerializer = spec["serializer"]
        ns._pyroRelease()
        ns._pyroBind()

        def body(deadline):
            n = 0
            while n < count:
                ns.lookup("bench.obj")
                n += 1
                if n & 31 == 0 and time.perf_counter() > deadline:
                    break
            return n

        timed(spec, body)
    elif sc == "concurrent":
        width = spec.get("width") or 1
        ps = [proxy(spec) for _ in range(width)]
        reps = spec["reps"] + (1 if spec["warmup"] > 0 else 0)
        for rep in range(reps):
            emit({"ready": rep})
            if not sys.stdin.readline():
                return
            start = time.time()
            if width == 1:
                p = ps[0]
                for _ in range(count):
                    p.echo(SMALL)
            else:
                def work(p):
                    for _ in range(count):
                        p.echo(SMALL)

                ts = [threading.Thread(target=work, args=(p,)) for p in ps]
                for t in ts:
                    t.start()
                for t in ts:
                    t.join()
            emit({"rep": rep, "start": start, "end": time.time(), "calls": count * width})
    else:
        raise SystemExit("unknown scenario " + sc)


def cpu_busy(seconds=0.5):
    """Fraction of all CPUs busy over a short sample (other load skews the figures)."""

    def sample():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        return sum(v), v[3] + v[4]

    try:
        t0, i0 = sample()
        time.sleep(seconds)
        t1, i1 = sample()
        return 1 - (i1 - i0) / max(1, t1 - t0)
    except OSError:
        return None


def info():
    """Machine and version facts (Deno reads /proc only with --allow-all)."""
    import platform

    import msgpack

    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    emit({
        "nproc": os.cpu_count(),
        "affinity": len(os.sched_getaffinity(0)),
        "cpuModel": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "pyro5": Pyro5.__version__,
        "serpent": serpent.__version__,
        "msgpack": ".".join(map(str, msgpack.version)),
        "loadavg": list(os.getloadavg()),
        "cpuBusy": cpu_busy(),
        "nofile": list(resource.getrlimit(resource.RLIMIT_NOFILE)),
    })


def main():
    if len(sys.argv) >= 2 and sys.argv[1] == "info":
        info()
        return
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    if sys.argv[1] == "server":
        server(sys.argv[2])
    else:
        client(json.loads(sys.argv[2]))
        emit({"done": True})


if __name__ == "__main__":
    main()
