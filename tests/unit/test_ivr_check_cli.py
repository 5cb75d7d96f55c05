"""`liandong ivr check`: problems printed as file:line: message, exit status 1
when there is any; with --dialplan, a clean check writes the generated file."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from common.vocabulary import Desk
from ivr_flows.core.flow_load import load_flows
from ivr_flows.core.menu_dialplan import dialplan
from server import main
from startup.ivr_check_cli import DEFAULT_PROMPTS, catalogue_ids, check_at_start
from startup.settings import DEFAULT_IVR_DIR, SettingsError
from tests.unit.test_ivr_flow_load import BASE, FLOWS, PROMPTS, PROMPTS_12345, line_of


def catalogue(tmp_path: Path, ids: set[str]) -> Path:
    """A prompt catalogue (ivr_flows/prompts/prompts.yaml's form) of `ids`."""
    path = tmp_path / "prompts.yaml"
    lines = [f"{prompt}: 文本" for prompt in sorted(ids)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_the_shipped_menu_checks_clean_and_its_dialplan_is_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "extensions_ivr.conf"
    prompts = catalogue(tmp_path, PROMPTS_12345)
    assert main(["ivr", "check", "--prompts", str(prompts), "--dialplan", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].endswith("flows: 1 flow(s), 9 node(s): all well")
    assert printed[1] == f"{out}: written"
    text = out.read_text(encoding="utf-8")
    assert text.startswith("; GENERATED FILE: do not edit by hand.")
    assert "[ivr-12345-main]" in text


def test_problems_are_printed_one_a_line_with_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = tmp_path / "flows"
    flows.mkdir()
    text = BASE.replace("    prompt: ask\n", "    prompt: nope\n").replace(
        "timeout_prompt", "timout"
    )
    (flows / "12345.yaml").write_text(text, encoding="utf-8")
    prompts = catalogue(tmp_path, PROMPTS)
    out = tmp_path / "extensions_ivr.conf"
    argv = ["ivr", "check", "--flows", str(flows), "--prompts", str(prompts)]
    assert main([*argv, "--dialplan", str(out)]) == 1
    captured = capsys.readouterr()
    lines = captured.out.splitlines()
    path = flows / "12345.yaml"
    typo, prompt = line_of(text, "timout"), line_of(text, "prompt: nope")
    assert [line.split(": ", 1)[0] for line in lines] == [f"{path}:{typo}", f"{path}:{prompt}"]
    assert "unknown field “timout”" in lines[0] and "unknown prompt “nope”" in lines[1]
    assert captured.err == "liandong ivr check: 2 problem(s)\n"
    assert not out.exists()


def test_a_prompt_the_catalogue_lacks_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts = catalogue(tmp_path, PROMPTS_12345 - {"menu/invalid"})
    assert main(["ivr", "check", "--prompts", str(prompts)]) == 1
    assert "unknown prompt “menu/invalid”" in capsys.readouterr().out


def test_an_unreadable_catalogue_is_a_problem_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "prompts.yaml"
    assert main(["ivr", "check", "--flows", str(FLOWS), "--prompts", str(missing)]) == 1
    assert capsys.readouterr().out == f"{missing}: cannot read: No such file or directory\n"


def test_the_start_up_check_names_every_problem_in_one_settings_error(tmp_path: Path) -> None:
    prompts = catalogue(tmp_path, PROMPTS_12345)
    check_at_start(FLOWS, prompts)  # all well: nothing said
    prompts = catalogue(tmp_path, PROMPTS_12345 - {"menu/invalid", "menu/timeout"})
    with pytest.raises(SettingsError) as caught:
        check_at_start(FLOWS, prompts)
    message = str(caught.value)
    assert message.startswith("the voice menus: ")
    assert "unknown prompt “menu/timeout”" in message and "unknown prompt “menu/invalid”" in message
    with pytest.raises(SettingsError, match="cannot read"):
        check_at_start(FLOWS, tmp_path / "nope.yaml")


def test_the_committed_menu_dialplan_is_the_one_the_flows_generate() -> None:
    """asterisk-config/extensions_ivr.conf is what Asterisk runs: after an edit
    of a flow, `liandong ivr check --dialplan asterisk-config/extensions_ivr.conf`."""
    committed = Path(__file__).resolve().parents[2] / "asterisk-config" / "extensions_ivr.conf"
    flows = load_flows(FLOWS, catalogue_ids(DEFAULT_PROMPTS), [d.value for d in Desk])

    def code(text: str) -> list[str]:  # comments name paths, which depend on where it ran
        return [line for line in text.splitlines() if not line.startswith(";")]

    assert code(committed.read_text(encoding="utf-8")) == code(dialplan(flows))


def county_copy(tmp_path: Path) -> Path:
    """A county's own copy of the shipped ivr_flows data."""
    target = tmp_path / "county_ivr"
    for part in ("flows", "prompts"):
        shutil.copytree(DEFAULT_IVR_DIR / part, target / part)
    shutil.copy(DEFAULT_IVR_DIR / "desks.yaml", target / "desks.yaml")
    return target


def test_the_check_reads_the_folder_the_server_reads(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """LIANDONG_IVR_DIR names the county's copy: a broken flow there fails
    the check (it used to check the shipped files and say "all well")."""
    county = county_copy(tmp_path)
    monkeypatch.setenv("LIANDONG_IVR_DIR", str(county))
    assert main(["ivr", "check"]) == 0
    flow = county / "flows" / "12345.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace("prompt: ", "prompt: x", 1))
    assert main(["ivr", "check"]) == 1
    assert "12345.yaml:" in capsys.readouterr().out


def test_the_check_loads_the_desks_rules_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    county = county_copy(tmp_path)
    desks = county / "desks.yaml"
    desks.write_text(desks.read_text(encoding="utf-8").replace("wrap_up_s: 10", "wrap_up_s: -1"))
    monkeypatch.setenv("LIANDONG_IVR_DIR", str(county))
    assert main(["ivr", "check"]) == 1
    out = capsys.readouterr().out
    assert "desks.yaml:" in out and "wrap_up_s: 0 to 600" in out
