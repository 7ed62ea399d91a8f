"""A training callback that scores the generator (KID or FID) every few epochs and keeps the best one."""

import math
import os

import keras
import numpy as np

from keras_gans.evaluation import metrics
from keras_gans.fileio import save_model_atomic

METRICS = {"kid": "kernel_distance", "fid": "frechet_distance"}


class QualityMetrics(keras.callbacks.Callback):
    """Every `every` epochs, scores `num_samples` generated images against a fixed real sample.

    The latents (`seed`) and the real sample are the same at every evaluation,
    so the logged numbers move only because the generator does. The value is
    written into the epoch's `logs` under `name` ("kid" or "fid"), so it
    reaches `History`, TensorBoard and any callback AFTER this one in the list
    (put this callback first). Epochs without an evaluation log NaN, which
    keeps every history list one entry per epoch and plots as a gap.

    KID is the better choice for small samples: unbiased, where FID is biased
    upwards the fewer the samples (Binkowski et al. 2018).

    Args:
        real_images: real images, uint8 or float in [-1, 1], [N, H, W, C].
        extractor: a `keras_gans.features.Extractor` (e.g.
            `features.load_classifier(features.packaged_classifier_path())`).
        metric: "kid" or "fid".
        every: evaluate after every `every`-th epoch (and after the last).
        num_samples: generated images per evaluation (real ones: the same,
            or all of `real_images` when fewer).
        seed: seed of the latents and of the real sample.
        best_path: if set, the generator network is saved there
            (`.keras`) whenever the metric improves (lower is better).

    Example:
        extractor = features.load_classifier(features.packaged_classifier_path())
        quality = QualityMetrics(source.images, extractor, metric="kid", every=5,
                                 best_path="runs/x/best_generator.keras")
        model.fit(dataset, epochs=50, callbacks=[quality, ...])
    """

    def __init__(self, real_images, extractor, metric="kid", every=1, num_samples=1000, seed=0, best_path=None,
                 kid_subset_size=None):
        super().__init__()
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)}, got {metric!r}")
        if int(every) <= 0 or int(num_samples) < 2:
            raise ValueError(f"every must be >= 1 and num_samples >= 2, got {every} and {num_samples}")
        if best_path is not None and not str(best_path).endswith(".keras"):
            raise ValueError(f"best_path must end in .keras, got {best_path!r}")
        self.metric = metric
        self.name = metric
        self.every = int(every)
        self.num_samples = int(num_samples)
        self.seed = int(seed)
        self.best_path = best_path
        self.extractor = extractor
        self.kid_subset_size = kid_subset_size or min(1000, self.num_samples)
        rng = np.random.default_rng(seed)
        real_images = np.asarray(real_images)
        index = rng.choice(len(real_images), min(self.num_samples, len(real_images)), replace=False)
        # Real features are computed once: the real sample never changes.
        self.real_features = extractor.features(real_images[np.sort(index)])
        self.best = math.inf
        self.best_epoch = None
        self.history = []

    def score(self):
        """The metric of the model's generator now (lower is better)."""
        fake = self.model.generate(self.num_samples, seed=self.seed)
        fake_features = self.extractor.features(fake)
        if self.metric == "fid":
            return metrics.frechet_distance_from_features(self.real_features, fake_features)
        return metrics.kernel_distance(self.real_features, fake_features, num_subsets=50,
                                       subset_size=self.kid_subset_size, seed=self.seed)[0]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        last = self.params.get("epochs") if self.params else None
        if (epoch + 1) % self.every and epoch + 1 != last:
            logs[self.name] = float("nan")
            logs[f"best_{self.name}"] = self.best if self.best_epoch else float("nan")
            return
        value = self.score()
        logs[self.name] = value
        self.history.append((epoch + 1, value))
        if value < self.best:
            self.best, self.best_epoch = value, epoch + 1
            if self.best_path:
                os.makedirs(os.path.dirname(os.path.abspath(self.best_path)), exist_ok=True)
                # Atomic: a kill during the save keeps the previous best, whole.
                # The network `generate` (and so the score) used.
                network = self.model.sampling_network() if hasattr(self.model, "sampling_network") else self.model.generator
                save_model_atomic(network, self.best_path)
        logs[f"best_{self.name}"] = self.best
