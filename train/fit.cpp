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
#include <numeric>

#include "autograd/functions.h"
#include "core/errors.h"
#include "core/random.h"
#include "train/callbacks.h"
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

// Copies rows `idx[begin..end)` of src into dst (dst has end-begin rows).
void gather_rows(const Tensor& src, const std::vector<int64_t>& idx, int64_t begin, int64_t end, Tensor& dst) {
  const int64_t row = src.dim(0) ? src.numel() / src.dim(0) : 0;
  for (int64_t i = begin; i < end; ++i)
    std::copy_n(src.data() + idx[i] * row, row, dst.data() + (i - begin) * row);
}

Shape with_rows(const Shape& s, int64_t n) {
  Shape r = s;
  r[0] = n;
  return r;
}

}  // namespace

// Everything fit/evaluate share, kept out of the public header.
struct FitLoop {
  ModelImpl& m;

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
  Variable batch_loss(const Tensor& x, const Tensor& y, const Tensor& sw, bool training, Variable* y_pred) {
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
    m.append_losses(losses);
    for (const auto& l : losses) loss = loss + autograd::sum(l);
    losses.clear();  // the list holds no tensors between steps
    return loss;
  }

  double train_step(const Tensor& x, const Tensor& y, const Tensor& sw) {
    std::vector<Variable>& params = m.step_params_;
    params.clear();
    m.append_trainable_weights(params);
    for (auto& p : params) p.zero_grad();
    Variable y_pred;
    Variable loss = batch_loss(x, y, sw, true, &y_pred);
    const double value = loss.value().item();
    loss.backward();
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

  // Mean loss over all batches weighted by batch size (Keras's loss tracker).
  Logs evaluate(const Tensor& x, const Tensor& y, const Tensor& sw, int64_t batch_size,
                const std::vector<CallbackPtr>& callbacks) {
    reset_metrics();
    for (auto& cb : callbacks) cb->on_test_begin({});
    const int64_t n = x.dim(0);
    double total = 0;
    int batch = 0;
    for (int64_t b = 0; b < n; b += batch_size, ++batch) {
      const int64_t e = std::min(n, b + batch_size);
      for (auto& cb : callbacks) cb->on_test_batch_begin(batch, {});
      total += test_step(x.slice_rows(b, e), y.slice_rows(b, e), sw.defined() ? sw.slice_rows(b, e) : Tensor()) *
               static_cast<double>(e - b);
      Logs logs = metric_logs("");
      logs["loss"] = total / static_cast<double>(e);
      for (auto& cb : callbacks) cb->on_test_batch_end(batch, logs);
    }
    Logs logs = metric_logs("");
    logs["loss"] = n ? total / static_cast<double>(n) : 0.0;
    for (auto& cb : callbacks) cb->on_test_end(logs);
    return logs;
  }
};

History ModelImpl::fit(const Tensor& x_all, const Tensor& y_all, FitOptions o) {
  FitLoop loop{*this};
  loop.require_compiled("training/testing");
  loop.check_xy(x_all, y_all);
  MINIDL_CHECK(o.batch_size >= 1, ValueError, "fit: batch_size must be >= 1, received {}", o.batch_size);
  MINIDL_CHECK(o.epochs >= 0 && o.initial_epoch >= 0, ValueError, "fit: epochs ({}) and initial_epoch ({}) must be >= 0",
               o.epochs, o.initial_epoch);
  MINIDL_CHECK(o.validation_split >= 0 && o.validation_split < 1, ValueError,
               "fit: validation_split must be in [0, 1), received {}", o.validation_split);
  if (o.sample_weight.defined())
    MINIDL_CHECK(o.sample_weight.numel() == x_all.dim(0), ValueError,
                 "fit: sample_weight has {} values for {} samples", o.sample_weight.numel(), x_all.dim(0));

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
  if (val) loop.check_xy(val->first, val->second);

  const int64_t n = x.dim(0);
  const int64_t steps = (n + o.batch_size - 1) / o.batch_size;
  auto history = std::make_shared<History>();
  std::vector<CallbackPtr> callbacks = o.callbacks;
  if (o.verbose) callbacks.insert(callbacks.begin(), make_progbar_logger(o.verbose));
  callbacks.push_back(history);
  for (auto& cb : callbacks) {
    cb->set_model(this);
    cb->set_params({{"epochs", o.epochs}, {"steps", static_cast<double>(steps)}, {"verbose", o.verbose}});
  }

  // Batch buffers reused across steps (a partial last batch is a view of them).
  Tensor xb(with_rows(x.shape(), std::min(o.batch_size, std::max<int64_t>(n, 1))));
  Tensor yb(with_rows(y.shape(), std::min(o.batch_size, std::max<int64_t>(n, 1))));
  Tensor swb = sw_all.defined() ? Tensor({std::min(o.batch_size, std::max<int64_t>(n, 1))}) : Tensor();
  Tensor sw_flat = sw_all.defined() ? sw_all.reshape({n, 1}) : Tensor();
  std::vector<int64_t> order(n);

  stop_training = false;
  Logs last_logs;  // Keras passes the last epoch's logs to on_train_end
  // One batch-logs map for the whole fit: its keys are the same every batch,
  // so updating it in place allocates nothing per step.
  Logs batch_logs;
  for (auto& cb : callbacks) cb->on_train_begin({});
  // As in Keras, stop_training is read only after a batch and after an epoch.
  for (int epoch = o.initial_epoch; epoch < o.epochs; ++epoch) {
    std::iota(order.begin(), order.end(), 0);
    if (o.shuffle) std::shuffle(order.begin(), order.end(), global_generator());
    loop.reset_metrics();
    for (auto& cb : callbacks) cb->on_epoch_begin(epoch, {});
    double loss_sum = 0;
    int64_t seen = 0;
    for (int64_t step = 0; step < steps; ++step) {
      const int64_t b = step * o.batch_size, e = std::min(n, b + o.batch_size);
      for (auto& cb : callbacks) cb->on_train_batch_begin(static_cast<int>(step), {});
      Tensor xs = xb.slice_rows(0, e - b), ys = yb.slice_rows(0, e - b);
      gather_rows(x, order, b, e, xs);
      gather_rows(y, order, b, e, ys);
      Tensor sws;
      if (swb.defined()) {
        sws = swb.slice_rows(0, e - b);
        Tensor sws2 = sws.reshape({e - b, 1});
        gather_rows(sw_flat, order, b, e, sws2);
      }
      const double l = loop.train_step(xs, ys, batch_weights(sws, o.class_weight, ys));
      loss_sum += l * static_cast<double>(e - b);
      seen += e - b;
      loop.add_metric_logs("", batch_logs);
      batch_logs["loss"] = loss_sum / static_cast<double>(seen);
      batch_logs["batch_loss"] = l;
      for (auto& cb : callbacks) cb->on_train_batch_end(static_cast<int>(step), batch_logs);
      if (stop_training) break;
    }
    Logs logs = loop.metric_logs("");
    logs["loss"] = seen ? loss_sum / static_cast<double>(seen) : 0.0;
    // Keras validates even an epoch a callback stopped mid-way, through
    // evaluate() with fit's callbacks: the test hooks fire here.
    if (val) {
      Logs v = loop.evaluate(val->first, val->second, Tensor(), o.batch_size, callbacks);
      for (const auto& [k, value] : v) logs["val_" + k] = value;
    }
    // Keras callbacks write into the shared logs dict; each sees its predecessors' entries.
    for (auto& cb : callbacks) {
      cb->add_epoch_logs(epoch, logs);
      cb->on_epoch_end(epoch, logs);
    }
    last_logs = logs;
    if (stop_training) break;
  }
  for (auto& cb : callbacks) cb->on_train_end(last_logs);
  return *history;
}

std::map<std::string, double> ModelImpl::evaluate(const Tensor& x, const Tensor& y, EvaluateOptions o) {
  FitLoop loop{*this};
  loop.require_compiled("training/testing");
  loop.check_xy(x, y);
  MINIDL_CHECK(o.batch_size >= 1, ValueError, "evaluate: batch_size must be >= 1, received {}", o.batch_size);
  std::vector<CallbackPtr> callbacks = o.callbacks;
  for (auto& cb : callbacks) cb->set_model(this);
  return loop.evaluate(x, y, o.sample_weight, o.batch_size, callbacks);
}

std::vector<Tensor> ModelImpl::predict(const std::vector<Tensor>& xs, int64_t batch_size) {
  MINIDL_CHECK(!xs.empty() && xs[0].defined() && xs[0].rank() >= 1, ValueError,
               "model '{}': predict needs input tensors with a batch axis", name());
  MINIDL_CHECK(batch_size >= 1, ValueError, "predict: batch_size must be >= 1, received {}", batch_size);
  const int64_t n = xs[0].dim(0);
  for (const auto& x : xs)
    MINIDL_CHECK(x.defined() && x.rank() >= 1 && x.dim(0) == n, ValueError,
                 "model '{}': all inputs must have {} samples", name(), n);
  ensure_graph(xs[0].shape());
  NoGradGuard no_grad;
  std::vector<Tensor> outputs;
  for (int64_t b = 0; b < n; b += batch_size) {
    const int64_t e = std::min(n, b + batch_size);
    std::vector<Variable> in;
    for (const auto& x : xs) in.emplace_back(x.slice_rows(b, e));
    auto out = (*this)(in, CallArgs{});
    if (outputs.empty())
      for (const auto& o : out) outputs.emplace_back(with_rows(o.shape(), n));
    for (size_t i = 0; i < out.size(); ++i) outputs[i].slice_rows(b, e).copy_from(out[i].value());
  }
  if (outputs.empty()) {  // n == 0: shapes from the graph
    for (const auto& s : compute_output_shape({with_rows(xs[0].shape(), kNone)})) outputs.emplace_back(with_rows(s, 0));
  }
  return outputs;
}

Tensor ModelImpl::predict(const Tensor& x, int64_t batch_size, int /*verbose*/) {
  auto out = predict(std::vector<Tensor>{x}, batch_size);
  MINIDL_CHECK(out.size() == 1, ValueError, "model '{}' has {} outputs; use the vector form of predict", name(),
               out.size());
  return out[0];
}

Tensor ModelImpl::predict_on_batch(const Tensor& x) { return predict(x, std::max<int64_t>(1, x.dim(0))); }

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
