// Links against the installed minidl and checks one product end to end.
#include <minidl/minidl.h>

#include <cstdio>

int main() {
  using namespace minidl;
  Tensor a = Tensor::from_data({2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_data({2, 2}, {5, 6, 7, 8});
  Tensor c = ops::matmul(a, b);  // [[19, 22], [43, 50]]
  Variable x(a, true);
  autograd::sum(autograd::square(x)).backward();  // d/dx sum(x^2) = 2x
  const bool ok = c.at({0, 0}) == 19 && c.at({1, 1}) == 50 && x.grad().at({1, 0}) == 6;
  std::printf("install_check: %s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
