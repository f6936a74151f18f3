"""A write sent to a route's path with a trailing slash is answered, not redirected.

Starlette answers a path that matches no route, but would without (or with) its final slash,
with a ``307 Temporary Redirect`` there (``redirect_slashes``). For a read that is harmless. For
a write it is not: RFC 9110 §15.4.8 has the client repeat the request *with its body* at the new
location, and many do not do it by themselves (httpx and Java's ``HttpClient`` follow no
redirect by default, curl only with ``-L``, interface engines commonly not on a POST), so the
message is not delivered and the sender sees a 307 with no body instead of an answer. Those that
follow send the whole payload again to a ``Location`` built from the request as the server saw
it: ``http://`` behind a TLS-terminating proxy, where clients drop the ``Authorization`` header.

:class:`AcceptTrailingSlash` answers such a write in place: a POST, PUT, PATCH or DELETE whose
path matches no route as sent but matches one without its final slash is routed as that path.
Reads keep the redirect. No route is added, so the OpenAPI document has one operation per path.
"""

from __future__ import annotations

from starlette.routing import Match, Router
from starlette.types import ASGIApp, Receive, Scope, Send

#: Methods whose redirect would lose nothing: no body to send again.
READS = frozenset({"GET", "HEAD", "OPTIONS"})


class AcceptTrailingSlash:
    """Pure ASGI middleware: route a write to ``/path/`` as ``/path`` when only that exists."""

    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] not in READS:
            scope = self._without_slash(scope)
        await self.app(scope, receive, send)

    def _without_slash(self, scope: Scope) -> Scope:
        path: str = scope["path"]
        if path == "/" or not path.endswith("/") or self._routed(scope):
            return scope
        stripped = dict(scope, path=path.rstrip("/") or "/")
        if "raw_path" in scope and scope["raw_path"] is not None:
            stripped["raw_path"] = scope["raw_path"].rstrip(b"/") or b"/"
        return stripped if self._routed(stripped) else scope

    def _routed(self, scope: Scope) -> bool:
        """Whether a route matches the path, for this method or another (then a 405, as the
        redirect would have led to)."""
        return any(route.matches(scope)[0] is not Match.NONE for route in self.router.routes)
