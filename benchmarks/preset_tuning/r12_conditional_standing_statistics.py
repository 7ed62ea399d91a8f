"""Prototype (twelfth session): standing statistics for a CONDITIONAL generator average, on which class mix?

    python benchmarks/preset_tuning/r12_conditional_standing_statistics.py fmnist RUN_A,RUN_B   # 10 balanced classes
    python benchmarks/preset_tuning/r12_conditional_standing_statistics.py emoji RUN_A,RUN_B    # the 9 emoji folders

Scores each run's average (model.keras) with its averaged statistics and with
standing statistics measured on 4,096 latents with uniform classes (what
`generate(n, seed)` draws) and, for the emoji folder, with classes drawn in the
folder's own proportions (people-body ~60%). Fashion-MNIST: keras_gans.evaluate
(packaged classifier FD, 10,000 samples, the real sample's classes); emoji:
benchmarks/emoji_preset.py's SWD and classifier FD against real half A.
Result (BENCHMARKS.md, "Standing statistics"): uniform classes help on the
balanced data and hurt badly on the skewed folder, the folder's own mix is
level with averaged statistics, so conditional models keep their averaged ones.
"""

import os
import sys

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "benchmarks"))


def main(kind, runs):
    import keras
    import tensorflow as tf

    import keras_gans.models  # noqa: F401
    from keras_gans.evaluation.evaluate import Generator, evaluate
    from keras_gans.latents import class_labels, latent_vectors
    from keras_gans.models import averaging

    if kind == "emoji":
        import emoji_preset as ep

        source, half_a, _ = ep.load_real(os.path.join(REPO, "..", "shared", "data", "emoji-twitter"), "/tmp/kg_cache", 0)
        half_a_labels = source.labels[ep.halves(len(source), 0)[0]]
        net = ep.get_classifier(source, "/tmp/kg_cache/emoji_classifier.keras")
        reference = net.features(half_a)
        folder_mix = np.bincount(source.labels) / len(source.labels)

        def score(generator):
            result = ep.scores(net, half_a, ep.sample_like(generator, half_a_labels, 0), reference)
            return {"swd": result["swd"], "fd": result["fd"]}
    else:
        def score(generator):
            return {"fd": round(float(evaluate(generator, "idx:" + os.path.join(REPO, "..", "shared", "data", "fashion-mnist"),
                                                num_samples=10000)["metrics"]["frechet_distance"]), 3)}

    for run in runs.split(","):
        model = keras.saving.load_model(os.path.join(run, "model.keras"), compile=False)
        latent_dim, num_classes = model.latent_dim, model.num_classes

        def as_generator(network):
            def fn(z, labels=None):
                return keras.ops.convert_to_numpy(network([tf.constant(z), tf.constant(labels, tf.int32)], training=False))
            return Generator(fn, latent_dim, {}, num_classes)

        def standing(labels):
            copy = averaging.averaged_copy(model.ema_generator)
            copy.set_weights(model.ema_generator.get_weights())
            layers = averaging.batch_norm_layers(copy)
            z = latent_vectors(4096, latent_dim, 7)
            copy.trainable = True
            for k, start in enumerate(range(0, 4096, 512), start=1):
                for layer in layers:
                    layer.momentum, layer.synchronized = (k - 1) / k, False
                copy([z[start:start + 512], labels[start:start + 512]], training=True)
            return copy

        rows = {"averaged": score(as_generator(model.ema_generator)),
                "standing, uniform classes": score(as_generator(standing(class_labels(4096, num_classes, 7))))}
        if kind == "emoji":
            mix = np.random.default_rng(7).choice(num_classes, 4096, p=folder_mix).astype(np.int32)
            rows["standing, the folder's class mix"] = score(as_generator(standing(tf.constant(mix))))
        print(run, rows, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
