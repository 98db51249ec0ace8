"""Configuration: one clear line naming the bad variable, never a traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core.settings import Settings, SettingsError, load_settings, parse_duration, parse_rate

ROOT = Path(__file__).resolve().parent.parent


def run_main(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if k.lower() not in Settings.model_fields}
    clean.update(env)
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args],
        cwd=tmp_path,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("variable", "value", "words"),
    [
        ("WEB_PORT", "eighty", "WEB_PORT"),
        ("WEB_PORT", "70000", "WEB_PORT"),
        ("ADMIN_IDS", "12,abc", "ADMIN_IDS"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL"),
        ("TIMEZONE", "Mars/Olympus", "TIMEZONE"),
        ("DEFAULT_LOCALE", "de", "DEFAULT_LOCALE"),
        ("FORM_RATE_LIMIT", "lots", "FORM_RATE_LIMIT"),
        ("PUBLIC_URL", "not a url", "PUBLIC_URL"),
        ("INGEST_SECRETS", "tilda", "INGEST_SECRETS"),
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN"),
        ("WELCOME_FOLLOWUP_DELAY", "soon", "WELCOME_FOLLOWUP_DELAY"),
        ("OUTBOX_GLOBAL_RATE", "0", "OUTBOX_GLOBAL_RATE"),
        ("WEB_IDLE_TIMEOUT", "0", "WEB_IDLE_TIMEOUT"),
        ("WEB_BODY_TIMEOUT", "soon", "WEB_BODY_TIMEOUT"),
        ("REF_VISIT_WINDOW", "0s", "REF_VISIT_WINDOW"),
        ("REF_VISIT_RATE", "lots", "REF_VISIT_RATE"),
    ],
)
def test_a_bad_value_stops_start_up_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    variable: str,
    value: str,
    words: str,
) -> None:
    import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    assert main.main(["migrate"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert words in lines[0]
    assert not (tmp_path / "data").exists()  # nothing was started or created


def test_the_real_command_line_says_it_in_one_line(tmp_path: Path) -> None:
    result = run_main(tmp_path, "run", WEB_PORT="eighty")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "configuration error: WEB_PORT: Input should be a valid integer, "
        "unable to parse string as an integer"
    ]


def test_env_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    token = "123456:" + "A" * 35
    (tmp_path / ".env").write_text(f"ADMIN_IDS=5, 6\nWEB_PORT=9000\nBOT_TOKEN={token}\n")
    settings = load_settings(data_dir=tmp_path / "data")
    assert settings.admin_ids == (5, 6)
    assert settings.web_port == 9000
    assert not settings.sandbox


def test_secret_key_is_generated_once_and_kept(tmp_path: Path) -> None:
    first = load_settings(data_dir=tmp_path / "data", secret_key="")
    second = load_settings(data_dir=tmp_path / "data", secret_key="")
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32
    assert (tmp_path / "data" / "secret_key").stat().st_mode & 0o077 == 0


def test_no_token_means_sandbox(tmp_path: Path) -> None:
    assert load_settings(data_dir=tmp_path, bot_token="", secret_key="k" * 40).sandbox


def test_ingest_secrets_pairs(tmp_path: Path) -> None:
    s = load_settings(
        data_dir=tmp_path,
        secret_key="k" * 40,
        ingest_secrets="tilda=" + "a" * 20 + ",lp=" + "b" * 16,
    )
    assert s.ingest_secrets == {"tilda": "a" * 20, "lp": "b" * 16}
    with pytest.raises(SettingsError, match="INGEST_SECRETS"):
        load_settings(data_dir=tmp_path, secret_key="k" * 40, ingest_secrets="tilda=short")


@pytest.mark.parametrize(
    ("text", "seconds"), [("90s", 90), ("10m", 600), ("2h", 7200), ("45", 45), ("1.5m", 90)]
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


def test_bad_durations() -> None:
    for text in ("ten minutes", "-5s", "5y", ""):
        with pytest.raises(ValueError, match=r"duration|negative"):
            parse_duration(text)


def test_rates() -> None:
    assert parse_rate("20/min") == (20, 60)
    assert parse_rate("5/s") == (5, 1)
    assert parse_rate("0")[0] == 0
    with pytest.raises(ValueError, match="rate"):
        parse_rate("often")
