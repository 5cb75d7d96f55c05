"""The prompt catalogue: the shipped file, and every problem the loader refuses,
each with its file and line, all of them in one error."""

from __future__ import annotations

from pathlib import Path

import pytest

from county.config_file import ConfigFileError
from ivr_flows.core.prompt_catalogue import load_catalogue

SHIPPED = Path(__file__).resolve().parents[2] / "ivr_flows" / "prompts" / "prompts.yaml"


def catalogue_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "prompts.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(path: Path) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        load_catalogue(path)
    assert "nothing loaded" in str(caught.value)
    return [p.render(path) for p in caught.value.problems]


def test_the_shipped_catalogue_loads_with_the_issues_prompts() -> None:
    catalogue = load_catalogue(SHIPPED)
    assert catalogue["greeting/12345"].text == "您好，这里是宝丰县12345政务服务便民热线。"
    assert catalogue["greeting/12345"].spoken.startswith("nin2 hao3, zhe4 li3 shi4 bao3 feng1")
    assert "yi1 er4 san1 si4 wu3" in catalogue["greeting/12345"].spoken
    assert "请按0" in catalogue["menu/emergency"].text
    assert catalogue["menu/main"].text.startswith("咨询请按1，求助请按2，投诉举报请按3")
    assert "星号键" in catalogue["menu/main"].text
    assert "yao1 yao1 ling2" in catalogue["transfer/110"].spoken
    assert catalogue["wait/110"].text.startswith("110报警服务台")
    assert catalogue["callback/whisper"].text == "正在为您回拨市民来电。"
    for prompt_id in ("operator/logged_in", "operator/logged_out", "operator/paused"):
        assert catalogue[prompt_id].text
    assert [catalogue[f"digits/{d}"].text for d in range(10)] == list("零一二三四五六七八九")
    assert catalogue["greeting/12345"].line > 1  # lines are the file's, for later messages


def test_a_good_file(tmp_path: Path) -> None:
    path = catalogue_file(
        tmp_path, "# prompts\ngreeting: 您好。\ndigits/7: 七\nmenu/key-1: 请按1\n"
    )
    catalogue = load_catalogue(path)
    assert list(catalogue) == ["greeting", "digits/7", "menu/key-1"]
    assert catalogue["digits/7"].spoken == "qi1"
    assert catalogue["digits/7"].line == 3
    assert catalogue.path == str(path)


def test_every_problem_with_its_line(tmp_path: Path) -> None:
    path = catalogue_file(
        tmp_path,
        "\n".join(
            [
                "greeting: 您好",  # 1: fine
                "empty: ''",  # 2
                "blank: '   '",  # 3
                "nothing:",  # 4
                "number: 12",  # 5
                "listed: [您好]",  # 6
                "Upper/Case: 您好",  # 7
                "with space: 您好",  # 8
                "trailing/: 您好",  # 9
                "../escape: 您好",  # 10
                "emoji: 您好😀",  # 11
                "punctuation: 。，",  # 12
                "when: 2026-12-02",  # 13
            ]
        ),
    )
    assert refused(path) == [
        f"{path}:2: empty: the text is empty",
        f"{path}:3: blank: the text is empty",
        f"{path}:4: nothing: the text must be a string, got nothing",
        f"{path}:5: number: the text must be a string, "
        "got the number 12 (write the text, or put it in quotes)",
        f"{path}:6: listed: the text must be a string, got a list",
        f"{path}:7: prompt id 'Upper/Case': use lower-case a-z, 0-9, '_' or '-', "
        "words joined by '/' (it becomes a file name)",
        f"{path}:8: prompt id 'with space': use lower-case a-z, 0-9, '_' or '-', "
        "words joined by '/' (it becomes a file name)",
        f"{path}:9: prompt id 'trailing/': use lower-case a-z, 0-9, '_' or '-', "
        "words joined by '/' (it becomes a file name)",
        f"{path}:10: prompt id '../escape': use lower-case a-z, 0-9, '_' or '-', "
        "words joined by '/' (it becomes a file name)",
        f"{path}:11: emoji: cannot be read aloud: '😀' (U+1F600)",
        f"{path}:12: punctuation: nothing to say in '。，'",
        f"{path}:13: when: the text must be a string, got date 2026-12-02",
    ]


def test_a_duplicate_id_is_refused_at_its_second_line(tmp_path: Path) -> None:
    path = catalogue_file(tmp_path, "greeting: 您好\nmenu: 请按1\ngreeting: 你好\n")
    assert refused(path) == [f"{path}:3: YAML: duplicate key 'greeting'"]


def test_a_text_too_long_is_refused(tmp_path: Path) -> None:
    path = catalogue_file(tmp_path, "speech: " + "请" * 201 + "\n")
    assert refused(path) == [f"{path}:1: speech: 201 characters, at most 200"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "expected a mapping of id: text, got nothing"),
        ("- 您好\n", "expected a mapping of id: text, got a list"),
        ("greeting: [您好\n", "YAML: "),
    ],
)
def test_a_file_that_is_not_a_catalogue(tmp_path: Path, text: str, problem: str) -> None:
    [message] = refused(catalogue_file(tmp_path, text))
    assert problem in message


def test_a_missing_file(tmp_path: Path) -> None:
    [message] = refused(tmp_path / "prompts.yaml")
    assert "cannot read" in message
