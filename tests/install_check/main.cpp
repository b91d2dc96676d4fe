// Links against the installed minidl and checks one product end to end, then a model saved
// as .h5 and as .keras and loaded back: HDF5 and libzip are private dependencies of
// minidl's shared libraries, found at run time through them, never by this project.
#include <minidl/minidl.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <unistd.h>

int main() {
  using namespace minidl;
  Tensor a = Tensor::from_data({2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_data({2, 2}, {5, 6, 7, 8});
  Tensor c = ops::matmul(a, b);  // [[19, 22], [43, 50]]
  Variable x(a, true);
  autograd::sum(autograd::square(x)).backward();  // d/dx sum(x^2) = 2x
  bool ok = c.at({0, 0}) == 19 && c.at({1, 1}) == 50 && x.grad().at({1, 0}) == 6;

  const auto dir = std::filesystem::temp_directory_path() / ("minidl_install_check_" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  try {
    Sequential model({Dense(2, {.input_shape = Shape{3}}), Dense(1)});
    const Tensor in = Tensor::from_data({1, 3}, {1, 2, 3});
    const Tensor want = model->predict(in);
    for (const char* name : {"m.h5", "m.keras"}) {
      const std::string path = (dir / name).string();
      model->save(path);
      const Tensor got = load_model(path)->predict(in);
      ok = ok && got.at({0, 0}) == want.at({0, 0});
    }
  } catch (const std::exception& e) {
    std::printf("install_check: %s\n", e.what());
    ok = false;
  }
  std::filesystem::remove_all(dir);
  std::printf("install_check: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
