"""The Python half of python_interop, part 2: a plain Pyro5 daemon.

It prints the URI of its object on the first line of stdout, and serves
until a client calls stop().
"""

import Pyro5.api


@Pyro5.api.expose
class Weather:
    def __init__(self, daemon):
        self.daemon = daemon

    def forecast(self, city, days=1):
        return [{"city": city, "day": d + 1, "sky": "sunny" if d % 2 == 0 else "rain"}
                for d in range(days)]

    def hours(self, n):
        for h in range(n):
            yield "%02d:00" % h

    def fail(self):
        return 1 / 0

    @Pyro5.api.oneway
    def stop(self):
        self.daemon.shutdown()


with Pyro5.api.Daemon(host="127.0.0.1") as daemon:
    uri = daemon.register(Weather(daemon), "example.weather")
    print("uri:", uri, flush=True)
    daemon.requestLoop()
