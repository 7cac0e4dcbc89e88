"""Which names hold secrets: recall on published lists, precision on real identifiers."""

from __future__ import annotations

import ast
import os
import sysconfig
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from debugpages import Policy
from debugpages.names import SECRET_NOUNS, is_secret_name, words

SENTRY_DEFAULTS = [  # sentry_sdk.scrubber.DEFAULT_DENYLIST (relay's, Django's, WSGI's)
    "password", "passwd", "secret", "api_key", "apikey", "auth", "credentials", "mysql_pwd",
    "privatekey", "private_key", "token", "session", "csrftoken", "sessionid", "x_csrftoken",
    "set_cookie", "cookie", "authorization", "x_api_key", "aiohttp_session", "connect.sid",
    "csrf_token", "csrf", "_csrf", "_csrf_token", "PHPSESSID", "_session", "symfony",
    "user_session", "_xsrf", "XSRF-TOKEN",
]  # fmt: skip
# Left out of Sentry's list: "x_forwarded_for", a client address Sentry drops for privacy;
# it is not a secret, and the Request section needs it to debug a proxy.

DETECT_SECRETS_KEYWORDS = [  # detect-secrets' KeywordDetector denylist, each spelling
    "api_key", "apikey", "auth_key", "authkey", "service_key", "servicekey", "account_key",
    "accountkey", "db_key", "dbkey", "database_key", "databasekey", "priv_key", "privkey",
    "private_key", "privatekey", "client_key", "clientkey", "db_pass", "dbpass",
    "database_pass", "databasepass", "key_pass", "keypass", "password", "passwd", "pwd",
    "secret", "contraseña", "contrasena",
]  # fmt: skip

DJANGO_HIDDEN = [  # what django.views.debug's filter hides that holds a secret
    "SECRET_KEY", "SECRET_KEY_FALLBACKS", "EMAIL_HOST_PASSWORD", "PASSWORD", "HTTP_COOKIE",
    "HTTP_AUTHORIZATION", "HTTP_X_CSRFTOKEN", "csrfmiddlewaretoken", "AUTH", "TOKEN",
    "SECRET", "PASS", "SIGNATURE", "AWS_SECRET_ACCESS_KEY", "API_KEY",
]  # fmt: skip
# Django's patterns are fragments searched anywhere (API, AUTH, TOKEN, KEY, SECRET, PASS,
# SIGNATURE, HTTP_COOKIE); bare "API" and "KEY" name no secret, and are left out.

RAILS_FILTERED = [  # names Rails' default filter_parameters (passw, secret, token, _key,
    # crypt, otp, ssn, cvv, cvc) exists for
    "password", "password_confirmation", "secret", "token", "api_key", "secret_key",
    "crypted_password", "encrypted_password", "otp", "otp_code", "ssn", "cvv", "cvc",
    "authenticity_token",
]  # fmt: skip
# Rails also filters "email" (personal data, not a secret: a KeyError on it must stay
# readable), "salt" (Django passes namespaces such as "django.core.signing" as salt, which
# masking by value would blank from module names) and "certificate" (public).

ENVIRONMENT = [
    "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SESSION_TOKEN", "GITHUB_TOKEN",
    "GH_TOKEN", "STRIPE_API_KEY", "STRIPE_SECRET_KEY", "OPENAI_API_KEY", "SENTRY_DSN",
    "DATABASE_PASSWORD", "POSTGRES_PASSWORD", "PGPASSWORD", "MYSQL_ROOT_PASSWORD", "MYSQL_PWD",
    "REDIS_PASSWORD", "DJANGO_SECRET_KEY", "FLASK_SECRET_KEY", "JWT_SECRET", "NPM_TOKEN",
    "SLACK_BOT_TOKEN", "TWILIO_AUTH_TOKEN", "SENDGRID_API_KEY", "AZURE_CLIENT_SECRET",
    "GOOGLE_APPLICATION_CREDENTIALS", "ENCRYPTION_KEY", "SSH_PRIVATE_KEY", "GPG_PASSPHRASE",
    "APP_KEY", "HEROKU_API_KEY", "DOCKER_PASSWORD", "CI_JOB_TOKEN",
]  # fmt: skip

ORDINARY = [  # names the old substring rules masked, and their kin
    "key", "keys", "cache_key", "primary_key", "sort_key", "foreign_key", "author", "authors",
    "authority", "compass", "rapid", "rapid_api", "monkey", "turkey", "tokenizer",
    "session_length", "session_factory", "email", "name", "token_type", "token_url",
    "password_validators", "PASSWORD_HASHERS", "AUTH_USER_MODEL", "AUTHENTICATION_BACKENDS",
    "SESSION_COOKIE_AGE", "SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME", "CSRF_TRUSTED_ORIGINS",
    "cookie_jar", "api", "api_url", "api_version", "bypass", "passenger", "private",
    "keyboard", "keyword", "secretary", "PWD_DIR", "template_name", "signature_version",
    "authored_by", "key_func", "passage",
]  # fmt: skip


@pytest.mark.parametrize(
    "name", SENTRY_DEFAULTS + DETECT_SECRETS_KEYWORDS + DJANGO_HIDDEN + RAILS_FILTERED + ENVIRONMENT
)
def test_every_name_of_the_published_secret_lists_is_a_secret(name: str) -> None:
    assert is_secret_name(name)
    assert Policy().is_sensitive(name)


@pytest.mark.parametrize("name", ORDINARY)
def test_ordinary_names_are_not_secrets(name: str) -> None:
    assert not is_secret_name(name)
    assert not Policy().is_sensitive(name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("db_password", ["db", "password"]),
        ("apiKey", ["api", "key"]),
        ("APIKey", ["api", "key"]),
        ("X-Api-Key", ["x", "api", "key"]),
        ("HTTP_X_API_KEY", ["http", "x", "api", "key"]),
        ("connect.sid", ["connect", "sid"]),
        ("password2", ["password", "2"]),
        ("ASP.NET_SessionId", ["asp", "net", "session", "id"]),
    ],
)
def test_names_split_into_words_in_every_style(name: str, expected: list[str]) -> None:
    assert words(name) == expected


def _identifiers() -> set[str]:
    """Every identifier named in the standard library's and the frameworks' own sources."""
    import django
    import flask
    import jinja2
    import werkzeug

    roots = [Path(sysconfig.get_paths()["stdlib"])]
    roots += [Path(os.path.dirname(module.__file__ or "")) for module in (flask, jinja2, werkzeug)]
    roots.append(Path(os.path.dirname(django.__file__ or "")))
    found: set[str] = set()
    for root in roots:
        for path in root.rglob("*.py"):
            if "site-packages" in path.parts[len(root.parts) :] or "test" in str(path):
                continue
            try:
                tree = ast.parse(path.read_text("utf-8"))
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Name):
                    found.add(node.id)
                elif isinstance(node, ast.arg):
                    found.add(node.arg)
                elif isinstance(node, ast.Attribute):
                    found.add(node.attr)
                elif isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
                    found.add(node.name)
    return found


def test_fewer_than_one_percent_of_real_identifiers_are_taken_for_secrets() -> None:
    names = _identifiers()
    assert len(names) >= 500
    masked = sorted(name for name in names if is_secret_name(name))
    share = len(masked) / len(names)
    print(f"{len(masked)} of {len(names)} identifiers ({share:.2%}) are taken for secrets")
    # They include the real ones (password, secret_key, csrf_token): still under 1% in all.
    assert share < 0.01, masked


_ORDINARY_WORDS = st.sampled_from([
    "user", "name", "email", "id", "count", "total", "price", "order", "item", "cart", "list",
    "index", "path", "file", "url", "host", "port", "cache", "sort", "primary", "foreign",
    "value", "data", "result", "response", "request", "view", "template", "author", "page",
    "limit", "offset", "length", "type", "format", "version", "model", "backend",
])  # fmt: skip


def _spell(parts: list[str], style: str) -> str:
    if style == "snake":
        return "_".join(parts)
    if style == "upper":
        return "_".join(parts).upper()
    if style == "kebab":
        return "-".join(part.capitalize() for part in parts)
    return parts[0] + "".join(part.capitalize() for part in parts[1:])


_STYLES = st.sampled_from(["snake", "upper", "kebab", "camel"])


@given(st.lists(_ORDINARY_WORDS, min_size=1, max_size=4), _STYLES)
def test_a_name_of_ordinary_words_is_never_a_secret(parts: list[str], style: str) -> None:
    assert not is_secret_name(_spell(parts, style))


@given(
    st.lists(_ORDINARY_WORDS, max_size=3),
    st.sampled_from(sorted(SECRET_NOUNS - {"contraseña"})),
    _STYLES,
)
def test_a_name_that_ends_in_a_secret_noun_is_a_secret_in_every_style(
    parts: list[str], noun: str, style: str
) -> None:
    assert is_secret_name(_spell([*parts, noun], style))


def test_user_patterns_add_to_the_rules() -> None:
    policy = Policy(sensitive=("iban", "^pin$"))
    assert policy.is_sensitive("customer_iban")
    assert policy.is_sensitive("PIN")
    assert not policy.is_sensitive("pinned")
    assert policy.is_sensitive("password")  # the rules still hold
