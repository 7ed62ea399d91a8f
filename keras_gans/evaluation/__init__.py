"""Evaluation: how good a generator's samples are.

- `metrics`: Frechet distance (FID), KID, classifier score, precision/recall on features.
- `features`: the feature extractors (InceptionV3, the dataset classifier); `python -m keras_gans.features`.
- `classifier`: building, training and finding the dataset classifier.
- `evaluate`: `python -m keras_gans.evaluate`, a JSON report for an export or a .keras model.
- `quality`: `QualityMetrics`, the training callback that scores every few epochs and keeps the best.
"""
