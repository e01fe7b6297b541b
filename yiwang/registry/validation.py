"""Pure checks for identity numbers, credit codes and phone numbers (no database).

* 居民身份证号码 (GB 11643-1999): 6-digit address code, 8-digit birth date, 3-digit sequence (odd
  for men, even for women) and an ISO 7064 MOD 11-2 check character (0–9 or X).
* 统一社会信用代码 (GB 32100-2015): 18 characters over a 31-symbol alphabet (no I, O, Z, S, V);
  the last is a MOD 31 check character over the first 17.

Every failure raises :class:`RegistryInputError` naming the field, in Chinese and English.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from yiwang.registry.errors import RegistryInputError

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# First two digits of a mainland, Hong Kong, Macao or Taiwan address code (GB/T 2260 provinces).
PROVINCES = frozenset(
    [
        "11",
        "12",
        "13",
        "14",
        "15",
        "21",
        "22",
        "23",
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",
        "37",
        "41",
        "42",
        "43",
        "44",
        "45",
        "46",
        "50",
        "51",
        "52",
        "53",
        "54",
        "61",
        "62",
        "63",
        "64",
        "65",
        "71",
        "81",
        "82",
    ]
)
USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_USCC_SHAPE = re.compile(rf"^[{USCC_ALPHABET}]{{18}}$")
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}$")
_SPACES = re.compile(r"[\s\-]+")


class Sex:
    MALE = "M"
    FEMALE = "F"


@dataclass(frozen=True)
class IdentityNumber:
    """A valid 18-character ID number and what it says about its holder."""

    number: str
    birth_date: dt.date
    sex: str  # Sex.MALE / Sex.FEMALE

    @property
    def region(self) -> str:
        return self.number[:6]


def _compact(value: object) -> str:
    return "" if value is None else unicodedata.normalize("NFKC", str(value)).strip()


def id_check_character(first17: str) -> str:
    """The GB 11643 check character for 17 digits."""
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def parse_id_number(
    value: object, *, field: str = "id_number", today: dt.date | None = None
) -> IdentityNumber:
    """Validate an 18-character ID number; raise :class:`RegistryInputError` saying what is wrong."""
    number = _SPACES.sub("", _compact(value)).upper()
    if not number:
        raise RegistryInputError("身份证号码必填", "an ID number is required", field=field)
    if not _ID_SHAPE.match(number):
        raise RegistryInputError(
            f"身份证号码应为 18 位（17 位数字加 1 位数字或 X），而不是 {len(number)} 位",
            f"an ID number has 18 characters (17 digits and a digit or X), this one has {len(number)}",
            field=field,
        )
    if number[:2] not in PROVINCES:
        raise RegistryInputError(
            f"身份证号码的地址码 {number[:6]} 不是有效的省级代码开头",
            f"the address code {number[:6]} does not start with a valid province code",
            field=field,
        )
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise RegistryInputError(
            f"身份证号码中的出生日期 {number[6:14]} 不是有效日期",
            f"the birth date {number[6:14]} in the ID number is not a valid date",
            field=field,
        ) from None
    if birth.year < 1900 or birth > (today or dt.date.today()):
        raise RegistryInputError(
            f"身份证号码中的出生日期 {birth.isoformat()} 不可能",
            f"the birth date {birth.isoformat()} in the ID number is impossible",
            field=field,
        )
    expected = id_check_character(number[:17])
    if number[17] != expected:
        raise RegistryInputError(
            f"身份证号码校验位错误：最后一位应为 {expected}，而不是 {number[17]}",
            f"wrong ID check character: the last character should be {expected}, not {number[17]}",
            field=field,
        )
    sex = Sex.MALE if int(number[16]) % 2 == 1 else Sex.FEMALE
    return IdentityNumber(number=number, birth_date=birth, sex=sex)


SEX_ALIASES = {"M": Sex.MALE, "男": Sex.MALE, "MALE": Sex.MALE, "1": Sex.MALE}
SEX_ALIASES |= {"F": Sex.FEMALE, "女": Sex.FEMALE, "FEMALE": Sex.FEMALE, "2": Sex.FEMALE}


def parse_sex(value: object, *, field: str = "sex") -> str:
    raw = _compact(value).upper()
    if raw not in SEX_ALIASES:
        raise RegistryInputError(
            f"性别「{raw}」无效，应为 男 或 女", f"invalid sex '{raw}': expected 男/M or 女/F", field=field
        )
    return SEX_ALIASES[raw]


def check_stated_identity(
    identity: IdentityNumber, *, sex: str | None = None, birth_date: dt.date | None = None
) -> None:
    """A stated sex or birth date must agree with the ID number (they are derived from it)."""
    if birth_date is not None and birth_date != identity.birth_date:
        raise RegistryInputError(
            f"出生日期 {birth_date.isoformat()} 与身份证号码中的 {identity.birth_date.isoformat()} 不一致",
            f"birth date {birth_date.isoformat()} does not match {identity.birth_date.isoformat()} in the ID number",
            field="birth_date",
        )
    if sex is not None and sex != identity.sex:
        said, real = ("男", "女") if sex == Sex.MALE else ("女", "男")
        raise RegistryInputError(
            f"性别「{said}」与身份证号码（{real}）不一致",
            f"sex '{sex}' does not match the ID number ({identity.sex})",
            field="sex",
        )


def uscc_check_character(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a credit code."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def parse_credit_code(value: object, *, field: str = "credit_code") -> str:
    """Validate a unified social credit code; return it upper-cased (empty stays empty)."""
    code = _SPACES.sub("", _compact(value)).upper()
    if not code:
        return ""
    if not _USCC_SHAPE.match(code):
        raise RegistryInputError(
            "统一社会信用代码应为 18 位，由数字和除 I、O、Z、S、V 以外的大写字母组成",
            "a unified social credit code has 18 characters: digits and capital letters except I, O, Z, S, V",
            field=field,
        )
    if not code[2:8].isdigit():
        raise RegistryInputError(
            "统一社会信用代码第 3–8 位应为行政区划代码（数字）",
            "characters 3–8 of a credit code are the division code (digits)",
            field=field,
        )
    expected = uscc_check_character(code[:17])
    if code[17] != expected:
        raise RegistryInputError(
            f"统一社会信用代码校验位错误：最后一位应为 {expected}，而不是 {code[17]}",
            f"wrong credit code check character: the last character should be {expected}, not {code[17]}",
            field=field,
        )
    return code


def parse_phone(value: object, *, field: str = "phone", required: bool = False) -> str:
    """A mobile (11 digits, 1[3-9]…) or landline (0532-86881234) number, compacted; may be empty."""
    phone = _compact(value)
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix):
            phone = phone[len(prefix) :]
    compact = _SPACES.sub("", phone)
    if not compact:
        if required:
            raise RegistryInputError("电话号码必填", "a phone number is required", field=field)
        return ""
    if _MOBILE.match(compact):
        return compact
    if _LANDLINE.match(phone.replace(" ", "")):
        return phone.replace(" ", "")
    raise RegistryInputError(
        f"电话号码「{phone}」无效：应为 11 位手机号或带区号的固定电话",
        f"invalid phone number '{phone}': expected an 11-digit mobile or a landline with area code",
        field=field,
    )


def parse_date(value: object, *, field: str) -> dt.date | None:
    """A date from a cell: a date/datetime, ``YYYY-MM-DD``, ``YYYY/MM/DD`` or ``YYYYMMDD``."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    raw = _compact(value).replace("/", "-").replace(".", "-")
    try:
        if re.fullmatch(r"\d{8}", raw):
            return dt.date(int(raw[:4]), int(raw[4:6]), int(raw[6:]))
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise RegistryInputError(
            f"日期「{raw}」无效，应为 YYYY-MM-DD", f"invalid date '{raw}': expected YYYY-MM-DD", field=field
        ) from None
