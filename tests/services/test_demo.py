from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sharpeyes.cli.wiring import Runtime
from sharpeyes.media.footage import extract_opencv_doc_clip
from sharpeyes.protocols.sources import SourceOptions, open_source
from sharpeyes.services.demo import add_demo_cameras, find_footage


def _opens_as_video(path: Path) -> str:
    source = open_source(path.as_uri(), SourceOptions())
    codec = source.open().codec
    source.close()
    return codec


def test_clips_in_the_test_data_folder_are_used(tmp_path: Path, clip: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "shared"
    for relative in ("pets09-s2l1/pets09-s2l1.mp4", "clips/car-detection.mp4", "clips/classroom-short.mp4"):
        (data / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(clip, data / relative)
    monkeypatch.setenv("SHARPEYES_TEST_DATA", str(data))
    footage = find_footage(tmp_path / "data")
    assert footage.origin.startswith("real footage")
    assert len(footage.clips) == 3


def test_generated_scenes_when_nothing_else_is_there(
    tmp_path: Path, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHARPEYES_TEST_DATA", str(tmp_path / "absent"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no apt-get: a machine that is not Debian
    footage = find_footage(tmp_path / "data")
    assert footage.origin.startswith("generated scenes")
    assert len(footage.clips) == 3
    assert all(_opens_as_video(path) == "h264" for _name, path in footage.clips)
    assert add_demo_cameras(runtime.services.cameras, footage) == 3
    assert add_demo_cameras(runtime.services.cameras, footage) == 0, "a second demo start adds nothing"


def test_pets_clip_from_debian_opencv_doc(tmp_path: Path) -> None:
    if shutil.which("apt-get") is None:
        pytest.fail("apt-get is missing: this test needs a Debian machine")
    clip = extract_opencv_doc_clip(tmp_path / "vtest.avi", timeout_s=90)
    assert clip is not None, "apt-get download opencv-doc failed (run apt-get update as root)"
    assert _opens_as_video(clip) == "msmpeg4"  # MS-MPEG4 v3, as PETS 2009 ships it
