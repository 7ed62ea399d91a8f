"""The reference article's four training scripts, re-implemented in PyTorch, as the benchmark's baseline.

Faithful to ../shared/docs/SEED_NOTES.md (the article's facts), not to our
package: where the two differ on purpose, the article's choice is kept here.

  model    G / D                                     loss         optimiser                 batch  D steps
  gan      MLP 100-256-512-1024-784 / 784-...-1      BCE          Adam 1e-4                  128    1
  dcgan    ConvT 100->256->128->64->1 / Conv 1->...  BCE          Adam 2e-4 (0.5, 0.999)     256    1
  wgan     DCGAN G / DCGAN D without sigmoid         Wasserstein  RMSprop 2e-4               128    5, clip 0.01
  wgan_gp  DCGAN G / D without sigmoid, without BN   WGAN + 10 GP Adam 2e-4 (0.0, 0.9)       128    5

Details kept from the article: the GAN adds instance noise 0.05 * N(0, 1) to
the REAL images only (our package noises real and fake); the DCGAN family
reflection-pads 28x28 real images to 32x32 and the generator outputs 32x32
(scored here after a centre crop back to 28x28); conv weights ~ N(0, 0.02),
BatchNorm gamma ~ N(1, 0.02), beta 0; every critic step takes its own real
batch. The WGAN-GP interpolation weight is U(0, 1) per example and the
gradient norm has an epsilon inside the square root (the defects the notes
list are not copied).

Install (CPU wheel; not a dependency of the package):
    pip install torch==2.13.0

Used by benchmarks/worker.py; runnable alone for a quick look:
    python benchmarks/torch_reference.py --model dcgan --steps 20
"""

import argparse
import time

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

LATENT_DIM = 100

SETTINGS = {
    "gan": {"batch_size": 128, "n_critic": 1},
    "dcgan": {"batch_size": 256, "n_critic": 1},
    "wgan": {"batch_size": 128, "n_critic": 5, "clip_value": 0.01},
    "wgan_gp": {"batch_size": 128, "n_critic": 5, "gp_weight": 10.0},
}


class MLPGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT_DIM, 256), nn.LeakyReLU(0.2),
            nn.Linear(256, 512), nn.LeakyReLU(0.2),
            nn.Linear(512, 1024), nn.LeakyReLU(0.2),
            nn.Linear(1024, 784), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z).view(-1, 1, 28, 28)


class MLPDiscriminator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(784, 1024), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(1024, 512), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(512, 256), nn.LeakyReLU(0.2), nn.Dropout(0.3),
            nn.Linear(256, 1), nn.Sigmoid(),
        )

    def forward(self, x):
        return self.net(x.view(x.size(0), -1))


class DCGANGenerator(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(
            nn.ConvTranspose2d(LATENT_DIM, 256, 4, 1, 0, bias=False), nn.BatchNorm2d(256), nn.ReLU(True),
            nn.ConvTranspose2d(256, 128, 4, 2, 1, bias=False), nn.BatchNorm2d(128), nn.ReLU(True),
            nn.ConvTranspose2d(128, 64, 4, 2, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(True),
            nn.ConvTranspose2d(64, 1, 4, 2, 1), nn.Tanh(),
        )

    def forward(self, z):
        return self.net(z.view(z.size(0), LATENT_DIM, 1, 1))


class DCGANDiscriminator(nn.Module):
    """sigmoid=False gives the WGAN critic; batch_norm=False as well gives the WGAN-GP critic."""

    def __init__(self, sigmoid=True, batch_norm=True):
        super().__init__()

        def norm(channels):
            return nn.BatchNorm2d(channels) if batch_norm else nn.Identity()

        layers = [
            nn.Conv2d(1, 64, 4, 2, 1), nn.LeakyReLU(0.2, True),
            nn.Conv2d(64, 128, 4, 2, 1, bias=not batch_norm), norm(128), nn.LeakyReLU(0.2, True),
            nn.Conv2d(128, 256, 4, 2, 1, bias=not batch_norm), norm(256), nn.LeakyReLU(0.2, True),
            nn.Conv2d(256, 1, 4, 1, 0),
        ]
        if sigmoid:
            layers.append(nn.Sigmoid())
        self.net = nn.Sequential(*layers)

    def forward(self, x):
        return self.net(x).view(-1, 1)


def init_weights(module):
    """The article's DCGAN initialisation."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        nn.init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class Reference:
    """One of the article's models with its optimisers and training step.

    `step(real_batches)` is one generator update after `n_critic` critic
    updates, each on its own batch (uint8 -> float [-1, 1] done by `prepare`).
    """

    def __init__(self, model, seed=0):
        if model not in SETTINGS:
            raise ValueError(f"unknown model {model!r}: use one of {sorted(SETTINGS)}")
        torch.manual_seed(seed)
        self.model = model
        self.settings = SETTINGS[model]
        self.batch_size = self.settings["batch_size"]
        self.n_critic = self.settings["n_critic"]
        if model == "gan":
            self.G, self.D = MLPGenerator(), MLPDiscriminator()
            self.opt_g = torch.optim.Adam(self.G.parameters(), lr=1e-4)
            self.opt_d = torch.optim.Adam(self.D.parameters(), lr=1e-4)
        else:
            self.G = DCGANGenerator()
            self.D = DCGANDiscriminator(sigmoid=model == "dcgan", batch_norm=model != "wgan_gp")
            self.G.apply(init_weights)
            self.D.apply(init_weights)
            if model == "dcgan":
                self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.5, 0.999))
                self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.5, 0.999))
            elif model == "wgan":
                self.opt_g = torch.optim.RMSprop(self.G.parameters(), lr=2e-4)
                self.opt_d = torch.optim.RMSprop(self.D.parameters(), lr=2e-4)
            else:
                self.opt_g = torch.optim.Adam(self.G.parameters(), lr=2e-4, betas=(0.0, 0.9))
                self.opt_d = torch.optim.Adam(self.D.parameters(), lr=2e-4, betas=(0.0, 0.9))
        self.device = torch.device("cpu")  # benchmarks/torch_reference_gpu.py moves the networks

    def prepare(self, images_uint8):
        """uint8 [B, 28, 28] or [B, 28, 28, 1] numpy -> float [B, 1, H, W] in [-1, 1] (32x32 for conv models)."""
        x = torch.from_numpy(np.ascontiguousarray(images_uint8)).float().div_(127.5).sub_(1.0)
        x = x.view(x.size(0), 1, 28, 28)
        if self.model != "gan":
            x = F.pad(x, (2, 2, 2, 2), mode="reflect")
        return x

    def _generated(self, z):
        """G(z); the hooks `_generated` and `_scores` are where a subclass adds autocast."""
        return self.G(z)

    def _scores(self, x):
        return self.D(x)

    @staticmethod
    def _bce(probabilities, target):
        """nn.BCELoss() against a constant target (1 real, 0 fake), in float32."""
        probabilities = probabilities.float()
        return F.binary_cross_entropy(probabilities, torch.full_like(probabilities, target))

    def _critic_step(self, real):
        batch = real.size(0)
        z = torch.randn(batch, LATENT_DIM, device=self.device)
        with torch.no_grad():
            fake = self._generated(z).float()
        self.opt_d.zero_grad(set_to_none=True)
        if self.model in ("gan", "dcgan"):
            if self.model == "gan":
                real = real + 0.05 * torch.randn_like(real)
            loss = self._bce(self._scores(real), 1.0) + self._bce(self._scores(fake), 0.0)
        else:
            loss = -self._scores(real).float().mean() + self._scores(fake).float().mean()
            if self.model == "wgan_gp":
                alpha = torch.rand(batch, 1, 1, 1, device=self.device)
                mixed = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
                grads = torch.autograd.grad(self._scores(mixed).float().sum(), mixed, create_graph=True)[0]
                norm = torch.sqrt(grads.float().pow(2).sum(dim=(1, 2, 3)) + 1e-12)
                loss = loss + self.settings["gp_weight"] * ((norm - 1) ** 2).mean()
        loss.backward()
        self.opt_d.step()
        if self.model == "wgan":
            clip = self.settings["clip_value"]
            with torch.no_grad():
                for p in self.D.parameters():
                    p.clamp_(-clip, clip)
        return loss.detach()

    def _generator_step(self):
        z = torch.randn(self.batch_size, LATENT_DIM, device=self.device)
        self.opt_g.zero_grad(set_to_none=True)
        scores = self._scores(self._generated(z))
        loss = self._bce(scores, 1.0) if self.model in ("gan", "dcgan") else -scores.float().mean()  # non-saturating
        loss.backward()
        self.opt_g.step()
        return loss.detach()

    def step(self, real_batches):
        self.G.train()
        self.D.train()
        d_loss = [self._critic_step(self.prepare(batch)).item() for batch in real_batches]
        return float(np.mean(d_loss)), self._generator_step().item()

    @torch.no_grad()
    def generate(self, num, seed=0, batch_size=500):
        """uint8 [num, 28, 28, 1] samples (inference mode; conv outputs centre-cropped from 32x32)."""
        self.G.eval()
        generator = torch.Generator().manual_seed(seed)
        out = []
        for start in range(0, num, batch_size):
            z = torch.randn(min(batch_size, num - start), LATENT_DIM, generator=generator)
            x = self.G(z)
            if x.size(-1) == 32:
                x = x[:, :, 2:30, 2:30]
            out.append(((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).permute(0, 2, 3, 1).numpy())
        return np.concatenate(out)


class BatchStream:
    """Endless shuffled batches of an in-memory uint8 array (a fresh permutation every epoch)."""

    def __init__(self, images, batch_size, seed=0):
        self.images = images
        self.batch_size = batch_size
        self.rng = np.random.default_rng(seed)
        self.order, self.position = self.rng.permutation(len(images)), 0

    def next(self):
        if self.position + self.batch_size > len(self.images):
            self.order, self.position = self.rng.permutation(len(self.images)), 0
        index = self.order[self.position:self.position + self.batch_size]
        self.position += self.batch_size
        return self.images[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="dcgan", choices=sorted(SETTINGS))
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    reference = Reference(args.model)
    images = np.random.default_rng(0).integers(0, 256, (4096, 28, 28), dtype=np.uint8)
    stream = BatchStream(images, reference.batch_size)
    start = time.time()
    for _ in range(args.steps):
        d_loss, g_loss = reference.step([stream.next() for _ in range(reference.n_critic)])
    seconds = time.time() - start
    print(f"{args.model}: {args.steps} steps in {seconds:.1f} s, d_loss {d_loss:.3f}, g_loss {g_loss:.3f}, "
          f"{args.steps * reference.batch_size * reference.n_critic / seconds:.0f} real images/s")


if __name__ == "__main__":
    main()
