"""Images/s of the article's four PyTorch scripts (benchmarks/torch_reference.py) on a GPU (issue 18 item 4).

    python benchmarks/torch_reference_gpu.py --batch_sizes 256,1024 --output gpu_torch.json

Each model runs the reference's own training step (same networks, losses,
optimisers, n_critic) at each batch size, in float32 and with bfloat16
autocast ("mixed"); the losses are computed in float32 outside autocast
(PyTorch refuses BCELoss under autocast). Timing: --warmup steps, then
--steps timed steps with a CUDA synchronise at both ends; images/s counts
the real images the critic reads (batch x n_critic per step), as the CPU
benchmark does. The data is random uint8 already on the GPU, so the figure is
the training step's, not an input pipeline's.
"""

import argparse
import contextlib
import json
import os
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference  # noqa: E402


class GPUReference(torch_reference.Reference):
    """The reference step on `device`, optionally under bfloat16 autocast."""

    def __init__(self, model, batch_size, device, mixed):
        super().__init__(model)
        self.batch_size = batch_size
        self.device = device
        self.mixed = mixed
        self.G.to(device)
        self.D.to(device)
        # Optimisers hold references to the parameters, which .to() moved in place.

    def autocast(self):
        if not self.mixed:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)

    def prepare(self, images_uint8):
        x = images_uint8.float().div_(127.5).sub_(1.0).view(images_uint8.size(0), 1, 28, 28)
        if self.model != "gan":
            x = F.pad(x, (2, 2, 2, 2), mode="reflect")
        return x

    def _generated(self, z):
        with self.autocast():
            return self.G(z)

    def _scores(self, x):
        with self.autocast():
            return self.D(x).float()

    def step(self, real_batches):
        """The reference's step, without its per-step .item() (a host sync that would time the GPU idle)."""
        self.G.train()
        self.D.train()
        for batch in real_batches:
            d_loss = self._critic_step(self.prepare(batch))
        return d_loss, self._generator_step()


def measure(model, batch_size, mixed, device, warmup, steps):
    reference = GPUReference(model, batch_size, device, mixed)
    images = torch.randint(0, 256, (16 * batch_size, 28, 28), dtype=torch.uint8, device=device)

    def batches(i):
        return [images[((i * reference.n_critic + k) % 16) * batch_size:][:batch_size] for k in range(reference.n_critic)]

    cuda = device.type == "cuda"
    for i in range(warmup):
        reference.step(batches(i))
    if cuda:
        torch.cuda.synchronize(device)
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for i in range(steps):
        d_loss, g_loss = reference.step(batches(i))
    if cuda:
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    return {"model": model, "batch_size": batch_size, "precision": "mixed_bfloat16" if mixed else "float32",
            "steps": steps, "seconds": round(seconds, 3),
            "images_per_s": round(steps * batch_size * reference.n_critic / seconds, 1),
            "peak_memory_mb": round(torch.cuda.max_memory_allocated(device) / 2**20, 1) if cuda else None,
            "d_loss": d_loss.item(), "g_loss": g_loss.item()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", default="gan,dcgan,wgan,wgan_gp")
    parser.add_argument("--batch_sizes", default="256,1024")
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--output", default=None)
    parser.add_argument("--device", default="cuda", help="cuda, or cpu for a smoke run")
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        sys.exit("error: no CUDA device visible to PyTorch; run this on a GPU machine (or --device cpu for a smoke run)")
    torch.backends.cudnn.benchmark = True
    rows = []
    for model in args.models.split(","):
        for batch_size in (int(b) for b in args.batch_sizes.split(",")):
            for mixed in (False, True):
                row = measure(model, batch_size, mixed, device, args.warmup, args.steps)
                rows.append(row)
                print(json.dumps(row), flush=True)
    report = {"device": torch.cuda.get_device_name(device) if device.type == "cuda" else "cpu", "torch": torch.__version__,
              "command": "python " + " ".join(sys.argv), "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
              "rows": rows}
    if args.output:
        with open(args.output, "w") as handle:
            json.dump(report, handle, indent=1)


if __name__ == "__main__":
    main()
