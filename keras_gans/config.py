"""TrainConfig: every setting of a run, declared once.

Each field carries its flag help, its allowed values (`choices`) and whether
it may change when a run is resumed (`resumable`) as dataclass metadata;
`train.py` generates its absl flags from these fields and the resume rule
(`RUN_CONTROL_FIELDS`) is derived from them. Adding a setting is one
`setting(...)` line here (plus the code that uses it).
"""

import dataclasses
from typing import Optional

from keras_gans import precision as precision_lib
from keras_gans.errors import UserError
from keras_gans.models import MODELS


def setting(default, help, choices=None, resumable=False):
    """A TrainConfig field.

    Args:
        default: the value when the flag is not given (None: the model's own default).
        help: the flag's help text.
        choices: the allowed values (an enum flag), or None for any value of the type.
        resumable: True for settings that change how a run is driven or reported,
            not what it computes: they may differ between a run and its resumption.
    """
    metadata = {"help": help, "choices": tuple(choices) if choices else None, "resumable": bool(resumable)}
    return dataclasses.field(default=default, metadata=metadata)


@dataclasses.dataclass
class TrainConfig:
    """Everything a run depends on. None means 'the model's own (article) default'."""

    # Model.
    model: str = setting("dcgan", "Which GAN to train.", choices=MODELS)
    latent_dim: int = setting(100, "Size of the latent vector z.")
    width: Optional[int] = setting(
        None, "Network width (MLP: first hidden layer, default 256; DCGAN: base filters, default 64).")
    n_critic: Optional[int] = setting(
        None, "Discriminator updates per generator update (default 1; 5 for wgan, wgan_gp).")
    clip_value: float = setting(0.01, "WGAN: critic weights are clipped to [-clip_value, clip_value].")
    gp_weight: float = setting(10.0, "WGAN-GP: gradient penalty weight lambda.")
    instance_noise: Optional[float] = setting(
        None, "Std of noise added to D's inputs (default 0.05 for gan, 0 otherwise).")
    label_smoothing: float = setting(
        0.0, "One-sided label smoothing: real label = 1 - this (0.1 gives 0.9). BCE loss only (GAN, DCGAN).")
    loss: Optional[str] = setting(
        None, "Loss: bce | wasserstein | hinge (default: the model's own: bce for gan/dcgan, wasserstein for "
        "wgan/wgan_gp). hinge (SNGAN, BigGAN) pairs well with --spectral_norm.",
        choices=("bce", "wasserstein", "hinge"))
    spectral_norm: bool = setting(
        False, "Spectral normalisation of the discriminator's layers (Miyato et al. 2018): a 1-Lipschitz-ish "
        "critic without clipping or a penalty; steadies small-data and colour training.")
    r1_gamma: float = setting(
        0.0, "R1 penalty weight gamma: gamma/2 * E||grad D(x)||^2 on real images (Mescheder et al. 2018); "
        "e.g. 0.1-10; 0: off.")
    r1_interval: int = setting(
        1, "Lazy R1 (StyleGAN2): compute the R1 penalty on every N-th discriminator update only, weighted N, "
        "so its double backward pass costs 1/N as much; 1: every update; 16 is StyleGAN2's.")
    resize_conv_layers: int = setting(
        0, "DCGAN generators (dcgan, wgan, wgan_gp): make the last N of the generator's stride-2 transposed "
        "convolutions (its output layer counts as one) a nearest-neighbour x2 upsampling + 3x3 convolution "
        "(Odena et al. 2016), against their dotted texture in 64x64 colour samples; 0: transposed throughout.")
    diffaugment: str = setting(
        "", "Differentiable augmentation of real AND fake images before D (Zhao et al. 2020): a comma list of "
        "color,translation,cutout; for small datasets (a few thousand images); empty: off.")
    ema_decay: float = setting(
        0.0, "Sample, grid and export from an exponential moving average of the generator's weights with this "
        "decay (e.g. 0.999); 0: from the trained generator itself, as the article.")
    conditional: bool = setting(
        False, "Class-conditional model: train on the dataset's labels (class count from the data); grids show "
        "one class per row and the export takes a label.")

    # Optimisation.
    epochs: int = setting(5, "Passes over the dataset.", resumable=True)
    max_minutes: Optional[float] = setting(
        None, "Stop training once it has run this many minutes (counted over resumptions; loading the data and "
        "the export come on top), or after --epochs, whichever comes first; then save and export as usual. "
        "0 or unset: no limit (a preset's budget is lifted with --max_minutes=0).",
        resumable=True)
    batch_size: Optional[int] = setting(
        None, "Images per critic/generator update, over all replicas (default: gan 128, dcgan 256, wgan 128, "
        "wgan_gp 128).")
    d_lr: Optional[float] = setting(None, "Discriminator learning rate (default: the article's for the model).")
    g_lr: Optional[float] = setting(None, "Generator learning rate (default: the article's for the model).")
    beta_1: Optional[float] = setting(None, "Adam beta_1 for both optimisers (Adam models only).")
    beta_2: Optional[float] = setting(None, "Adam beta_2 for both optimisers (Adam models only).")
    steps_per_epoch: Optional[int] = setting(None, "Train steps per epoch (default: one pass over the data).")
    # None: measured at the start of training (keras_gans.models.xla_choice).
    jit_compile: Optional[bool] = setting(
        None, "Compile the train step with XLA (default: timed both ways at the start of training, the faster "
        "kept and cached; always off under a distribution strategy).", resumable=True)
    precision: str = setting(
        "auto", "Dtype policy. auto: mixed_bfloat16 on CPUs with native bfloat16 (AVX512_BF16/AMX), else float32.",
        choices=precision_lib.CHOICES)

    # Distribution: --batch_size is the GLOBAL batch, split evenly over the replicas.
    # No `choices` for --strategy: keras_gans.distribute checks it, with a one-line
    # error that also covers TF_CONFIG and --tpu (a free string flag, as before).
    strategy: str = setting(
        "auto", "auto | default | mirrored | multi_worker | tpu. auto: tpu if --tpu is set, multi_worker if "
        "TF_CONFIG names a cluster, mirrored over all GPUs if there are several, else default (one device). "
        "--batch_size is the GLOBAL batch, split evenly over the replicas.", resumable=True)
    tpu: Optional[str] = setting(
        None, "TPU name or grpc://IP:8470 (local on a TPU VM); implies --strategy=tpu under auto.", resumable=True)

    # Data.
    dataset: str = setting("sample", "sample | idx:DIR | folder:DIR | tfds:NAME (e.g. tfds:mnist).")
    data_dir: Optional[str] = setting(None, "TFDS data directory holding prepared datasets.", resumable=True)
    split: str = setting("train", "Dataset split to train on.", choices=("train", "test"))
    image_size: Optional[int] = setting(
        None, "folder: and tfds: datasets: resize images to image_size x image_size (default: the first "
        "folder image's size; a tfds: dataset's own size).")
    channels: Optional[int] = setting(
        None, "folder: and tfds: datasets: 1 (grayscale) or 3 (RGB); transparent images are composited onto "
        "--background.")
    crop: str = setting(
        "none", "Before resizing: none (squash the whole image to the square) or center (the largest centred "
        "square, the usual preparation for faces such as CelebA).", choices=("none", "center"))
    background: str = setting(
        "white", "What transparent pixels become: white (default; icons, emoji and sprites are drawn for a "
        "light page) or black.", choices=("white", "black"))
    cache_dir: Optional[str] = setting(
        None, "Where decoded folder: datasets are cached (default: beside the data, or ~/.cache/keras_gans when "
        "that is read-only): the second run and every resume start in seconds.", resumable=True)
    max_memory_gb: float = setting(
        4.0, "A folder: dataset whose decoded images need more memory than this (GB) is streamed from an "
        "on-disk cache instead of held in memory (same batches).", resumable=True)
    max_images: Optional[int] = setting(None, "Use only the first N images of the dataset.")
    download: bool = setting(True, "Let TFDS download datasets that are not prepared.", resumable=True)

    # Output.
    output_dir: str = setting("runs/latest", "Folder for samples, history, model and export.", resumable=True)
    seed: int = setting(0, "Random seed (weights, noise, data order, fixed sample grid).")
    grid_images: int = setting(25, "Images per sample grid (25 = 5x5).", resumable=True)
    export: bool = setting(True, "Export the generator as a SavedModel at the end.", resumable=True)
    verbose: int = setting(
        1, "Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.", resumable=True)

    # Checkpoints, resume and monitoring.
    checkpoint_every: int = setting(
        500, "Checkpoint every N train steps (and at every epoch end); 0: epoch ends only.", resumable=True)
    keep_checkpoints: int = setting(
        3, "How many of the newest checkpoints to keep in OUTPUT_DIR/checkpoints.", resumable=True)
    restart: bool = setting(
        False, "Start over in --output_dir, deleting its checkpoints, samples, history and TensorBoard logs, "
        "instead of resuming.", resumable=True)
    tensorboard: bool = setting(True, "Write TensorBoard logs to OUTPUT_DIR/tensorboard.", resumable=True)
    log_every: int = setting(
        50, "Write step-level TensorBoard scalars every N steps; 0: epoch level only.", resumable=True)
    health_checks: bool = setting(
        True, "Stop at a NaN/Inf loss at once; warn about a near-zero D loss and generator collapse.",
        resumable=True)
    d_loss_floor: float = setting(
        0.01, "Health: a (BCE) discriminator loss below this counts as near zero.", resumable=True)
    d_loss_patience: int = setting(
        200, "Health: warn after this many consecutive steps of near-zero D loss.", resumable=True)
    diversity_floor: float = setting(
        0.02, "Health: warn of collapse when generated images' mean per-pixel std falls below this.",
        resumable=True)

    # Sample quality during training (keras_gans.quality).
    quality_metric: Optional[str] = setting(
        None, "Every --quality_every epochs, score 1,000 samples by KID or FID on the dataset's feature "
        "classifier (packaged for Fashion-MNIST and the sample), log it and keep the best generator in "
        "best_generator.keras.", choices=("kid", "fid"), resumable=True)
    quality_every: int = setting(1, "Epochs between --quality_metric evaluations.", resumable=True)

    def resolved_batch_size(self):
        return self.batch_size if self.batch_size is not None else MODELS[self.model].default_batch_size

    def resolved_n_critic(self):
        return self.n_critic if self.n_critic is not None else MODELS[self.model].default_n_critic


# Settings that may differ between an interrupted run and its resumption.
RUN_CONTROL_FIELDS = frozenset(f.name for f in dataclasses.fields(TrainConfig) if f.metadata["resumable"])


def check_choices(config):
    """Raises a one-line UserError for a field outside its `choices`."""
    for field in dataclasses.fields(config):
        choices, value = field.metadata["choices"], getattr(config, field.name)
        if choices is None or value in choices or (value is None and field.default is None):
            continue
        unset = " (or leave it unset)" if field.default is None else ""
        raise UserError(f"unknown --{field.name}={value!r}: use one of {', '.join(choices)}{unset}")
