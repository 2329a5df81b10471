"""Notes are written in Markdown and shown as HTML that cannot run: nh3 keeps formatting and links only."""

import functools

import markdown
import nh3

TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li", "a", "h1", "h2", "h3", "h4",
    "hr", "del", "sup", "sub",
}  # fmt: skip
INLINE_TAGS = {"strong", "em", "code", "a", "del", "sup", "sub"}


def render_markdown(body: str) -> str:
    html = markdown.markdown(body, extensions=["fenced_code", "sane_lists"], output_format="html")
    return _clean(html, TAGS)


@functools.lru_cache(maxsize=4096)
def render_inline_markdown(line: str) -> str:
    """
    One line (a one-liner in a list row): emphasis, code and links, no paragraphs or blocks. Rendered when
    shown (the dashboard's activity shows 20, at about 1 ms each), so remembered per process: the result
    depends on the text alone.
    """
    html = markdown.markdown(line, output_format="html")
    return _clean(html, INLINE_TAGS)


def _clean(html: str, tags: set[str]) -> str:
    return nh3.clean(
        html,
        tags=tags,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    ).strip()
