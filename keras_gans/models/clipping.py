"""Critic weight clipping (WGAN, Arjovsky et al. 2017) as a variable constraint."""

import keras


@keras.saving.register_keras_serializable(package="keras_gans")
class ClipConstraint(keras.constraints.Constraint):
    """Clips a weight to [-clip_value, clip_value].

    As a variable constraint it is applied by the optimiser right after every
    update of that variable, inside the compiled train step: exact for any
    `n_critic` and any `steps_per_execution`, unlike a clipping callback.
    """

    def __init__(self, clip_value):
        self.clip_value = float(clip_value)

    def __call__(self, w):
        return keras.ops.clip(w, -self.clip_value, self.clip_value)

    def get_config(self):
        return {"clip_value": self.clip_value}


def attach_weight_clipping(network, clip_value):
    """Clip every trainable variable of `network` after each optimiser update (0 or None: remove the clip).

    All of them, BatchNorm's gamma and beta included, as the original WGAN does.
    """
    constraint = ClipConstraint(clip_value) if clip_value else None
    for variable in network.trainable_variables:
        variable.constraint = constraint
        if constraint is not None:
            variable.assign(constraint(variable))
