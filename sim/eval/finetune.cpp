#include "sim/eval/finetune.h"

#include <exception>

#include "core/error.h"
#include "sim/train/update_exchange.h"
#include "sim/workers/executor.h"
#include "sim/processes/processes.h"

namespace fedglioma::sim {

std::vector<FlatParams> finetune_clients(const std::vector<std::string>& client_ids, Executor& executor, Processes& processes,
                                         const std::function<ClientUpdate(Worker& worker, std::size_t client)>& train,
                                         int round) {
  std::vector<std::size_t> mine;
  const std::size_t clients = client_ids.size();
  for (std::size_t c = 0; c < clients; ++c)
    if (processes.owns(c)) mine.push_back(c);
  std::vector<ClientResult> results(mine.size());
  const auto errors = executor.run(mine.size(), [&](Worker& worker, std::size_t k) {
    results[k].index = mine[k];
    results[k].update = train(worker, mine[k]);
  });
  for (std::size_t k = 0; k < errors.size(); ++k) {
    if (!errors[k]) continue;
    try {
      std::rethrow_exception(errors[k]);
    } catch (const std::exception& e) {
      results[k].error = e.what();
    }
  }
  if (processes.size() > 1) results = exchange_results(processes, results, round);
  std::vector<FlatParams> models(clients);
  for (ClientResult& r : results) {
    if (!r.error.empty())
      throw Error("eval.finetune_epochs: client " + client_ids.at(r.index) + " failed to fine-tune: " + r.error);
    models.at(r.index) = std::move(r.update.params);
  }
  return models;
}

}  // namespace fedglioma::sim
