"""twinnet.regen -- compare twinnet/_table.json with a live server's
server.methods, or rewrite it from them.

    python3 -m twinnet.regen --port 7700            # exit 1 if they differ
    python3 -m twinnet.regen --port 7700 --write    # rewrite _table.json
"""

import json

from . import _table
from .methods import _param_names


def _generate(items, old):
    """The text of _table.json for a server.methods item list."""
    table = {}
    for it in items:
        name = it["name"]
        desc = it.get("description") or old.get(name, {}).get("description") or ""
        entry = {"role": it.get("role"), "params": _param_names(it), "slow": bool(it.get("slow")),
                 "description": desc}
        if isinstance(it.get("options"), list):
            entry["options"] = it["options"]
        table[name] = entry
    return json.dumps(table, indent=1, ensure_ascii=False) + "\n"


def main(argv=None):
    """python3 -m twinnet.regen [--host H] [--port P] [--token T] [--write | --check]"""
    import argparse
    import os
    import sys
    from .client import Client
    ap = argparse.ArgumentParser(prog="python3 -m twinnet.regen",
                                 description="compare or regenerate twinnet/_table.json from a live server")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=7700)
    ap.add_argument("--token", default=os.environ.get("TWINNET_TOKEN"))
    ap.add_argument("--write", action="store_true", help="rewrite _table.json")
    args = ap.parse_args(argv)
    with Client(args.host, args.port, token=args.token) as c:
        items = c.call("server.methods")["items"]
    server = {it["name"]: it for it in items}
    missing = sorted(set(server) - set(_table.METHODS))
    gone = sorted(set(_table.METHODS) - set(server))
    changed = sorted(m for m in set(server) & set(_table.METHODS)
                     if _param_names(server[m]) != _param_names(_table.METHODS[m]))
    for m in missing:
        print("new on the server: %s" % m)
    for m in gone:
        print("not on the server: %s" % m)
    for m in changed:
        print("options differ: %s" % m)
    if args.write:
        path = _table.PATH
        text = _generate(items, _table.METHODS)
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        print("wrote %s (%d methods)" % (path, len(items)))
        return 0
    return 1 if (missing or gone or changed) else 0


if __name__ == "__main__":
    raise SystemExit(main())
