from __future__ import annotations

from pathlib import Path

from core.documents.syntax import LATEX, MARKDOWN
from server.settings import Settings, parse_settings


def test_defaults() -> None:
    settings, problems = parse_settings(None)
    assert settings == Settings() and problems == []
    assert settings.languages == {LATEX, MARKDOWN} and settings.max_items == 20


def test_valid_settings_in_either_shape() -> None:
    flat, problems = parse_settings({"home": "/srv/papers", "maxItems": 5, "languages": ["latex"]})
    assert problems == []
    assert flat.home == Path("/srv/papers") and flat.max_items == 5 and flat.languages == {LATEX}
    nested, _ = parse_settings({"papercite": {"contextWindow": 500}})
    assert nested.context_window == 500


def test_bad_values_fall_back_to_defaults_with_a_message() -> None:
    settings, problems = parse_settings(
        {"maxItems": "lots", "languages": ["cobol"], "home": 3, "colour": "red"}
    )
    assert settings == Settings()
    assert len(problems) == 4
    assert any("'maxItems' must be a whole number" in p for p in problems)
    assert any("unknown setting 'colour'" in p for p in problems)
    assert parse_settings("nonsense")[1] == ["papercite settings must be an object, not str; using defaults"]


def test_a_server_url_is_a_home_and_its_token_is_never_echoed() -> None:
    settings, problems = parse_settings({"home": "https://papers.example.org:8443/", "token": "pct_secret"})
    assert problems == []
    assert settings.home == "https://papers.example.org:8443" and settings.token == "pct_secret"
    folder, _ = parse_settings({"home": "~/papers"})
    assert folder.home == Path("~/papers").expanduser()
    _, problems = parse_settings({"token": 42})
    assert problems == [
        "papercite: setting 'token' must be a token made with `papercite token create`; using None"
    ]


def test_a_server_address_with_a_password_or_no_host_is_refused_without_echoing_it() -> None:
    """'http://ada:s3cret@host' became a home: every request failed with aiohttp's ValueError,
    and messages naming the server showed the password."""
    for given in ("https://ada:s3cret@papers.example.org", "http://", "http://127.0.0.1:99999"):
        settings, [problem] = parse_settings({"home": given})
        assert settings.home is None and "s3cret" not in problem, problem
        assert "server address" in problem
