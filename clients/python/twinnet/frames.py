"""twinnet.frames -- results as pandas DataFrames, when pandas is there.

pandas is optional: nothing else in the package needs it, and asking for a
DataFrame without it raises ImportError saying how to get it (Debian:
``apt-get install python3-pandas``).
"""

__all__ = ["Result", "to_dataframe"]


def to_dataframe(data, key="items"):
    """A pandas DataFrame of a result's rows.

    data: a result map (its ``key`` list is taken, "items" by default; a
    map without one becomes a single row), a list of maps, or any iterable
    of maps such as ``Client.iter_pairs()``. Nested maps become dotted
    columns (node.neighbors: "node.id", "pair.since").
    """
    try:
        import pandas
    except ImportError:
        raise ImportError("to_dataframe needs pandas; on Debian: apt-get install python3-pandas") from None
    if isinstance(data, dict):
        rows = data.get(key) if isinstance(data.get(key), list) else [data]
    else:
        rows = list(data)
    return pandas.json_normalize(rows)


class Result(dict):
    """A result map (a plain dict) that can also become a DataFrame."""

    def to_dataframe(self, key="items"):
        """The rows under ``key`` ("items" by default) as a DataFrame
        (see twinnet.to_dataframe)."""
        return to_dataframe(self, key)
