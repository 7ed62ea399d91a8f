"""TensorBoard: the event files hold the listed scalars and the sample grid, read back by TensorBoard."""

import logging

import numpy as np
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.util import tensor_util

from keras_gans.config import TrainConfig
from keras_gans.training.run import run


def read_events(log_dir):
    events = event_accumulator.EventAccumulator(str(log_dir), size_guidance={event_accumulator.TENSORS: 0})
    events.Reload()
    return events


def scalar_values(events, tag):
    return {e.step: float(tensor_util.make_ndarray(e.tensor_proto)) for e in events.Tensors(tag)}


def test_tensorboard_holds_losses_d_outputs_grad_norms_wasserstein_gp_lrs_and_grids(tmp_path, caplog):
    config = TrainConfig(
        model="wgan_gp", width=8, latent_dim=16, batch_size=4, n_critic=2, max_images=64, epochs=2,
        steps_per_epoch=3, g_lr=3e-4, log_every=2, export=False, verbose=0, grid_images=4, jit_compile=False,
        output_dir=str(tmp_path),
    )
    with caplog.at_level(logging.WARNING, logger="keras_gans"):
        result = run(config)
    # A healthy run: no health warning, in the log or in TensorBoard.
    assert [r.getMessage() for r in caplog.records if r.name == "keras_gans"] == []
    events = read_events(tmp_path / "tensorboard")
    tags = set(events.Tags()["tensors"])

    metrics = ["d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm", "wasserstein",
               "gradient_penalty", "g_diversity"]
    for name in metrics:
        assert f"epoch/{name}" in tags and f"train/{name}" in tags, name
        # Epoch values are the epoch means of history.json, at epochs 1 and 2.
        np.testing.assert_allclose(
            [v for _, v in sorted(scalar_values(events, f"epoch/{name}").items())], result.history[name], rtol=1e-6
        )
    assert sorted(scalar_values(events, "epoch/d_loss")) == [1, 2]
    assert sorted(scalar_values(events, "train/d_loss")) == [2, 4, 6]  # every 2 global steps
    assert scalar_values(events, "learning_rate/g")[6] == np.float32(3e-4)
    assert scalar_values(events, "learning_rate/d")[6] == np.float32(2e-4)  # the article's WGAN-GP default

    assert not any(tag.startswith("health/") for tag in tags)
    assert "samples/fixed_latents" in tags
    grids = events.Tensors("samples/fixed_latents")
    assert [e.step for e in grids] == [1, 2]
    # An image summary: [width, height, PNG bytes]; a 2x2 grid of 28x28 images, 2-pixel gaps.
    width, height, png = tensor_util.make_ndarray(grids[-1].tensor_proto)
    assert (int(width), int(height)) == (62, 62) and png[:4] == b"\x89PNG"
