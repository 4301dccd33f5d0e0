"""The README's main command, `python -m minigrad.examples.train`: every optimizer learns the
digits with its defaults, bad option values are usage errors naming the flag, checkpoints of
other settings are never overwritten, the plot names the run."""
import os

import pytest

pytest.importorskip("sklearn")
from minigrad.examples import train  # noqa: E402


def run(tmp_path, *args):
    """train.main in ``tmp_path`` (its default checkpoint folder lands there)."""
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        return train.main(["--quiet", *args])
    finally:
        os.chdir(cwd)


@pytest.mark.parametrize("optimizer", list(train.DEFAULT_LR))
def test_every_optimizer_reaches_95_percent_with_its_defaults(tmp_path, optimizer):
    history = run(tmp_path, "--optimizer", optimizer, "--plot", "")
    assert len(history["test_accuracy"]) == 6
    assert history["test_accuracy"][-1] >= 0.95, history["test_accuracy"]


def usage_error(capsys, *args) -> str:
    with pytest.raises(SystemExit) as exited:
        train.parse_args(list(args))
    assert exited.value.code == 2
    return capsys.readouterr().err.strip().splitlines()[-1]


@pytest.mark.parametrize("flag, value", [
    ("--threads", "0"), ("--threads", "two"), ("--limit", "0"), ("--limit", "-5"),
    ("--seed", "-1"), ("--seed", str(2**64)), ("--epochs", "0"), ("--batch-size", "-1"),
    ("--lr", "0"), ("--lr", "-0.1"), ("--lr", "nan"), ("--lr", "inf"), ("--lr-decay", "0"),
    ("--lr-decay", "1.5"), ("--clip-grad-norm", "-1"), ("--optimizer", "lbfgs"),
    ("--data", "mnist"),
])
def test_bad_values_are_usage_errors_naming_the_flag(capsys, flag, value):
    message = usage_error(capsys, flag, value)
    assert f"argument {flag}:" in message and value in message


def test_cifar10_without_data_or_download_names_the_flag(capsys, tmp_path):
    message = usage_error(capsys, "--data", "cifar10", "--root", str(tmp_path))
    assert "--download" in message and "download=True" not in message


def test_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        train.parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default: 6)", "(default: 32)", "(default: adam)", "(default: 0.7)",
                    "(default: 2.0)", "(default: digits)", "sgd 0.5, momentum 0.1, rmsprop "
                    "0.002, adam 0.003", "(default: 0)"):
        assert default in text, default
    assert "(default: None)" not in text and "(default: False)" not in text


def test_the_checkpoint_and_the_plot_are_named_after_the_run(tmp_path, monkeypatch):
    titles = []
    monkeypatch.setattr(train, "plot_curves", lambda history, path, title: titles.append(
        (path, title)) or True)
    run(tmp_path, "--optimizer", "sgd", "--limit", "64", "--epochs", "1")
    name = "digits-sgd-lr0.5-b32-seed0-limit64"
    assert (tmp_path / "checkpoints" / f"{name}.safetensors").is_file()
    [(path, title)] = titles
    assert path == os.path.join("checkpoints", f"{name}.png")
    assert title == ("digits, sgd lr 0.5 (x0.7 per epoch), clip 2, batch 32, seed 0, "
                     "first 64 images, 1 epochs")


def test_the_plot_is_drawn(tmp_path):
    pytest.importorskip("matplotlib")
    run(tmp_path, "--limit", "64", "--epochs", "2", "--plot", "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:4] == b"\x89PNG"


def test_a_checkpoint_of_other_settings_is_never_overwritten(tmp_path, capsys):
    path = str(tmp_path / "run.safetensors")
    common = ["--limit", "64", "--epochs", "1", "--plot", "", "--checkpoint", path]
    run(tmp_path, *common)
    before = os.path.getmtime(path), open(path, "rb").read()
    for other in (["--lr", "0.01"], ["--seed", "1"], ["--optimizer", "sgd"],
                  ["--lr-decay", "1"], ["--batch-size", "16"], ["--resume", "--seed", "2"]):
        with pytest.raises(SystemExit) as exited:
            run(tmp_path, *common, *other)
        assert exited.value.code == 2
        assert "holds a run with other settings" in capsys.readouterr().err
    assert (os.path.getmtime(path), open(path, "rb").read()) == before
    # --overwrite replaces it; the same settings again start over, saying so
    run(tmp_path, *common, "--seed", "1", "--overwrite")
    assert open(path, "rb").read() != before[1]
    capsys.readouterr()
    run(tmp_path, *common, "--seed", "1")
    assert "overwriting" in capsys.readouterr().out


def test_a_file_that_is_not_a_checkpoint_is_never_overwritten(tmp_path, capsys):
    weights = tmp_path / "weights.safetensors"
    weights.write_bytes(b"my precious weights")
    with pytest.raises(SystemExit):
        run(tmp_path, "--limit", "64", "--epochs", "1", "--checkpoint", str(weights))
    assert "is not a checkpoint of this script" in capsys.readouterr().err
    assert weights.read_bytes() == b"my precious weights"


def test_the_console_script_exits_with_0(monkeypatch):
    """minigrad-train runs ``command``: a console script exits with its function's return
    value, and main's history would make that 1."""
    calls = []
    monkeypatch.setattr(train, "main", lambda argv=None: calls.append(argv) or {"loss": []})
    assert train.command() is None and calls == [None]
