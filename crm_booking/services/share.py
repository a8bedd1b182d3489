"""What a shared event link unfurls into: Open Graph and Twitter card tags.

Reflex renders pages in the browser, and crawlers (WhatsApp, Slack, Facebook, X, LinkedIn)
do not run JavaScript. So the server writes these tags into the HTML of the event page itself
(`crm_booking/api/share.py`): the crawler and the person get the same page and address.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from crm_booking.clock import as_utc
from crm_booking.errors import DomainError
from crm_booking.services import events, media
from crm_booking.services.views import absolute_url
from crm_booking.settings import get_settings

SITE_NAME = "Wellness Bookings"
DEFAULT_IMAGE = "/app/og-image.png"
DEFAULT_IMAGE_ALT = "Wellness Bookings: a teal leaf on a calm background"
DESCRIPTION_LIMIT = 200


@dataclass(frozen=True)
class ShareCard:
    title: str
    description: str
    url: str
    image: str
    image_alt: str
    image_width: int
    image_height: int


def _summary(text: str) -> str:
    flat = re.sub(r"\s+", " ", text).strip()
    if len(flat) <= DESCRIPTION_LIMIT:
        return flat
    return flat[: DESCRIPTION_LIMIT - 1].rsplit(" ", 1)[0] + "…"


def event_card(event_id: int) -> ShareCard | None:
    try:
        row = events.get_event(event_id)
    except DomainError:
        return None
    event = row.event
    local = as_utc(event.start_at).astimezone(ZoneInfo(event.timezone))
    when = local.strftime("%a %d %b %Y, %I:%M %p %Z").replace(" 0", " ")
    place = event.location or "Online"
    description = _summary(f"{when} · {place} · {event.description}".rstrip(" ·"))
    cover = media.cover_url(event.cover_image)
    return ShareCard(
        title=event.title,
        description=description,
        url=f"{get_settings().PUBLIC_BASE_URL.rstrip('/')}/app/events/{event.id}",
        image=absolute_url(cover or DEFAULT_IMAGE) or "",
        image_alt=(event.cover_image_alt or event.title) if cover else DEFAULT_IMAGE_ALT,
        image_width=media.LARGE[0],
        image_height=media.LARGE[1],
    )


def head_tags(card: ShareCard) -> str:
    """The <head> additions, every value HTML-escaped (titles come from facilitators)."""
    e = html.escape
    properties = {
        "og:type": "website", "og:site_name": SITE_NAME, "og:title": card.title,
        "og:description": card.description, "og:url": card.url, "og:image": card.image,
        "og:image:alt": card.image_alt, "og:image:width": str(card.image_width),
        "og:image:height": str(card.image_height),
    }
    names = {"twitter:card": "summary_large_image", "twitter:title": card.title,
             "twitter:description": card.description, "twitter:image": card.image,
             "description": card.description}
    tags = [f'<meta property="{key}" content="{e(value)}"/>' for key, value in properties.items()]
    tags += [f'<meta name="{key}" content="{e(value)}"/>' for key, value in names.items()]
    tags.append(f'<link rel="canonical" href="{e(card.url)}"/>')
    return "".join(tags)
