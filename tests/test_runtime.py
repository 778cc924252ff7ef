from pathlib import Path

import pytest
import torch

from gan_utils.runtime import setup, shown_path

SIZES = {"fast": {"steps": 10, "batch": 8}, "default": {"steps": 100, "batch": 64},
         "full": {"steps": 1000, "batch": 128}}


def test_default_mode_reads_sizes(capsys: pytest.CaptureFixture[str]) -> None:
    cfg = setup(seed=3, sizes=SIZES)
    assert cfg.mode == "default" and cfg.steps == 100 and cfg["batch"] == 64
    line = capsys.readouterr().out.strip()
    assert "GAN_MODE=default" in line and "device=" in line and "GAN_DATA=auto" in line


def test_fast_mode_changes_sizes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_MODE", "fast")
    cfg = setup(sizes=SIZES, verbose=False)
    assert (cfg.steps, cfg.batch) == (10, 8)
    assert cfg.n_synthetic < 60_000


def test_unknown_mode_names_valid_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_MODE", "turbo")
    with pytest.raises(ValueError, match="fast, default, full"):
        setup(verbose=False)


def test_unknown_data_source(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_DATA", "imagenet")
    with pytest.raises(ValueError, match="auto, real, synthetic"):
        setup(verbose=False)


def test_bad_thread_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_THREADS", "two")
    with pytest.raises(ValueError, match="whole number"):
        setup(verbose=False)


def test_unknown_config_key_is_a_clear_error() -> None:
    cfg = setup(sizes=SIZES, verbose=False)
    with pytest.raises(AttributeError, match="no setting 'stpes'.*steps"):
        _ = cfg.stpes


def test_sizes_must_agree_across_modes() -> None:
    bad = {"fast": {"steps": 1}, "default": {"steps": 2, "batch": 3}, "full": {"steps": 2, "batch": 3}}
    with pytest.raises(ValueError, match="differ in keys"):
        setup(sizes=bad, verbose=False)
    with pytest.raises(ValueError, match="every mode"):
        setup(sizes={"default": {"steps": 1}}, verbose=False)


def test_seeding_is_reproducible() -> None:
    setup(seed=7, verbose=False)
    a = torch.randn(5)
    setup(seed=7, verbose=False)
    assert torch.equal(a, torch.randn(5))


def test_data_root_from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GAN_DATA_ROOT", str(tmp_path))
    cfg = setup(verbose=False)
    assert cfg.data_root == tmp_path.resolve()
    assert cfg.data_kwargs["root"] == tmp_path.resolve()


def test_device_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_DEVICE", "cpu")
    assert setup(verbose=False).device == torch.device("cpu")


def test_each_notebook_checkpoints_into_its_own_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("GAN_CKPT_DIR", str(tmp_path / "ck"))
    monkeypatch.setenv("GAN_MODE", "fast")
    cfg = setup(name="03_dcgan", verbose=False)
    assert cfg.ckpt_dir == (tmp_path / "ck" / "fast" / "03_dcgan").resolve()
    assert cfg.ckpt_dir_of("01_vanilla_gan") == (tmp_path / "ck" / "fast" / "01_vanilla_gan").resolve()
    assert not (tmp_path / "ck").exists()  # set-up creates nothing; the Trainer creates its folder on first save


def test_checkpoints_default_to_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GAN_CKPT_DIR", raising=False)
    cfg = setup(name="01_vanilla_gan", verbose=False)
    assert cfg.ckpt_dir.parts[-3:] == ("checkpoints", "default", "01_vanilla_gan")


def test_printed_paths_are_relative(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("GAN_DATA_ROOT", str(tmp_path / "realdata"))
    setup()
    line = capsys.readouterr().out
    assert "root=$GAN_DATA_ROOT |" in line and str(tmp_path) not in line
    assert shown_path(tmp_path / "realdata" / "MNIST" / "raw") == "$GAN_DATA_ROOT/MNIST/raw"
    assert shown_path(Path(__file__)) == "tests/test_runtime.py"  # inside the repository: relative to it
    assert shown_path(Path.home() / "x.pt") == "~/x.pt"


def test_relative_env_paths_are_read_from_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    # Jupyter starts kernels in notebooks/; a relative path typed at the repository root must still mean the same.
    repo = Path(__file__).resolve().parent.parent
    monkeypatch.chdir(repo / "notebooks")
    monkeypatch.setenv("GAN_DATA_ROOT", "../shared/realdata")
    monkeypatch.setenv("GAN_CKPT_DIR", "runs/checkpoints")
    cfg = setup(name="01_vanilla_gan", verbose=False)
    assert cfg.data_root == (repo / "../shared/realdata").resolve()
    assert cfg.ckpt_dir == repo / "runs" / "checkpoints" / "default" / "01_vanilla_gan"
