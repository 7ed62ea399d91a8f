"""Seconds a train.py run spends re-encoding samples/training.gif (SampleGrids.write_gif).

    python benchmarks/sample_gif_cost.py [--every_epoch] -- --flagfile=configs/cpu/folder64.flags \\
        --dataset=folder:../shared/data/emoji-twitter --output_dir=/tmp/gif_cost --restart

Runs train.py in this process with write_gif timed; prints each call's
seconds and the total. `--every_epoch` restores the old behaviour (the GIF
rewritten after every epoch) to measure what the powers-of-two schedule saves.
"""

import os
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    every_epoch = "--every_epoch" in sys.argv
    train_args = sys.argv[sys.argv.index("--") + 1:] if "--" in sys.argv else []
    sys.path.insert(0, REPO)
    from keras_gans.callbacks import samples

    original_write, original_epoch_end = samples.SampleGrids.write_gif, samples.SampleGrids.on_epoch_end
    calls = []

    def timed_write(self):
        start = time.perf_counter()
        original_write(self)
        calls.append((self.epoch, round(time.perf_counter() - start, 2)))
        print(f"write_gif after epoch {self.epoch}: {calls[-1][1]} s", flush=True)

    def epoch_end_every_epoch(self, epoch, logs=None):
        original_epoch_end(self, epoch, logs)
        if not samples.gif_due(self.epoch):  # the schedule skipped this epoch: write as the old code did
            self.write_gif()

    samples.SampleGrids.write_gif = timed_write
    if every_epoch:
        samples.SampleGrids.on_epoch_end = epoch_end_every_epoch
    sys.argv = ["train.py", *train_args]
    import train
    from absl import app

    try:
        app.run(train.main)
    finally:
        print(f"write_gif: {len(calls)} calls, {sum(s for _, s in calls):.1f} s in all", flush=True)


if __name__ == "__main__":
    main()
