#!/usr/bin/env python3
"""Small torch.save files for the checkpoint-reader tests (Tests/NeuralNetTests/Fixtures/):

- torch_state.pt: a plain state dict (float, half, int64 scalar, a transposed non-contiguous view)
- torch_ignite.pt: {"model": {"module." + key: ...}, "optimizer": {...}, "epoch": 3} as ignite
  and DataParallel leave it
and torch_expected.safetensors with the same tensors, contiguous float32, for comparison.
Run from the repository root with torch and safetensors installed.
"""
import torch
from safetensors.torch import save_file

torch.manual_seed(3)
base = torch.randn(4, 3)
state = {
    "conv.weight": torch.randn(2, 3, 3, 3),
    "conv.bias": torch.randn(2),
    "half.weight": torch.randn(5).half(),
    "bn.num_batches_tracked": torch.tensor(17),
    "transposed.weight": base.t(),  # non-contiguous view
}
torch.save(state, "Tests/NeuralNetTests/Fixtures/torch_state.pt")
torch.save({"model": {"module." + k: v for k, v in state.items()},
            "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4, "betas": (0.9, 0.999), "amsgrad": False,
                                                         "params": [0, 1], "foreach": None}]},
            "epoch": 3}, "Tests/NeuralNetTests/Fixtures/torch_ignite.pt")
save_file({k: v.float().contiguous() for k, v in state.items()}, "Tests/NeuralNetTests/Fixtures/torch_expected.safetensors",
          metadata={"torch": torch.__version__})
print("done")
