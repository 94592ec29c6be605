"""HTML bodies of email: sanitised when stored, shown in a sandboxed frame.

Received mail keeps its HTML part after `sanitise` (nh3, the Rust `ammonia` sanitiser): a safe
list of formatting tags and attributes; no script, style element, form, frame, object or
event-handler attribute; links only http(s)/mailto (opened in a new tab, `noopener noreferrer`);
images only http(s) or data:, inline styles limited to harmless properties. The result is
served on its own URL (`mail/<id>/html/`) into an `<iframe sandbox>` with its own strict
Content-Security-Policy: no script at all, nothing loaded from elsewhere (remote images and CSS
`url()`s stay blocked until the reader asks with `?images=1`), no forms, no framing by other
sites. Sanitising and the CSP each stop a script on their own.
"""

from __future__ import annotations

import nh3

MAX_HTML = 1_000_000  # characters kept (a larger body keeps its text part only)

TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "center", "code", "col", "colgroup",
    "dd", "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "ins", "li", "ol", "p", "pre", "q", "s", "small", "span", "strike", "strong",
    "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
COMMON = {"style", "title", "align", "dir", "lang"}
ATTRIBUTES = {
    "*": COMMON,
    "a": {"href"},
    "img": {"src", "alt", "width", "height"},
    "td": {"colspan", "rowspan", "valign", "width", "bgcolor"},
    "th": {"colspan", "rowspan", "valign", "width", "bgcolor", "scope"},
    "table": {"width", "cellpadding", "cellspacing", "border", "bgcolor"},
    "font": {"color", "face", "size"},
    "col": {"span", "width"},
    "ol": {"start", "type"},
}
STYLE_PROPERTIES = {
    "color", "background-color", "font-family", "font-size", "font-style", "font-weight",
    "text-align", "text-decoration", "line-height", "margin", "margin-top", "margin-bottom",
    "margin-left", "margin-right", "padding", "padding-top", "padding-bottom", "padding-left",
    "padding-right", "border", "border-collapse", "width", "max-width", "height",
    "vertical-align", "white-space",
}  # fmt: skip
SCHEMES = {"http", "https", "mailto", "data"}


def _attribute(tag: str, name: str, value: str) -> str | None:
    """data: only for images (inline pictures), never for links."""
    if name == "href" and value.strip().lower().startswith("data:"):
        return None
    if name == "src" and not value.strip().lower().startswith(("http:", "https:", "data:image/")):
        return None
    return value


def sanitise(html: str) -> str:
    """The HTML body made safe to store and show (an empty string for an empty body)."""
    if not html or not html.strip():
        return ""
    cleaned = nh3.clean(
        html[:MAX_HTML].replace("\x00", ""),
        tags=TAGS,
        clean_content_tags={"script", "style", "title", "head", "template", "noscript"},
        attributes=ATTRIBUTES,
        attribute_filter=_attribute,
        link_rel="noopener noreferrer nofollow",
        set_tag_attribute_values={"a": {"target": "_blank"}},
        url_schemes=SCHEMES,
        filter_style_properties=STYLE_PROPERTIES,
    )
    return cleaned.strip()


def frame_policy(*, images: bool) -> dict[str, list[str]]:
    """The Content-Security-Policy of the frame that shows an HTML body."""
    return {
        "default-src": ["'none'"],
        "img-src": ["data:", "https:", "http:"] if images else ["data:"],
        "style-src": ["'unsafe-inline'"],
        "style-src-attr": ["'unsafe-inline'"],
        "font-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'none'"],
        "frame-ancestors": ["'self'"],
        "sandbox": ["allow-popups", "allow-popups-to-escape-sandbox"],
    }


def text_to_html(text: str) -> str:
    """A written message as simple HTML: its paragraphs and line breaks, addresses and links
    made clickable; everything escaped first (then sanitised like received mail)."""
    from django.utils.html import linebreaks, urlize

    return sanitise(linebreaks(urlize(text, nofollow=True, autoescape=True), autoescape=False))
