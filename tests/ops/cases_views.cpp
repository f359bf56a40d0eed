// Test rows for the view ops: the gradient must land on the right elements
// of the input whatever the geometry.
#include "tests/ops/op_case.h"

namespace dlt::testing {
namespace {

DLT_OP_CASES(views) {
  // Each row multiplies by a fixed ramp after the view so every output
  // element has its own gradient weight.
  auto ramp = [](const Tensor& t) {
    return t * arange(t.numel(), TensorOptions(t.dtype()).device(t.device())).view(t.shape());
  };
  return {
      {.op = "view", .label = "reshape",
       .inputs = {{.shape = {2, 3, 4}}},
       .fn = [=](const Inputs& x) { return ramp(x[0].view({4, -1})); },
       .torch = "x0.view(4, -1) * torch.arange(24, dtype=x0.dtype).view(4, 6)"},
      {.op = "view", .label = "squeeze unsqueeze",
       .inputs = {{.shape = {3, 1, 4}}},
       .fn = [=](const Inputs& x) { return ramp(x[0].squeeze(1).unsqueeze(0)); },
       .torch = "x0.squeeze(1).unsqueeze(0) * torch.arange(12, dtype=x0.dtype).view(1, 3, 4)"},
      {.op = "view", .label = "reshape noncontig",
       .inputs = {{.shape = {3, 4}, .noncontig = true}},
       .fn = [=](const Inputs& x) { return ramp(x[0].reshape({12})); },
       .torch = "x0.reshape(12) * torch.arange(12, dtype=x0.dtype)"},
      {.op = "view", .label = "flatten",
       .inputs = {{.shape = {2, 3, 2}}},
       .fn = [=](const Inputs& x) { return ramp(x[0].flatten(1)); },
       .torch = "x0.flatten(1) * torch.arange(12, dtype=x0.dtype).view(2, 6)"},
      {.op = "permute", .label = "3d",
       .inputs = {{.shape = {2, 3, 4}}},
       .fn = [=](const Inputs& x) { return ramp(x[0].permute({2, 0, 1})); },
       .torch = "x0.permute(2, 0, 1) * torch.arange(24, dtype=x0.dtype).view(4, 2, 3)"},
      {.op = "permute", .label = "transpose",
       .inputs = {{.shape = {3, 5}}},
       .fn = [=](const Inputs& x) { return ramp(x[0].t()); },
       .torch = "x0.t() * torch.arange(15, dtype=x0.dtype).view(5, 3)"},
      {.op = "expand", .label = "new and singleton dims",
       .inputs = {{.shape = {3, 1}}},
       .fn = [=](const Inputs& x) { return ramp(x[0].expand({2, 3, 4})); },
       .torch = "x0.expand(2, 3, 4) * torch.arange(24, dtype=x0.dtype).view(2, 3, 4)"},
      {.op = "slice", .label = "step",
       .inputs = {{.shape = {4, 7}}},
       .fn = [=](const Inputs& x) { return ramp(x[0].slice(1, 1, 6, 2)); },
       .torch = "x0[:, 1:6:2] * torch.arange(12, dtype=x0.dtype).view(4, 3)"},
      {.op = "slice", .label = "narrow select",
       .inputs = {{.shape = {3, 4, 2}}},
       .fn = [=](const Inputs& x) { return ramp(x[0].narrow(1, 1, 2).select(2, 1)); },
       .torch = "x0.narrow(1, 1, 2)[:, :, 1] * torch.arange(6, dtype=x0.dtype).view(3, 2)"},
      {.op = "slice", .label = "negative start",
       .inputs = {{.shape = {6}}},
       .fn = [=](const Inputs& x) { return ramp(x[0].slice(0, -4, std::nullopt)); },
       .torch = "x0[-4:] * torch.arange(4, dtype=x0.dtype)"},
  };
}

}  // namespace
}  // namespace dlt::testing
