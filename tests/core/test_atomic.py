import os

import pytest

from swaptalk_desktop.core.atomic import atomic_path, write_text_atomic
from swaptalk_desktop.core.errors import OutputError


def test_failure_leaves_old_file_and_no_temp(tmp_path):
    target = tmp_path / "out.mp4"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


def test_success_replaces_and_keeps_suffix(tmp_path):
    target = tmp_path / "out.mp4"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".mp4" and tmp.parent == tmp_path
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_missing_folder_is_reported(tmp_path):
    with pytest.raises(OutputError, match="does not exist"):
        write_text_atomic(tmp_path / "nope" / "x.json", "{}")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write into read-only folders")
def test_read_only_folder_is_reported(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(OutputError, match="permission"):
            write_text_atomic(folder / "x.json", "{}")
    finally:
        folder.chmod(0o700)


def test_new_files_get_normal_permissions(tmp_path):
    old = os.umask(0o022)
    try:
        write_text_atomic(tmp_path / "a.json", "{}")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o644
