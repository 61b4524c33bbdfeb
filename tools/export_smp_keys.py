#!/usr/bin/env python3
"""Writes smp FPN state-dict keys and shapes (one 'key dim,dim,...' line each) for ResNet-18/34/50
to Tests/NeuralNetTests/Fixtures/smp_fpn_<encoder>_keys.txt, so tests check sootctl's names
and shapes without torch. Run from the repository root with segmentation_models_pytorch installed."""
import segmentation_models_pytorch as smp

for name in ["resnet18", "resnet34", "resnet50"]:
    model = smp.FPN(encoder_name=name, encoder_weights=None, classes=1)
    with open(f"Tests/NeuralNetTests/Fixtures/smp_fpn_{name}_keys.txt", "w") as f:
        f.write(f"# smp {smp.__version__}, FPN({name}, classes=1): key shape\n")
        for key, value in model.state_dict().items():
            f.write(f"{key} {','.join(str(d) for d in value.shape)}\n")
print("done")
