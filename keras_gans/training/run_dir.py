"""RunDir: the one place that names the artefacts of a run folder (`--output_dir`).

  samples/              sample grids and their GIF (names inside: keras_gans.callbacks.samples)
  history.json          per-epoch logs            loss.png      their plot
  flags.txt             train.py's flags          config.json   the resolved TrainConfig
  versions.json         library versions
  model.keras           the trained model         best_generator.keras  best by --quality_metric
  export/<version>/     the generator as a SavedModel
  checkpoints/          ckpt-<step>.npz (keras_gans.training.checkpoint)
  tensorboard/          TensorBoard event files

Other modules ask a RunDir for these paths instead of spelling file names.
"""

import json
import os
import shutil

from keras_gans.errors import UserError


class RunDir:
    """Paths of one run folder, its preparation and atomic writes into it.

    Args:
        root: the folder (not created until `prepare` or a write).

    Example:
        run_dir = RunDir("runs/x")
        run_dir.write_json_atomic(run_dir.config, {"model": "dcgan"})
    """

    def __init__(self, root):
        self.root = str(root)

    def __repr__(self):
        return f"RunDir({self.root!r})"

    def _path(self, name):
        return os.path.join(self.root, name)

    samples = property(lambda self: self._path("samples"))
    history = property(lambda self: self._path("history.json"))
    loss_plot = property(lambda self: self._path("loss.png"))
    flags = property(lambda self: self._path("flags.txt"))
    config = property(lambda self: self._path("config.json"))
    versions = property(lambda self: self._path("versions.json"))
    model = property(lambda self: self._path("model.keras"))
    best_generator = property(lambda self: self._path("best_generator.keras"))
    export = property(lambda self: self._path("export"))
    checkpoints = property(lambda self: self._path("checkpoints"))
    tensorboard = property(lambda self: self._path("tensorboard"))

    def has_checkpoints(self):
        """True when checkpoints/ holds at least one checkpoint file (readable or not)."""
        try:
            return any(name.startswith("ckpt-") and name.endswith(".npz") for name in os.listdir(self.checkpoints))
        except OSError:
            return False

    def training_outputs(self):
        """What `--restart` removes: the files a run writes while it trains (model.keras and
        export/ are written at the end, and export/ keeps its earlier versions)."""
        return [self.checkpoints, self.tensorboard, self.samples, self.history, self.loss_plot, self.best_generator]

    def prepare(self, restart=False):
        """Creates the folder (checking it is writable); with `restart`, removes the previous run's
        training outputs and prints one line naming them.

        Raises:
            UserError: the folder cannot be created or written.
        """
        probe = self._path(".write_test")
        try:
            os.makedirs(self.root, exist_ok=True)
            with open(probe, "w") as f:
                f.write("ok")
            os.remove(probe)
        except OSError as error:
            raise UserError(
                f"cannot write to --output_dir={self.root}: {error.strerror or error}; choose a writable folder"
            ) from None
        if not restart:
            return
        removed = []
        for path in self.training_outputs():
            if os.path.isdir(path):
                shutil.rmtree(path)
            elif os.path.exists(path):
                os.remove(path)
            else:
                continue
            removed.append(os.path.basename(path))
        if removed:
            print(f"restart: removed the previous run's {', '.join(removed)} from {self.root}")

    def write_text_atomic(self, path, text):
        """Writes `text` to `path` through a temporary file in the same folder and os.replace,
        so a reader (or a kill) sees the old file or the new one, never half of one."""
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        tmp = path + ".tmp"  # same folder, so os.replace is a rename; open() keeps the usual permissions
        try:
            with open(tmp, "w") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.remove(tmp)
            except OSError:
                pass
            raise

    def write_json_atomic(self, path, value, **dump_options):
        self.write_text_atomic(path, json.dumps(value, **dump_options))

    def read_json(self, path):
        with open(path) as f:
            return json.load(f)
