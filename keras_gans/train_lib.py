"""run(config): data -> networks -> model -> fit -> artefacts. `train.py` is a thin flag layer over this."""

import dataclasses
import json
import os
import platform
from typing import Optional

import keras

from keras_gans import callbacks as gan_callbacks
from keras_gans import checkpoints as checkpoint_lib
from keras_gans import data as data_lib
from keras_gans import distribute
from keras_gans import export as export_lib
from keras_gans import features
from keras_gans import precision as precision_lib
from keras_gans.quality import QualityMetrics
from keras_gans import health as health_lib
from keras_gans import monitoring
from keras_gans.errors import UserError
from keras_gans.models import MODELS


@dataclasses.dataclass
class TrainConfig:
    """Everything a run depends on. None means 'the model's own (article) default'."""

    # Model.
    model: str = "dcgan"
    latent_dim: int = 100
    width: Optional[int] = None
    n_critic: Optional[int] = None
    clip_value: float = 0.01
    gp_weight: float = 10.0
    instance_noise: Optional[float] = None
    label_smoothing: float = 0.0
    ema_decay: float = 0.0  # 0: sample from the trained generator; e.g. 0.999: from its moving average
    # Optimisation.
    epochs: int = 5
    batch_size: Optional[int] = None
    d_lr: Optional[float] = None
    g_lr: Optional[float] = None
    beta_1: Optional[float] = None
    beta_2: Optional[float] = None
    steps_per_epoch: Optional[int] = None
    jit_compile: Optional[bool] = None  # None: the fastest path for the precision (keras_gans.precision)
    precision: str = "auto"
    # Distribution: --batch_size is the GLOBAL batch, split evenly over the replicas.
    strategy: str = "auto"
    tpu: Optional[str] = None
    # Data.
    dataset: str = "sample"
    data_dir: Optional[str] = None
    split: str = "train"
    image_size: Optional[int] = None
    channels: Optional[int] = None
    max_images: Optional[int] = None
    download: bool = True
    # Output.
    output_dir: str = "runs/latest"
    seed: int = 0
    grid_images: int = 25
    export: bool = True
    verbose: int = 1
    # Checkpoints, resume and monitoring.
    checkpoint_every: int = 500
    keep_checkpoints: int = 3
    restart: bool = False
    tensorboard: bool = True
    log_every: int = 50
    health_checks: bool = True
    d_loss_floor: float = 0.01
    d_loss_patience: int = 200
    diversity_floor: float = 0.02
    # Sample quality during training (keras_gans.quality).
    quality_metric: Optional[str] = None  # "kid" or "fid" on the dataset's feature classifier
    quality_every: int = 1

    def resolved_batch_size(self):
        return self.batch_size if self.batch_size is not None else MODELS[self.model].default_batch_size

    def resolved_n_critic(self):
        return self.n_critic if self.n_critic is not None else MODELS[self.model].default_n_critic


@dataclasses.dataclass
class RunResult:
    model: keras.Model
    history: dict
    output_dir: str
    export_path: Optional[str]


def validate(config):
    """Checks every setting that needs no data, so a bad flag fails before any work."""
    if config.model not in MODELS:
        raise UserError(f"unknown --model={config.model!r}: use one of {', '.join(MODELS)}")
    positive = {
        "epochs": config.epochs,
        "batch_size": config.batch_size,
        "latent_dim": config.latent_dim,
        "width": config.width,
        "n_critic": config.n_critic,
        "d_lr": config.d_lr,
        "g_lr": config.g_lr,
        "steps_per_epoch": config.steps_per_epoch,
        "image_size": config.image_size,
        "max_images": config.max_images,
        "grid_images": config.grid_images,
        "keep_checkpoints": config.keep_checkpoints,
        "d_loss_patience": config.d_loss_patience,
    }
    for name, value in positive.items():
        if value is not None and value <= 0:
            raise UserError(f"--{name} must be positive, got {value}")
    for name in ("beta_1", "beta_2"):
        value = getattr(config, name)
        if value is not None and not 0.0 <= value < 1.0:
            raise UserError(f"--{name} must be in [0, 1), got {value}")
    if config.quality_metric not in (None, "kid", "fid"):
        raise UserError(f"unknown --quality_metric={config.quality_metric!r}: use kid or fid (or leave it unset)")
    if config.quality_every <= 0:
        raise UserError(f"--quality_every must be positive, got {config.quality_every}")
    if config.precision not in precision_lib.CHOICES:
        raise UserError(f"unknown --precision={config.precision!r}: use one of {', '.join(precision_lib.CHOICES)}")
    if config.channels is not None and config.channels not in (1, 3):
        raise UserError(f"--channels must be 1 or 3, got {config.channels}")
    if not 0.0 <= config.label_smoothing < 1.0:
        raise UserError(f"--label_smoothing must be in [0, 1), got {config.label_smoothing}")
    if not 0.0 <= config.ema_decay < 1.0:
        raise UserError(f"--ema_decay must be in [0, 1) (0 turns generator averaging off), got {config.ema_decay}")
    for name in ("clip_value", "gp_weight", "instance_noise"):
        value = getattr(config, name)
        if value is not None and value < 0:
            raise UserError(f"--{name} must be >= 0, got {value}")
    if os.path.exists(config.output_dir) and not os.path.isdir(config.output_dir):
        raise UserError(f"--output_dir={config.output_dir!r} is a file: choose a folder")
    distribute.check_strategy_flags(config.strategy, config.tpu)
    for name in ("checkpoint_every", "log_every", "d_loss_floor", "diversity_floor"):
        if getattr(config, name) < 0:
            raise UserError(f"--{name} must be >= 0 (0 turns it off), got {getattr(config, name)}")
    checkpoint_lib.check_resumable(config)


def requested_image_shape(config):
    """The (H, W, C) asked for by --image_size/--channels, or None to keep the dataset's."""
    if config.image_size is None and config.channels is None:
        return None
    if config.image_size is None or config.channels is None:
        raise UserError("--image_size and --channels go together (e.g. --image_size=64 --channels=3)")
    return (config.image_size, config.image_size, config.channels)


def build_model(config, image_shape):
    cls = MODELS[config.model]
    kwargs = dict(
        image_shape=image_shape,
        latent_dim=config.latent_dim,
        width=config.width,
        n_critic=config.n_critic,
        instance_noise=config.instance_noise,
        label_smoothing=config.label_smoothing,
        ema_decay=config.ema_decay,
        seed=config.seed,
    )
    if config.model == "wgan":
        kwargs["clip_value"] = config.clip_value
    if config.model == "wgan_gp":
        kwargs["gp_weight"] = config.gp_weight
    try:
        return cls(**kwargs)
    except ValueError as error:
        raise UserError(str(error)) from None


def build_optimizers(model, config):
    """The model's default optimisers with any --d_lr/--g_lr/--beta_1/--beta_2 overrides."""
    d_default, g_default = model.default_optimizers()

    def override(optimizer, lr):
        settings = optimizer.get_config()
        if lr is not None:
            settings["learning_rate"] = lr
        for name in ("beta_1", "beta_2"):
            value = getattr(config, name)
            if value is None:
                continue
            if name not in settings:
                raise UserError(
                    f"--{name} applies to Adam, but {config.model} trains with "
                    f"{type(optimizer).__name__}: drop --{name}"
                )
            settings[name] = value
        return type(optimizer).from_config(settings)

    return override(d_default, config.d_lr), override(g_default, config.g_lr)


def write_run_info(config, output_dir, flags_text=None):
    """The resolved config, library versions and (from train.py) the flags, saved with the run."""
    import tensorflow as tf

    from keras_gans import __version__

    with open(os.path.join(output_dir, "config.json"), "w") as f:
        json.dump(dataclasses.asdict(config), f, indent=1, sort_keys=True)
    versions = {
        "keras_gans": __version__,
        "keras": keras.__version__,
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
    }
    with open(os.path.join(output_dir, "versions.json"), "w") as f:
        json.dump(versions, f, indent=1)
    if flags_text is not None:
        with open(os.path.join(output_dir, "flags.txt"), "w") as f:
            f.write(flags_text)


def run(config, flags_text=None, extra_callbacks=()):
    """Trains one model as `config` says and writes its artefacts into config.output_dir.

    Writes: samples/fixed_epoch_NNN.png and random_epoch_NNN.png every epoch,
    samples/training.gif, history.json, loss.png, config.json, versions.json,
    flags.txt (from train.py), model.keras and export/<version>/ (SavedModel),
    checkpoints/ckpt-<step>.npz (the last --keep_checkpoints) and tensorboard/.

    Re-running with the same output_dir and settings resumes from the newest
    readable checkpoint (one line says so); `config.restart` starts over.

    Raises:
        UserError: bad settings, or an output_dir holding a run with other settings.
        keras_gans.health.TrainingDivergedError: a NaN/Inf loss or weight (a UserError).
    """
    # Load data.
    validate(config)
    # Before any other TensorFlow work: multi-worker collectives are configured at start-up.
    strategy = distribute.create_strategy(config.strategy, config.tpu)
    source = data_lib.open_source(
        config.dataset,
        split=config.split,
        image_shape=requested_image_shape(config) if config.dataset.startswith("folder:") else None,
        data_dir=config.data_dir,
        download=config.download,
        limit=config.max_images,
    )
    if requested_image_shape(config) not in (None, source.image_shape):
        raise UserError(
            f"--image_size/--channels ask for {requested_image_shape(config)} but {config.dataset!r} holds "
            f"{source.image_shape} images; only folder: datasets are resized: drop the two flags"
        )
    # The feature extractor of --quality_metric, found before any training (a
    # dataset without a trained classifier fails here, with the command to train one).
    quality_extractor = None
    if config.quality_metric:
        quality_extractor = features.get_extractor("classifier", train_images=source.images, spec=config.dataset)
    batch_size = config.resolved_batch_size()
    step_images = batch_size * config.resolved_n_critic()
    if step_images > len(source):
        raise UserError(
            f"one train step needs {step_images} images (batch_size {batch_size} x n_critic "
            f"{config.resolved_n_critic()}) but {config.dataset!r} holds {len(source)}: lower --batch_size"
        )

    # Construct networks and optimisers.
    # Inside the strategy's scope: variables (weights, both optimisers' slots
    # and step counters, metrics) are created mirrored on every replica, and
    # the optimisers capture the strategy. Under a strategy compile() turns
    # XLA off (keras_gans.models.gan.GAN.compile).
    keras.utils.set_random_seed(config.seed)
    compile_options = {} if config.jit_compile is None else {"jit_compile": config.jit_compile}
    with strategy.scope(), precision_lib.policy(config.precision):
        model = build_model(config, source.image_shape)
        d_optimizer, g_optimizer = build_optimizers(model, config)
        model.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **compile_options)
        # Their slots too, here: built outside the scope they would not be
        # mirrored ("Need to be inside with strategy.scope()" under multi-worker).
        checkpoint_lib.build_optimizers(model)
    if strategy.num_replicas_in_sync > 1 and batch_size % strategy.num_replicas_in_sync:
        raise UserError(
            f"--batch_size={batch_size} is the global batch and must split evenly over the "
            f"{strategy.num_replicas_in_sync} replicas: use a multiple of {strategy.num_replicas_in_sync}"
        )

    # Train.
    # Every run can be killed and resumed exactly: an epoch is a fixed number of
    # steps, the batches are a pure function of (seed, batch index), and a
    # checkpoint holds all other state (see keras_gans.checkpoints).
    output_dir = config.output_dir
    # Only the chief writes into output_dir. Other workers of a multi-worker
    # run write grids, history, model and export into a private temporary
    # folder, removed at the end: they still run every writer, so any
    # collective op a writer triggers happens on all workers, in step.
    write_dir = output_dir if distribute.is_chief() else distribute.worker_scratch_dir()
    checkpoint_lib.prepare_output_dir(config)
    steps_per_epoch = config.steps_per_epoch or len(source) // step_images
    manager = checkpoint_lib.CheckpointManager(
        os.path.join(output_dir, checkpoint_lib.DIRECTORY), keep=config.keep_checkpoints
    )
    resume, resume_path = manager.restore_latest(model)
    start_step = resume["global_step"] if resume else 0
    if resume:
        print(checkpoint_lib.describe_resume(resume, resume_path, config.epochs, steps_per_epoch))
    if distribute.is_chief():
        write_run_info(config, output_dir, flags_text)
    previous_history = resume["history"] if resume else None
    samples = gan_callbacks.SampleGrids(os.path.join(write_dir, "samples"), config.grid_images, seed=config.seed)
    samples.epoch = min(start_step // steps_per_epoch, config.epochs)  # the GIF keeps the earlier epochs' frames
    history = gan_callbacks.LossHistory(write_dir, history=previous_history)
    tensorboard = None
    if config.tensorboard and distribute.is_chief():
        tensorboard = monitoring.TensorBoardMonitor(
            os.path.join(output_dir, "tensorboard"), steps_per_epoch, start_step,
            every=config.log_every, grid_images=config.grid_images, seed=config.seed,
        )
    quality = None
    if quality_extractor is not None:
        # Before the history and TensorBoard writers: it adds its metric to the epoch's logs.
        quality = QualityMetrics(
            source.images, quality_extractor, metric=config.quality_metric, every=config.quality_every,
            seed=config.seed, best_path=os.path.join(write_dir, "best_generator.keras"),
        )
    health = None
    if config.health_checks:
        health = health_lib.HealthMonitor(
            steps_per_epoch, start_step, d_loss_floor=config.d_loss_floor, d_loss_patience=config.d_loss_patience,
            diversity_floor=config.diversity_floor, report=tensorboard.report if tensorboard else None,
        )
    # Last among the writers: an epoch-end checkpoint means the epoch's files exist.
    checkpointer = checkpoint_lib.Checkpointer(
        manager, steps_per_epoch, every=config.checkpoint_every, resume=resume, history=previous_history
    )
    callbacks = [c for c in (health, quality, samples, history, tensorboard, checkpointer) if c is not None]
    checkpoint_lib.resumable_fit(
        model,
        lambda start_batch: data_lib.make_dataset(
            source, step_images, shuffle=True, seed=config.seed, repeat=True, start_batch=start_batch
        ),
        epochs=config.epochs,
        steps_per_epoch=steps_per_epoch,
        start_step=start_step,
        callbacks=[*callbacks, *extra_callbacks],
        verbose=config.verbose,
    )

    # Save.
    model.save(os.path.join(write_dir, "model.keras"))
    export_path = export_lib.export_generator(model, os.path.join(write_dir, "export")) if config.export else None
    if write_dir != output_dir:
        distribute.remove_scratch_dir(write_dir)
        export_path = None
    return RunResult(model, history.history, output_dir, export_path)
