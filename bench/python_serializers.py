#!/usr/bin/env python3
"""Times Python's serializers on the workloads of Tyro's serializer benches.

The Deno benches (serializers/*_bench.ts) time the same two workloads:

- the small call ("test.echoserver", "echo", ["hello", 42, [1.5, 2]], {}):
  dumpsCall, and loadsCall of its bytes;
- a 1 MiB bytes payload: dumps, and loads of its bytes.

Each is timed for the plain module (serpent, json, marshal, msgpack, doing
what Pyro5 asks of it) and for Pyro5's serializer class. Python's json cannot
carry bytes (Pyro5's JsonSerializer refuses them), so its 1 MiB rows use the
base64 dict {"data": ..., "encoding": "base64"} that Tyro's json sends, with
the base64 step included; serpent writes that dict itself, and its loads rows
include serpent.tobytes() to get the bytes back, as Tyro's serpent does.

Run (from the repository root):

    PYTHONPATH=.peer/root/usr/lib/python3/dist-packages python3 bench/python_serializers.py

Options: --seconds S (time per row, default 0.3), --only NAME (one serializer).
"""

import argparse
import base64
import json
import marshal
import sys
import timeit

import msgpack
import serpent
from Pyro5 import serializers as pyro_serializers

OBJECT, METHOD, VARGS, KWARGS = "test.echoserver", "echo", ["hello", 42, [1.5, 2]], {}
MB = bytes((i * 31) & 0xFF for i in range(1 << 20))


def rows_for(name):
    """(label, workload, function, bytes per op) for one serializer."""
    pyro = {
        "serpent": pyro_serializers.SerpentSerializer(),
        "json": pyro_serializers.JsonSerializer(),
        "marshal": pyro_serializers.MarshalSerializer(),
        "msgpack": pyro_serializers.MsgpackSerializer(),
    }[name]
    rows = []

    # The plain module, called the way Pyro5 calls it.
    if name == "serpent":
        def dumps_call():
            return serpent.dumps((OBJECT, METHOD, VARGS, KWARGS), module_in_classname=True)

        def loads_call(b):
            return serpent.loads(b)

        def dumps_mb():
            return serpent.dumps(MB, module_in_classname=True)

        def loads_mb(b):
            return serpent.tobytes(serpent.loads(b))
    elif name == "json":
        def dumps_call():
            data = {"object": OBJECT, "method": METHOD, "params": VARGS, "kwargs": KWARGS}
            return json.dumps(data, ensure_ascii=False).encode("utf-8")

        def loads_call(b):
            return json.loads(b.decode("utf-8"))

        def dumps_mb():
            data = {"data": base64.b64encode(MB).decode("ascii"), "encoding": "base64"}
            return json.dumps(data, ensure_ascii=False).encode("utf-8")

        def loads_mb(b):
            return base64.b64decode(json.loads(b.decode("utf-8"))["data"])
    elif name == "marshal":
        def dumps_call():
            return marshal.dumps((OBJECT, METHOD, VARGS, KWARGS))

        def loads_call(b):
            return marshal.loads(b)

        def dumps_mb():
            return marshal.dumps(MB)

        def loads_mb(b):
            return marshal.loads(b)
    else:
        def dumps_call():
            return msgpack.packb((OBJECT, METHOD, VARGS, KWARGS), use_bin_type=True)

        def loads_call(b):
            return msgpack.unpackb(b, raw=False)

        def dumps_mb():
            return msgpack.packb(MB, use_bin_type=True)

        def loads_mb(b):
            return msgpack.unpackb(b, raw=False)

    call_bytes, mb_bytes = dumps_call(), dumps_mb()
    rows += [
        (name, "dumpsCall small call", dumps_call, len(call_bytes)),
        (name, "loadsCall small call", lambda: loads_call(call_bytes), len(call_bytes)),
        (name, "dumps 1 MiB bytes", dumps_mb, len(MB)),
        (name, "loads 1 MiB bytes", lambda: loads_mb(mb_bytes), len(MB)),
    ]

    # Pyro5's serializer class.
    label = "Pyro5 " + type(pyro).__name__
    pcall = pyro.dumpsCall(OBJECT, METHOD, VARGS, KWARGS)
    rows += [
        (label, "dumpsCall small call", lambda: pyro.dumpsCall(OBJECT, METHOD, VARGS, KWARGS), len(pcall)),
        (label, "loadsCall small call", lambda: pyro.loadsCall(pcall), len(pcall)),
    ]
    if name == "json":
        pass  # Pyro5's JsonSerializer cannot serialize bytes: see the json rows above
    else:
        pmb = pyro.dumps(MB)
        if name == "serpent":
            def pyro_loads_mb():
                return serpent.tobytes(pyro.loads(pmb))
        else:
            def pyro_loads_mb():
                return pyro.loads(pmb)
        rows += [
            (label, "dumps 1 MiB bytes", lambda: pyro.dumps(MB), len(MB)),
            (label, "loads 1 MiB bytes", pyro_loads_mb, len(MB)),
        ]
    return rows


def measure(fn, seconds):
    """Best of 3 runs of about `seconds` each: seconds per call."""
    timer = timeit.Timer(fn)
    n, t = timer.autorange()
    per_run = max(1, int(n * (seconds / 3) / max(t, 1e-9)))
    return min(timer.repeat(repeat=3, number=per_run)) / per_run


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="time per row")
    parser.add_argument("--only", choices=["serpent", "json", "marshal", "msgpack"])
    args = parser.parse_args(argv)
    names = [args.only] if args.only else ["serpent", "json", "marshal", "msgpack"]
    print(f"Python {sys.version.split()[0]}, serpent {serpent.__version__}, "
          f"msgpack {'.'.join(map(str, msgpack.version))}")
    print(f"{'serializer':<30} {'workload':<22} {'time/op':>11} {'ops/s':>12} {'MB/s':>9}")
    for name in names:
        for label, workload, fn, nbytes in rows_for(name):
            t = measure(fn, args.seconds)
            if t >= 1e-3:
                shown = f"{t * 1e3:.2f} ms"
            elif t >= 1e-6:
                shown = f"{t * 1e6:.2f} µs"
            else:
                shown = f"{t * 1e9:.0f} ns"
            print(f"{label:<30} {workload:<22} {shown:>11} {1 / t:>12,.0f} {nbytes / t / 1e6:>9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
