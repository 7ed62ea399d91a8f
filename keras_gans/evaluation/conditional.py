"""Quality of a class-conditional generator: does it make the class it was asked for?

`class_metrics` scores generated images whose requested classes are known:
the dataset classifier's accuracy at recognising the requested class
(overall and per class) and, per class, the Frechet distance between the
class's generated and real images (features of the same classifier).
`keras_gans.evaluate` adds these to its report for a conditional generator.
"""

import numpy as np

from keras_gans.evaluation import metrics


def class_accuracy(probabilities, requested):
    """(overall accuracy, {class: accuracy}) of argmax(probabilities) == requested.

    Classes never requested are left out of the per-class figures.
    """
    probabilities = np.asarray(probabilities)
    requested = np.asarray(requested).astype(int)
    if probabilities.ndim != 2 or len(probabilities) != len(requested):
        raise ValueError(f"need probabilities [N, K] and N requested labels, got {probabilities.shape} and {requested.shape}")
    correct = probabilities.argmax(axis=1) == requested
    per_class = {int(c): float(correct[requested == c].mean()) for c in np.unique(requested)}
    return float(correct.mean()), per_class


def per_class_frechet(real_features, real_labels, fake_features, fake_labels, min_count=2):
    """{class: Frechet distance between that class's real and generated features}; None with under `min_count` of either."""
    real_labels, fake_labels = np.asarray(real_labels).astype(int), np.asarray(fake_labels).astype(int)
    result = {}
    for c in np.unique(fake_labels):
        real, fake = real_features[real_labels == c], fake_features[fake_labels == c]
        if len(real) < min_count or len(fake) < min_count:
            result[int(c)] = None
            continue
        result[int(c)] = float(metrics.frechet_distance_from_features(real, fake))
    return result


def class_metrics(fake_probabilities, fake_labels, real_features=None, real_labels=None, fake_features=None,
                  class_names=None):
    """The conditional part of an evaluation report, keyed by class name when `class_names` is given."""
    overall, per_class = class_accuracy(fake_probabilities, fake_labels)

    def named(values):
        return {(class_names[c] if class_names is not None else str(c)): v for c, v in values.items()}

    report = {"class_accuracy": overall, "class_accuracy_per_class": named(per_class)}
    if real_features is not None and real_labels is not None:
        report["frechet_distance_per_class"] = named(
            per_class_frechet(real_features, real_labels, fake_features, fake_labels))
    return report
