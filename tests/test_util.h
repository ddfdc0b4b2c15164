// Helpers shared by the tests: status assertions, temporary folders, project paths.
#ifndef ATABLE_TESTS_TEST_UTIL_H_
#define ATABLE_TESTS_TEST_UTIL_H_

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gtest/gtest.h"

namespace atable::testing {

inline absl::Status StatusOf(const absl::Status& s) { return s; }
template <typename T>
absl::Status StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}

}  // namespace atable::testing

#define ASSERT_OK(expr) ASSERT_EQ(::atable::testing::StatusOf(expr), ::absl::OkStatus())
#define EXPECT_OK(expr) EXPECT_EQ(::atable::testing::StatusOf(expr), ::absl::OkStatus())

namespace atable::testing {

// A fresh folder under the system's temporary folder, removed with its contents on destruction.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "atable-test-XXXXXX").string();
    path_ = mkdtemp(pattern.data());
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// The absolute path of `relative` in the project's source tree.
inline std::string ProjectPath(const std::string& relative) {
  return std::string(ATABLE_SOURCE_DIR) + "/" + relative;
}

// The absolute path of `relative` in ../shared/data beside the project.
inline std::string SharedDataPath(const std::string& relative) {
  return std::string(ATABLE_SOURCE_DIR) + "/../shared/data/" + relative;
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace atable::testing

#endif  // ATABLE_TESTS_TEST_UTIL_H_
