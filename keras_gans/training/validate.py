"""validate(config): every check of a TrainConfig that needs no data, so a bad flag fails before any work."""

import os

from keras_gans import distribute
from keras_gans.config import check_choices
from keras_gans.errors import UserError
from keras_gans.training.resume import check_resumable
from keras_gans.training.run_lock import refuse_if_in_use


def validate(config):
    """Raises a one-line UserError naming the first bad setting and how to fix it."""
    check_choices(config)  # --model, --precision, --split, --quality_metric
    positive = ("epochs", "batch_size", "latent_dim", "width", "n_critic", "d_lr", "g_lr", "steps_per_epoch",
                "image_size", "max_images", "grid_images", "keep_checkpoints", "d_loss_patience", "quality_every",
                "r1_interval")
    for name in positive:
        value = getattr(config, name)
        if value is not None and value <= 0:
            raise UserError(f"--{name} must be positive, got {value}")
    for name in ("beta_1", "beta_2"):
        value = getattr(config, name)
        if value is not None and not 0.0 <= value < 1.0:
            raise UserError(f"--{name} must be in [0, 1), got {value}")
    if config.channels is not None and config.channels not in (1, 3):
        raise UserError(f"--channels must be 1 or 3, got {config.channels}")
    if not 0.0 <= config.label_smoothing < 1.0:
        raise UserError(f"--label_smoothing must be in [0, 1), got {config.label_smoothing}")
    if not 0.0 <= config.ema_decay < 1.0:
        raise UserError(f"--ema_decay must be in [0, 1) (0 turns generator averaging off), got {config.ema_decay}")
    if config.max_memory_gb is not None and config.max_memory_gb <= 0:
        raise UserError(f"--max_memory_gb must be positive, got {config.max_memory_gb}")
    if config.resize_conv_layers and config.model == "gan":
        raise UserError("--resize_conv_layers applies to the convolutional generators (dcgan, wgan, wgan_gp); "
                        "--model=gan's is fully connected: drop --resize_conv_layers")
    for name in ("clip_value", "gp_weight", "instance_noise", "r1_gamma", "max_minutes", "resize_conv_layers"):
        value = getattr(config, name)
        if value is not None and value < 0:
            raise UserError(f"--{name} must be >= 0, got {value}")
    if os.path.exists(config.output_dir) and not os.path.isdir(config.output_dir):
        raise UserError(f"--output_dir={config.output_dir!r} is a file: choose a folder")
    distribute.check_strategy_flags(config.strategy, config.tpu)
    for name in ("checkpoint_every", "log_every", "d_loss_floor", "diversity_floor"):
        if getattr(config, name) < 0:
            raise UserError(f"--{name} must be >= 0 (0 turns it off), got {getattr(config, name)}")
    if distribute.is_chief():
        # A live run there: say so, not that its settings differ. The chief alone: it holds the
        # lock, and the other workers of a cluster share its output_dir by design.
        refuse_if_in_use(config.output_dir)
    check_resumable(config)


def requested_image_shape(config):
    """The (H, W, C) asked for by --image_size/--channels, or None to keep the dataset's."""
    if config.image_size is None and config.channels is None:
        return None
    if config.image_size is None or config.channels is None:
        raise UserError("--image_size and --channels go together (e.g. --image_size=64 --channels=3)")
    return (config.image_size, config.image_size, config.channels)
