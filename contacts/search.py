"""How contacts and companies are made searchable, and how a query is turned into SQL.

One normalisation serves both sides, so the stored text and the query always agree: lower case,
accents removed (é → e), full-width letters folded to ASCII. Runs of Chinese, Japanese or Korean
characters also yield their two-character pieces ("王小明" → "王小 小明") and each character on its
own ("王 小 明"), because trigram indexes cannot index a one- or two-character name and full-text
search matches whole tokens only: a search for a family name (张) or a given name (小明) is then
one exact token looked up in the GIN index.

Phone numbers are stored as digits, and a query that looks like a phone number is matched on its
digits, so "138 1234" finds "+86 138-1234-5678". Not through the trigrams: every number is made
of the same thousand digit trigrams, whose posting lists grow with the table (106 ms for a
seven-digit fragment at ten million contacts). A number's digits are indexed instead as all its
suffixes of three digits or more (`DigitSuffixes`, GIN): a fragment anywhere in it is the start
of one suffix, a prefix lookup in the index that reads only the keys starting with it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from django.contrib.postgres.search import SearchQuery, SearchVectorField
from django.db.models import BooleanField, Func, Model, Q
from django.db.models.expressions import Combinable

CJK_CLASS = r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]"
_CJK = re.compile(CJK_CLASS + "+")
_CJK_CHAR = re.compile(CJK_CLASS)
_NOT_DIGIT = re.compile(r"[^0-9]")
_WORD = re.compile(r"[\w@.+\-']+")
_TSQUERY_UNSAFE = re.compile(r"[^\w@.\-]+")
MIN_FRAGMENT = 3  # trigram indexes need three characters to narrow a search
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Two-character Chinese family names, so "欧阳娜娜" splits as 欧阳 + 娜娜 (imports) and a search
# for 欧阳 lists the 欧阳 family first (`sort_prefix`).
COMPOUND_SURNAMES = frozenset([
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容",
    "长孙", "宇文", "司徒", "令狐", "夏侯", "轩辕", "端木", "独孤",
])  # fmt: skip
# A whole address: found by its full-text token alone. Its trigram arm would read the posting
# lists of trigrams that nearly every row has ("exa", ".co", "com"): 48 ms at a million rows,
# against 0.1 ms for the token.
_EMAIL = re.compile(r"[\w.\-]+@[\w\-]+(\.[\w\-]+)+")


def normalize(text: str) -> str:
    """Lower case, no accents, full-width folded; CJK characters kept as they are."""
    if text.isascii():  # most names and every address: nothing to fold, ~10x faster
        return " ".join(text.lower().split())
    folded = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().split())


def digits_of(text: str) -> str:
    """The ASCII digits of `text`, in order."""
    return _NOT_DIGIT.sub("", text)


def cjk_bigrams(text: str) -> list[str]:
    pieces: list[str] = []
    for run in _CJK.findall(text):
        if len(run) == 1:
            pieces.append(run)
        pieces.extend(run[i : i + 2] for i in range(len(run) - 1))
    return pieces


def build_search_text(parts: Iterable[str], phones: Iterable[str] = ()) -> str:
    """The stored `search_text` for a record: its words, CJK bigrams and phone digits."""
    text = normalize(" ".join(dict.fromkeys(p for p in parts if p)))
    extra = cjk_bigrams(text) + [d for d in (digits_of(p) for p in phones) if d]
    return with_cjk_characters(" ".join([text, *dict.fromkeys(extra)]).strip())


def with_cjk_characters(search_text: str) -> str:
    """`search_text` followed by each CJK character in it that is not yet a token of its own,
    once, in order of first appearance ("张伟 x" → "张伟 x 张 伟").

    Applied to a stored value it gives what build_search_text now gives for the same record, and
    a second time it changes nothing: migration 0009 runs the same rule in SQL over existing rows.
    """
    if search_text.isascii():
        return search_text
    tokens = set(search_text.split(" "))
    chars = [ch for ch in dict.fromkeys(_CJK_CHAR.findall(search_text)) if ch not in tokens]
    return " ".join([search_text, *chars]) if chars else search_text


class DigitSuffixes(Func):
    """`crm_digit_suffixes(text)` (contacts' migration 0020): the tsvector of every suffix of
    the text's digits three digits long or more ("+86 138-1234" → 861381234, 61381234, …,
    234). Indexed with GIN on a phone column, so `digits_match` finds a fragment anywhere."""

    function = "crm_digit_suffixes"
    output_field = SearchVectorField()


class _DigitsMatch(Func):
    template = "%(expressions)s"
    arg_joiner = " @@ "
    output_field = BooleanField()


def digits_match(column: str | Combinable, digits: str) -> _DigitsMatch:
    """A condition true of rows whose `column` holds `digits` (three or more, in order) anywhere
    among its digits: one prefix lookup (`digits:*`) in the column's `DigitSuffixes` index."""
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError("ASCII digits only")
    query = SearchQuery(f"{digits}:*", config="simple", search_type="raw")
    return _DigitsMatch(DigitSuffixes(column), query)


def phone_condition(model: type[Model], digits: str) -> Q:
    """What a phone-number search matches on `model`: its own `phone_match(digits)` (an index
    of digit suffixes) where it has one, else the digits anywhere in its search text."""
    match = getattr(model, "phone_match", None)
    return match(digits) if match is not None else Q(search_text__contains=digits)


def looks_like_phone(query: str) -> bool:
    digits = digits_of(query)
    return len(digits) >= MIN_FRAGMENT and len(digits) >= len(query.replace(" ", "")) * 0.6


def is_phone_query(query: str) -> bool:
    """Whether `search_arms(query, ...)` reads a phone search (`phone_condition`)."""
    return looks_like_phone(normalize(query)[:100])


def sort_prefix(query: str) -> str | None:
    """The start of a contact's `sort_name` ("family given", normalised) that a search for
    `query` names, or None: one word of letters ("nguy", "Smi", "ngô"), one Chinese character,
    a two-character family name (李, 欧阳) or a Chinese full name typed together, read as its
    family name and the start of the given name (张伟 → "张 伟", 欧阳娜娜 → "欧阳 娜娜": the sort
    key's family, space, given name; `contacts.services.contact_names`). The list shows those
    contacts first (`crm.lists.NameFirst`); several words, digits or an address keep the plain
    name order."""
    text = normalize(query)[:100]
    if not text or not text.isalpha():
        return None
    if not _HAN.search(text) or len(text) == 1 or text in COMPOUND_SURNAMES:
        return text
    if not all(_HAN.fullmatch(ch) for ch in text):  # "张abc": no name is written so
        return None
    family = 2 if text[:2] in COMPOUND_SURNAMES and len(text) > 2 else 1
    return f"{text[:family]} {text[family:]}"


def company_sort_prefix(query: str) -> str | None:
    """The start of a company's name, lower-cased (its list's sort key: `contacts.lists`),
    that a search for `query` names, or None: words of a name ("acme", "Acme Tr", "华为"),
    not an address, a website or a phone number. The list shows those companies first."""
    text = " ".join(query.lower().split())[:100]
    if not text or looks_like_phone(text) or any(ch in text for ch in "@/:"):
        return None
    return text


_PLAIN_WORD = re.compile(r"[a-z0-9]{3,}")


def walk_condition(query: str) -> Q | None:
    """A condition true of every record `search_condition(query)` matches and cheap to test
    per row, for a walk along another index that tests each row (`crm.lists.NameFirst`'s
    `walk_filter`), or None. For one plain word of three letters or digits or more, its
    trigram arm (`search_text LIKE '%word%'`) holds whenever its full-text arm (`word:*`, a
    token of the search text starting with it) does, so ANDed first it decides most rows
    without the tsvector; anything else (several words, Chinese, an address): None."""
    text = normalize(query)[:100]
    if not _PLAIN_WORD.fullmatch(text) or looks_like_phone(text):
        return None
    return Q(search_text__contains=text)


def search_condition(query: str, model: type[Model]) -> Q | None:
    """A filter matching `query` in `search_text` / `search_vector`, or None for an empty query.

    Full-text matches every word as a prefix in any order ("smi joh" finds John Smith); the trigram
    arm matches a fragment anywhere ("ohn sm", "@acme", a phone fragment). Both arms use GIN
    indexes, so PostgreSQL combines them with a BitmapOr instead of scanning the table.
    """
    condition = Q()
    for arm in search_arms(query, model):
        condition |= arm
    return condition or None


def search_arms(query: str, model: type[Model]) -> list[Q]:
    """The alternatives of `search_condition(query, model)`, each served by one GIN index (full
    text, trigrams, a phone's digit suffixes): none for an empty query. `contacts.scope_led`
    pairs each with the user's scope."""
    text = normalize(query)[:100]
    if not text:
        return []
    if looks_like_phone(text):
        return [phone_condition(model, digits_of(text))]
    tokens: list[str] = []
    for word in _WORD.findall(text):
        if _CJK.fullmatch(word):
            tokens.extend(cjk_bigrams(word))
            continue
        safe = _TSQUERY_UNSAFE.sub("", word).strip(".-")
        if safe:
            tokens.append(f"{safe}:*")
    # Chinese text inside a word ("张伟abc") is split out as well.
    for run in _CJK.findall(text):
        if not any(run in t for t in tokens):
            tokens.extend(cjk_bigrams(run))
    arms = []
    if tokens:
        tsquery = " & ".join(dict.fromkeys(t.replace("'", "") for t in tokens))
        arms.append(Q(search_vector=SearchQuery(tsquery, config="simple", search_type="raw")))
    if len(text) >= MIN_FRAGMENT and not _CJK.search(text) and not _EMAIL.fullmatch(text):
        arms.append(Q(search_text__contains=text))
    return arms
