"""Personal information (PIPL): masking for display, encryption at rest, keyed lookup hashes.

Masking
    ``mask_phone``, ``mask_id_number``, ``mask_name`` and ``masked(value, kind)`` turn a full value
    into what every role without the ``core.view_full_pii`` grant sees (``138****1234``). They
    accept anything (``None``, numbers, odd lengths) and, when a value does not look like what they
    expect, hide more rather than less. Seeing a full value goes through
    :func:`yiwang.core.audit.reveal`, which writes an audit record.

Encryption at rest
    ``encrypt``/``decrypt`` use Fernet (AES-128-CBC + HMAC-SHA256) through ``MultiFernet`` over
    ``settings.YIWANG_PII_KEYS``: the first key encrypts, every key decrypts. To rotate, put a new key
    first (keep the old ones), deploy, run :func:`reencrypt` for every encrypted column, then drop
    the old keys. Keys are made with
    ``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
    A key that is not in Fernet form (the embedded default keeps a random secret in DATA_DIR) is
    stretched into one with HKDF-SHA256; such a key must be at least 32 characters long.

Lookup hashes
    Ciphertext is randomised, so ``WHERE phone = …`` cannot work. A model that must find a person
    by phone or ID number stores ``lookup_hash(value, kind)`` next to the ciphertext (an indexed
    ``CharField(max_length=64)``) and filters on that: HMAC-SHA256 under
    ``settings.YIWANG_PII_HASH_KEY`` (or a key derived from ``SECRET_KEY``), over a normalised value.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models, transaction

STAR = "*"
KINDS = ("phone", "id_number", "name", "")

# 010 (Beijing) and 02X (Shanghai, Tianjin, Chongqing, big provincial capitals) are the only
# three-digit area codes; every other mainland area code has four digits (0532 for Qingdao).
_THREE_DIGIT_AREA = re.compile(r"^(010|02\d)")
_LANDLINE = re.compile(r"^(0\d{2,3})[-\s]?(\d{7,8})(?:[-转#]\d{1,6})?$")
_MOBILE = re.compile(r"^1\d{10}$")
_SEPARATORS = re.compile(r"[\s\-()（）]+")


class PIIDecryptionError(ValueError):
    """A stored value could not be decrypted with any configured key (wrong or removed key, or tampering)."""


# --- masking --------------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    return unicodedata.normalize("NFKC", str(value)).strip()


def _stars(count: int) -> str:
    return STAR * max(count, 0)


def mask_generic(value: object, *, keep_last: int = 0) -> str:
    """Stars for everything but the last ``keep_last`` characters, and only when at least twice as
    many characters stay hidden (so a short value is hidden completely)."""
    text = _text(value)
    if keep_last > 0 and len(text) >= 3 * keep_last:
        return _stars(len(text) - keep_last) + text[-keep_last:]
    return _stars(len(text))


def mask_phone(value: object) -> str:
    """``13812341234`` → ``138****1234``; ``0532-86881234`` → ``0532-****1234``.

    A ``+86``/``0086`` prefix is dropped, an extension is hidden. Anything else keeps only its last
    four digits, and a value of fewer than 7 digits is hidden completely.
    """
    text = _text(value)
    if not text:
        return ""
    compact = _SEPARATORS.sub("", text)
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix) and _MOBILE.match(compact[len(prefix) :]):
            compact = compact[len(prefix) :]
    if _MOBILE.match(compact):
        return f"{compact[:3]}****{compact[-4:]}"
    landline = _LANDLINE.match(text.replace("－", "-"))
    if landline is None and compact.isdigit() and compact.startswith("0") and 10 <= len(compact) <= 12:
        # Written without a separator: split off the area code by the numbering plan.
        area_len = 3 if _THREE_DIGIT_AREA.match(compact) else 4
        landline = _LANDLINE.match(f"{compact[:area_len]}-{compact[area_len:]}")
    if landline is not None:
        area, local = landline.group(1), landline.group(2)
        return f"{area}-{_stars(len(local) - 4)}{local[-4:]}"
    digits = sum(ch.isdigit() for ch in compact)
    if digits >= 7:
        return mask_generic(compact, keep_last=4)
    return _stars(len(compact))


def mask_id_number(value: object) -> str:
    """``37021119800101123X`` → ``370211********123X`` (region code and last four; the birth date is
    never shown). Old 15-digit numbers keep the same ends; anything shorter than 15 is all stars."""
    text = _SEPARATORS.sub("", _text(value)).upper()
    if len(text) < 15:
        return _stars(len(text))
    return f"{text[:6]}{_stars(len(text) - 10)}{text[-4:]}"


def mask_name(value: object) -> str:
    """``张三丰`` → ``张*丰``, ``张三`` → ``张*``, ``欧阳娜娜`` → ``欧**娜``, ``张`` → ``*``."""
    text = _text(value)
    if len(text) <= 1:
        return _stars(len(text))
    if len(text) == 2:
        return text[0] + STAR
    return text[0] + _stars(len(text) - 2) + text[-1]


def masked(value: object, kind: str = "") -> str:
    """The masked form of ``value`` for a PII ``kind`` (``phone``, ``id_number``, ``name``, or ``""``
    for any other personal value, which keeps only its last two characters)."""
    if kind == "phone":
        return mask_phone(value)
    if kind == "id_number":
        return mask_id_number(value)
    if kind == "name":
        return mask_name(value)
    if kind == "":
        return mask_generic(value, keep_last=2)
    raise ValueError(f"unknown PII kind {kind!r}; expected one of {KINDS}")


# --- encryption -----------------------------------------------------------------------------------


def _fernet_key(raw: str) -> bytes:
    """A configured key as Fernet key bytes; a non-Fernet secret is stretched with HKDF."""
    raw = raw.strip()
    try:
        if len(base64.urlsafe_b64decode(raw.encode("ascii"))) == 32:
            return raw.encode("ascii")
    except (binascii.Error, ValueError, UnicodeEncodeError):
        pass
    if len(raw) < 32:
        raise ImproperlyConfigured(
            "YIWANG_PII_KEYS: each key must be a Fernet key (Fernet.generate_key()) "
            "or a random secret of at least 32 characters"
        )
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"yiwang.pii.fernet").derive(
        raw.encode("utf-8")
    )
    return base64.urlsafe_b64encode(derived)


@functools.lru_cache(maxsize=8)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("YIWANG_PII_KEYS is empty: personal data cannot be encrypted")
    return MultiFernet([Fernet(_fernet_key(k)) for k in keys])


def _configured_keys() -> tuple[str, ...]:
    # Read on every call (the MultiFernet itself is cached per key tuple) so override_settings and a
    # reloaded configuration take effect without a restart hook.
    keys: Sequence[str] | str = getattr(settings, "YIWANG_PII_KEYS", ())
    if isinstance(keys, str):
        keys = [k for k in keys.split(",") if k.strip()]
    return tuple(keys)


def encrypt(text: str) -> str:
    """Encrypt ``text`` with the first configured key; returns an ASCII token."""
    return _multifernet(_configured_keys()).encrypt(str(text).encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    """Decrypt a token made by :func:`encrypt` under any configured key."""
    try:
        return _multifernet(_configured_keys()).decrypt(token.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError) as exc:
        raise PIIDecryptionError(
            "个人信息密文无法解密（密钥错误、已移除或数据被篡改）/ "
            "encrypted personal data cannot be decrypted with the configured YIWANG_PII_KEYS"
        ) from exc


def rotate_token(token: str) -> str:
    """Re-encrypt a token under the current first key (it must decrypt under one of the keys)."""
    try:
        return _multifernet(_configured_keys()).rotate(token.encode("ascii")).decode("ascii")
    except InvalidToken as exc:
        raise PIIDecryptionError("token does not decrypt under any configured key") from exc


def reencrypt(model: type[models.Model], field: str, *, batch_size: int = 500) -> int:
    """Re-encrypt every non-empty value of ``model.field`` under the current first key.

    Run after putting a new key first in ``YIWANG_PII_KEYS``; once it has run for every encrypted
    column, old keys can be removed. Works in batches (one transaction each) so a large table does
    not hold locks for long; it is safe to re-run after an interruption. Returns the rows rewritten.
    """
    manager = model._base_manager
    column = model._meta.get_field(field).attname  # type: ignore[union-attr]
    done = 0
    last_pk: Any = None
    while True:
        page = manager.order_by("pk")
        if last_pk is not None:
            page = page.filter(pk__gt=last_pk)
        rows = list(page.values_list("pk", flat=True)[:batch_size])
        if not rows:
            return done
        with transaction.atomic():
            for obj in manager.filter(pk__in=rows).select_for_update().only("pk", column):
                value = getattr(obj, column)
                if value:
                    # Saving the plaintext through the field encrypts it with the first key.
                    manager.filter(pk=obj.pk).update(**{column: value})
                    done += 1
        last_pk = rows[-1]


# --- lookup hashes --------------------------------------------------------------------------------


def _hash_key() -> bytes:
    explicit = getattr(settings, "YIWANG_PII_HASH_KEY", "")
    if explicit:
        return str(explicit).encode("utf-8")
    return hashlib.sha256(b"yiwang.pii.lookup\x00" + settings.SECRET_KEY.encode("utf-8")).digest()


def normalise(text: object, kind: str = "") -> str:
    """The canonical form hashed by :func:`lookup_hash`: NFKC, no spaces or dashes, upper case;
    a phone also loses its ``+86``/``0086`` prefix."""
    value = _SEPARATORS.sub("", _text(text)).upper()
    if kind == "phone":
        for prefix in ("+86", "0086"):
            if value.startswith(prefix) and _MOBILE.match(value[len(prefix) :]):
                value = value[len(prefix) :]
    return value


def lookup_hash(text: object, kind: str = "") -> str:
    """Hex HMAC-SHA256 of the normalised value, for exact-match lookups without decrypting.

    ``kind`` separates namespaces, so a phone and an ID number with the same digits never collide.
    Empty input hashes to ``""`` (an empty column, not a findable value).
    """
    value = normalise(text, kind)
    if not value:
        return ""
    message = f"{kind}\x00{value}".encode()
    return hmac.new(_hash_key(), message, hashlib.sha256).hexdigest()
