"""twinnet -- the Python client of the twinnetd sister-city graph service.

    import twinnet

    with twinnet.Client("127.0.0.1", 7700, token=None) as c:
        c.server_ping()                                     # 'pong'
        cov = c.query_coverage(by="region")                 # one method per RPC method
        for pair in c.iter_pairs(country="JP"):             # every page of pair.list
            print(pair["a"], pair["b"], pair.get("since"))
        df = cov.to_dataframe()                             # with pandas installed

- Client: one connection (twinnet.client), with a method per RPC method
  (twinnet.methods), pipelining (send / wait / gather), progress callbacks,
  server events (events()), and paged lists (twinnet.pages).
- TwinnetError: an error reply (.code, .message, .data) or a transport
  failure (code "unavailable").
- to_dataframe: rows of a result as a pandas DataFrame (pandas optional).

clients/python/README.md has more.
"""

from .client import NOTIFY, REQUEST, RESPONSE, Client, TwinnetError
from .frames import Result, to_dataframe

__version__ = "0.2.0"
__all__ = ["Client", "TwinnetError", "Result", "to_dataframe", "REQUEST", "RESPONSE", "NOTIFY",
           "__version__"]
