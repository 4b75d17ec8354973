"""python3 -m twinnet METHOD ['{"json": "options"}'] -- call one method.

Host, port and token from TWINNET_HOST (127.0.0.1), TWINNET_PORT (7700)
and TWINNET_TOKEN. Prints the result as JSON; exit 1 on an error reply,
3 when the server cannot be reached.
"""

import json
import os
import sys

from .client import Client, TwinnetError


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(__doc__.strip())
        return 0 if argv else 2
    opts = json.loads(argv[1]) if len(argv) > 1 else None
    try:
        with Client(os.environ.get("TWINNET_HOST", "127.0.0.1"),
                    int(os.environ.get("TWINNET_PORT", "7700")),
                    token=os.environ.get("TWINNET_TOKEN") or None) as cl:
            print(json.dumps(cl.call(argv[0], opts), ensure_ascii=False, indent=2))
    except TwinnetError as e:
        print("error: %s: %s" % (e.code, e.message), file=sys.stderr)
        return 3 if e.code == "unavailable" else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
