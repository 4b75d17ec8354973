"""twinnet.pages -- iterating over paged lists and whole lists as tables.

node.list, pair.list and audit.list answer a page at a time ({"total",
"items"} with "limit" and "offset"); these helpers walk every page so that
callers see one stream of records.
"""

from .frames import to_dataframe

__all__ = ["Pages"]


class Pages:
    """Mixed into Client: iter_list / iter_nodes / iter_pairs / dataframe."""

    def iter_list(self, method, page_size=1000, consistent=True, **options):
        """Yield every item of a paged list method, page by page.

        options are the method's own (filters); "limit" and "offset" are
        set here. With consistent (the default) a change of the graph
        between two pages (another epoch) raises TwinnetError("conflict"),
        since the pages would then mix two states of the graph.
        """
        from .client import TwinnetError
        offset, epoch = 0, None
        while True:
            res = self.call(method, dict(options, limit=page_size, offset=offset))
            items = res.get("items") or []
            if consistent and "epoch" in res:
                if epoch is not None and res["epoch"] != epoch:
                    raise TwinnetError("conflict", "the graph changed while paging through %s "
                                       "(epoch %s, then %s)" % (method, epoch, res["epoch"]))
                epoch = res["epoch"]
            for it in items:
                yield it
            offset += len(items)
            if not items or offset >= res.get("total", 0):
                return

    def iter_nodes(self, page_size=1000, **filters):
        """Every node (node.list; filters: kind, country), in id order."""
        return self.iter_list("node.list", page_size, **filters)

    def iter_pairs(self, page_size=1000, **filters):
        """Every pair (pair.list; filters: unit, country, region,
        since_from, since_to, as_of, min_confidence, kind)."""
        return self.iter_list("pair.list", page_size, **filters)

    def dataframe(self, method, **options):
        """The rows of one call as a pandas DataFrame: every page of a paged
        list method (one that takes "limit" and "offset"), else the call's
        "items"."""
        params = self.method_params(method)
        if params is not None and "offset" in params and "limit" in params and "offset" not in options:
            return to_dataframe(self.iter_list(method, **options))
        return to_dataframe(self.call(method, options))
