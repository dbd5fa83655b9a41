/// Origin response heads: see origin_response.hpp for the contract.
#include "proto/origin_response.hpp"

#include <charconv>
#include <utility>

#include "proto/http_fields.hpp"

namespace hc::proto {
namespace {

using http::Field;
using http::iequals;

/// "HTTP/1.1 200 OK" (the reason phrase may be empty or hold spaces).
bool parse_status_line(std::string_view line, std::string_view& version, unsigned& status) {
  if (line.size() < 12 || !line.starts_with("HTTP/1.") || line[8] != ' ' ||
      (line.size() > 12 && line[12] != ' ') || http::has_control(line)) {
    return false;
  }
  version = line.substr(0, 8);
  const std::string_view code = line.substr(9, 3);
  const auto [end, ec] = std::from_chars(code.data(), code.data() + code.size(), status);
  return (version == "HTTP/1.1" || version == "HTTP/1.0") && ec == std::errc{} &&
         end == code.data() + code.size() && status >= 100 && status <= 999;
}

/// Body framing from the fields (RFC 9112 §6.3); false for conflicting or invalid framing.
bool read_body_framing(const std::vector<Field>& fields, OriginResponse& r,
                       std::string& connection) {
  http::Framing framing;
  if (!http::read_framing(fields, framing)) {
    return false;
  }
  connection = std::move(framing.connection);
  const auto& length = framing.length;
  r.body = framing.chunked ? (*framing.chunked ? HttpBodyKind::chunked : HttpBodyKind::until_close)
           : length && *length > 0 ? HttpBodyKind::length
           : length                ? HttpBodyKind::none
                                   : HttpBodyKind::until_close;
  r.content_length = length.value_or(0);
  return true;
}

}  // namespace

std::string_view to_string(OriginResponseError e) {
  switch (e) {
    case OriginResponseError::malformed:
      return "malformed HTTP response head from the target";
    case OriginResponseError::head_too_large:
      return "HTTP response head from the target larger than 64 KiB";
    case OriginResponseError::bad_framing:
      return "invalid or conflicting Content-Length / Transfer-Encoding in the target's response";
    case OriginResponseError::upgrade:
      return "the target switched protocols (101) unasked";
  }
  return "unknown HTTP response error";
}

OriginResponseHead::Result OriginResponseHead::fail(OriginResponseError e) {
  error_ = e;
  result_ = Result::error;
  return result_;
}

OriginResponseHead::Result OriginResponseHead::feed(std::span<const std::uint8_t> data) {
  using State = http::HeadBuffer::State;
  const State state = result_ == Result::need_more ? buffer_.feed(data) : State::need_more;
  if (state == State::too_large) {
    return fail(OriginResponseError::head_too_large);
  }
  return state == State::done ? parse(buffer_.head()) : result_;
}

OriginResponseHead::Result OriginResponseHead::parse(std::string_view head) {
  const std::vector<std::string_view> lines = http::split_lines(head);
  std::string_view version;
  OriginResponse& r = response_;
  std::vector<Field> fields;
  if (!parse_status_line(lines.front(), version, r.status) || !http::split_fields(lines, fields)) {
    return fail(OriginResponseError::malformed);
  }
  if (r.status == 101) {
    return fail(OriginResponseError::upgrade);
  }
  std::string connection;  // every Connection field's options, joined
  if (!read_body_framing(fields, r, connection)) {
    return fail(OriginResponseError::bad_framing);
  }
  r.interim = r.status < 200;
  if (head_request_ || r.interim || r.status == 204 || r.status == 304) {
    r.body = HttpBodyKind::none;
  }
  r.keep_alive = r.body != HttpBodyKind::until_close &&
                 (version == "HTTP/1.1" ? !http::listed_in(connection, "close")
                                        : http::listed_in(connection, "keep-alive"));
  r.fields = std::string(lines.front()) + "\r\n";
  for (const Field& f : fields) {
    if (!http::is_hop_by_hop(f.name) && !http::listed_in(connection, f.name)) {
      r.fields += std::string(f.name) + ": " + std::string(f.value) + "\r\n";
    }
  }
  result_ = Result::done;
  return result_;
}

std::vector<std::uint8_t> OriginResponseHead::client_head(std::string_view connection) const {
  std::string text = response_.fields;
  if (!connection.empty()) {
    text += "Connection: " + std::string(connection) + "\r\n";
  }
  text += "\r\n";
  return {text.begin(), text.end()};
}

}  // namespace hc::proto
