#include <stdexcept>

#include "experiments/config_reader.h"
#include "experiments/config_schema_parts.h"
#include "sim/record/selection.h"

namespace fedglioma::experiments {
namespace {

using namespace config_fields;

#define MEMBER(path) [](auto& c) -> auto& { return c.path; }

ConfigField select_by() {
  return {"eval.select_by",
          "the round a run reports (summary.json `selected`, sweep.csv's `selected_*`), chosen on the validation cases, "
          "never on the external or test set: `val.dice_mean`, `val.dice_median`, `val.auc.<marker>`, or the mean of "
          "several, `mean(val.dice_mean, val.auc.idh)`; the highest score wins, the earliest round of equal ones; "
          "without validation cases, the final round",
          [](const ConfigReader& r, ExperimentConfig& c) {
            const std::string text = r.text("eval.select_by");
            try {
              sim::parse_selection_rule(text);
            } catch (const std::invalid_argument& e) {
              throw ConfigError(std::string("eval.select_by: ") + e.what());
            }
            c.eval.select_by = text;
          },
          [](const ExperimentConfig& c) { return json(c.eval.select_by); }};
}

}  // namespace

std::vector<ConfigField> eval_fields() {
  return {
      integer("eval.every", MEMBER(eval.every), 1, 100000, "evaluate every N rounds (the last round always)"),
      integer("eval.finetune_epochs", MEMBER(eval.finetune_epochs), 0, 100000,
              "before each evaluation, every client fine-tunes the model it deploys for N epochs on its own training "
              "cases; those models are evaluated as the sites' own (`personal`); 0: none"),
      select_by(),
  };
}

std::vector<ConfigField> runtime_fields() {
  return {
      text("runtime.devices", MEMBER(runtime.devices), {},
           "`auto` (all CUDA devices, else CPU), `cpu`, or `cuda:0,cuda:1,...`"),
      integer("runtime.workers", MEMBER(runtime.workers), 1, 256,
              "worker threads, each with its own model replica, bound to devices round-robin"),
      integer("runtime.threads_per_worker", MEMBER(runtime.threads_per_worker), 1, 256,
              "intra-op threads per worker on CPU; part of the numerics, not only the speed: another count gives other "
              "numbers ([determinism.md](determinism.md))"),
      integer("runtime.seed", MEMBER(runtime.seed), 0, INT64_MAX, "seed of every random draw in the run"),
      integer("runtime.checkpoint_every", MEMBER(runtime.checkpoint_every), 0, 1000000,
              "rounds between checkpoints (`0`: none; the last round always)"),
      number("runtime.client_state_ram_gb", MEMBER(runtime.client_state_ram_gb), 0.0, 1e6,
             "RAM for what clients keep across rounds (SCAFFOLD's control variates, FedBN's norm layers, local mode's "
             "models, kept optimizers); beyond it each client's state lives on disk in the run folder's "
             "`client_state/` (`0`: all of it on disk); never changes a result"),
      text("runtime.cpu_numerics", MEMBER(runtime.cpu_numerics), {"portable", "native"},
           "`portable`: torch's CPU kernels pinned to AVX2, bit-identical results on every x86-64 CPU with AVX2; "
           "`native`: this CPU's fastest kernels (see [Determinism](#determinism) for what each costs)"),
      boolean("runtime.deterministic", MEMBER(runtime.deterministic),
              "CUDA: deterministic cuDNN and ATen algorithms, no autotuning; `false` trades reproducibility for speed"),
      number("runtime.distributed_timeout_s", MEMBER(runtime.distributed_timeout_s), 1.0, 86400.0,
             "across processes (see [Several processes and hosts](#several-processes-and-hosts)): how long a rank waits "
             "for the rendezvous and for each exchange before it names the lost rank and exits non-zero"),
      boolean("runtime.tensorboard", MEMBER(runtime.tensorboard),
              "write TensorBoard event files into `RUN_DIR/tensorboard/` as each round ends (losses, validation, "
              "external and per-site Dice and AUCs, fairness, simulated time, the selected round); `tensorboard "
              "--logdir RUN_DIR` (or a sweep's `points/`) shows them"),
      boolean("runtime.report", MEMBER(runtime.report),
              "write `report.html` into the run folder when the run ends (what `fedglioma report RUN_DIR` writes)"),
  };
}

#undef MEMBER

}  // namespace fedglioma::experiments
