"""keras_gans.config: one declaration per setting; the resume rule and the choices come from it."""

import dataclasses

import pytest

from keras_gans import config as config_lib
from keras_gans.config import TrainConfig
from keras_gans.errors import UserError
from keras_gans.models import MODELS


def test_every_field_declares_help_choices_and_resumability():
    for field in dataclasses.fields(TrainConfig):
        assert field.metadata["help"].strip(), field.name
        assert set(field.metadata) == {"help", "choices", "resumable"}, field.name


def test_run_control_fields_are_the_resumable_ones():
    # The hand-written list this replaced: settings that drive or report a run, not what it computes.
    assert config_lib.RUN_CONTROL_FIELDS == {
        "epochs", "max_minutes", "output_dir", "restart", "verbose", "export", "download", "data_dir", "jit_compile", "strategy",
        "tpu", "grid_images", "checkpoint_every", "keep_checkpoints", "tensorboard", "log_every", "health_checks",
        "d_loss_floor", "d_loss_patience", "diversity_floor", "quality_metric", "quality_every",
        # Where decoded data is cached and whether it is streamed: the same batches either way.
        "cache_dir", "max_memory_gb",
    }


def test_a_new_setting_is_one_declaration():
    """What the lead's next flags will do: a `setting(...)` field carries everything the flag and resume need."""

    @dataclasses.dataclass
    class Extended(TrainConfig):
        num_classes: int = config_lib.setting(0, "Classes of a conditional model (0: unconditional).")
        log_images: bool = config_lib.setting(True, "Log images.", resumable=True)

    fields = {f.name: f for f in dataclasses.fields(Extended)}
    assert fields["num_classes"].metadata == {"help": "Classes of a conditional model (0: unconditional).",
                                              "choices": None, "resumable": False}
    assert fields["log_images"].metadata["resumable"] and Extended().num_classes == 0


def test_choices_are_the_registries():
    fields = {f.name: f for f in dataclasses.fields(TrainConfig)}
    assert fields["model"].metadata["choices"] == tuple(MODELS)
    assert fields["quality_metric"].metadata["choices"] == ("kid", "fid")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"model": "stylegan"}, r"unknown --model='stylegan': use one of gan, dcgan, wgan, wgan_gp$"),
        ({"precision": "float64"}, r"unknown --precision='float64': use one of auto, float32, "),
        ({"quality_metric": "is"}, r"unknown --quality_metric='is': use one of kid, fid \(or leave it unset\)$"),
    ],
)
def test_check_choices_is_one_line(overrides, message):
    with pytest.raises(UserError, match=message):
        config_lib.check_choices(TrainConfig(**overrides))
    config_lib.check_choices(TrainConfig(quality_metric=None))  # unset is allowed


def test_resolved_values_fall_back_to_the_models_defaults():
    assert TrainConfig(model="wgan").resolved_n_critic() == MODELS["wgan"].default_n_critic
    assert TrainConfig(model="dcgan").resolved_batch_size() == MODELS["dcgan"].default_batch_size
    assert TrainConfig(model="wgan", n_critic=2, batch_size=7).resolved_n_critic() == 2
    assert TrainConfig(batch_size=7).resolved_batch_size() == 7
