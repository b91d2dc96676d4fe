// train/fit.cpp — the training loop: Model::fit / evaluate / predict and the *_on_batch calls.
//
// One step (FitLoop::train_step), file by file:
//   forward  -> layers/base/functional.cpp run(): each layer's call records the tape
//   loss     -> train/losses.cpp per_sample(), reduced as Keras's SUM_OVER_BATCH_SIZE,
//               plus sum(model.losses()) (regularizers, add_loss terms)
//   backward -> autograd/engine.cpp
//   update   -> train/optimizers.cpp, then constraints, then layer updates (BatchNorm)
#include <algorithm>
#include <cmath>

#include "autograd/functions.h"
#include "core/errors.h"
#include "core/random.h"
#include "train/array_source.h"
#include "train/callbacks.h"
#include "train/distributed.h"
#include "train/distributed_fit.h"
#include "train/model.h"
#include "train/progbar.h"

namespace minidl {

namespace {

// Per-sample weights for a batch: sample_weight rows, times class_weight of each label.
Tensor batch_weights(const Tensor& sw_rows, const std::map<int, double>& class_weight, const Tensor& y) {
  if (class_weight.empty()) return sw_rows;
  const int64_t n = y.dim(0);
  Tensor w = sw_rows.defined() ? sw_rows.clone() : Tensor::ones({n});
  const int64_t classes = y.numel() / std::max<int64_t>(1, n);
  for (int64_t i = 0; i < n; ++i) {
    int label;
    if (classes == 1) {
      label = static_cast<int>(std::lround(y[i]));
    } else {  // one-hot: the argmax
      const float* row = y.data() + i * classes;
      label = static_cast<int>(std::max_element(row, row + classes) - row);
    }
    auto it = class_weight.find(label);
    if (it != class_weight.end()) w[i] *= static_cast<float>(it->second);
  }
  return w;
}

}  // namespace

// Everything fit/evaluate share, kept out of the public header.
struct FitLoop {
  ModelImpl& m;
  // Set by join() when this process is one of several replicas.
  std::unique_ptr<distributed::detail::Replicas> rep{};
  std::vector<double> rep_sums{};  // reused buffer of the per-batch log sums

  // What fit and evaluate check first; then joins the other ranks when the
  // job has several (distributed::init). x and y may be null (a source).
  void prepare(const Tensor* x, const Tensor* y, const Tensor& sample_weight, const char* what) {
    require_compiled("training/testing");
    if (x) {
      check_xy(*x, *y);
      if (sample_weight.defined())
        MINIDL_CHECK(sample_weight.numel() == x->dim(0), ValueError, "{}: sample_weight has {} values for {} samples",
                     what, sample_weight.numel(), x->dim(0));
    } else {
      MINIDL_CHECK(!sample_weight.defined(), ValueError,
                   "{}: `sample_weight` is not supported when the input is a BatchSource", what);
    }
    if (distributed::size() > 1 && !rep) rep = std::make_unique<distributed::detail::Replicas>(m);
  }

  void require_compiled(const char* what) {
    MINIDL_CHECK(m.compiled(), RuntimeError,
                 "You must compile your model before {}. Use `model->compile(optimizer, loss)`.", what);
  }

  void check_xy(const Tensor& x, const Tensor& y) {
    MINIDL_CHECK(x.defined() && x.rank() >= 1 && y.defined() && y.rank() >= 1, ValueError,
                 "model '{}': x and y must be tensors with a batch axis", m.name());
    MINIDL_CHECK(x.dim(0) == y.dim(0), ValueError,
                 "model '{}': x and y have different numbers of samples: x {} vs y {}", m.name(), shape_str(x.shape()),
                 shape_str(y.shape()));
  }

  // Loss of one batch (compiled loss reduced over the batch, plus model.losses()).
  // Returns (total, compiled part) as Variables; y_pred out.
  Variable batch_loss(const Tensor& x, const Tensor& y, const Tensor& sw, bool training, Variable* y_pred,
                      Layer::LossKinds kinds = Layer::LossKinds::kAll) {
    m.ensure_graph(x.shape());
    CallArgs args;
    args.training = training;
    *y_pred = m(Variable(x), args);
    Variable per = m.loss()->per_sample(Variable(y), *y_pred);  // [N]
    const float n = static_cast<float>(std::max<int64_t>(1, per.shape().empty() ? 1 : per.shape()[0]));
    Variable loss = sw.defined() ? autograd::mul_scalar(autograd::sum(per * Variable(sw.reshape(per.shape()))), 1.f / n)
                                 : autograd::mean(per);
    std::vector<Variable>& losses = m.step_losses_;
    losses.clear();
    m.append_losses(losses, kinds);
    for (const auto& l : losses) loss = loss + autograd::sum(l);
    losses.clear();  // the list holds no tensors between steps
    return loss;
  }

  // Adds the weight-regularization terms' gradients to the weights' gradients
  // and returns their value. A replica runs this after the gradients are
  // summed across replicas: the terms depend on the weights alone, which every
  // replica holds, so they are added once to the summed gradient, as one
  // process adds them to the gradient of the whole batch (the same bits).
  double weight_regularization_backward() {
    std::vector<Variable>& losses = m.step_losses_;
    losses.clear();
    m.append_losses(losses, Layer::LossKinds::kWeightRegularization);
    if (losses.empty()) return 0.0;
    Variable total = autograd::sum(losses[0]);
    for (size_t i = 1; i < losses.size(); ++i) total = total + autograd::sum(losses[i]);
    losses.clear();
    total.backward();
    return total.value().item();
  }

  // One step on x (this rank's `share` of the global batch when replicated).
  double train_step(const Tensor& x, const Tensor& y, const Tensor& sw, double share = 1.0) {
    std::vector<Variable>& params = m.step_params_;
    params.clear();
    m.append_trainable_weights(params);
    for (auto& p : params) p.zero_grad();
    Variable y_pred;
    double value;
    if (rep) {
      {
        // Gradients summed across ranks during backward, BatchNormalization on the global batch.
        distributed::detail::Replicas::StepScope scope(*rep, params, share);
        Variable loss = batch_loss(x, y, sw, true, &y_pred, Layer::LossKinds::kExceptWeightRegularization);
        value = loss.value().item();
        rep->forward_done();
        loss.backward();
        rep->finish_gradients(params);
      }
      value += weight_regularization_backward();
    } else {
      Variable loss = batch_loss(x, y, sw, true, &y_pred);
      value = loss.value().item();
      loss.backward();
    }
    m.optimizer()->apply_gradients(params);
    // Keras applies constraints right after the optimizer's update.
    m.apply_constraints();
    m.run_updates();
    for (const auto& metric : m.metrics()) metric->update_state(y, y_pred.value(), sw);
    return value;
  }

  double test_step(const Tensor& x, const Tensor& y, const Tensor& sw) {
    NoGradGuard no_grad;
    Variable y_pred;
    Variable loss = batch_loss(x, y, sw, false, &y_pred);
    for (const auto& metric : m.metrics()) metric->update_state(y, y_pred.value(), sw);
    return loss.value().item();
  }

  Logs metric_logs(const std::string& prefix) {
    Logs logs;
    add_metric_logs(prefix, logs);
    return logs;
  }

  // Writes the metrics' results into logs; when the keys are already there
  // (the same logs reused from batch to batch) this allocates nothing.
  void add_metric_logs(const std::string& prefix, Logs& logs) {
    for (const auto& metric : m.metrics()) {
      if (prefix.empty())  // no key built: a long metric name would allocate
        logs[metric->name()] = metric->result();
      else
        logs[prefix + metric->name()] = metric->result();
    }
  }

  // {"loss", metrics...} of one train_on_batch or test_on_batch into `logs`,
  // which the model keeps: once its keys are there, this allocates nothing.
  // If a metric throws, the logs are left empty rather than half this batch's.
  void fill_batch_logs(double loss, Logs& logs) {
    try {
      logs["loss"] = loss;
      add_metric_logs("", logs);
      if (logs.size() != 1 + m.metrics().size()) {  // keys of an earlier compile's metrics
        logs.clear();
        logs["loss"] = loss;
        add_metric_logs("", logs);
      }
    } catch (...) {
      logs.clear();
      throw;
    }
  }

  void reset_metrics() {
    for (const auto& metric : m.metrics()) metric->reset_state();
  }

  // What train_on_batch and test_on_batch check and reset before their one step.
  void begin_single_batch(const Tensor& x, const Tensor& y) {
    require_compiled("training/testing");
    check_xy(x, y);
    reset_metrics();
  }

  // Fills the next batch of `source` into x, y and sw (the source's sample
  // weights when it has them); false at the end of the pass.
  static bool next_batch(BatchSource& source, const Tensor* source_sw, Tensor& x, Tensor& y, Tensor& sw) {
    if (!source.next_batch(x, y)) return false;
    sw = source_sw ? *source_sw : Tensor();
    return true;
  }

  // Across replicas: the running loss and metrics averaged over every rank's
  // rows seen so far (loss_sum: the sum over batches of rows * loss), and,
  // when global_rows > 0, the batch's loss from weighted_batch_loss (this
  // rank's rows * its loss) summed over ranks and divided by global_rows.
  void global_logs(Logs& logs, int64_t seen, double loss_sum, double weighted_batch_loss, int64_t global_rows) {
    const auto& metrics = m.metrics();
    std::vector<double>& v = rep_sums;
    v.assign(3 + metrics.size(), 0.0);  // the same size every batch: no allocation after the first
    v[0] = static_cast<double>(seen);
    v[1] = loss_sum;
    v[2] = weighted_batch_loss;
    for (size_t i = 0; i < metrics.size(); ++i)
      if (seen) v[3 + i] = static_cast<double>(seen) * metrics[i]->result();
    rep->sum(v.data(), static_cast<int64_t>(v.size()));
    const double n = std::max(v[0], 1.0);
    logs["loss"] = v[1] / n;
    if (global_rows > 0) logs["batch_loss"] = v[2] / static_cast<double>(global_rows);
    for (size_t i = 0; i < metrics.size(); ++i) logs[metrics[i]->name()] = v[3 + i] / n;
  }

  // Whether any rank's callbacks set stop_training, on every rank (a rank
  // leaving the loop alone would leave the others waiting for it).
  void agree_on_stop() {
    double stop = m.stop_training ? 1.0 : 0.0;
    rep->sum(&stop, 1);
    m.stop_training = stop > 0;
  }

  // This rank's rows of a global batch (all of them in one process), and its
  // share of the batch's loss.
  double take_shard(Tensor& x, Tensor& y, Tensor& sw) {
    if (!rep) return 1.0;
    const int64_t rows = x.dim(0);
    const auto shard = rep->shard(rows);
    x = x.slice_rows(shard.begin, shard.end);
    if (y.defined()) y = y.slice_rows(shard.begin, shard.end);
    if (sw.defined()) sw = sw.slice_rows(shard.begin, shard.end);
    return rows ? static_cast<double>(shard.rows()) / static_cast<double>(rows) : 0.0;
  }

  void check_batch(const Tensor& x, const Tensor& y, const char* what) {
    MINIDL_CHECK(x.defined() && x.rank() >= 1, ValueError, "model '{}': {} received a batch without a batch axis",
                 m.name(), what);
    MINIDL_CHECK(y.defined() && y.rank() >= 1, ValueError,
                 "model '{}': {} needs targets; the source gave a batch of x {} without y", m.name(), what,
                 shape_str(x.shape()));
    check_xy(x, y);
  }

  // Mean loss over all batches weighted by batch size (Keras's loss tracker).
  Logs evaluate(BatchSource& source, const Tensor* source_sw, const std::vector<CallbackPtr>& callbacks) {
    reset_metrics();
    for (auto& cb : callbacks) cb->on_test_begin({});
    double total = 0;
    int64_t seen = 0;
    int batch = 0;
    Tensor x, y, sw;
    source.begin_epoch(0);
    for (; next_batch(source, source_sw, x, y, sw); ++batch) {
      check_batch(x, y, "evaluate");
      take_shard(x, y, sw);
      for (auto& cb : callbacks) cb->on_test_batch_begin(batch, {});
      if (x.dim(0) > 0) total += test_step(x, y, sw) * static_cast<double>(x.dim(0));
      seen += x.dim(0);
      Logs logs = metric_logs("");
      logs["loss"] = total / static_cast<double>(seen);
      for (auto& cb : callbacks) cb->on_test_batch_end(batch, logs);
    }
    Logs logs = metric_logs("");
    logs["loss"] = seen ? total / static_cast<double>(seen) : 0.0;
    if (rep) global_logs(logs, seen, total, 0, 0);
    for (auto& cb : callbacks) cb->on_test_end(logs);
    return logs;
  }

  // The one training loop: arrays arrive as an ArraySource (with its sample
  // weights in *train_sw), other inputs as the BatchSource they are.
  History fit(BatchSource& train, const Tensor* train_sw, BatchSource* val, const FitOptions& o) {
    MINIDL_CHECK(o.epochs >= 0 && o.initial_epoch >= 0, ValueError,
                 "fit: epochs ({}) and initial_epoch ({}) must be >= 0", o.epochs, o.initial_epoch);
    const int64_t steps = train.num_batches();
    if (rep) rep->broadcast_state();
    auto history = std::make_shared<History>();
    std::vector<CallbackPtr> callbacks = o.callbacks;
    // Every rank runs the callbacks (they see the same averaged logs); only rank 0 prints progress.
    if (o.verbose && (!rep || rep->rank() == 0)) callbacks.insert(callbacks.begin(), make_progbar_logger(o.verbose));
    callbacks.push_back(history);
    for (auto& cb : callbacks) {
      cb->set_model(&m);
      cb->set_params({{"epochs", o.epochs}, {"steps", static_cast<double>(steps)}, {"verbose", o.verbose}});
    }

    m.stop_training = false;
    Logs last_logs;  // Keras passes the last epoch's logs to on_train_end
    // One batch-logs map for the whole fit: its keys are the same every batch,
    // so updating it in place allocates nothing per step.
    Logs batch_logs;
    Tensor x, y, sw;
    for (auto& cb : callbacks) cb->on_train_begin({});
    // As in Keras, stop_training is read only after a batch and after an epoch.
    for (int epoch = o.initial_epoch; epoch < o.epochs; ++epoch) {
      train.begin_epoch(epoch);
      reset_metrics();
      for (auto& cb : callbacks) cb->on_epoch_begin(epoch, {});
      double loss_sum = 0;
      int64_t seen = 0;
      for (int step = 0; next_batch(train, train_sw, x, y, sw); ++step) {
        check_batch(x, y, "fit");
        const int64_t global_rows = x.dim(0);
        // A last batch with fewer rows than ranks would leave a rank without
        // rows to step on: every rank skips it (docs/DISTRIBUTED.md).
        if (rep && global_rows < rep->size()) continue;
        const double share = take_shard(x, y, sw);
        for (auto& cb : callbacks) cb->on_train_batch_begin(step, {});
        const double l = train_step(x, y, batch_weights(sw, o.class_weight, y), share);
        loss_sum += l * static_cast<double>(x.dim(0));
        seen += x.dim(0);
        add_metric_logs("", batch_logs);
        batch_logs["loss"] = loss_sum / static_cast<double>(seen);
        batch_logs["batch_loss"] = l;
        if (rep) global_logs(batch_logs, seen, loss_sum, l * static_cast<double>(x.dim(0)), global_rows);
        for (auto& cb : callbacks) cb->on_train_batch_end(step, batch_logs);
        if (rep) agree_on_stop();
        if (m.stop_training) break;
      }
      Logs logs = metric_logs("");
      logs["loss"] = seen ? loss_sum / static_cast<double>(seen) : 0.0;
      if (rep) global_logs(logs, seen, loss_sum, 0, 0);
      // Keras validates even an epoch a callback stopped mid-way, through
      // evaluate() with fit's callbacks: the test hooks fire here.
      if (val) {
        Logs v = evaluate(*val, nullptr, callbacks);
        for (const auto& [k, value] : v) logs["val_" + k] = value;
      }
      // Keras callbacks write into the shared logs dict; each sees its predecessors' entries.
      for (auto& cb : callbacks) {
        cb->add_epoch_logs(epoch, logs);
        cb->on_epoch_end(epoch, logs);
      }
      last_logs = logs;
      if (rep) agree_on_stop();
      if (m.stop_training) break;
    }
    for (auto& cb : callbacks) cb->on_train_end(last_logs);
    return *history;
  }
};

History ModelImpl::fit(const Tensor& x_all, const Tensor& y_all, FitOptions o) {
  return distributed::detail::collective([&] {
    FitLoop loop{*this};
    loop.prepare(&x_all, &y_all, o.sample_weight, "fit");
    MINIDL_CHECK(o.batch_size >= 1, ValueError, "fit: batch_size must be >= 1, received {}", o.batch_size);
    MINIDL_CHECK(o.validation_split >= 0 && o.validation_split < 1, ValueError,
                 "fit: validation_split must be in [0, 1), received {}", o.validation_split);

    // Keras takes the validation split from the end, before shuffling.
    Tensor x = x_all, y = y_all, sw_all = o.sample_weight;
    std::optional<std::pair<Tensor, Tensor>> val = o.validation_data;
    if (o.validation_split > 0 && !val) {
      const int64_t n_all = x_all.dim(0);
      const int64_t split = static_cast<int64_t>(std::floor(static_cast<double>(n_all) * (1.0 - o.validation_split)));
      MINIDL_CHECK(split > 0 && split < n_all, ValueError,
                   "fit: validation_split {} leaves no training or no validation samples out of {}", o.validation_split,
                   n_all);
      x = x_all.slice_rows(0, split);
      y = y_all.slice_rows(0, split);
      if (sw_all.defined()) sw_all = sw_all.slice_rows(0, split);
      val = std::make_pair(x_all.slice_rows(split, n_all), y_all.slice_rows(split, n_all));
    }
    std::optional<ArraySource> val_source;
    if (val) {
      loop.check_xy(val->first, val->second);
      val_source.emplace(val->first, val->second, Tensor(), o.batch_size, false);
    }
    // One shuffle for all ranks: rank 0's seed.
    Generator shuffle_generator(loop.rep ? loop.rep->shared_seed() : 0);
    ArraySource train(x, y, sw_all, o.batch_size, o.shuffle, loop.rep ? &shuffle_generator : nullptr);
    return loop.fit(train, &train.batch_sample_weight(), val_source ? &*val_source : o.validation_source, o);
  });
}

History ModelImpl::fit(BatchSource& train, FitOptions o) {
  return distributed::detail::collective([&] {
    FitLoop loop{*this};
    loop.prepare(nullptr, nullptr, o.sample_weight, "fit");
    MINIDL_CHECK(o.validation_split == 0, ValueError,
                 "fit: `validation_split` is only supported for Tensors, not for a BatchSource; received {}",
                 o.validation_split);
    std::optional<ArraySource> val_source;
    if (o.validation_data) {
      loop.check_xy(o.validation_data->first, o.validation_data->second);
      val_source.emplace(o.validation_data->first, o.validation_data->second, Tensor(), o.batch_size, false);
    }
    return loop.fit(train, nullptr, val_source ? &*val_source : o.validation_source, o);
  });
}

std::map<std::string, double> ModelImpl::evaluate(const Tensor& x, const Tensor& y, EvaluateOptions o) {
  return distributed::detail::collective([&] {
    FitLoop loop{*this};
    loop.prepare(&x, &y, o.sample_weight, "evaluate");
    MINIDL_CHECK(o.batch_size >= 1, ValueError, "evaluate: batch_size must be >= 1, received {}", o.batch_size);
    ArraySource source(x, y, o.sample_weight, o.batch_size, false);
    std::vector<CallbackPtr> callbacks = o.callbacks;
    for (auto& cb : callbacks) cb->set_model(this);
    return loop.evaluate(source, &source.batch_sample_weight(), callbacks);
  });
}

std::map<std::string, double> ModelImpl::evaluate(BatchSource& source, EvaluateOptions o) {
  return distributed::detail::collective([&] {
    FitLoop loop{*this};
    loop.prepare(nullptr, nullptr, o.sample_weight, "evaluate");
    std::vector<CallbackPtr> callbacks = o.callbacks;
    for (auto& cb : callbacks) cb->set_model(this);
    return loop.evaluate(source, nullptr, callbacks);
  });
}

const Logs& ModelImpl::train_on_batch(const Tensor& x, const Tensor& y, const Tensor& sw) {
  FitLoop loop{*this};
  loop.begin_single_batch(x, y);
  loop.fill_batch_logs(loop.train_step(x, y, sw), train_batch_logs_);
  return train_batch_logs_;
}

const Logs& ModelImpl::test_on_batch(const Tensor& x, const Tensor& y, const Tensor& sw) {
  FitLoop loop{*this};
  loop.begin_single_batch(x, y);
  loop.fill_batch_logs(loop.test_step(x, y, sw), test_batch_logs_);
  return test_batch_logs_;
}

}  // namespace minidl
