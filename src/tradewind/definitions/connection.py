"""``Connection``: how to reach an outside system (host, login, password, extra), kept outside DAG
files — in the environment (``AIRFLOW_CONN_<ID>`` as a URI or JSON) or the store
(``tradewind connections add``) — and ``BaseHook.get_connection`` to read one.

    >>> conn = Connection.from_uri("postgresql://app:s3cret@db.internal:5432/sales", conn_id="sales")
    >>> (conn.conn_type, conn.host, conn.port, conn.schema)
    ('postgres', 'db.internal', 5432, 'sales')
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit

from tradewind.definitions import secrets
from tradewind.errors import TradewindError

EXTRA_KEY = "__extra__"  # a URI query parameter holding the whole extra as JSON (Airflow's spelling)
FIELDS = ("conn_type", "description", "host", "login", "password", "schema", "port", "extra")


class ConnectionNotFound(TradewindError):
    """A conn_id that is defined nowhere (Airflow raises AirflowNotFoundException)."""

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id
        super().__init__(
            f"The conn_id `{conn_id}` isn't defined: add it with `tradewind connections add {conn_id} --conn-uri URI` "
            f"or the environment variable AIRFLOW_CONN_{conn_id.upper()}"
        )


def _normalise_type(conn_type: str | None) -> str | None:
    if conn_type == "postgresql":
        return "postgres"
    return conn_type.replace("-", "_") if conn_type else conn_type


class Connection:
    """One connection's fields; ``extra`` is JSON text, ``extra_dejson`` its parsed dict."""

    conn_id: str | None
    conn_type: str | None
    description: str | None
    host: str | None
    login: str | None
    password: str | None
    schema: str | None
    port: int | None
    extra: str | None

    def __init__(
        self,
        conn_id: str | None = None,
        conn_type: str | None = None,
        description: str | None = None,
        host: str | None = None,
        login: str | None = None,
        password: str | None = None,
        schema: str | None = None,
        port: int | None = None,
        extra: str | dict[str, Any] | None = None,
        uri: str | None = None,
    ) -> None:
        if uri is not None:
            if any(v is not None for v in (conn_type, host, login, password, schema, port, extra)):
                raise TradewindError(
                    f"Connection({conn_id!r}): pass either uri= or the separate fields (conn_type, host, ...), not both"
                )
            parsed = Connection.from_uri(uri, conn_id=conn_id)
            conn_type, host, login, password = parsed.conn_type, parsed.host, parsed.login, parsed.password
            schema, port, extra = parsed.schema, parsed.port, parsed.extra
        self.conn_id = conn_id
        self.conn_type = _normalise_type(conn_type)
        self.description = description
        self.host = host
        self.login = login
        self.password = password
        self.schema = schema
        self.port = int(port) if port not in (None, "") else None
        self.extra = json.dumps(extra) if isinstance(extra, dict) else extra

    # -- reading one
    @classmethod
    def get(cls, conn_id: str) -> Connection:
        """Connection ``conn_id`` from the environment or the store; its password (and the
        sensitive keys of its extra) are masked in task logs from then on."""
        found = secrets.connection_fields(conn_id)
        if found is None:
            raise ConnectionNotFound(conn_id)
        if isinstance(found, str):
            text = found.strip()
            conn = cls.from_json(text, conn_id) if text.startswith("{") else cls.from_uri(text, conn_id)
        else:
            conn = cls(conn_id=conn_id, **{k: found.get(k) for k in FIELDS})
        secrets.mask_secret(conn.password)
        secrets.mask_secret(conn.extra_dejson)
        return conn

    get_connection_from_secrets = get

    # -- parsing
    @classmethod
    def from_json(cls, value: str, conn_id: str | None = None) -> Connection:
        """``{"conn_type": "http", "host": "...", "extra": {...}}`` (the JSON form of AIRFLOW_CONN_*)."""
        try:
            fields = json.loads(value)
        except json.JSONDecodeError as exc:
            raise TradewindError(f"Connection {conn_id!r}: its JSON form is not valid JSON ({exc.msg})") from None
        if not isinstance(fields, dict):
            raise TradewindError(f"Connection {conn_id!r}: its JSON form must be an object of fields")
        unknown = sorted(set(fields) - set(FIELDS))
        if unknown:
            raise TradewindError(
                f"Connection {conn_id!r}: unknown field(s) {', '.join(unknown)} in its JSON form; "
                f"the fields are {', '.join(FIELDS)}"
            )
        port = fields.get("port")
        if port not in (None, ""):
            try:
                fields["port"] = int(port)
            except (TypeError, ValueError):
                raise TradewindError(f"Connection {conn_id!r}: port must be a whole number, not {port!r}") from None
        return cls(conn_id=conn_id, **fields)

    @classmethod
    def from_uri(cls, uri: str, conn_id: str | None = None) -> Connection:
        """``type://login:password@host:port/schema?key=value`` (values percent-encoded; the
        query becomes ``extra``, or ``__extra__=<JSON>`` holds it whole). A host with its own
        protocol is written ``type://protocol://host``."""
        if uri.count("://") > 2 or "://" not in uri:
            raise TradewindError(
                f"Connection {conn_id!r}: {uri!r} is not a connection URI (e.g. postgresql://user:pass@host:5432/db)"
            )
        conn_type, rest = uri.split("://", 1)
        protocol = None
        if "://" in rest:
            protocol, rest = rest.split("://", 1)
            if "@" in protocol or ":" in protocol:
                raise TradewindError(f"Connection {conn_id!r}: {uri!r} is not a valid connection URI")
        parts = urlsplit("//" + rest)
        try:
            port = parts.port
        except ValueError as exc:
            raise TradewindError(f"Connection {conn_id!r}: {exc} in {uri!r}") from None
        host = unquote(parts.hostname or "")
        if "/" in host:  # a host that is a path: keep its case and spelling
            host = unquote(parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0])
        if host and protocol:
            host = f"{protocol}://{host}"
        extra = None
        if parts.query:
            query = dict(parse_qsl(parts.query, keep_blank_values=True))
            extra = query[EXTRA_KEY] if EXTRA_KEY in query else json.dumps(query)
        return cls(
            conn_id=conn_id,
            conn_type=conn_type,
            host=host or None,
            schema=unquote(parts.path[1:]) if parts.path[1:] else None,
            login=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            port=port,
            extra=extra,
        )

    # -- showing
    @property
    def extra_dejson(self) -> dict[str, Any]:
        """``extra`` parsed (an empty dict if it is not a JSON object)."""
        if not self.extra:
            return {}
        try:
            parsed = json.loads(self.extra)
        except json.JSONDecodeError:
            return {}
        return parsed if isinstance(parsed, dict) else {}

    def get_extra_dejson(self) -> dict[str, Any]:
        return self.extra_dejson

    def get_uri(self) -> str:
        """The connection as one URI (``from_uri`` reads it back)."""
        uri = f"{(self.conn_type or '').replace('_', '-')}://"
        host = self.host or ""
        if "://" in host:
            protocol, bare = host.split("://", 1)
            if protocol != self.conn_type:
                uri += f"{protocol}://"
                host = bare
        auth = ""
        if self.login is not None:
            auth += quote(self.login, safe="")
        if self.password is not None:
            auth += ":" + quote(self.password, safe="")
        if auth:
            uri += auth + "@"
        uri += quote(host, safe="")
        if self.port:
            uri += f":{self.port}" if host or auth else f"@:{self.port}"
        if self.schema:
            uri += "/" + quote(self.schema, safe="")
        if self.extra:
            extra = self.extra_dejson
            flat = all(isinstance(v, str) for v in extra.values()) and extra
            query = urlencode(extra) if flat else urlencode({EXTRA_KEY: self.extra})
            uri += ("?" if self.schema else "/?") + query
        return uri

    def to_dict(self) -> dict[str, Any]:
        return {"conn_id": self.conn_id, **{name: getattr(self, name) for name in FIELDS}}

    def __repr__(self) -> str:
        return f"<Connection {self.conn_id} ({self.conn_type})>"


class BaseHook:
    """The part of Airflow's ``BaseHook`` DAG files use without a provider: ``get_connection``."""

    @classmethod
    def get_connection(cls, conn_id: str) -> Connection:
        return Connection.get(conn_id)


class ConnectionsInTemplates:
    """The ``conn`` of the template context: ``{{ conn.my_db.host }}``, ``{{ conn.get('my_db').login }}``."""

    def __getattr__(self, conn_id: str) -> Connection:
        if conn_id.startswith("__"):
            raise AttributeError(conn_id)
        return Connection.get(conn_id)

    def get(self, conn_id: str, default: Any = None) -> Any:
        try:
            return Connection.get(conn_id)
        except ConnectionNotFound:
            return default
