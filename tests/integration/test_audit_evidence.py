"""Evidence export and the offline verifier; `salur audit verify` and `salur audit export` as commands."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import salur_cases.projections.audit.verify_offline as offline
from salur_cases.cli import main
from salur_cases.domain.errors import InvalidCommand, Refusal
from salur_cases.eventlog import EVENT_NAMESPACE
from salur_cases.processes import allocation, disbursement, programs
from salur_cases.projections.audit import evidence_lines
from salur_cases.runtime import Runtime
from salur_cases.settings import load_settings, reset_settings_cache
from salur_cases.store.chain import GENESIS, link_hash
from salur_cases.store.keys import public_key_hex, signing_key
from tests.builders import DINSOS, define_program, no_kk_of, open_tahap, payment, register_eligible

if TYPE_CHECKING:
    from tests.conftest import StoreTarget

SCRIPT = Path(offline.__file__)


def _url(target: StoreTarget) -> str:
    return f"{target.url}?schema={target.schema}" if target.schema else target.url


@pytest.fixture
def runtime(store_url: StoreTarget, env_keys: dict[str, str]) -> Iterator[Runtime]:
    """Two programs; households 0-3 in WALIKOTA tahap 1 (certified, 0-2 paid), 4 left out, 5 in GUBERNUR."""
    rt = Runtime(load_settings({"SALUR_DATABASE_URL": _url(store_url), **env_keys}))
    app = rt.app
    define_program(app, "WALIKOTA")
    define_program(app, "GUBERNUR")
    open_tahap(app, "WALIKOTA", 1, quota=4)
    open_tahap(app, "GUBERNUR", 1, month=7)
    register_eligible(app, range(6))
    allocation.allocate(
        app, "WALIKOTA", 1, DINSOS, candidates=[app.household_id(no_kk_of(n)) for n in range(5)]
    )
    allocation.allocate(app, "GUBERNUR", 1, DINSOS, candidates=[app.household_id(no_kk_of(5))])
    programs.certify(app, "WALIKOTA", 1, DINSOS)
    disbursement.record_payments(app, "WALIKOTA", 1, [payment(0), payment(1), payment(2)], DINSOS)
    yield rt
    rt.close()


def _export(tmp_path: Path, lines: Iterator[str], name: str = "evidence.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(lines), encoding="utf-8")
    return path


def _run_offline(path: Path) -> subprocess.CompletedProcess[str]:
    """The script as an inspector runs it: no site-packages at all (-I -S), so standard library only."""
    return subprocess.run(
        [sys.executable, "-I", "-S", str(SCRIPT), str(path)], capture_output=True, text=True, check=False
    )


def test_a_household_export_verifies_offline_and_holds_its_story(runtime: Runtime, tmp_path: Path) -> None:
    path = _export(tmp_path, evidence_lines(runtime, no_kk=no_kk_of(0)))
    records = [json.loads(line) for line in path.read_text().splitlines()]

    done = _run_offline(path)

    assert done.returncode == 0, done.stdout
    assert f"OK: {len(records)} lines verified ({len(records)} with readable contents" in done.stdout
    types = [r["event"]["type"] for r in records]
    assert types.count("household.PaymentRecorded") == 1
    assert {"household.Proposed", "household.Assigned", "person.Claimed", "program.TahapCertified"} <= set(
        types
    )
    assert "program.Defined" in types
    assert [r["position"] for r in records] == sorted(r["position"] for r in records)
    household_id = str(runtime.app.household_id(no_kk_of(0)))
    assert all(
        r["originator_id"] == household_id for r in records if r["event"]["type"].startswith("household.")
    )


def test_a_tahap_export_holds_the_programs_and_households_events_of_that_tahap(
    runtime: Runtime, tmp_path: Path
) -> None:
    path = _export(tmp_path, evidence_lines(runtime, program="walikota", tahap=1))
    records = [json.loads(line) for line in path.read_text().splitlines()]

    assert _run_offline(path).returncode == 0
    types = [r["event"]["type"] for r in records]
    assert types.count("household.Assigned") == 4
    assert types.count("household.LeftOut") == 1
    assert types.count("household.PaymentRecorded") == 3
    assert types.count("program.TahapCertified") == 1
    assert all(r["event"]["data"].get("program", "WALIKOTA") == "WALIKOTA" for r in records)
    assert [r["event"]["data"]["code"] for r in records if r["event"]["type"] == "program.Defined"] == [
        "WALIKOTA"
    ]


def test_the_offline_verifier_rejects_a_modified_line(runtime: Runtime, tmp_path: Path) -> None:
    records = [json.loads(line) for line in evidence_lines(runtime, no_kk=no_kk_of(1))]
    paid = next(i for i, r in enumerate(records) if r["event"]["type"] == "household.PaymentRecorded")

    forged_state = json.loads(json.dumps(records))
    state = base64.b64decode(forged_state[paid]["state"]).replace(b"500000", b"900000")
    forged_state[paid]["state"] = base64.b64encode(state).decode()
    forged_reading = json.loads(json.dumps(records))
    forged_reading[paid]["event"]["data"]["amount_idr"] = 900_000
    forged_hash = json.loads(json.dumps(records))
    forged_hash[paid]["chain_hash"] = "00" * 32

    for number, forged in enumerate((forged_state, forged_reading, forged_hash)):
        path = tmp_path / f"forged{number}.jsonl"
        path.write_text("".join(json.dumps(r) + "\n" for r in forged), encoding="utf-8")
        done = _run_offline(path)
        assert done.returncode == 1, done.stdout
        assert f"FAILED line {paid + 1}:" in done.stdout


def test_the_offline_verifier_matches_the_store_encoding() -> None:
    oid = EVENT_NAMESPACE
    assert offline.GENESIS == GENESIS
    assert offline.EVENT_NAMESPACE == EVENT_NAMESPACE
    assert offline.link_hash(GENESIS, 7, oid, 3, "salur:x.Y", b"{}") == link_hash(
        GENESIS, 7, oid, 3, "salur:x.Y", b"{}"
    )


def test_the_offline_verifier_refuses_an_empty_or_unreadable_file(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert _run_offline(empty).returncode == 1
    assert _run_offline(tmp_path / "missing.jsonl").returncode == 2


def test_an_export_needs_a_known_household_or_tahap(runtime: Runtime) -> None:
    with pytest.raises(Refusal):
        evidence_lines(runtime, no_kk="3271011501150099")
    with pytest.raises(Refusal):
        evidence_lines(runtime, program="WALIKOTA", tahap=9)
    with pytest.raises(InvalidCommand):
        evidence_lines(runtime)
    with pytest.raises(InvalidCommand):
        evidence_lines(runtime, no_kk=no_kk_of(0), program="WALIKOTA", tahap=1)


@pytest.fixture
def cli_env(
    store_url: StoreTarget, env_keys: dict[str, str], runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The command line pointed at the test's store."""
    monkeypatch.setenv("SALUR_DATABASE_URL", _url(store_url))
    for name, value in env_keys.items():
        monkeypatch.setenv(name, value)
    reset_settings_cache()


@pytest.mark.usefixtures("cli_env")
def test_audit_verify_prints_the_head_and_exits_0_then_1_when_cut_short(
    runtime: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    head = out.strip().splitlines()[-1].removeprefix("head ")
    assert "chain intact" in out
    position, digest = head.split(":")
    assert int(position) == runtime.app.recorder.max_notification_id()

    assert main(["audit", "verify", "--head", f"{int(position) + 5}:{digest}"]) == 1
    assert "BROKEN at position" in capsys.readouterr().out
    assert main(["audit", "verify", "--head", "nonsense"]) == 2


@pytest.mark.usefixtures("cli_env")
def test_audit_export_writes_a_file_the_offline_verifier_accepts(tmp_path: Path) -> None:
    out = tmp_path / "tahap.jsonl"

    assert main(["audit", "export", "--program", "WALIKOTA", "--tahap", "I", "--out", str(out)]) == 0

    assert _run_offline(out).returncode == 0
    assert main(["audit", "export", "3271011501150099"]) == 1
    assert main(["audit", "export"]) == 2


def _first(records: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    return next(r for r in records if r["event"]["type"] == kind)


@pytest.mark.usefixtures("cli_env")
def test_audit_export_to_standard_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "export", no_kk_of(2)]) == 0

    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert _first(records, "household.Proposed")["event"]["data"]["no_kk"] == no_kk_of(2)


def test_an_export_of_an_encrypted_store_verifies_without_reading_the_state(
    store_url: StoreTarget, env_keys: dict[str, str], tmp_path: Path
) -> None:
    encrypted = {
        "SALUR_DATABASE_URL": _url(store_url),
        "SALUR_ENCRYPTION_KEY": "bb799c389aa81dd4c6936e0fc9676c49385b291f778e5420d647a08ce86fdade",
        **env_keys,
    }
    rt = Runtime(load_settings(encrypted))
    try:
        define_program(rt.app, "WALIKOTA")
        open_tahap(rt.app, "WALIKOTA", 1, quota=2)
        register_eligible(rt.app, range(2))
        allocation.allocate(rt.app, "WALIKOTA", 1, DINSOS)
        path = _export(tmp_path, evidence_lines(rt, program="WALIKOTA", tahap=1))
    finally:
        rt.close()
    records = [json.loads(line) for line in path.read_text().splitlines()]

    done = _run_offline(path)

    assert done.returncode == 0, done.stdout
    assert "(0 with readable contents compared)" in done.stdout
    assert [r["event"]["type"] for r in records].count("household.Assigned") == 2
    assert b"WALIKOTA" not in base64.b64decode(records[-1]["state"])


def _key_file(tmp_path: Path, env_keys: dict[str, str]) -> Path:
    path = tmp_path / "salur-signing.pub"
    path.write_text(
        public_key_hex(signing_key(bytes.fromhex(env_keys["SALUR_SIGNING_KEY"]))), encoding="utf-8"
    )
    return path


def _run_with_key(key: Path, path: Path, *, isolated: bool = False) -> subprocess.CompletedProcess[str]:
    """The script with `--public-key` (signatures need the cryptography package: not with -I -S)."""
    flags = ["-I", "-S"] if isolated else []
    return subprocess.run(
        [sys.executable, *flags, str(SCRIPT), "--public-key", str(key), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )


def test_an_export_ends_with_a_signed_head_the_offline_verifier_checks(
    runtime: Runtime, tmp_path: Path, env_keys: dict[str, str]
) -> None:
    path = _export(tmp_path, evidence_lines(runtime, program="WALIKOTA", tahap=1))
    records = [json.loads(line) for line in path.read_text().splitlines()]
    heads = [r for r in records if r["topic"] == "salur:notary.HeadSigned"]
    certified = next(r for r in records if r["event"]["type"] == "program.TahapCertified")

    done = _run_with_key(_key_file(tmp_path, env_keys), path)

    assert len(heads) == 1  # the certification's: no checkpoint yet covers the payments after it
    assert heads[0]["event"]["data"]["position"] == certified["position"]
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 signed chain heads verified with the public key" in done.stdout


def test_the_offline_verifier_refuses_a_head_another_key_signed_or_a_forged_head(
    runtime: Runtime, tmp_path: Path, env_keys: dict[str, str]
) -> None:
    path = _export(tmp_path, evidence_lines(runtime, no_kk=no_kk_of(0)))
    stranger = tmp_path / "stranger.pub"
    stranger.write_text(public_key_hex(Ed25519PrivateKey.generate()), encoding="utf-8")
    records = [json.loads(line) for line in path.read_text().splitlines()]
    head = next(r for r in records if r["topic"] == "salur:notary.HeadSigned")
    head["event"]["data"]["position"] -= 1  # the head claims another position than it signed
    forged = tmp_path / "forged.jsonl"
    forged.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")

    for key, file in ((stranger, path), (_key_file(tmp_path, env_keys), forged)):
        done = _run_with_key(key, file)
        assert done.returncode == 1, done.stdout
        assert "does not hold for this public key" in done.stdout
    without_cryptography = _run_with_key(stranger, path, isolated=True)
    assert without_cryptography.returncode == 2
    assert "cryptography" in without_cryptography.stderr
