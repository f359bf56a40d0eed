#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "dlt/optim/optimizers.h"

namespace dlt::optim {

std::vector<std::string> optimizer_names() { return {"adam", "adamw", "rmsprop", "sgd"}; }

std::unique_ptr<Optimizer> make_optimizer(const std::string& name, std::vector<ParamGroup> groups,
                                          const OptimizerOptions& options) {
  std::string key = name;
  std::transform(key.begin(), key.end(), key.begin(), [](unsigned char c) { return std::tolower(c); });
  if (key == "sgd") return std::make_unique<SGD>(std::move(groups), options);
  if (key == "adam") return std::make_unique<Adam>(std::move(groups), options);
  if (key == "adamw") return std::make_unique<AdamW>(std::move(groups), options);
  if (key == "rmsprop") return std::make_unique<RMSprop>(std::move(groups), options);
  DLT_CHECK(false, "unknown optimizer '{}'; known: {}", name, fmt::join(optimizer_names(), ", "));
  return nullptr;
}

}  // namespace dlt::optim
