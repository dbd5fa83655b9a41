/// Presents a Stream as an Asio AsyncStream so that asio::ssl::stream can run over it: TLS over a
/// tunnel that may itself run over TLS, to any depth. Each operation co_spawns the Stream's own
/// coroutine and hands its result to the Asio handler.
///
/// Requirements from asio::ssl::stream (1.22): executor_type, lowest_layer_type, lowest_layer(),
/// and async_read_some / async_write_some that may complete with at most one read and one write
/// outstanding (the SSL engine serialises the rest). Cancellation is not forwarded: deadlines
/// close the bottom socket instead, which fails every layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <span>
#include <system_error>
#include <utility>

#include "transport/stream.hpp"

namespace hc::transport {

class StreamAdapter {
 public:
  using executor_type = asio::any_io_executor;
  using lowest_layer_type = StreamAdapter;

  StreamAdapter(std::unique_ptr<Stream> inner, executor_type executor)
      : inner_(std::move(inner)), executor_(std::move(executor)) {}

  executor_type get_executor() const noexcept { return executor_; }
  lowest_layer_type& lowest_layer() noexcept { return *this; }
  const lowest_layer_type& lowest_layer() const noexcept { return *this; }
  Stream& inner() noexcept { return *inner_; }

  template <typename MutableBufferSequence, typename Token>
  auto async_read_some(const MutableBufferSequence& buffers, Token&& token) {
    const asio::mutable_buffer first = *asio::buffer_sequence_begin(buffers);
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(ReadInit{this}, token,
                                                                           first);
  }

  template <typename ConstBufferSequence, typename Token>
  auto async_write_some(const ConstBufferSequence& buffers, Token&& token) {
    const asio::const_buffer first = *asio::buffer_sequence_begin(buffers);
    return asio::async_initiate<Token, void(std::error_code, std::size_t)>(WriteInit{this}, token,
                                                                           first);
  }

 private:
  /// co_spawn's completion (exception_ptr, IoResult) turned into the AsyncStream signature.
  template <typename Handler>
  struct Complete {
    Handler handler;
    void operator()(std::exception_ptr e, IoResult result) {
      auto [ec, n] = result;
      if (e) {
        // Stream operations do not throw; if one did (bad_alloc), fail this layer cleanly.
        ec = std::make_error_code(std::errc::io_error);
        n = 0;
      }
      std::move(handler)(ec, n);
    }
  };

  /// Completes with (success, 0) as if posted: the SSL engine issues zero-byte reads to defer a
  /// completion out of its initiating function.
  template <typename Handler>
  static void complete_empty(const executor_type& executor, Handler&& handler) {
    asio::post(executor, [h = std::forward<Handler>(handler)]() mutable {
      std::move(h)(std::error_code{}, std::size_t{0});
    });
  }

  struct ReadInit {
    StreamAdapter* self;
    template <typename Handler>
    void operator()(Handler&& handler, asio::mutable_buffer buffer) const {
      if (buffer.size() == 0) {
        complete_empty(self->executor_, std::forward<Handler>(handler));
        return;
      }
      std::span<std::uint8_t> span(static_cast<std::uint8_t*>(buffer.data()), buffer.size());
      asio::co_spawn(self->executor_, self->inner_->read_some(span),
                     Complete<std::decay_t<Handler>>{std::forward<Handler>(handler)});
    }
  };

  struct WriteInit {
    StreamAdapter* self;
    template <typename Handler>
    void operator()(Handler&& handler, asio::const_buffer buffer) const {
      if (buffer.size() == 0) {
        complete_empty(self->executor_, std::forward<Handler>(handler));
        return;
      }
      std::span<const std::uint8_t> span(static_cast<const std::uint8_t*>(buffer.data()),
                                         buffer.size());
      asio::co_spawn(self->executor_, self->inner_->write_all(span),
                     Complete<std::decay_t<Handler>>{std::forward<Handler>(handler)});
    }
  };

  std::unique_ptr<Stream> inner_;
  executor_type executor_;
};

}  // namespace hc::transport
