"""Class-conditional networks and label checks (`GAN(num_classes=...)`).

Generator: a learned class embedding concatenated to z (Mirza & Osindero
2014, with an embedding instead of a one-hot vector):

    G(z, y) = G_base([z, embed_g(y)])

The base generator is the unconditional one built for `latent_dim +
CLASS_EMBEDDING_DIM` inputs. Its first layer is linear, so the embedding
becomes a learned per-class bias of the first feature map; the class is
visible to every later layer, whatever the network (MLP or DCGAN).
Conditional BatchNorm would condition every layer but only fits the
BatchNorm networks; concatenation works for all four models.

Discriminator: the projection discriminator (Miyato & Koyama 2018):

    D(x, y) = psi(phi(x)) + <embed_d(y), phi(x)>

where phi(x) is the (flattened) input of the base discriminator's last
linear layer psi. The class term is a score added to the logit, so it
works unchanged for the BCE, Wasserstein and hinge losses, and the
gradient penalty and R1 take the gradient with respect to x with y fixed.

Both networks are ordinary two-input functional Keras models
(`[z, labels]` and `[images, labels]`), so saving, spectral norm,
clipping and the generator average need nothing special.
"""

import keras
import numpy as np
import tensorflow as tf

from keras_gans.errors import UserError

CLASS_EMBEDDING_DIM = 50


def check_num_classes(num_classes):
    """`num_classes` as an int >= 2, or None (unconditional)."""
    if num_classes is None:
        return None
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 2:
        raise UserError(f"num_classes must be an integer >= 2 (or None for an unconditional model), got {num_classes!r}")
    return int(num_classes)


def conditional_generator(base, latent_dim, num_classes, name="generator"):
    """[z, labels] -> images: `base` (built for latent_dim + CLASS_EMBEDDING_DIM inputs) fed [z, embed(y)]."""
    z = keras.Input(shape=(latent_dim,), name="z")
    labels = keras.Input(shape=(), dtype="int32", name="labels")
    embedded = keras.layers.Embedding(num_classes, CLASS_EMBEDDING_DIM, name="class_embedding")(labels)
    images = base(keras.layers.Concatenate(name="z_and_class")([z, embedded]))
    return keras.Model([z, labels], images, name=name)


def projection_discriminator(base, num_classes, name="discriminator"):
    """[images, labels] -> logits: `base`'s logit plus <embed(y), phi(x)>, phi = input of its last linear layer."""
    last = next((layer for layer in reversed(base.layers) if hasattr(layer, "kernel")), None)
    if last is None:
        raise UserError("the projection discriminator needs a base discriminator ending in a Dense or Conv layer")
    features = keras.layers.Flatten(name="class_features")(last.input)
    labels = keras.Input(shape=(), dtype="int32", name="labels")
    embedded = keras.layers.Embedding(num_classes, features.shape[-1], name="class_projection")(labels)
    projection = keras.layers.Dot(axes=1, dtype="float32", name="projection")([embedded, features])
    logits = keras.layers.Add(dtype="float32", name="conditional_logits")([base.outputs[0], projection])
    return keras.Model([base.inputs[0], labels], logits, name=name)


def check_two_inputs(network, what):
    """A conditional model's networks take [x, labels]; refuse one with a single input in one line."""
    inputs = getattr(network, "inputs", None)
    if inputs is not None and len(inputs) != 2:
        raise UserError(
            f"with num_classes the {what} must take two inputs [{'z' if what == 'generator' else 'images'}, labels], "
            f"this one takes {len(inputs)}; build it with two inputs or leave the networks to keras_gans"
        )


def check_labels(labels, num, num_classes):
    """`labels` for `generate` as int32 numpy [num]; one-line UserError for a wrong type, count or range."""
    array = np.asarray(labels)
    if array.ndim == 0:
        array = np.full([num], array)
    if array.dtype.kind not in "iu":
        raise UserError(f"labels must be integer class ids in [0, {num_classes}), got dtype {array.dtype}")
    if array.shape != (num,):
        raise UserError(f"labels must hold one class id per image: {num} images but labels of shape {array.shape}")
    if array.size and (array.min() < 0 or array.max() >= num_classes):
        bad = array[(array < 0) | (array >= num_classes)][0]
        raise UserError(f"label {bad} is out of range: this model has num_classes={num_classes} (ids 0..{num_classes - 1})")
    return array.astype(np.int32)


LABEL_RANGE_ERROR = "training labels must be class ids"


def label_range_message(num_classes):
    return (f"{LABEL_RANGE_ERROR} in [0, {num_classes}) (num_classes={num_classes}) but the data holds one outside: "
            "number the classes from 0, or build the model with more num_classes")


def checked_training_input(x, y, num_classes):
    """`x` with its training labels checked to be in [0, num_classes); numpy labels are checked now.

    An out-of-range id would not fail on its own: under XLA the class
    embedding's gather clamps it, so the model would silently train label 10
    as label 9. A `tf.data.Dataset` of (images, labels, ...) gets the check
    as a map, which runs in the input pipeline, outside the compiled step
    (XLA drops assertions); the error it raises carries LABEL_RANGE_ERROR.
    """
    message = label_range_message(num_classes)
    for labels in (y, x[1] if isinstance(x, (tuple, list)) and len(x) > 1 else None):
        if labels is not None and not tf.is_tensor(labels) and hasattr(labels, "__len__"):
            array = np.asarray(labels)
            if array.size and array.dtype.kind in "iuf" and (array.min() < 0 or array.max() >= num_classes):
                raise UserError(message)
    if isinstance(x, tf.data.Dataset) and isinstance(x.element_spec, tuple) and len(x.element_spec) > 1:
        def check(images, labels, *rest):
            ids = tf.cast(labels, tf.int64)
            checks = [tf.debugging.assert_non_negative(ids, message=message),
                      tf.debugging.assert_less(ids, tf.constant(num_classes, tf.int64), message=message)]
            with tf.control_dependencies(checks):
                return (images, tf.identity(labels), *rest)

        x = x.map(check)  # sequential, so in order; `deterministic=` alone only earns a UserWarning
    return x


def split_batch(data):
    """(images, labels or None) of a fit batch: an images tensor, or an (images, labels, ...) tuple."""
    if isinstance(data, (tuple, list)):
        return data[0], (data[1] if len(data) > 1 else None)
    return data, None


def training_labels(labels, model_name, num_classes):
    """The int32 labels of a conditional model's batch; one-line error when the data has none."""
    if labels is None:
        raise UserError(
            f"{model_name}(num_classes={num_classes}) trains on (images, labels) batches but got images only; "
            "load the data with keras_gans.data.load(spec, batch_size, labels=True) or fit(images, labels)"
        )
    return tf.reshape(tf.cast(labels, tf.int32), [-1])
