"""run(config): data -> networks -> model -> fit -> artefacts. `train.py` is a thin flag layer over this.

`run` is four steps, each a function of its own: `build` (the compiled model;
the benchmarks build through it too), `make_callbacks` (the writers and
checks of a run), `resumable_fit` (keras_gans.training.resume) and `save`.
"""

import contextlib
import dataclasses
import os
from typing import Optional

import keras

from keras_gans import data as data_lib
from keras_gans import distribute
from keras_gans import features
from keras_gans import health as health_lib
from keras_gans import monitoring
from keras_gans.callbacks import LossHistory, SampleGrids
from keras_gans.callbacks.checkpointer import Checkpointer
from keras_gans.callbacks.time_budget import TimeBudget
from keras_gans.errors import UserError
from keras_gans.models import MODELS
from keras_gans.training.preemption import SignalStop, TrainingInterrupted
from keras_gans.training.run_lock import RunLock
from keras_gans.quality import QualityMetrics
from keras_gans.training.checkpoint import CheckpointManager, build_optimizer_slots
from keras_gans.training.resume import check_resumable, describe_resume, resumable_fit
from keras_gans.training.artefacts import latest_export, save, write_run_info  # noqa: F401  (re-exported)
from keras_gans.training.run_dir import RunDir
from keras_gans.training.validate import requested_image_shape, validate


@dataclasses.dataclass
class RunResult:
    model: keras.Model
    history: dict
    output_dir: str
    export_path: Optional[str]


def load_data(config):
    """The training images of --dataset (an `ImageSource`), checked against the other flags."""
    resizable = config.dataset.startswith(("folder:", "tfds:"))
    source = data_lib.open_source(
        config.dataset,
        split=config.split,
        image_shape=requested_image_shape(config) if resizable else None,
        data_dir=config.data_dir,
        download=config.download,
        limit=config.max_images,
        crop=config.crop,
        background=config.background,
        cache_dir=config.cache_dir,
        max_memory_gb=config.max_memory_gb,
    )
    if requested_image_shape(config) not in (None, source.image_shape):
        raise UserError(
            f"--image_size/--channels ask for {requested_image_shape(config)} but {config.dataset!r} holds "
            f"{source.image_shape} images; only folder: and tfds: datasets are resized: drop the two flags"
        )
    if config.conditional and source.labels is None:
        raise UserError(f"--conditional needs labels: {source.no_labels_message()}")
    return source


def num_classes(config, source):
    """The class count of a --conditional run (from the data's class names), else None."""
    return len(source.class_names) if config.conditional else None


def check_step_fits(config, source):
    batch_size, n_critic = config.resolved_batch_size(), config.resolved_n_critic()
    if batch_size * n_critic > len(source):
        raise UserError(
            f"one train step needs {batch_size * n_critic} images (batch_size {batch_size} x n_critic "
            f"{n_critic}) but {config.dataset!r} holds {len(source)}: lower --batch_size"
        )


def build_model(config, image_shape, num_classes=None):
    """The (uncompiled) model of --model with the config's architecture and training settings."""
    kwargs = dict(
        num_classes=num_classes,
        image_shape=image_shape,
        latent_dim=config.latent_dim,
        width=config.width,
        n_critic=config.n_critic,
        instance_noise=config.instance_noise,
        label_smoothing=config.label_smoothing,
        ema_decay=config.ema_decay,
        seed=config.seed,
        loss=config.loss,
        spectral_norm=config.spectral_norm,
        r1_gamma=config.r1_gamma,
        r1_interval=config.r1_interval,
        diffaugment=config.diffaugment,
        resize_conv_layers=config.resize_conv_layers,
        precision=config.precision,
    )
    if config.model == "wgan":
        kwargs["clip_value"] = config.clip_value
    if config.model == "wgan_gp":
        kwargs["gp_weight"] = config.gp_weight
    try:
        return MODELS[config.model](**kwargs)
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


def build(config, image_shape, strategy=None, num_classes=None):
    """The compiled model a run trains (seeded; optimiser slots built), under `strategy` (default: none).

    Inside the strategy's scope: variables (weights, both optimisers' slots
    and step counters, metrics) are created mirrored on every replica, and
    the optimisers capture the strategy. Under a strategy compile() turns
    XLA off (keras_gans.models.gan.GAN.compile).
    """
    import tensorflow as tf

    strategy = strategy or tf.distribute.get_strategy()
    keras.utils.set_random_seed(config.seed)
    compile_options = {} if config.jit_compile is None else {"jit_compile": config.jit_compile}
    with strategy.scope():
        model = build_model(config, image_shape, num_classes)
        d_optimizer, g_optimizer = build_optimizers(model, config)
        model.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, **compile_options)
        # Their slots too, here: built outside the scope they would not be
        # mirrored ("Need to be inside with strategy.scope()" under multi-worker).
        build_optimizer_slots(model)
    return model


def make_callbacks(config, run_dir, write_dir, source, steps_per_epoch, resume, quality_extractor=None, stop=None,
                   budget=None):
    """The run's callbacks, in the order they must run, and its LossHistory.

    `budget` (a TimeBudget: --max_minutes and the training clock) is also the
    checkpointer's clock: every checkpoint records the training seconds spent.
    A step that spends the budget ends fit, and the checkpointer saves that
    step as it does for any early stop.

    `run_dir` is the run folder (checkpoints, TensorBoard: chief only);
    `write_dir` the folder this process writes grids, history and the best
    generator into (the run folder on the chief, scratch on other workers).
    """
    start_step = resume["global_step"] if resume else 0
    class_names = source.class_names if config.conditional else None
    samples = SampleGrids(write_dir.samples, config.grid_images, seed=config.seed, class_names=class_names)
    samples.epoch = min(start_step // steps_per_epoch, config.epochs)  # the GIF keeps the earlier epochs' frames
    history = LossHistory(write_dir, history=resume["history"] if resume else None)
    tensorboard = None
    if config.tensorboard and distribute.is_chief():
        tensorboard = monitoring.TensorBoardMonitor(
            run_dir.tensorboard, steps_per_epoch, start_step,
            every=config.log_every, grid_images=config.grid_images, seed=config.seed, class_names=class_names,
        )
    quality = None
    if quality_extractor is not None:
        # Before the history and TensorBoard writers: it adds its metric to the epoch's logs.
        quality = QualityMetrics(
            source.images, quality_extractor, metric=config.quality_metric, every=config.quality_every,
            seed=config.seed, best_path=write_dir.best_generator,
        )
    health = None
    if config.health_checks:
        health = health_lib.HealthMonitor(
            steps_per_epoch, start_step, d_loss_floor=config.d_loss_floor, d_loss_patience=config.d_loss_patience,
            diversity_floor=config.diversity_floor, report=tensorboard.report if tensorboard else None,
        )
    # Last among the writers: an epoch-end checkpoint means the epoch's files exist.
    manager = CheckpointManager(run_dir.checkpoints, keep=config.keep_checkpoints)
    checkpointer = Checkpointer(manager, steps_per_epoch, every=config.checkpoint_every, resume=resume,
                                history=history, stop=stop, clock=budget)
    callbacks = [c for c in (budget, health, quality, samples, history, tensorboard, checkpointer) if c is not None]
    return callbacks, history


def training_dataset(source, step_images, config, strategy, start_batch):
    """The endless training stream from `start_batch` on, as `fit` takes it under `strategy`.

    Under MultiWorkerMirroredStrategy with one replica per worker (CPU
    workers, or one accelerator per machine), each worker builds a dataset of
    only its own contiguous part of every global batch
    (`make_dataset(shard=...)`, through `distribute_datasets_from_function`),
    so a streamed source reads and decodes only that part on each machine.
    These are the same rows that `fit`'s own splitting of the global batch
    would give that worker, so training is unchanged. Otherwise (one process,
    or several replicas per worker) the whole global batch is built and `fit`
    distributes it.
    """
    def dataset(shard=None):
        return data_lib.make_dataset(source, step_images, shuffle=True, seed=config.seed, repeat=True,
                                     start_batch=start_batch, labels=config.conditional, shard=shard)

    workers = distribute.worker_count(strategy)
    if workers < 2 or strategy.num_replicas_in_sync != workers:
        return dataset()

    def worker_dataset(context):
        return dataset(shard=(context.input_pipeline_id, context.num_input_pipelines))

    return strategy.distribute_datasets_from_function(worker_dataset)


def run(config, flags_text=None, extra_callbacks=()):
    """Trains one model as `config` says and writes its artefacts into config.output_dir.

    Writes every artefact keras_gans.training.run_dir.RunDir names: sample
    grids and GIF, history.json, loss.png, config.json, versions.json,
    flags.txt (from train.py), model.keras, export/<version>/ (SavedModel),
    checkpoints/ckpt-<step>.npz (the last --keep_checkpoints) and tensorboard/.

    Re-running with the same output_dir and settings resumes from the newest
    readable checkpoint (one line says so); `config.restart` starts over.
    The run holds an exclusive lock on output_dir for its whole life
    (keras_gans.training.run_lock), and SIGTERM or Ctrl-C stop it cleanly after a
    checkpoint of the step reached (keras_gans.training.preemption).

    Raises:
        UserError: bad settings, or an output_dir holding a run with other settings.
        keras_gans.training.run_lock.RunInProgressError: another process trains into output_dir (a UserError).
        keras_gans.health.TrainingDivergedError: a NaN/Inf loss or weight (a UserError).
        keras_gans.training.preemption.TrainingInterrupted: stopped by SIGTERM/SIGINT, checkpoint written.
    """
    validate(config)
    # The CPU thread pools this model wants, before the first TensorFlow op fixes them (loading the data would).
    MODELS[config.model].configure_cpu_threads(config.width)
    # Before any other TensorFlow work (multi-worker collectives are configured
    # at start-up) and before the folder is touched (a bad --strategy or a
    # missing TF_CONFIG fails without creating it).
    strategy = distribute.create_strategy(config.strategy, config.tpu)
    run_dir = RunDir(config.output_dir)
    with contextlib.ExitStack() as stack:
        if distribute.is_chief():
            # One run per folder, from before the settings check to the end of
            # the export; a second process fails here, naming this one.
            run_dir.prepare(restart=False)
            stack.enter_context(RunLock(run_dir.root))
            check_resumable(config)  # again, now that no other run can change the folder
            if config.restart:
                run_dir.prepare(restart=True)
            # Before any training output, so the folder never holds outputs
            # without the settings that made them.
            write_run_info(config, run_dir, flags_text)
        stop = stack.enter_context(SignalStop())
        return _train_and_save(config, strategy, run_dir, stop, extra_callbacks)


def _train_and_save(config, strategy, run_dir, stop, extra_callbacks):
    source = load_data(config)
    # The feature extractor of --quality_metric, found before any training (a
    # dataset without a trained classifier fails here, with the command to train one).
    quality_extractor = None
    if config.quality_metric:
        quality_extractor = features.get_extractor("classifier", train_images=source.images, spec=config.dataset)
    check_step_fits(config, source)

    # Construct networks and optimisers.
    model = build(config, source.image_shape, strategy, num_classes(config, source))
    batch_size = config.resolved_batch_size()
    if strategy.num_replicas_in_sync > 1 and batch_size % strategy.num_replicas_in_sync:
        raise UserError(
            f"--batch_size={batch_size} is the global batch and must split evenly over the "
            f"{strategy.num_replicas_in_sync} replicas: use a multiple of {strategy.num_replicas_in_sync}"
        )

    # Train (resuming exactly where a killed run stopped: keras_gans.training.resume).
    # Only the chief writes into output_dir. Other workers of a multi-worker
    # run write grids, history, model and export into a private temporary
    # folder, removed at the end: they still run every writer, so any
    # collective op a writer triggers happens on all workers, in step.
    write_dir = run_dir if distribute.is_chief() else RunDir(distribute.worker_scratch_dir())
    step_images = batch_size * config.resolved_n_critic()
    steps_per_epoch = config.steps_per_epoch or len(source) // step_images
    resume, resume_path = CheckpointManager(run_dir.checkpoints, keep=config.keep_checkpoints).restore_latest(model)
    # The training clock, and --max_minutes: a resumed run has only what is left of it.
    budget = TimeBudget(config.max_minutes or None, spent_seconds=(resume or {}).get("train_seconds", 0.0))
    if resume:
        print(describe_resume(resume, resume_path, config.epochs, steps_per_epoch, budget))
        if config.jit_compile is None and "jit_compile" in resume and hasattr(model, "keep_jit_compile"):
            model.keep_jit_compile(resume["jit_compile"])
    callbacks, history = make_callbacks(config, run_dir, write_dir, source, steps_per_epoch, resume,
                                        quality_extractor, stop=stop, budget=budget)
    if stop.requested is not None and not distribute.is_multi_worker(strategy):
        # (Under multi-worker the workers agree at the first step instead: one
        # leaving alone would leave the others waiting in a collective.)
        raise TrainingInterrupted(stop.requested)
    try:
        fit_calls = resumable_fit(
            model,
            lambda start_batch: training_dataset(source, step_images, config, strategy, start_batch),
            epochs=config.epochs,
            steps_per_epoch=steps_per_epoch,
            start_step=resume["global_step"] if resume else 0,
            callbacks=[*callbacks, *extra_callbacks],
            verbose=config.verbose,
            budget=budget,
        )
    except TrainingInterrupted:
        # fit skips on_train_end when a callback raises: close what it would have.
        for callback in callbacks:
            if isinstance(callback, SampleGrids):
                callback.write_gif()  # not the final redraw with standing statistics: an interrupted run leaves fast
            elif isinstance(callback, monitoring.TensorBoardMonitor):
                callback.on_train_end()
        raise

    # Save. A rerun of a finished run trains nothing and exports no duplicate version.
    if fit_calls == 0 and os.path.exists(write_dir.model) and (not config.export or latest_export(write_dir)):
        if budget.exhausted:
            trained = f"{budget.seconds_spent / 60:.1f} minutes of training (--max_minutes={config.max_minutes:g})"
            more = "raise --max_minutes"
        else:
            trained, more = f"the {config.epochs} trained epochs", "raise --epochs"
        print(f"nothing to do: {config.output_dir} already holds {trained}, model.keras and the export "
              f"({more} to train on, or pass --restart to start over)")
        export_path = latest_export(write_dir) if config.export else None
    else:
        export_path = save(model, config, write_dir, source.class_names if config.conditional else None)
    if write_dir is not run_dir:
        distribute.remove_scratch_dir(write_dir.root)
        export_path = None
    return RunResult(model, history.history, config.output_dir, export_path)
