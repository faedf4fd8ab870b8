// What the Unix socket tests share: a fixture that gives each test a fresh directory for its
// socket files (removed afterwards), an abstract name no other test or process uses, and a
// stale socket file (bound, then closed without removing it), as a socket that ended leaves.
#pragma once

#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

namespace weft::testing {

class unix_socket_directory : public ::testing::Test {
protected:
    void SetUp() override {
        const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
        directory_ = std::filesystem::temp_directory_path() /
                     ("weft-unix-" + std::to_string(::getpid()) + "-" + test->test_suite_name() +
                      "-" + test->name());
        std::filesystem::remove_all(directory_);
        std::filesystem::create_directories(directory_);
    }
    void TearDown() override { std::filesystem::remove_all(directory_); }

    std::string socket_path(const char* name) const { return (directory_ / name).string(); }

    std::filesystem::path directory_;
};

inline std::string unique_abstract_name(const char* name) {
    return "@weft-test-" + std::to_string(::getpid()) + "-" + name;
}

// A socket file of `type` (SOCK_STREAM, SOCK_DGRAM) at `path` that no socket is bound to.
inline void leave_stale_socket_file(const std::string& path, int type) {
    const int fd = ::socket(AF_UNIX, type, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un where{};
    where.sun_family = AF_UNIX;
    std::memcpy(where.sun_path, path.data(), path.size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<const sockaddr*>(&where), sizeof where), 0);
    ::close(fd);
}

} // namespace weft::testing
