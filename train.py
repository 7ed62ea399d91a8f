"""Train a GAN: python train.py --flagfile=configs/quickstart.flags [--flag=value ...]

Flags left unset take the reference article's value for the chosen model.
"""

import errno
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ start-up chatter out of the log

from absl import app, flags  # noqa: E402

FLAGS = flags.FLAGS

# Model.
flags.DEFINE_enum("model", "dcgan", ["gan", "dcgan", "wgan", "wgan_gp"], "Which GAN to train.")
flags.DEFINE_integer("latent_dim", 100, "Size of the latent vector z.")
flags.DEFINE_integer("width", None, "Network width (MLP: first hidden layer, default 256; DCGAN: base filters, default 64).")
flags.DEFINE_integer("n_critic", None, "Discriminator updates per generator update (default 1; 5 for wgan, wgan_gp).")
flags.DEFINE_float("clip_value", 0.01, "WGAN: critic weights are clipped to [-clip_value, clip_value].")
flags.DEFINE_float("gp_weight", 10.0, "WGAN-GP: gradient penalty weight lambda.")
flags.DEFINE_float("instance_noise", None, "Std of noise added to D's inputs (default 0.05 for gan, 0 otherwise).")
flags.DEFINE_float("label_smoothing", 0.0, "One-sided label smoothing: real label = 1 - this (0.1 gives 0.9).")
flags.DEFINE_float("ema_decay", 0.0, "Sample, grid and export from an exponential moving average of the generator's "
                   "weights with this decay (e.g. 0.999); 0: from the trained generator itself, as the article.")

# Optimisation.
flags.DEFINE_integer("epochs", 5, "Passes over the dataset.")
flags.DEFINE_integer("batch_size", None, "Images per critic/generator update, over all replicas (default: gan 128, dcgan 256, wgan 128, wgan_gp 128).")
flags.DEFINE_float("d_lr", None, "Discriminator learning rate (default: the article's for the model).")
flags.DEFINE_float("g_lr", None, "Generator learning rate (default: the article's for the model).")
flags.DEFINE_float("beta_1", None, "Adam beta_1 for both optimisers (Adam models only).")
flags.DEFINE_float("beta_2", None, "Adam beta_2 for both optimisers (Adam models only).")
flags.DEFINE_integer("steps_per_epoch", None, "Train steps per epoch (default: one pass over the data).")
flags.DEFINE_boolean("jit_compile", None, "Compile the train step with XLA (default: on, except for bfloat16 on a CPU, where oneDNN is faster; always off under a distribution strategy).")
flags.DEFINE_enum("precision", "auto", ["auto", "float32", "mixed_bfloat16", "mixed_float16"],
                  "Dtype policy. auto: mixed_bfloat16 on CPUs with native bfloat16 (AVX512_BF16/AMX), else float32.")

# Distribution.
flags.DEFINE_string(
    "strategy", "auto",
    "auto | default | mirrored | multi_worker | tpu. auto: tpu if --tpu is set, multi_worker if TF_CONFIG "
    "names a cluster, mirrored over all GPUs if there are several, else default (one device). "
    "--batch_size is the GLOBAL batch, split evenly over the replicas.",
)
flags.DEFINE_string("tpu", None, "TPU name or grpc://IP:8470 (local on a TPU VM); implies --strategy=tpu under auto.")

# Data.
flags.DEFINE_string("dataset", "sample", "sample | idx:DIR | folder:DIR | tfds:NAME (e.g. tfds:mnist).")
flags.DEFINE_string("data_dir", None, "TFDS data directory holding prepared datasets.")
flags.DEFINE_enum("split", "train", ["train", "test"], "Dataset split to train on.")
flags.DEFINE_integer("image_size", None, "folder: datasets: resize images to image_size x image_size.")
flags.DEFINE_integer("channels", None, "folder: datasets: 1 (grayscale) or 3 (RGB).")
flags.DEFINE_integer("max_images", None, "Use only the first N images of the dataset.")
flags.DEFINE_boolean("download", True, "Let TFDS download datasets that are not prepared.")

# Output.
flags.DEFINE_string("output_dir", "runs/latest", "Folder for samples, history, model and export.")
flags.DEFINE_integer("seed", 0, "Random seed (weights, noise, data order, fixed sample grid).")
flags.DEFINE_integer("grid_images", 25, "Images per sample grid (25 = 5x5).")
flags.DEFINE_boolean("export", True, "Export the generator as a SavedModel at the end.")
flags.DEFINE_integer("verbose", 1, "Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.")

# Checkpoints, resume and monitoring.
flags.DEFINE_integer("checkpoint_every", 500, "Checkpoint every N train steps (and at every epoch end); 0: epoch ends only.")
flags.DEFINE_integer("keep_checkpoints", 3, "How many of the newest checkpoints to keep in OUTPUT_DIR/checkpoints.")
flags.DEFINE_boolean("restart", False, "Start over in --output_dir, deleting its checkpoints, samples, history and TensorBoard logs, instead of resuming.")
flags.DEFINE_boolean("tensorboard", True, "Write TensorBoard logs to OUTPUT_DIR/tensorboard.")
flags.DEFINE_integer("log_every", 50, "Write step-level TensorBoard scalars every N steps; 0: epoch level only.")
flags.DEFINE_boolean("health_checks", True, "Stop at a NaN/Inf loss at once; warn about a near-zero D loss and generator collapse.")
flags.DEFINE_float("d_loss_floor", 0.01, "Health: a (BCE) discriminator loss below this counts as near zero.")
flags.DEFINE_integer("d_loss_patience", 200, "Health: warn after this many consecutive steps of near-zero D loss.")
flags.DEFINE_float("diversity_floor", 0.02, "Health: warn of collapse when generated images' mean per-pixel std falls below this.")

# Sample quality during training.
flags.DEFINE_enum("quality_metric", None, ["kid", "fid"], "Every --quality_every epochs, score 1,000 samples by KID or FID "
                  "on the dataset's feature classifier (packaged for Fashion-MNIST and the sample), log it and keep "
                  "the best generator in best_generator.keras.")
flags.DEFINE_integer("quality_every", 1, "Epochs between --quality_metric evaluations.")


def config_from_flags():
    from keras_gans.train_lib import TrainConfig

    names = [field.name for field in __import__("dataclasses").fields(TrainConfig)]
    return TrainConfig(**{name: FLAGS[name].value for name in names})


def config_from_flagfile(path):
    """The TrainConfig `python train.py --flagfile=PATH` trains with (for the benchmarks and tests)."""
    FLAGS.unparse_flags()
    try:
        FLAGS(["train.py", f"--flagfile={path}"])
        return config_from_flags()
    finally:
        FLAGS.unparse_flags()


def main(argv):
    if len(argv) > 1:
        raise app.UsageError(f"unexpected arguments {argv[1:]}: flags are written --name=value")
    from keras_gans.errors import UserError
    from keras_gans.train_lib import run

    try:
        result = run(config_from_flags(), flags_text=FLAGS.flags_into_string())
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        # A disk that filled up or a folder that became unwritable mid-run: one line, not a traceback.
        if error.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES):
            raise
        print(f"error: cannot write {error.filename or 'into --output_dir'}: {error.strerror}; free some disk "
              "space or choose another --output_dir (the same command then resumes from the last checkpoint)",
              file=sys.stderr)
        return 2
    except Exception as error:  # a multi-worker cluster that lost a worker: one line, not a traceback
        from keras_gans.distribute import describe_worker_failure

        message = describe_worker_failure(error)
        if message is None:
            raise
        print(f"error: {message}", file=sys.stderr)
        return 3
    print(f"done: samples, history, model.keras and export in {result.output_dir}")
    return 0


if __name__ == "__main__":
    app.run(main)
