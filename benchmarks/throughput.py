"""Training throughput, keras_gans against the PyTorch reference, alternating in one job.

    pip install torch==2.13.0        # CPU wheel; the benchmark's only extra
    python benchmarks/throughput.py --rounds 3 --output benchmarks/results/throughput.json

For each model, `rounds` rounds; each round runs both implementations (the
order flips every round, so a slow drift of the machine's load hits both
alike), each in a fresh process (benchmarks/worker.py) that trains the
article's networks with the article's batch size and number of D and G
updates: `warmup` steps first (tracing and XLA compilation for ours), then
`steps` timed steps. Reported: real images consumed per second (steps x batch
x n_critic / seconds), its median over rounds, the ratio ours / PyTorch per
round and its median, and each process's peak resident memory
(getrusage ru_maxrss: includes the framework's own import, about 1 GB for
TensorFlow).
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import worker  # noqa: E402  (benchmarks/worker.py: the process each run happens in)
DEFAULT_STEPS = {"gan": 40, "dcgan": 8, "wgan": 4, "wgan_gp": 4}


def run_worker(impl, model, steps, warmup, dataset=None, jit_compile="default", precision="auto"):
    return worker.run_in_subprocess("throughput", impl=impl, model=model, steps=steps, warmup=warmup,
                                    jit_compile=jit_compile, precision=precision, dataset=dataset)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="gan,dcgan,wgan,wgan_gp")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, help="timed steps per run (default: per model, %s)" % DEFAULT_STEPS)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--dataset", help="idx:DIR (default ../shared/data/fashion-mnist)")
    parser.add_argument("--output", help="JSON file for every run's numbers")
    parser.add_argument("--impls", default="ours,torch",
                        help="ours (built as train.py builds), api (the plain Python API's defaults), torch; "
                        "the order alternates every round; ours and torch are required")
    parser.add_argument("--ours_precision", default="auto",
                        help="keras_gans's --precision (default: auto, the package default)")
    parser.add_argument("--ours_jit_compile", choices=["default", "true", "false"], default="default",
                        help="keras_gans's model.compile(jit_compile=...) (default: the package default, XLA on)")
    args = parser.parse_args()

    runs, summary = [], {}
    started = time.time()
    for model in args.models.split(","):
        steps = args.steps or DEFAULT_STEPS[model]
        impls = args.impls.split(",")
        per_impl, ratios = {impl: [] for impl in impls}, []
        for round_ in range(args.rounds):
            order = impls if round_ % 2 == 0 else impls[::-1]
            result = {}
            for impl in order:
                options = ("default", "auto") if impl == "api" else (args.ours_jit_compile, args.ours_precision)
                result[impl] = run_worker(impl, model, steps, args.warmup, args.dataset, *options)
                result[impl]["round"] = round_ + 1
                runs.append(result[impl])
                per_impl[impl].append(result[impl])
                print(json.dumps(result[impl]), flush=True)
            if "ours" in result and "torch" in result:
                ratios.append(result["ours"]["real_images_per_s"] / result["torch"]["real_images_per_s"])
            if "api" in result and "torch" in result:
                result["api"]["ratio_to_torch"] = round(
                    result["api"]["real_images_per_s"] / result["torch"]["real_images_per_s"], 2)
        summary[model] = {
            "steps": steps,
            "batch_size": per_impl["ours"][0]["batch_size"],
            "n_critic": per_impl["ours"][0]["n_critic"],
            **{f"{impl}_images_per_s": statistics.median(r["real_images_per_s"] for r in rs)
               for impl, rs in per_impl.items()},
            "ratio_per_round": [round(r, 2) for r in ratios],
            "ratio_median": round(statistics.median(ratios), 2),
            **{f"{impl}_peak_rss_mib": max(r["peak_rss_mib"] for r in rs) for impl, rs in per_impl.items()},
        }
        if per_impl.get("api"):
            summary[model]["api_ratio_per_round"] = [r["ratio_to_torch"] for r in per_impl["api"]]
            summary[model]["api_ratio_median"] = round(statistics.median(summary[model]["api_ratio_per_round"]), 2)

    print("\n| model | batch x D steps | timed steps | keras_gans img/s | PyTorch img/s | ratio (per round) | "
          "median ratio | peak RSS ours / torch (MiB) |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for model, s in summary.items():
        print(f"| {model} | {s['batch_size']} x {s['n_critic']} | {s['steps']} | {s['ours_images_per_s']:.0f} | "
              f"{s['torch_images_per_s']:.0f} | {', '.join(map(str, s['ratio_per_round']))} | "
              f"**{s['ratio_median']}** | {s['ours_peak_rss_mib']:.0f} / {s['torch_peak_rss_mib']:.0f} |")
        if "api_ratio_median" in s:
            print(f"| {model}, plain Python API | | | {s['api_images_per_s']:.0f} | {s['torch_images_per_s']:.0f} | "
                  f"{', '.join(map(str, s['api_ratio_per_round']))} | **{s['api_ratio_median']}** | "
                  f"{s['api_peak_rss_mib']:.0f} / {s['torch_peak_rss_mib']:.0f} |")
    machine = {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version(),
               "load_average_at_end": os.getloadavg(), "minutes": round((time.time() - started) / 60, 1)}
    worker.write_report(args.output, machine, summary=summary, runs=runs)


if __name__ == "__main__":
    main()
