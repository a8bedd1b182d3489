"""Paths that match no API route fall through to Reflex, which answers 404/405 in plain text,
and the body-size limiter answers 413 in plain text. This middleware turns those answers into
the documented JSON error shape, except under the UI prefix and the checkout pages, where a
page for a person is right."""

from __future__ import annotations

import json

from starlette.routing import Match, Router
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_MESSAGES = {404: "Resource not found", 405: "Method not allowed", 413: "Request body too large"}
# The checkout pages under /pay/ are for people too: their own HTML answers (booking not found,
# gateway down) must reach the browser as pages, not be swapped for the API's JSON.
_UI_PREFIXES = ("/app", "/_event", "/_upload", "/pay/")


class JsonFallbackErrors:
    def __init__(self, app: ASGIApp, router: Router) -> None:
        self.app = app
        self.router = router

    def _status_for(self, scope: Scope, status: int) -> int:
        """The Reflex mount catches every path, so a known path with the wrong method reaches
        it as a 404; the API routes tell us it is really a 405."""
        if status == 404 and any(
            route.matches(scope)[0] == Match.PARTIAL for route in self.router.routes
        ):
            return 405
        return status

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_UI_PREFIXES):
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_json_errors(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and message["status"] in _MESSAGES:
                headers = dict(message.get("headers", []))
                if not headers.get(b"content-type", b"").startswith(b"application/json"):
                    replaced = True
                    status = self._status_for(scope, message["status"])
                    body = json.dumps({"error": _MESSAGES[status]}).encode()
                    await send({"type": "http.response.start", "status": status,
                                "headers": [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(body)).encode())]})
                    await send({"type": "http.response.body", "body": body})
                    return
            if replaced:
                return  # drop the plain-text body we already replaced
            await send(message)

        await self.app(scope, receive, send_json_errors)
