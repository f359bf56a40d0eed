"""Models exported by the current torch (2.x, its default dynamo exporter) for
dlt's importer: an MLP and a small ResNet (Conv, BatchNorm in eval mode, ReLU,
MaxPool, residual Add, global average pool, Linear), each with inputs at two
batch sizes and torch's outputs, as .onnx and .npy files in OUT.

    torch2.sh tests/onnx/torch2_export.py OUT
"""
import os
import sys

import numpy as np
import torch
from torch import nn


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.down = None
        if stride != 1 or cin != cout:
            self.down = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = torch.relu(self.bn1(self.conv1(x)))
        y = self.bn2(self.conv2(y))
        return torch.relu(y + (x if self.down is None else self.down(x)))


class ResNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 8, 3, 1, 1, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.MaxPool2d(3, 2, 1))
        self.layer1 = Block(8, 8, 1)
        self.layer2 = Block(8, 16, 2)
        self.fc = nn.Linear(16, 10)

    def forward(self, x):
        x = self.layer2(self.layer1(self.stem(x)))
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


def main(out):
    torch.manual_seed(0)
    mlp = nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.GELU(), nn.Linear(64, 10), nn.LogSoftmax(-1))
    resnet = ResNet()
    # Non-trivial running statistics, so BatchNormalization's eval form is checked.
    resnet.train()
    with torch.no_grad():
        for _ in range(3):
            resnet(torch.randn(8, 3, 16, 16))
    for name, model, sample in (("mlp", mlp, (28, 28)), ("resnet", resnet, (3, 16, 16))):
        model.eval()
        torch.onnx.export(model, (torch.randn(2, *sample),), os.path.join(out, name + ".onnx"),
                          input_names=["input"], output_names=["logits"],
                          dynamic_shapes={"x" if name == "resnet" else "input": {0: torch.export.Dim("batch")}})
        for batch in (1, 3):
            x = torch.randn(batch, *sample)
            with torch.no_grad():
                y = model(x)
            np.save(os.path.join(out, f"{name}_x{batch}.npy"), x.numpy())
            np.save(os.path.join(out, f"{name}_y{batch}.npy"), y.numpy())
    print("torch", torch.__version__)


if __name__ == "__main__":
    main(sys.argv[1])
