"""Keras callbacks for GAN runs: weight clipping, sample grids and GIF, loss history."""

import json
import os

import keras

from keras_gans import images as image_utils
from keras_gans.models.wgan import attach_weight_clipping


class WeightClipping(keras.callbacks.Callback):
    """Clips the critic's weights to [-clip_value, clip_value] after EVERY critic update.

    A callback's `on_train_batch_end` runs once per train step, but a WGAN
    step holds `n_critic` critic updates, and with `steps_per_execution > 1`
    a call covers several steps. So instead of clipping there, this callback
    attaches a clipping constraint to each critic variable when training
    begins; the optimiser applies it right after each update, inside the
    compiled step, and the train function is retraced to include it.

    Args:
        clip_value: the bound c (the WGAN paper's 0.01).

    Example:
        model = keras_gans.WGAN(clip_value=0)   # no built-in clipping
        model.compile()
        model.fit(dataset, callbacks=[WeightClipping(0.01)])
    """

    def __init__(self, clip_value=0.01):
        super().__init__()
        if clip_value <= 0:
            raise ValueError(f"clip_value must be positive, got {clip_value}")
        self.clip_value = float(clip_value)

    def on_train_begin(self, logs=None):
        attach_weight_clipping(self.model.discriminator, self.clip_value)
        self.model.make_train_function(force=True)


class SampleGrids(keras.callbacks.Callback):
    """Every epoch, writes a grid from a fixed latent batch and one from fresh noise;
    at the end of training, a GIF of the fixed-latent grids.

    Files: `{output_dir}/fixed_epoch_NNN.png`, `random_epoch_NNN.png`, `training.gif`.

    Args:
        output_dir: folder for the pictures (created).
        num_images: images per grid (25 gives the article's 5x5).
        seed: seed of the fixed latent batch.
        scale: pixel upscaling of the saved grids, for easier viewing.
    """

    def __init__(self, output_dir, num_images=25, seed=1234, scale=2):
        super().__init__()
        self.output_dir = output_dir
        self.num_images = num_images
        self.seed = seed
        self.scale = scale
        self.epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        os.makedirs(self.output_dir, exist_ok=True)
        self.epoch = epoch + 1
        image_utils.save_grid(self.model.generate(self.num_images, seed=self.seed), self.fixed_path(self.epoch), self.scale)
        image_utils.save_grid(self.model.generate(self.num_images), self.path(f"random_epoch_{self.epoch:03d}.png"), self.scale)
        self.write_gif()

    def on_train_end(self, logs=None):
        self.write_gif()

    def path(self, name):
        return os.path.join(self.output_dir, name)

    def fixed_path(self, epoch):
        return self.path(f"fixed_epoch_{epoch:03d}.png")

    def write_gif(self):
        frames = [self.fixed_path(e) for e in range(1, self.epoch + 1) if os.path.exists(self.fixed_path(e))]
        if frames:
            image_utils.save_gif(frames, self.path("training.gif"))


class LossHistory(keras.callbacks.Callback):
    """Writes the per-epoch logs to `history.json` and their plot to `loss.png` after every epoch.

    Written each epoch (atomically), so a run killed later keeps its history.

    Args:
        output_dir: folder for the two files.
        history: an earlier {name: [values]} to extend (a resumed run).
    """

    def __init__(self, output_dir, history=None):
        super().__init__()
        self.output_dir = output_dir
        self.history = {k: list(v) for k, v in (history or {}).items()}

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(float(value))
        os.makedirs(self.output_dir, exist_ok=True)
        path = os.path.join(self.output_dir, "history.json")
        with open(path + ".tmp", "w") as f:
            json.dump(self.history, f, indent=1)
        os.replace(path + ".tmp", path)
        image_utils.save_loss_plot(self.history, os.path.join(self.output_dir, "loss.png"))
