"""folder64 round 13 prototype: train.py with a DCGAN discriminator without BatchNorm.

The folder64 preset regularises its DCGAN discriminator with R1, a per-example gradient penalty,
while the discriminator normalises each batch with BatchNorm, so every example's logit (and its
gradient) depends on the rest of the batch. Mescheder et al. (2018), StyleGAN and the WGAN-GP
critic pair such penalties with a discriminator without batch statistics. This runs train.py with
`DCGAN.discriminator_options = {"batch_norm": False}` (the WGAN-GP critic's option). A benchmark
prototype, not a flag.

    taskset -c 0 python benchmarks/preset_tuning/r13_discriminator_without_batchnorm.py \
        --flagfile=configs/cpu/folder64.flags --dataset=folder:../shared/data/emoji-twitter ...
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

from absl import app  # noqa: E402

import train  # noqa: E402
from keras_gans.models.dcgan import DCGAN  # noqa: E402

if __name__ == "__main__":
    DCGAN.discriminator_options = {"batch_norm": False}
    sys.argv[0] = os.path.join(ROOT, "train.py")
    app.run(train.main)
