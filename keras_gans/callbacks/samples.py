"""SampleGrids: a fixed-latent and a random sample grid every epoch, and their GIF."""

import os

import keras

from keras_gans import images as image_utils
from keras_gans.callbacks.class_grid import grid_picture


def gif_due(epoch):
    """Whether the GIF is rewritten after this (1-based) epoch: 1, 2, 4, 8, ...

    The GIF re-encodes every frame so far: rewritten every epoch it cost O(epochs^2), 2.4-3.3 s per
    epoch by epoch 21 of the folder64 preset, 38 s of a 181 s run (BENCHMARKS.md, folder64 round 7).
    At powers of two a run still shows one early on, and encodes fewer than 3x its frames in all.
    """
    return (epoch & (epoch - 1)) == 0


# Frames larger than this make a GIF of hundreds of megabytes a frame, which Pillow also refuses to
# read back (its decompression-bomb limit); such runs keep their PNG grids and get no GIF.
MAX_GIF_SIDE = 4096


class SampleGrids(keras.callbacks.Callback):
    """Every epoch, writes a grid from a fixed latent batch and one from fresh noise;
    a GIF of the fixed-latent grids after epochs 1, 2, 4, 8, ... and at the end of training.
    At the end of training the last epoch's grids are drawn again with the generator
    average's standing statistics (`GAN.sampling_network`), as the export samples.

    Files: `{output_dir}/fixed_epoch_NNN.png`, `random_epoch_NNN.png`, `training.gif`.

    Args:
        output_dir: folder for the pictures (created).
        num_images: images per grid (25 gives the article's 5x5).
        seed: seed of the fixed latent batch.
        scale: pixel upscaling of the saved grids, for easier viewing.
        class_names: row labels of a conditional model's grids (one class
            per row, `class_grid.grid_picture`); default: the class ids.
    """

    def __init__(self, output_dir, num_images=25, seed=1234, scale=2, class_names=None):
        super().__init__()
        self.class_names = class_names
        self.output_dir = output_dir
        self.num_images = num_images
        self.seed = seed
        self.scale = scale
        self.epoch = 0
        self.frame_side = 0
        self.gif_off = False  # set once, with one line saying why

    def on_epoch_end(self, epoch, logs=None):
        self.epoch = epoch + 1
        # During training: the generator average with the BatchNorm statistics it was trained with;
        # measuring its standing statistics (GAN.sampling_network) every epoch would cost training time.
        self.write_grids(standing_statistics=False)
        if gif_due(self.epoch):
            self.write_gif()

    def on_train_end(self, logs=None):
        if self.epoch:
            # The last epoch's grids again, as `generate` and the export sample: with standing statistics.
            self.write_grids(standing_statistics=True)
        self.write_gif()

    def write_grids(self, standing_statistics):
        os.makedirs(self.output_dir, exist_ok=True)
        for seed, path in ((self.seed, self.fixed_path(self.epoch)), (None, self.path(f"random_epoch_{self.epoch:03d}.png"))):
            picture = grid_picture(self.model, self.num_images, seed, self.class_names, standing_statistics)
            self.frame_side = max(picture.shape[:2]) * self.scale
            image_utils.save_png(picture.repeat(self.scale, axis=0).repeat(self.scale, axis=1), path)

    def path(self, name):
        return os.path.join(self.output_dir, name)

    def fixed_path(self, epoch):
        return self.path(f"fixed_epoch_{epoch:03d}.png")

    def write_gif(self):
        """The GIF of the fixed-latent grids so far. An extra: whatever goes wrong, training goes on."""
        if self.gif_off:
            return
        if self.frame_side > MAX_GIF_SIDE:
            self.stop_gif(f"its grids are {self.frame_side} pixels wide (over {MAX_GIF_SIDE})")
            return
        frames = [self.fixed_path(e) for e in range(1, self.epoch + 1) if os.path.exists(self.fixed_path(e))]
        if not frames:
            return
        try:
            image_utils.save_gif(frames, self.path("training.gif"))
        except Exception as error:  # noqa: BLE001 - a failed GIF must not stop the run before its checkpoint
            self.stop_gif(f"it could not be written ({type(error).__name__}: {error})")

    def stop_gif(self, why):
        self.gif_off = True
        print(f"keras_gans: no training.gif for this run: {why}; the per-epoch PNG grids are written as usual")
