"""Article text: safe HTML from Markdown, and search terms that work for Chinese."""

from __future__ import annotations

import functools
import logging
import re
import threading
from typing import Any

import markdown  # type: ignore[import-untyped]
import nh3

# What an article body may contain after rendering. nh3 (ammonia) drops every other tag,
# every on* handler and style attribute, and links whose scheme is not listed (javascript:).
ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h2", "h3", "h4",
    "h5", "h6", "hr", "img", "kbd", "li", "ol", "p", "pre", "strong", "sub", "sup", "table",
    "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title"},
    "th": {"align"},
    "td": {"align"},
    "code": {"class"},
}
URL_SCHEMES = {"http", "https", "mailto"}


_local = threading.local()


def _markdown() -> Any:
    """This thread's Markdown converter: made once (its extensions load in ~0.1 ms, a third of
    a short article's rendering), reset before each use."""
    converter = getattr(_local, "markdown", None)
    if converter is None:
        converter = _local.markdown = markdown.Markdown(
            extensions=["tables", "fenced_code", "sane_lists"]
        )
    return converter.reset()


def render_markdown(body: str) -> str:
    """Markdown to HTML that is safe to show to anyone: raw HTML in the source is sanitised,
    not trusted."""
    html = _markdown().convert(body)
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


# CJK Unified Ideographs (+ extension A) and CJK punctuation-free runs.
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_MARKUP = re.compile(r"[`*_#>\[\]()!|~-]+")


def cjk_bigrams(text: str) -> list[str]:
    """Every overlapping pair of Chinese characters, plus lone characters: "客户管理" gives
    客户 户管 管理. PostgreSQL's `simple` parser keeps a Chinese run as one long word, so a
    query for a word inside it would find nothing; bigrams make every two-character word
    (most Chinese words) a token."""
    terms: list[str] = []
    for run in _CJK_RUN.findall(text):
        if len(run) == 1:
            terms.append(run)
        else:
            terms.extend(run[i : i + 2] for i in range(len(run) - 1))
    return terms


def _jieba() -> Any:
    import jieba  # type: ignore[import-untyped]

    if not jieba.dt.initialized:
        jieba.setLogLevel(logging.WARNING)
    return jieba


def warm_up() -> None:
    """Load jieba's dictionary now (1-2 s), so the first Chinese search or article save of this
    process does not wait for it (`kb.apps`: gunicorn workers, Celery worker processes)."""
    _jieba().initialize()


def warm_up_signal(**_kwargs: object) -> None:
    """`worker_process_init` receiver (each Celery worker process)."""
    warm_up()


def dictionary_loaded() -> bool:
    return bool(_jieba().dt.initialized)


def jieba_words(text: str) -> list[str]:
    """Chinese runs cut into words by jieba's search mode (words and their dictionary
    sub-words: 联系人 gives 联系 联系人). It ranked better than bigrams on our corpus
    (tests/kb/test_search_quality.py, bench/results/): a bigram query needs every pair of
    neighbouring characters, so "重复客户" missed an article saying 重复 … 客户. The dictionary
    loads once per process (about a second, from jieba's cache file)."""
    words: list[str] = []
    for run in _CJK_RUN.findall(text):
        words.extend(_cut(run))
    return words


@functools.lru_cache(maxsize=4096)
def _cut(run: str) -> tuple[str, ...]:
    """One Chinese run's words (runs recur: headings, set phrases, a query typed again)."""
    return tuple(w for w in _jieba().cut_for_search(run) if w.strip())


# How Chinese text becomes index and query terms: "jieba" (used) or "bigram" (measured).
SEGMENTER = "jieba"
SEGMENTERS = {"bigram": cjk_bigrams, "jieba": jieba_words}


def cjk_terms(text: str, segmenter: str = SEGMENTER) -> list[str]:
    return SEGMENTERS[segmenter](text)


def search_terms(text: str, segmenter: str = SEGMENTER) -> str:
    """The text to index: its words (Markdown punctuation removed) with Chinese runs replaced
    by their words (jieba)."""
    plain = _MARKUP.sub(" ", text)
    latin = _CJK_RUN.sub(" ", plain)
    return " ".join([latin.strip(), *cjk_terms(plain, segmenter)]).strip()
