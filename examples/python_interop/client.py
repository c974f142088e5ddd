"""The Python half of python_interop, part 1: a plain Pyro5 client.

It calls an object served by a Tyro daemon, given its URI on the command
line, exactly as it would call one served by Python.
"""

import sys

import Pyro5.api
import Pyro5.errors

uri = sys.argv[1]
with Pyro5.api.Proxy(uri) as library:
    print("titles:", ", ".join(library.titles()))
    book = library.lend("Dune", reader="python")  # keyword arguments work too
    print("lent:", book["title"], "to", book["reader"])
    print("pages:", library.pages("Dune"))
    try:
        library.lend("Solaris", reader="python")
    except Exception as e:  # the TypeScript error, raised in Python
        print("error:", type(e).__name__, "-", e)
    print("first three:", list(library.first(3)))  # a remote iterator
