#!/usr/bin/env bash
# TensorFlow's CPU thread pools on a 2-core CPU for the reference article's recipes (BENCHMARKS.md "CPU thread pools"):
# benchmarks/throughput.py (keras_gans built as train.py builds it, beside the PyTorch reference) under one thread per
# op and two ops at a time (TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=2, the CPU presets' setting) and under
# TensorFlow's own 2-core default (2 / 2), alternating, ROUNDS times. Prints throughput.py's table line of each run.
#   [ROUNDS=2] [MODELS="dcgan wgan_gp"] bash benchmarks/cpu_threads_article.sh
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for round in $(seq "${ROUNDS:-2}"); do
    for model in ${MODELS:-dcgan wgan_gp}; do
        for intra in 2 1; do
            TF_NUM_INTRAOP_THREADS=$intra TF_NUM_INTEROP_THREADS=2 XDG_CACHE_HOME="$OUT/cache" \
                python benchmarks/throughput.py --models "$model" --impls ours,torch --rounds 1 \
                --output "$OUT/$model.json" 2>&1 | grep "^| $model" | sed "s/^/intra $intra inter 2, round $round /"
        done
    done
done
