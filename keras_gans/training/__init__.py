"""Training a GAN run: the run folder (`run_dir`), checkpoints (`checkpoint`), resume
(`resume`) and the `run(config)` pipeline (`run`). Import the submodules; this file
imports nothing, so that low-level modules can use `run_dir` without a cycle."""
