#include "app/socks_gssapi.hpp"

#include "chain/chain_error.hpp"
#include "chain/handshake.hpp"
#include "log/durations.hpp"
#include "log/log.hpp"
#include "proto/socks5_gssapi.hpp"
#include "transport/deadline.hpp"
#include "transport/gss_krb5.hpp"
#include "transport/gss_stream.hpp"

namespace hc::app {
namespace {

/// The client's stream under a layer that must not own it: the connection's task does, and
/// closes it whatever happens to the layers above.
class Borrowed final : public transport::Stream {
 public:
  explicit Borrowed(transport::Stream& inner) : inner_(inner) {}
  awaitable<transport::IoResult> read_some(std::span<std::uint8_t> buffer) override {
    return inner_.read_some(buffer);
  }
  awaitable<transport::IoResult> write_all(std::span<const std::uint8_t> data) override {
    return inner_.write_all(data);
  }
  awaitable<std::error_code> shutdown_send() override { return inner_.shutdown_send(); }
  void close() override { inner_.close(); }
  tcp::socket* bottom() override { return inner_.bottom(); }
  std::size_t buffered() const override { return inner_.buffered(); }
  transport::RawIo* raw_io() override { return inner_.raw_io(); }

 private:
  transport::Stream& inner_;
};

}  // namespace

awaitable<std::optional<GssClient>> accept_gssapi(transport::Stream& client,
                                                  const GssapiServerSettings& settings,
                                                  const std::string& who,
                                                  std::chrono::steady_clock::duration time_left) {
  auto context = transport::make_gss_server(settings.keytab, settings.service);
  if (!context) {
    log::error(who + ": auth: GSS-API: " + context.error().message());
    co_return std::nullopt;
  }
  proto::gssapi::ServerNegotiation negotiation(**context, settings.max_protection);
  proto::Stage stage = proto::Stage::auth;
  const auto outcome = co_await transport::with_deadline(
      *client.bottom(), time_left, chain::run_handshake(client, negotiation, stage));
  if (!outcome) {
    log::error(who + ": auth: GSS-API: timed out: no complete negotiation within " +
               log::seconds_text(time_left));
    co_return std::nullopt;
  }
  if (*outcome == chain::ChainErrc::closed_during_handshake) {
    log::verbose(who + ": closed the connection during its GSS-API negotiation");
    co_return std::nullopt;
  }
  if (*outcome) {
    log::error(who + ": auth: GSS-API: " + outcome->message());
    co_return std::nullopt;
  }
  GssClient out{std::make_unique<Borrowed>(client), (*context)->peer_name(),
                negotiation.selected()};
  log::verbose(who + ": GSS-API: authenticated " + out.principal + ", protection " +
               proto::protection_name(out.level));
  if (out.level != proto::Protection::none) {
    out.stream = std::make_unique<transport::GssStream>(std::move(out.stream), std::move(*context),
                                                        out.level);
  }
  co_return std::move(out);
}

std::string check_gssapi_keytab(const GssapiServerSettings& settings) {
  auto context = transport::make_gss_server(settings.keytab, settings.service);
  return context ? std::string() : context.error().message();
}

}  // namespace hc::app
