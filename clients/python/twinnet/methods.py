"""twinnet.methods -- one Python method per RPC method.

Each RPC method "a.b" is the Client method ``a_b`` (dots become
underscores): ``c.query_centrality(metric="degree", top=5)`` is
``c.call("query.centrality", metric="degree", top=5)``; options come as
keywords, a dict, or both (``c.import_chunk({"import": tok, "nodes": [...]})``
for names that are Python keywords). Docstrings list the options.

The methods come from two places:
  - _table.json (loaded by _table.py), generated from a server's
    ``server.methods`` (names, least role, option names, descriptions), so
    that they are there for help(), dir() and editors before any connection;
  - the live server: a name that is not in the table is looked up in the
    connected server's ``server.methods`` on first use, so methods added to
    the server work at once, without editing this package.
The table is checked against a live server by the tests
(tests/integration/test_python_client.py). Regenerate it with
``python3 -m twinnet.regen --port P --write`` (keeps descriptions the
server does not give).
"""

import types

from . import _table

__all__ = ["Methods", "py_name", "describe"]


def py_name(method):
    """The Python name of an RPC method: "query.centrality" -> "query_centrality"."""
    return method.replace(".", "_")


def _param_names(entry):
    """Option names of a server.methods item: "params" (a list of names),
    or the keys / names of an "options" schema."""
    opts = entry.get("options")
    if isinstance(opts, dict):
        return list(opts)
    if isinstance(opts, list):
        names = [o.get("name") if isinstance(o, dict) else o for o in opts]
        return [n for n in names if isinstance(n, str)]
    params = entry.get("params")
    return [p for p in params if isinstance(p, str)] if isinstance(params, list) else []


def describe(method, entry):
    """The docstring of an RPC method from its server.methods item."""
    lines = [entry.get("description") or "The %s method." % method, ""]
    params = _param_names(entry)
    lines.append("RPC method %r; options: %s." % (method, ", ".join(params) if params else "none"))
    for o in entry.get("options") or ():
        if not isinstance(o, dict) or "name" not in o:
            continue
        facts = [str(o.get("type", "any"))]
        if o.get("required"):
            facts.append("required")
        if o.get("choices"):
            facts.append("one of " + "|".join(str(c) for c in o["choices"]))
        if "min" in o or "max" in o:
            facts.append("%s..%s" % (o.get("min", ""), o.get("max", "")))
        if o.get("default") is not None:
            facts.append("default %s" % o["default"])
        lines.append("  %s: %s" % (o["name"], ", ".join(facts)))
    role = entry.get("role")
    if role:
        lines.append("Least role: %s.%s" % (role, " Runs as a cancellable job (deadline_ms, progress)."
                                            if entry.get("slow") else ""))
    lines.append("Returns the result; raises TwinnetError on an error reply.")
    return "\n".join(lines)


def _make(method, entry):
    def rpc(self, options=None, progress=None, **kw):
        return self.call(method, options, progress=progress, **kw)
    rpc.__name__ = py_name(method)
    rpc.__qualname__ = "Client." + rpc.__name__
    rpc.__doc__ = describe(method, entry)
    return rpc


class Methods:
    """Mixed into Client: the RPC methods as Python methods."""

    def method_table(self, refresh=False):
        """{name: item} of the connected server's server.methods (cached)."""
        cached = self.__dict__.get("_server_methods")
        if cached is None or refresh:
            res = self.call("server.methods")
            cached = {it["name"]: it for it in res.get("items", []) if isinstance(it, dict)}
            self.__dict__["_server_methods"] = cached
        return cached

    def method_params(self, method):
        """Option names of an RPC method (the table's, else the server's);
        None when neither knows it."""
        entry = _table.METHODS.get(method)
        if entry is None:
            entry = self.method_table().get(method)
        return None if entry is None else _param_names(entry)

    def __getattr__(self, name):
        # Only reached for names the class does not have: look the name up
        # among the server's methods (a method newer than _table.json).
        if name.startswith("_") or self.__dict__.get("_sock") is None:
            raise AttributeError(name)
        for method, entry in self.method_table().items():
            if py_name(method) == name:
                return types.MethodType(_make(method, entry), self)
        raise AttributeError("%s: no such RPC method on %s:%s" % (name, self.host, self.port))


for _m, _e in _table.METHODS.items():
    if py_name(_m) not in Methods.__dict__:        # never hide a helper above
        setattr(Methods, py_name(_m), _make(_m, _e))
