"""The camera ticket scanner: assets/ticket_scanner.jsx (html5-qrcode in a small React
component), wrapped for Reflex. Client-side only: html5-qrcode needs the browser's camera and
canvas, so it must not be rendered on the server (NoSSRComponent)."""

from __future__ import annotations

from typing import Any

import reflex as rx
from reflex.event import passthrough_event_spec

HTML5_QRCODE = "html5-qrcode@2.3.8"


class TicketScanner(rx.NoSSRComponent):
    library = "$/public/ticket_scanner.jsx"
    tag = "TicketScanner"
    lib_dependencies: list[str] = [HTML5_QRCODE]

    # Where html5-qrcode draws the camera preview.
    view_id: rx.Var[str]

    @classmethod
    def get_event_triggers(cls) -> dict[str, Any]:
        """on_scan gets each decoded text (a ticket code, or whatever else the QR held).
        Declared here rather than as an `EventHandler[...]` field, which mypy cannot read."""
        return {**super().get_event_triggers(), "on_scan": passthrough_event_spec(str)}


ticket_scanner = TicketScanner.create
