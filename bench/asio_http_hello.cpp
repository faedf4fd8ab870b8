// asio_http_hello: the baseline for examples/http_hello.cpp, the same server written with
// Boost.Asio as its users write one: a multi-threaded io_context (one thread per core unless
// told), an async accept loop, and a session per connection chained by completion handlers.
// It behaves as http_hello does: every request, found by its "\r\n\r\n", is answered with
// the 13-byte body "Hello, World!"; pipelined requests get one response each, in one write;
// connections stay open until the client closes them.
//
//     asio_http_hello [port [threads]]     (port 8080 by default; 0 picks a free one)
// Boost 1.74's Asio uses std::exchange without including <utility>.
#include <utility>

#include <boost/asio.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using boost::asio::ip::tcp;

constexpr std::string_view response = "HTTP/1.1 200 OK\r\n"
                                      "Content-Type: text/plain\r\n"
                                      "Content-Length: 13\r\n"
                                      "\r\n"
                                      "Hello, World!";

class session : public std::enable_shared_from_this<session> {
public:
    explicit session(tcp::socket socket) : socket_(std::move(socket)) {}

    void start() {
        socket_.set_option(tcp::no_delay(true));
        read();
    }

private:
    void read() {
        socket_.async_read_some(
            boost::asio::buffer(buffer_.data() + held_, buffer_.size() - held_),
            [self = shared_from_this()](const boost::system::error_code& error, std::size_t got) {
                if (!error) {
                    self->answer(got);
                }
            });
    }

    void answer(std::size_t got) {
        held_ += got;
        std::string_view pending(buffer_.data(), held_);
        replies_.clear();
        for (std::size_t end; (end = pending.find("\r\n\r\n")) != std::string_view::npos;) {
            replies_ += response;
            pending.remove_prefix(end + 4);
        }
        if (pending.size() == buffer_.size()) {
            return; // a request header larger than the buffer: not for this server
        }
        std::memmove(buffer_.data(), pending.data(), pending.size());
        held_ = pending.size();
        if (replies_.empty()) {
            read();
            return;
        }
        boost::asio::async_write(
            socket_, boost::asio::buffer(replies_),
            [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
                if (!error) {
                    self->read();
                }
            });
    }

    tcp::socket socket_;
    std::array<char, 8192> buffer_;
    std::size_t held_ = 0;
    std::string replies_;
};

void accept(tcp::acceptor& acceptor) {
    acceptor.async_accept([&acceptor](const boost::system::error_code& error, tcp::socket socket) {
        if (!error) {
            std::make_shared<session>(std::move(socket))->start();
        }
        accept(acceptor);
    });
}

} // namespace

int main(int argc, char** argv) {
    const auto port = static_cast<unsigned short>(argc > 1 ? std::atoi(argv[1]) : 8080);
    const unsigned threads = argc > 2 && std::atoi(argv[2]) > 0
                                 ? static_cast<unsigned>(std::atoi(argv[2]))
                                 : std::max(1u, std::thread::hardware_concurrency());
    boost::asio::io_context context(static_cast<int>(threads));
    tcp::acceptor acceptor(context, tcp::endpoint(boost::asio::ip::make_address("0.0.0.0"), port));
    std::printf("asio_http_hello listening on port %u\n", acceptor.local_endpoint().port());
    std::fflush(stdout);
    accept(acceptor);
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) {
        pool.emplace_back([&context] { context.run(); });
    }
    context.run();
    for (std::thread& each : pool) {
        each.join();
    }
}
