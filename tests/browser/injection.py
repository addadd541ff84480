"""XSS payloads, and a check that a page made nothing of them."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Page

PAYLOADS = [
    line
    for line in (Path(__file__).parent / "xss_payloads.txt").read_text("utf-8").split("\n")
    if line
]

# Anything the page could have been tricked into creating, or into running.
INJECTION_CHECK = """() => {
  const handlers = [...document.querySelectorAll("*")].flatMap((el) =>
    [...el.attributes].filter((a) => /^on/i.test(a.name)).map((a) => `${el.tagName} ${a.name}`));
  const foreign = [...document.querySelectorAll(
    "iframe, frame, frameset, object, embed, applet, svg, math, base, template, " +
    "form:not(.feedback-comment), " +
    "meta[http-equiv], link:not([rel=stylesheet]):not([rel=icon]), style, video, source, " +
    "marquee, portal, x-foo, details, dialog, xmp, plaintext, listing, isindex, keygen, " +
    "bgsound, a[href]")].map(
      (el) => el.tagName);
  const images = [...document.images].map((img) => img.getAttribute("src") || "").filter(
    (src) => !/^(data:image\\/|https:)/i.test(src));
  const media = [...document.querySelectorAll("audio")].map((a) => a.getAttribute("src") || "")
    .filter((src) => src && !/^(data:audio\\/|https:)/i.test(src));
  return {
    xss: window.__xss ?? null,
    scripts: document.scripts.length,
    handlers, foreign, images, media,
  };
}"""


async def assert_nothing_injected(page: Page) -> None:
    """No payload ran or became markup: one script (the page's own), no handlers,
    no foreign elements, no image or audio from an unvetted URL."""
    result = await page.evaluate(INJECTION_CHECK)
    assert result == {
        "xss": None,
        "scripts": 1,
        "handlers": [],
        "foreign": [],
        "images": [],
        "media": [],
    }
