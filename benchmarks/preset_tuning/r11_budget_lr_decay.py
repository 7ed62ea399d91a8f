"""folder64 round 11 prototype: train.py with both learning rates decayed linearly over --max_minutes.

"Budgeted training" (Li et al. 2020): with a fixed time budget, a learning rate that falls
linearly to zero at the budget's end beats a constant one. This wraps train.py's run with a
callback that sets both optimisers' learning rates to base * (1 - (1 - KG_LR_FLOOR) * t / budget)
every 20 train steps, t being the training time since fit began. A benchmark prototype, not a flag.

    KG_LR_FLOOR=0 taskset -c 0 python benchmarks/preset_tuning/r11_budget_lr_decay.py \
        --flagfile=configs/cpu/folder64.flags --dataset=folder:../shared/data/emoji-twitter ...

Environment: KG_LR_FLOOR (the fraction of the base rates left at the budget's end; default 0).
"""

import os
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)

import keras  # noqa: E402
from absl import app  # noqa: E402

import train  # noqa: E402
from keras_gans.training import run as run_module  # noqa: E402


class BudgetLinearDecay(keras.callbacks.Callback):
    def __init__(self, minutes, floor, every=20):
        super().__init__()
        self.seconds = float(minutes) * 60.0
        self.floor = float(floor)
        self.every = every
        self.start = None
        self.base = None

    def on_train_begin(self, logs=None):
        self.start = time.monotonic()
        self.base = [float(o.learning_rate.numpy()) for o in (self.model.d_optimizer, self.model.g_optimizer)]

    def on_train_batch_begin(self, batch, logs=None):
        if batch % self.every:
            return
        fraction = min(1.0, (time.monotonic() - self.start) / self.seconds)
        scale = 1.0 - (1.0 - self.floor) * fraction
        for optimizer, base in zip((self.model.d_optimizer, self.model.g_optimizer), self.base):
            optimizer.learning_rate.assign(base * scale)


if __name__ == "__main__":
    run = run_module.run  # train.main imports it from there when it runs

    def run_with_decay(config, flags_text=None):
        decay = BudgetLinearDecay(config.max_minutes, os.environ.get("KG_LR_FLOOR", "0"))
        return run(config, flags_text=flags_text, extra_callbacks=(decay,))

    run_module.run = run_with_decay
    sys.argv[0] = os.path.join(ROOT, "train.py")
    app.run(train.main)
