"""No NIK, No. KK or name ever reaches a rendered log line."""

from __future__ import annotations

import json
import logging

import pytest

from salur_cases.logging import configure_logging, get_logger, mask_digits

NIK = "3271034512900002"
NO_KK = "3271030101200001"
NAME = "Siti Aminah"


def emit_everything() -> None:
    log = get_logger("salur_cases.test")
    log.info(f"registered {NIK}", no_kk=NO_KK, nik=NIK, name=NAME, nama=NAME)
    log.warning(
        "household", members=[{"nik": NIK, "name": NAME}], detail={"nik": NIK, "other": f"KK {NO_KK}"}
    )
    log.info("as int", value=int(NIK), items=(NO_KK, 5))
    logging.getLogger("uvicorn.access").info('"GET /api/v1/households/%s HTTP/1.1" 200', NO_KK)
    try:
        raise ValueError(f"bad NIK {NIK}")
    except ValueError:
        log.exception("failed")
        logging.getLogger("salur_cases.other").exception("stdlib failed for %s", NIK)


@pytest.mark.parametrize("fmt", ["json", "console"])
def test_no_identifier_or_name_is_rendered(fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(fmt, level="DEBUG")
    emit_everything()
    captured = capsys.readouterr()
    output = captured.err
    assert captured.out == ""
    assert "registered 3271********0002" in output
    assert "3271********0001" in output
    assert "/api/v1/households/3271********0001" in output
    for secret in (NIK, NO_KK, NAME):
        assert secret not in output
    assert "members" not in output
    assert "bad NIK 3271********0002" in output


def test_json_lines_are_json_with_timestamp_and_level(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    get_logger("salur_cases.test").info("hello", nik=NIK, count=3)
    get_logger("salur_cases.test").debug("not shown at INFO")
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1
    assert lines[0]["event"] == "hello"
    assert lines[0]["level"] == "info"
    assert lines[0]["count"] == 3
    assert "T" in lines[0]["timestamp"]
    assert "nik" not in lines[0]


def test_mask_digits_keeps_first_and_last_four() -> None:
    assert mask_digits(f"a {NIK} b") == "a 3271********0002 b"
    assert mask_digits("12345") == "12345"
    assert mask_digits("1" * 20) == "1111" + "*" * 12 + "1111"


def test_every_written_form_the_parsers_accept_is_masked() -> None:
    spaced = " ".join(NIK[i : i + 4] for i in range(0, 16, 4))
    assert mask_digits(f"no_kk {spaced}.") == "no_kk 3271********0002."
    assert mask_digits(f"{NIK[:6]}\t{NIK[6:]}") == "3271********0002"
    assert mask_digits("1234 5678 9012") == "1234 5678 9012"  # 12 digits: not an identifier


def test_the_request_id_is_logged_as_the_client_got_it(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("json")
    request_id = f"req-{NIK}"
    get_logger("salur_cases.test").info("request", request_id=request_id, path=f"/x/{NIK}")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["request_id"] == request_id
    assert line["path"] == "/x/3271********0002"
