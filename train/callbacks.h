// train/callbacks.h — hooks into the fit loop, as Keras's callbacks.
//
// fit() calls, in Keras's order: on_train_begin; per epoch on_epoch_begin, per
// batch on_train_batch_begin / on_train_batch_end, then (with validation) the
// test hooks, then on_epoch_end with the epoch's logs ("loss", metrics,
// "val_loss", "val_<metric>"); finally on_train_end. evaluate() and predict()
// call the test/predict hooks. A callback may stop training by setting
// model->stop_training = true.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace minidl {

class ModelImpl;
using Logs = std::map<std::string, double>;

class Callback {
 public:
  virtual ~Callback() = default;
  // Set by the fit loop before on_train_begin.
  void set_model(ModelImpl* model) { model_ = model; }
  void set_params(const std::map<std::string, double>& params) { params_ = params; }  // epochs, steps, verbose

  virtual void on_train_begin(const Logs&) {}
  virtual void on_train_end(const Logs&) {}
  virtual void on_epoch_begin(int /*epoch*/, const Logs&) {}
  virtual void on_epoch_end(int /*epoch*/, const Logs&) {}
  virtual void on_train_batch_begin(int /*batch*/, const Logs&) {}
  virtual void on_train_batch_end(int /*batch*/, const Logs&) {}
  virtual void on_test_begin(const Logs&) {}
  virtual void on_test_end(const Logs&) {}
  virtual void on_test_batch_begin(int /*batch*/, const Logs&) {}
  virtual void on_test_batch_end(int /*batch*/, const Logs&) {}
  virtual void on_predict_begin(const Logs&) {}
  virtual void on_predict_end(const Logs&) {}
  virtual void on_predict_batch_begin(int /*batch*/, const Logs&) {}
  virtual void on_predict_batch_end(int /*batch*/, const Logs&) {}

 protected:
  ModelImpl* model_ = nullptr;
  std::map<std::string, double> params_;
};

using CallbackPtr = std::shared_ptr<Callback>;

// Per-epoch logs returned by fit: history["loss"][epoch], history["val_accuracy"][epoch], ...
class History : public Callback {
 public:
  void on_train_begin(const Logs&) override;
  void on_epoch_end(int epoch, const Logs& logs) override;
  std::map<std::string, std::vector<double>> history;
  std::vector<int> epoch;
};

}  // namespace minidl
