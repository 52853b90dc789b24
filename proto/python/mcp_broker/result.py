"""Results with attribute access on their JSON member names.

Every JSON object read from the broker becomes a ``Result``: a ``dict``
whose members can also be read as attributes, recursively, like the MCP
SDK's pydantic models with their camelCase field names
(``result.content[0].text``, ``result.tools[0].inputSchema``).
"""

SESSION_META = "mcp-broker/session"


class Result(dict):
    """A JSON object: a dict whose members are also attributes.

    A member that is absent reads as None, as the SDK's optional fields do.
    Members whose names are dict methods (``items``, ``keys``, ``get``, …)
    or start with ``_`` are read with ``result["name"]``. ``meta`` is the
    ``_meta`` member and ``meta_session`` the broker's
    ``_meta["mcp-broker/session"]`` (``id``, ``generation``).
    """

    __slots__ = ()

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return self.get(name)

    def __setattr__(self, name, value):
        self[name] = value

    def __delattr__(self, name):
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self):
        return list(dict.__dir__(self)) + [k for k in self
                                           if isinstance(k, str) and
                                           k.isidentifier()]

    @property
    def meta(self):
        """The ``_meta`` member, or None."""
        return self.get("_meta")

    @property
    def meta_session(self):
        """``_meta["mcp-broker/session"]``: ``{id, generation}``, or None."""
        meta = self.get("_meta")
        if isinstance(meta, dict):
            return meta.get(SESSION_META)
        return None


def to_result(value):
    """value with every dict in it made a Result (lists copied)."""
    if isinstance(value, dict):
        return Result((k, to_result(v)) for k, v in value.items())
    if isinstance(value, list):
        return [to_result(v) for v in value]
    return value
