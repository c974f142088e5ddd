#!/usr/bin/env bash
# Fetches the real Python Pyro5 peer (python3-pyro5, python3-serpent from Debian trixie and
# python3-msgpack from the machine's own suite) and unpacks it into .peer/root, without
# installing anything system-wide. Cached: does nothing when .peer/root already has Pyro5.
set -euo pipefail
cd "$(dirname "$0")/.."
site=.peer/root/usr/lib/python3/dist-packages
if [ -f "$site/Pyro5/__init__.py" ] && [ -f "$site/serpent.py" ] && [ -d "$site/msgpack" ]; then
  exit 0
fi
lists=.peer/apt-lists
mkdir -p "$lists/partial" .peer/root
mirror=$(grep -hoE '^URIs: *[^ ]+/debian$' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -1 | sed 's/^URIs: *//' || true)
if [ -z "$mirror" ]; then
  mirror=$(grep -hoE '^deb +[^ ]+/debian ' /etc/apt/sources.list 2>/dev/null | head -1 | awk '{print $2}' || true)
fi
mirror=${mirror:-http://deb.debian.org/debian}
echo "deb $mirror trixie main" > .peer/trixie.list
o=(-oDir::Etc::SourceList="$PWD/.peer/trixie.list" -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists="$PWD/$lists" -oAPT::Sandbox::User=root)
apt-get "${o[@]}" update -qq
(cd .peer && apt-get "${o[@]}" download -qq python3-pyro5 python3-serpent)
apt-get update -qq -oAPT::Sandbox::User=root
(cd .peer && apt-get download -qq -oAPT::Sandbox::User=root python3-msgpack)
for d in .peer/*.deb; do dpkg -x "$d" .peer/root; done
PYTHONPATH=$site python3 -c 'import Pyro5, serpent, msgpack; print("peer: Pyro5", Pyro5.__version__, "serpent", serpent.__version__, "msgpack", msgpack.version)'
