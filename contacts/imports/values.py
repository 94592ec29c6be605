"""Values of other systems mapped to ours: the guesses the mapping step starts from, dates, owners.

A HubSpot export says "Lead", "MQL" or "marketingqualifiedlead" where we say Prospect; a
Salesforce one says "Trade Show" where we say Event. The mapping step shows each distinct value of
a mapped choice column with a guess from these tables (English and Chinese), and the user's
choice is stored on the job (`ImportJob.value_map`), so a value no table knows is mapped once
instead of rejecting every row that has it.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from collections.abc import Iterable

from django.utils import timezone

from contacts.models import LifecycleStage, Region, Source

# field -> [(our value, pattern over the lower-cased value)]; first match wins.
_GUESSES: dict[str, list[tuple[str, str]]] = {
    "lifecycle_stage": [
        # Former before the others ("lost customer"), prospect before customer ("潜在客户").
        ("former_customer", r"former|churn|lost|ex-?customer|inactive|流失|前客户"),
        (
            "prospect",
            r"lead|subscriber|mql|sql|qualified|opportunit|prospect|contacted|working|nurtur|"
            r"线索|潜在|意向|商机|机会|订阅",
        ),
        ("customer", r"customer|client|evangelist|advocate|closed.?won|客户|成交|签约|已购"),
    ],
    "source": [
        ("event", r"trade.?show|event|conference|seminar|webinar|expo|fair|展会|会议|活动|研讨"),
        ("referral", r"referr|word.?of.?mouth|recommend|推荐|介绍|转介"),
        ("partner", r"partner|reseller|channel|合作|伙伴|代理"),
        ("cold_call", r"cold|phone|call|outbound|telemarket|电话|陌拜|外呼"),
        ("advertising", r"advert|\bads?\b|paid|ppc|banner|campaign|广告|投放"),
        ("social", r"social|linkedin|facebook|twitter|wechat|weibo|社交|微信|微博|抖音"),
        ("website", r"web|site|online|organic|search|direct|seo|inbound|官网|网站|网络|搜索"),
        ("import", r"import|purchased|list|导入|名单"),
        ("other", r"other|offline|email|其他|其它"),
    ],
    "region": [
        ("north_america", r"north america|usa?\b|united states|canada|\bna\b|北美"),
        ("latin_america", r"latin|south america|latam|mexico|brazil|拉美|南美"),
        ("europe", r"europe|emea|\beu\b|欧洲"),
        ("middle_east_africa", r"middle east|africa|\bmea\b|中东|非洲"),
        ("north_china", r"north china|华北|北京|天津|河北"),
        ("east_china", r"east china|华东|上海|江苏|浙江"),
        ("central_china", r"central china|华中|湖北|湖南|河南"),
        ("south_china", r"south china|华南|广东|深圳|广州"),
        ("west_china", r"west china|西部|西南|西北|四川|重庆"),
        ("asia_pacific", r"asia|apac|pacific|japan|australia|亚太"),
    ],
}
_COMPILED = {
    field: [(value, re.compile(pattern)) for value, pattern in rules]
    for field, rules in _GUESSES.items()
}
CHOICES = {"lifecycle_stage": LifecycleStage, "source": Source, "region": Region}


def guess_value(field: str, value: str) -> str:
    """Our value for another system's `value` of a choice field, or "" (no guess)."""
    text = value.strip().lower()
    for ours, pattern in _COMPILED.get(field, []):
        if pattern.search(text):
            return ours
    return ""


def guess_values(field: str, values: Iterable[str], known: dict[str, str]) -> dict[str, str]:
    """lower-cased value -> our value (or "" to leave it empty), for values our own labels
    (`known`, see rows.choice_table) do not already cover."""
    guesses: dict[str, str] = {}
    for value in values:
        key = value.strip().lower()
        if key and key not in known:
            guesses[key] = guess_value(field, key)
    return guesses


# --- dates ---------------------------------------------------------------------------------

_NUMERIC_DATE = re.compile(
    r"(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?\s*([ap]\.?m\.?)?)?",
    re.IGNORECASE,
)
_CHINESE_DATE = re.compile(
    r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?"
    r"(?:\s*(\d{1,2})[:\uff1a](\d{2})(?:[:\uff1a](\d{2}))?)?"  # also the full-width colon
)


def looks_day_first(samples: Iterable[str]) -> bool:
    """True when a sample like 25/12/2024 shows that dates are written day first."""
    for text in samples:
        match = _NUMERIC_DATE.fullmatch(text.strip())
        if match and len(match.group(1)) < 4 and int(match.group(1)) > 12:
            return True
    return False


def parse_datetime(text: str, *, day_first: bool, tz: dt.tzinfo) -> dt.datetime | None:
    """An aware datetime from what exports write: ISO 8601 (HubSpot, Excel), 1/15/2024 3:04 PM
    (Salesforce, US) or 15/01/2024 (day first when the user says so), 2024年1月15日. A value
    without a zone is in `tz`; a date alone is its midnight. None when it is not a date."""
    text = text.strip()
    if not text:
        return None
    parsed: dt.datetime | None = None
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_other(text, day_first)
    if parsed is None:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=tz)
    return parsed


def _parse_other(text: str, day_first: bool) -> dt.datetime | None:
    match = _CHINESE_DATE.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups()[:3])
        hour, minute, second = (int(g or 0) for g in match.groups()[3:])
    else:
        match = _NUMERIC_DATE.fullmatch(text)
        if not match:
            return None
        a, b, c = match.group(1), match.group(2), match.group(3)
        if len(a) == 4:
            year, month, day = int(a), int(b), int(c)
        else:
            year = int(c) + (2000 if len(c) <= 2 else 0)
            month, day = (int(b), int(a)) if day_first else (int(a), int(b))
        hour, minute, second = (int(g or 0) for g in match.groups()[3:6])
        meridiem = (match.group(7) or "").lower().replace(".", "")
        if meridiem == "pm" and hour < 12:
            hour += 12
        elif meridiem == "am" and hour == 12:
            hour = 0
    try:
        return dt.datetime(year, month, day, hour, minute, second)  # noqa: DTZ001 (zone added)
    except ValueError:
        return None


def zone_of(name: str) -> dt.tzinfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


# --- owners --------------------------------------------------------------------------------


def owner_keys(*, email: str, names: Iterable[str]) -> list[str]:
    """The lower-cased ways a file may name a user: their email and their names, with and
    without spaces ("Jane Smith", "Smith Jane", "吴强")."""
    keys = [email.strip().lower()]
    for name in names:
        key = " ".join(name.lower().split())
        if key:
            keys.extend([key, key.replace(" ", "")])
    return keys
