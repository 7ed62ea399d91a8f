"""Serving: the generator as a TF Serving SavedModel, and reading it back.

- `export`: `export_generator`, the versioned SavedModel and its four signatures.
- `warmup`: the warm-up requests TF Serving replays when it loads a version.
- `versions`: the version folders of an export base (next free, newest complete).
- `sample`: `python -m keras_gans.sample`, images from an export without training code.
"""
