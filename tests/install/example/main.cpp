// Uses the installed library as a C++ user would: tensors, an op, autograd.
// y = sum(relu(x W^T)); prints dy/dW, which the test checks.
#include <dlt/ops/ops.h>

#include <cstdio>

int main() {
  using namespace dlt;
  const Tensor x = from_vector<float>({1, -2, 3, 4, 5, -6}, {2, 3});
  Tensor w = from_vector<float>({0.5f, 0.25f, 1, -1, 0, 0.5f}, {2, 3});
  w.requires_grad_(true);
  const Tensor y = sum(relu(linear(x, w)));
  y.backward();
  const Tensor g = w.grad();
  std::printf("loss %.2f grad", y.item<float>());
  for (int64_t i = 0; i < g.numel(); ++i) std::printf(" %g", g.data_ptr<float>()[i]);
  std::printf("\n");
  return 0;
}
