"""Draw the site's icons and its default sharing image into assets/ (run once; outputs are committed).

    .venv/bin/python scripts/make_brand_assets.py

The mark is a teal leaf, the same as the header's: favicon.ico (16-64 px), logo.png (512 px,
also the apple-touch icon), logo.svg, and og-image.png (1200x630, what a shared link to a page
without its own cover picture unfurls with).
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

ASSETS = Path(__file__).resolve().parent.parent / "assets"
TEAL = (11, 93, 85)
MINT = (246, 251, 250)
FONT = Path(__file__).resolve().parent.parent / "crm_booking" / "fonts" / "DejaVuSans-Bold.ttf"

LOGO_SVG = """<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64" role="img"
  aria-label="Wellness Bookings">
  <rect width="64" height="64" rx="14" fill="#0b5d55"/>
  <path d="M16 48 C16 26 30 14 50 14 C50 34 38 48 16 48 Z" fill="#f6fbfa"/>
  <path d="M18 46 L44 20" stroke="#0b5d55" stroke-width="3" stroke-linecap="round"/>
</svg>
"""


def leaf(size: int) -> Image.Image:
    """The mark at `size` px, drawn 4x larger and scaled down for smooth edges."""
    big = size * 4
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 14 // 64, fill=TEAL)
    s = big / 64
    # The leaf: two arcs approximated by an ellipse rotated 45 degrees.
    shape = Image.new("L", (big, big), 0)
    ImageDraw.Draw(shape).ellipse((14 * s, 22 * s, 50 * s, 42 * s), fill=255)
    shape = shape.rotate(45, resample=Image.Resampling.BICUBIC, center=(32 * s, 32 * s))
    image.paste(Image.new("RGBA", (big, big), (*MINT, 255)), (0, 0), shape)
    draw.line((19 * s, 45 * s, 45 * s, 19 * s), fill=TEAL, width=max(int(3 * s), 1))
    return image.resize((size, size), Image.Resampling.LANCZOS)


def sharing_image() -> Image.Image:
    image = Image.new("RGB", (1200, 630), MINT)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 560, 1200, 630), fill=TEAL)
    image.paste(leaf(220), (120, 170), leaf(220))
    title = ImageFont.truetype(str(FONT), 64)
    tagline = ImageFont.truetype(str(FONT.with_name("DejaVuSans.ttf")), 38)
    draw.text((390, 205), "Wellness Bookings", font=title, fill=TEAL)
    draw.text((392, 310), "Yoga, breathwork, sound baths", font=tagline, fill=(28, 32, 36))
    draw.text((392, 362), "and retreats near you and online", font=tagline, fill=(28, 32, 36))
    return image


def main() -> None:
    ASSETS.mkdir(exist_ok=True)
    leaf(64).save(ASSETS / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])
    leaf(512).save(ASSETS / "logo.png", optimize=True)
    (ASSETS / "logo.svg").write_text(LOGO_SVG, encoding="utf-8")
    sharing_image().save(ASSETS / "og-image.png", optimize=True)


if __name__ == "__main__":
    main()
