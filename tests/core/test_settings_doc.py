from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from sharpeyes.core.settings import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def _fields(model: type[BaseModel], prefix: str = "") -> list[str]:
    names = []
    for name, field in model.model_fields.items():
        if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            names += _fields(field.annotation, f"{prefix}{name}.")
        else:
            names.append(f"{prefix}{name}")
    return names


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    missing = [name for name in _fields(Settings) if f"`{name}`" not in text]
    assert missing == []


def test_every_setting_has_a_title_and_description() -> None:
    def check(model: type[BaseModel]) -> list[str]:
        bad = []
        for name, field in model.model_fields.items():
            if isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
                bad += check(field.annotation)
            elif not (field.title and field.description):
                bad.append(name)
        return bad

    assert check(Settings) == []
