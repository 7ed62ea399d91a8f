#!/usr/bin/env bash
# TensorFlow's CPU thread pools on a 2-core CPU (keras_gans/cpu_threads.py; BENCHMARKS.md "CPU thread pools").
# Each CPU preset trains 4-5 short epochs twice under each setting, alternating: TensorFlow's own default on 2 cores
# (TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=2, which also stops keras_gans from choosing) and keras_gans'
# choice (no variables: 1 thread per op, 2 ops at a time). Prints Keras's ms/step of every epoch after the first
# (the first traces the step and measures XLA).
#   bash benchmarks/cpu_threads.sh [FASHION_MNIST_IDX_DIR] [FOLDER]
set -euo pipefail
cd "$(dirname "$0")/.."
IDX=${1:-../shared/data/fashion-mnist}
FOLDER=${2:-../shared/data/emoji-twitter}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
run() {  # run NAME SETTING FLAGS...
    local name=$1 setting=$2; shift 2
    local variables=(-u TF_NUM_INTRAOP_THREADS -u TF_NUM_INTEROP_THREADS)  # keras_gans chooses
    [ "$setting" = tensorflow ] && variables=(TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=2)
    env "${variables[@]}" python train.py "$@" --verbose=2 --max_minutes=0 --output_dir="$OUT/run" > "$OUT/log" 2>&1
    echo "$name $setting: $(grep ms/step "$OUT/log" | sed -n '2,$p' | awk '{print $5}' | tr '\n' ' ')"
    rm -rf "$OUT/run"
}
for preset in gan dcgan wgan_gp; do
    for setting in tensorflow keras_gans tensorflow keras_gans; do
        run "$preset" "$setting" --flagfile="configs/cpu/$preset.flags" --dataset="idx:$IDX" --epochs=4 --steps_per_epoch=200
    done
done
for setting in tensorflow keras_gans tensorflow keras_gans; do
    run folder64 "$setting" --flagfile=configs/cpu/folder64.flags --dataset="folder:$FOLDER" --epochs=5 \
        --cache_dir="$OUT/cache"
done
