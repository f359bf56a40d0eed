// dlt recipe run: trains regression recipes and checks their bounds. The
// work happens in lib/dlt/train/recipe; this file parses arguments and
// prints. Exit status: 0 all bounds pass, 1 one fails, 2 bad input.
#include <fmt/core.h>

#include "cli/commands.h"
#include "dlt/train/file_io.h"
#include "dlt/train/recipe.h"
#include "dlt/train/signals.h"

namespace dlt::cli {

void add_recipe_command(CLI::App& app) {
  struct Args {
    std::vector<std::string> paths;
    std::string junit, runs_dir = "runs/recipes";
  };
  auto a = std::make_shared<Args>();
  auto* recipe = app.add_subcommand("recipe", "Regression recipes: short training runs with bounds on their metrics");
  recipe->require_subcommand(1);
  auto* run = recipe->add_subcommand(
      "run", "Train each recipe into <runs-dir>/<name> (wiped first) and check its expect: bounds;\n"
             "prints a table, exits 1 if a bound fails.\n"
             "Example: dlt recipe run recipes/ --junit build/recipes-junit.xml");
  run->add_option("paths", a->paths, "Recipe files, or folders of *.yaml recipes")->required();
  run->add_option("--junit", a->junit, "Also write the results as JUnit XML to this file");
  run->add_option("--runs-dir", a->runs_dir, "Folder of the recipes' run folders (default: runs/recipes)");
  run->callback([a] {
    train::install_stop_handlers();  // before any thread starts (signals.h)
    // Every recipe is read before any trains, so a typo fails in a second.
    std::vector<train::Recipe> recipes;
    for (const std::string& file : train::recipe_files(a->paths)) recipes.push_back(train::load_recipe(file, a->runs_dir));
    std::vector<train::RecipeResult> results;
    const std::string self = dlt_executable();  // for the kill check
    for (const train::Recipe& r : recipes) {
      fmt::print(stderr, "recipe {}: training\n", r.name);
      results.push_back(train::run_recipe(r, self));
    }
    fmt::print("{}", train::results_table(results));
    if (!a->junit.empty()) train::write_file_atomic(a->junit, train::junit_xml(results));
    const auto failed = std::count_if(results.begin(), results.end(), [](const auto& r) { return !r.pass(); });
    fmt::print("{} of {} recipes passed\n", results.size() - size_t(failed), results.size());
    command_exit_status = failed > 0 ? 1 : 0;
  });
}

}  // namespace dlt::cli
