"""The prompt catalogue (`prompts/prompts.yaml`): every prompt's Mandarin text
by id, read with the county's file:line problems (county.config_file).

The file is one mapping, id → text:

    greeting/12345: 您好，这里是宝丰县12345政务服务便民热线。
    digits/7: 七

An id is what Asterisk plays (`liandong/<id>`) and the file's name under the
prompts folder, so it is lower-case ASCII words (letters, digits, `_`, `-`)
joined by `/`. A text must be one a caller can be read: not empty, and every
character one the pinyin voice can say. A bad file is refused whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from county.config_file import ConfigFileError, LineDict, Problem, Problems, read_yaml
from ivr_flows.core.pinyin import UnreadableText, to_pinyin

PROMPT_ID = re.compile(r"[a-z0-9]+(?:[_-][a-z0-9]+)*(?:/[a-z0-9]+(?:[_-][a-z0-9]+)*)*")
MAX_TEXT = 200  # characters: a prompt is a sentence or two, not a speech


@dataclass(frozen=True)
class Prompt:
    id: str
    text: str
    spoken: str  # what the pinyin voice is given (ivr_flows.core.pinyin)
    line: int


class PromptCatalogue(Mapping[str, Prompt]):
    """The prompts by id, in the file's order."""

    def __init__(self, path: str, prompts: dict[str, Prompt]) -> None:
        self.path = path
        self.prompts = prompts

    def __getitem__(self, prompt_id: str) -> Prompt:
        return self.prompts[prompt_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.prompts)

    def __len__(self) -> int:
        return len(self.prompts)

    def missing(self, prompt_ids: set[str] | frozenset[str]) -> list[str]:
        """The ids of `prompt_ids` the catalogue has no text for, sorted."""
        return sorted(prompt_ids - self.prompts.keys())


def load_catalogue(path: Path | str) -> PromptCatalogue:
    """The catalogue in `path`; `ConfigFileError` lists every problem with its line."""
    data = read_yaml(path)
    problems = Problems(path)
    if not isinstance(data, LineDict):
        what = "nothing" if data is None else _kind(data)
        raise ConfigFileError(path, [Problem(None, f"expected a mapping of id: text, got {what}")])
    prompts: dict[str, Prompt] = {}
    for prompt_id, text in data.items():
        line = data.line_of(prompt_id)
        prompt = _prompt(prompt_id, text, line, problems)
        if prompt is not None:
            prompts[prompt_id] = prompt
    problems.raise_if_any()
    return PromptCatalogue(str(path), prompts)


def _prompt(prompt_id: str, text: object, line: int, problems: Problems) -> Prompt | None:
    if not PROMPT_ID.fullmatch(prompt_id):
        problems.add(
            line,
            f"prompt id {prompt_id!r}: use lower-case a-z, 0-9, '_' or '-', "
            "words joined by '/' (it becomes a file name)",
        )
        return None
    if not isinstance(text, str):
        what = "nothing" if text is None else _kind(text)
        problems.add(line, f"{prompt_id}: the text must be a string, got {what}")
        return None
    text = text.strip()
    if not text:
        problems.add(line, f"{prompt_id}: the text is empty")
        return None
    if len(text) > MAX_TEXT:
        problems.add(line, f"{prompt_id}: {len(text)} characters, at most {MAX_TEXT}")
        return None
    try:
        spoken = to_pinyin(text)
    except UnreadableText as exc:
        problems.add(line, f"{prompt_id}: {exc}")
        return None
    if not spoken.strip(" ,."):
        problems.add(line, f"{prompt_id}: nothing to say in {text!r}")
        return None
    return Prompt(prompt_id, text, spoken, line)


def _kind(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, int | float):  # digits/7: 7 — the text is 七 (or '7' in quotes)
        return f"the number {value!r} (write the text, or put it in quotes)"
    return f"{type(value).__name__} {value}"
