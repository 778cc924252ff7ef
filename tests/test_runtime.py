import subprocess
import sys
from pathlib import Path

import pytest
import torch

from gan_utils.paths import shown_path
from gan_utils.runtime import setup

SIZES = {"fast": {"steps": 10, "batch": 8}, "default": {"steps": 100, "batch": 64},
         "full": {"steps": 1000, "batch": 128}}


@pytest.fixture(autouse=True)
def _learner_session(monkeypatch: pytest.MonkeyPatch) -> None:
    # `make notebooks` exports GAN_GRADING=1; these tests are about a learner's session unless they say otherwise.
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv("GAN_GRADING", raising=False)


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


def test_gan_seed_replaces_the_notebook_seed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GAN_SEED", "5")
    cfg = setup(seed=0, verbose=False)
    assert cfg.seed == 5
    a = torch.randn(3)
    monkeypatch.delenv("GAN_SEED")
    assert setup(seed=5, verbose=False).seed == 5
    assert torch.equal(a, torch.randn(3))                     # GAN_SEED=5 seeds exactly as seed=5 does
    for bad, msg in (("one", "not a whole number"), ("-1", "at least 0")):
        monkeypatch.setenv("GAN_SEED", bad)
        with pytest.raises(ValueError, match=msg):
            setup(verbose=False)


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


@pytest.mark.parametrize("grader", [("NBGRADER_EXECUTION", "autograde"), ("GAN_GRADING", "1")])
def test_a_graded_run_gets_a_fresh_checkpoint_folder(grader: tuple[str, str], monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # nbgrader autogrades every submission with the teacher's GAN_CKPT_DIR; a second submission must not find the
    # first one's finished model (nor a teacher's pre-made one) and skip its training.
    shared = tmp_path / "ck"
    (shared / "fast" / "02_conditional_gan").mkdir(parents=True)
    (shared / "fast" / "02_conditional_gan" / "latest.pt").write_bytes(b"the first student's model")
    monkeypatch.setenv("GAN_CKPT_DIR", str(shared))
    monkeypatch.setenv("GAN_MODE", "fast")
    monkeypatch.setenv(*grader)
    alice, bob = (setup(name="02_conditional_gan") for _ in range(2))
    assert "Graded run: checkpoints go to a fresh folder" in capsys.readouterr().out
    assert alice.ckpt_root != bob.ckpt_root
    for cfg in (alice, bob):
        assert shared.resolve() not in cfg.ckpt_dir.parents and shared.resolve() not in cfg.ckpt_dir_of("01").parents
        assert cfg.ckpt_root.is_dir() and not any(cfg.ckpt_root.iterdir())
    assert sorted(p.name for p in shared.rglob("*")) == ["02_conditional_gan", "fast", "latest.pt"]


@pytest.mark.parametrize("env", [{"NBGRADER_EXECUTION": "validate"}, {"GAN_GRADING": "0"}])
def test_a_learners_own_runs_keep_their_checkpoints(env: dict[str, str], monkeypatch: pytest.MonkeyPatch,
                                                    tmp_path: Path) -> None:
    # nbgrader's validate is the learner checking their own notebook: it may resume their own model.
    monkeypatch.setenv("GAN_CKPT_DIR", str(tmp_path / "ck"))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert setup(name="02_conditional_gan", verbose=False).ckpt_root == (tmp_path / "ck").resolve()


def test_a_graded_runs_folder_is_deleted_when_the_kernel_exits(tmp_path: Path) -> None:
    code = ("from gan_utils.runtime import setup; cfg = setup(verbose=False); "
            "(cfg.ckpt_dir / 'latest.pt').parent.mkdir(parents=True); (cfg.ckpt_dir / 'latest.pt').write_bytes(b'x'); "
            "print(cfg.ckpt_root)")
    env = {"PATH": "/usr/bin:/bin", "GAN_GRADING": "1", "GAN_CKPT_DIR": str(tmp_path / "ck"), "GAN_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    root = Path(out.stdout.strip().splitlines()[-1])
    assert root.name.startswith("gan-graded-") and not root.exists() and not (tmp_path / "ck").exists()
