"""Which names hold secrets: a name is split into words and judged by its last word.

English compounds put the thing named last: ``db_password`` is a password,
``password_validators`` are validators, ``token_type`` is a type, ``cache_key`` is a key
of a cache. So a name is secret when its last word is a secret noun (``password``,
``token``, ``secret``, ``session``...), a ``key`` or ``id`` qualified by the word before
it (``api_key``, ``private_key``, ``session_id``; never a bare ``key``), or such a word
followed only by words that say how the same value is held (``password2``,
``secret_key_fallbacks``, ``token_hash``). Words are split at ``_``, ``-``, ``.``, blanks,
camelCase and digits, so ``apiKey``, ``X-Api-Key`` and ``API_KEY`` are one name, and a
word is compared whole: ``author``, ``tokenizer``, ``compass`` and ``monkey`` are not
secrets. Glued words are known by their ending (``csrftoken``, ``PGPASSWORD``,
``PHPSESSID``, ``accesskey``).
"""

from __future__ import annotations

import re

SECRET_NOUNS = frozenset({
    "password", "passwords", "passwd", "pwd", "pass", "pw", "passphrase", "passcode",
    "contraseña", "contrasena", "secret", "secrets", "token", "tokens", "bearer", "jwt",
    "auth", "authorization", "authentication", "credential", "credentials", "creds",
    "cookie", "cookies", "session", "sessid", "sessionid", "csrf", "xsrf", "dsn",
    "signature", "otp", "cvv", "cvc", "ssn", "apikey", "privkey", "symfony",
})  # fmt: skip
"""Last words that make a name secret on their own (``symfony``: its session cookie)."""

KEY_QUALIFIERS = frozenset({
    "secret", "private", "priv", "access", "signing", "sign", "signature", "encryption",
    "encrypt", "decryption", "decrypt", "master", "client", "api", "auth", "service",
    "account", "db", "database", "session", "app", "application", "hmac", "jwt", "shared",
    "ssh", "gpg", "pgp", "crypto", "cipher", "aes", "rsa", "webhook", "license", "pass",
    "consumer", "subscription", "storage", "root", "admin", "recovery",
})  # fmt: skip
"""Words that make the ``key`` after them a secret: ``access_key``, not ``sort_key``."""

HOLDING_WORDS = frozenset({
    "value", "values", "str", "string", "bytes", "raw", "b64", "base64", "hex", "enc",
    "encrypted", "encoded", "hash", "hashed", "digest", "plain", "plaintext", "cleartext",
    "confirm", "confirmation", "again", "repeat", "verify", "input", "data", "list",
    "fallbacks", "old", "new", "current", "orig", "original", "prev", "previous", "tmp",
    "temp", "b", "s", "bin", "code",
})  # fmt: skip
"""Words after a secret that say how it is held, not what it is: ``password_confirm``."""

GLUED_ENDINGS = ("token", "password", "passwd", "secret", "sessionid", "sessid", "apikey")
"""Endings that make a glued word secret: ``csrftoken``, ``pgpassword``, ``jsessionid``."""

_GLUED_QUALIFIERS = KEY_QUALIFIERS | {"key", "user", "my", "sql", "mysql"}
"""What may stand before a glued ``key`` or ``pass`` (``accesskey``, ``dbpass``; not
``monkey``, ``compass``)."""

_CHUNKS = re.compile(r"[\W_]+")
_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[^A-Z0-9]+|[0-9]+")


def words(name: str) -> list[str]:
    """``name`` split into lower-case words: ``X-Api-Key`` and ``xApiKey`` give x, api, key."""
    return [
        word.lower() for chunk in _CHUNKS.split(name) if chunk for word in _WORDS.findall(chunk)
    ]


def is_secret_name(name: str) -> bool:
    """Whether a variable, field, header or key of this name holds a secret."""
    found = words(name)
    while len(found) > 1 and (found[-1] in HOLDING_WORDS or found[-1].isdigit()):
        found.pop()
    if not found:
        return False
    last = found[-1]
    before = found[-2] if len(found) > 1 else ""
    if last in SECRET_NOUNS:
        return True
    if last in ("key", "keys"):
        return before in KEY_QUALIFIERS
    if last in ("id", "ids", "sid"):  # session_id, connect.sid, AWS's access_key_id
        return before in ("session", "connect") or (
            before == "key" and len(found) > 2 and found[-3] in KEY_QUALIFIERS
        )
    if last.endswith(GLUED_ENDINGS):
        return True
    return any(  # accesskey, dbpass
        last.endswith(ending) and last[: -len(ending)] in _GLUED_QUALIFIERS
        for ending in ("key", "pass")
    )
