"""Input-pipeline figures of issue 15 on a generated folder of 64x64 colour PNGs.

    python benchmarks/data_pipeline.py --dir /tmp/kg_100k --count 100000 --cache_dir /tmp/kg_100k_cache

Each phase runs in its own process (so peak RSS is that phase's) and prints
one JSON line:
  generate     write the folder (skipped when it already holds --count PNGs)
  memory_cold  open_source in memory mode, nothing cached: decode time
  memory_warm  the same again: cached start time
  stream_cold  open_source with --max_memory_gb below the data size: decode to the on-disk cache
  stream_read  streaming start time, then images/s of make_dataset(repeat=True) and peak RSS
  dcgan_step   images/s a 64x64x3 DCGAN (default width) train step consumes, fed from memory
"""

import argparse
import concurrent.futures
import json
import os
import resource
import subprocess
import sys
import time

import numpy as np

PHASES = ("generate", "memory_cold", "memory_warm", "stream_cold", "stream_read", "dcgan_step")


def generate(directory, count, classes=10):
    """Smooth random colour images (upsampled 8x8 noise): PNGs of realistic size, made fast."""
    from PIL import Image

    def one(i):
        path = os.path.join(directory, f"class_{i % classes}", f"{i:06d}.png")
        low = np.random.default_rng(i).integers(0, 256, (8, 8, 3), dtype=np.uint8)
        Image.fromarray(low).resize((64, 64), Image.Resampling.BILINEAR).save(path)

    for k in range(classes):
        os.makedirs(os.path.join(directory, f"class_{k}"), exist_ok=True)
    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(count)))


def dcgan_step(batch_size, steps=20):
    """Real images per second consumed by DCGAN's train_step at 64x64x3 (after 3 warm-up steps)."""
    import tensorflow as tf

    from keras_gans.models import DCGAN

    model = DCGAN(image_shape=(64, 64, 3))
    model.compile()
    batch = tf.random.uniform((batch_size, 64, 64, 3), -1, 1)
    dataset = tf.data.Dataset.from_tensors(batch).repeat()
    model.fit(dataset, steps_per_epoch=3, epochs=1, verbose=0)
    begin = time.perf_counter()
    model.fit(dataset, steps_per_epoch=steps, epochs=1, verbose=0)
    return {"images_per_s": round(steps * batch_size / (time.perf_counter() - begin), 1), "batch_size": batch_size}


def run_phase(args):
    from keras_gans import data

    spec, shape = f"folder:{args.dir}", (64, 64, 3)
    start = time.perf_counter()
    if args.phase == "dcgan_step":
        return dcgan_step(args.batch_size)
    if args.phase == "generate":
        present = sum(len(files) for _, _, files in os.walk(args.dir)) if os.path.isdir(args.dir) else 0
        if present < args.count:
            generate(args.dir, args.count)
        return {"seconds": time.perf_counter() - start, "images": args.count}
    budget = 1e9 if args.phase.startswith("memory") else args.stream_budget_gb
    source = data.open_source(spec, image_shape=shape, cache_dir=args.cache_dir, max_memory_gb=budget)
    opened = time.perf_counter() - start
    result = {"open_seconds": round(opened, 2), "images": len(source), "kind": type(source.images).__name__}
    if args.phase == "stream_read":
        dataset = data.make_dataset(source, args.batch_size, seed=0, repeat=True)
        iterator = iter(dataset)
        next(iterator)  # build the pipeline before timing
        begin = time.perf_counter()
        for _ in range(args.batches):
            next(iterator)
        result["images_per_s"] = round(args.batches * args.batch_size / (time.perf_counter() - begin))
    result["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, 2)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True)
    parser.add_argument("--count", type=int, default=100000)
    parser.add_argument("--cache_dir", required=True, help="kept apart from the data so runs can be repeated cold")
    parser.add_argument("--stream_budget_gb", type=float, default=0.5)
    parser.add_argument("--batch_size", type=int, default=64)
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--phase", choices=PHASES)
    parser.add_argument("--phases", default=",".join(PHASES))
    args = parser.parse_args()
    if args.phase:
        print(json.dumps({"phase": args.phase, **run_phase(args)}), flush=True)
        return
    for phase in args.phases.split(","):
        if phase in ("memory_cold", "stream_cold") and os.path.isdir(args.cache_dir):
            for name in os.listdir(args.cache_dir):  # cold: nothing cached (both modes share entries)
                os.unlink(os.path.join(args.cache_dir, name))
        subprocess.run([sys.executable, __file__, *sys.argv[1:], "--phase", phase], check=True)


if __name__ == "__main__":
    main()
