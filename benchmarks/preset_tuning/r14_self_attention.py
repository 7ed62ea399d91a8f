"""folder64 round 14 prototype: train.py with SAGAN self-attention at 16x16 patched in.

Self-attention (Zhang et al. 2019, "Self-Attention Generative Adversarial Networks"): every
position of a feature map attends to every other, so distant parts of an image (two eyes, a
flag's stripes) can be made consistent; convolutions alone see only their neighbourhood. One
block in the generator after its 16x16 level and one in the discriminator after its 16x16
level (SAGAN places them at a quarter of the image size too), each y = x + gamma * attention(x)
with gamma starting at 0, so training starts from the preset's networks. Keys and queries have
C/8 channels, values C/2, as in SAGAN. The rest is the preset's (resize-convolution output
layer and all). A benchmark prototype, not a flag (BENCHMARKS.md "folder64 / Round 14").

    KG_ATTENTION=both taskset -c 0 python benchmarks/preset_tuning/r14_self_attention.py \
        --flagfile=configs/cpu/folder64.flags --dataset=folder:../shared/data/emoji-twitter ...

Environment: KG_ATTENTION (both | generator | discriminator; default both), KG_ATTENTION_SIZE
(the feature-map side the blocks sit at; default 16).
"""

import os
import runpy
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import keras  # noqa: E402

from keras_gans.networks import dcgan as networks  # noqa: E402

WHERE = os.environ.get("KG_ATTENTION", "both")
SIZE = int(os.environ.get("KG_ATTENTION_SIZE", 16))


@keras.saving.register_keras_serializable(package="keras_gans_prototypes")
class SelfAttention(keras.layers.Layer):
    """y = x + gamma * softmax(q k^T) v, over all H*W positions; gamma starts at 0."""

    def build(self, input_shape):
        channels = int(input_shape[-1])
        # The sub-layers take this layer's dtype policy (mixed bfloat16 under --precision=auto), also in a clone.
        options = {"use_bias": False, "kernel_initializer": networks.conv_init(), "dtype": self.dtype_policy}
        self.query = keras.layers.Conv2D(max(channels // 8, 1), 1, **options)
        self.key = keras.layers.Conv2D(max(channels // 8, 1), 1, **options)
        self.value = keras.layers.Conv2D(max(channels // 2, 1), 1, **options)
        self.out = keras.layers.Conv2D(channels, 1, **options)
        for layer, width in ((self.query, channels), (self.key, channels), (self.value, channels),
                             (self.out, max(channels // 2, 1))):
            layer.build(tuple(input_shape[:-1]) + (width,))
        self.gamma = self.add_weight(name="gamma", shape=(), initializer="zeros")

    def call(self, x):
        ops = keras.ops
        shape = ops.shape(x)
        positions = shape[1] * shape[2]
        q = ops.reshape(self.query(x), (shape[0], positions, -1))
        k = ops.reshape(self.key(x), (shape[0], positions, -1))
        v = ops.reshape(self.value(x), (shape[0], positions, -1))
        attention = ops.softmax(ops.matmul(q, ops.transpose(k, (0, 2, 1))), axis=-1)
        o = ops.reshape(ops.matmul(attention, v), (shape[0], shape[1], shape[2], -1))
        return x + ops.cast(self.gamma, x.dtype) * ops.cast(self.out(o), x.dtype)


def _insert_after(model, is_target):
    """A copy of a functional Sequential-like `model` with a SelfAttention after the first layer `is_target` picks."""
    x = inputs = keras.Input(batch_shape=model.inputs[0].shape, name=model.inputs[0].name)
    placed = False
    for layer in model.layers[1:]:
        x = layer(x)
        if not placed and is_target(layer, x):
            x = SelfAttention(name=f"attention_{SIZE}")(x)
            placed = True
    if not placed:
        raise ValueError(f"no {SIZE}x{SIZE} level in {model.name}")
    return keras.Model(inputs, x, name=model.name)


def _at_size(activation_class):
    return lambda layer, x: isinstance(layer, activation_class) and x.shape[1] == SIZE


_build_generator = networks.build_generator
_build_discriminator = networks.build_discriminator


def build_generator(*args, **kwargs):
    model = _build_generator(*args, **kwargs)
    return _insert_after(model, _at_size(keras.layers.ReLU)) if WHERE in ("both", "generator") else model


def build_discriminator(*args, **kwargs):
    model = _build_discriminator(*args, **kwargs)
    return _insert_after(model, _at_size(keras.layers.LeakyReLU)) if WHERE in ("both", "discriminator") else model


if __name__ == "__main__":
    networks.build_generator = build_generator
    networks.build_discriminator = build_discriminator
    sys.argv[0] = os.path.join(ROOT, "train.py")
    runpy.run_path(sys.argv[0], run_name="__main__")
