#!/usr/bin/env bash
# TensorFlow's CPU thread pools on a 2-core CPU (keras_gans/cpu_threads.py; BENCHMARKS.md "CPU thread pools").
# Each CPU preset trains 4-5 short epochs twice under each setting, alternating: TensorFlow's own default on 2 cores
# (TF_NUM_INTRAOP_THREADS=2 TF_NUM_INTEROP_THREADS=2, which also stops keras_gans from choosing) and keras_gans'
# choice (no variables: 1 thread per op, 2 ops at a time). Prints Keras's ms/step of every epoch after the first
# (the first traces the step and measures XLA). WHICH=article runs the reference article's gan and wgan recipes
# (configs/{gan,wgan}.flags) instead, TensorFlow's default against 1 / 2 forced (keras_gans itself keeps TensorFlow's
# pools for width 64); dcgan and wgan_gp there: benchmarks/cpu_threads_article.sh, as this log rounds their steps
# to whole seconds. WHICH=all runs both.
#   [WHICH=presets|article|all] bash benchmarks/cpu_threads.sh [FASHION_MNIST_IDX_DIR] [FOLDER]
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
    [ "$setting" = one_per_op ] && variables=(TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=2)  # forced
    env "${variables[@]}" python train.py "$@" --verbose=2 --max_minutes=0 --output_dir="$OUT/run" > "$OUT/log" 2>&1
    echo "$name $setting: $(grep ms/step "$OUT/log" | sed -n '2,$p' | awk '{print $5}' | tr '\n' ' ')"
    rm -rf "$OUT/run"
}
WHICH=${WHICH:-presets}
if [ "$WHICH" = article ] || [ "$WHICH" = all ]; then
    for model in gan wgan; do
        steps=20; [ "$model" = gan ] && steps=200
        for setting in tensorflow one_per_op tensorflow one_per_op; do
            run "article $model" "$setting" --flagfile="configs/$model.flags" --dataset="idx:$IDX" --epochs=3 \
                --steps_per_epoch=$steps
        done
    done
fi
[ "$WHICH" = article ] && exit 0
for preset in gan dcgan wgan_gp; do
    for setting in tensorflow keras_gans tensorflow keras_gans; do
        run "$preset" "$setting" --flagfile="configs/cpu/$preset.flags" --dataset="idx:$IDX" --epochs=4 --steps_per_epoch=200
    done
done
for setting in tensorflow keras_gans tensorflow keras_gans; do
    run folder64 "$setting" --flagfile=configs/cpu/folder64.flags --dataset="folder:$FOLDER" --epochs=5 \
        --cache_dir="$OUT/cache"
done
