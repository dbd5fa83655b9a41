#include "proto/http_fields.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace hc::proto::http {
namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace

bool iequals(std::string_view a, std::string_view b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                    [](char x, char y) { return lower(x) == lower(y); });
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
    s.remove_prefix(1);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
    s.remove_suffix(1);
  }
  return s;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7F;
  });
}

std::vector<std::string_view> split_lines(std::string_view head) {
  std::vector<std::string_view> lines;
  while (!head.empty()) {
    const auto lf = head.find('\n');
    std::string_view line = head.substr(0, lf);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    lines.push_back(line);
    head = lf == std::string_view::npos ? std::string_view{} : head.substr(lf + 1);
  }
  return lines;
}

bool split_fields(const std::vector<std::string_view>& lines, std::vector<Field>& fields) {
  for (std::size_t i = 1; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      break;
    }
    const auto colon = lines[i].find(':');
    if (colon == std::string_view::npos || !is_token(lines[i].substr(0, colon)) ||
        has_control(lines[i])) {
      return false;
    }
    fields.push_back({lines[i].substr(0, colon), trim(lines[i].substr(colon + 1))});
  }
  return true;
}

bool is_hop_by_hop(std::string_view name) {
  static constexpr std::string_view kNames[] = {
      "connection", "keep-alive", "proxy-connection", "proxy-authorization",
      "te",         "trailer",    "upgrade"};
  return std::any_of(std::begin(kNames), std::end(kNames),
                     [name](std::string_view n) { return iequals(name, n); });
}

bool listed_in(std::string_view list, std::string_view name) {
  while (!list.empty()) {
    const auto comma = list.find(',');
    if (iequals(trim(list.substr(0, comma)), name)) {
      return true;
    }
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
  }
  return false;
}

bool read_framing(const std::vector<Field>& fields, Framing& out) {
  for (const Field& f : fields) {
    if (iequals(f.name, "connection")) {
      out.connection += std::string(f.value) + ",";
    } else if (iequals(f.name, "transfer-encoding")) {
      const auto comma = f.value.rfind(',');
      out.chunked = iequals(
          trim(comma == std::string_view::npos ? f.value : f.value.substr(comma + 1)), "chunked");
    } else if (iequals(f.name, "content-length")) {
      std::uint64_t n = 0;
      const auto [end, ec] = std::from_chars(f.value.data(), f.value.data() + f.value.size(), n);
      if (ec != std::errc{} || end != f.value.data() + f.value.size() || f.value.empty() ||
          (out.length && *out.length != n)) {
        return false;
      }
      out.length = n;
    }
  }
  return !(out.chunked && out.length);
}

namespace {

/// The size of the head in `buffer` (up to its empty line), scanning from `from`; 0 when the
/// empty line is not there yet.
std::size_t head_end(std::string_view buffer, std::size_t from) {
  for (std::size_t i = from; i < buffer.size(); ++i) {
    if (buffer[i] != '\n') {
      continue;
    }
    if (i + 1 < buffer.size() && buffer[i + 1] == '\n') {
      return i + 2;
    }
    if (i + 2 < buffer.size() && buffer[i + 1] == '\r' && buffer[i + 2] == '\n') {
      return i + 3;
    }
  }
  return 0;
}

}  // namespace

HeadBuffer::State HeadBuffer::feed(std::span<const std::uint8_t> data) {
  buffer_.insert(buffer_.end(), data.begin(), data.end());
  // Rescan a little before the new bytes: the empty line may straddle two pieces.
  const std::size_t end = head_end(head(), scanned_ > 2 ? scanned_ - 2 : 0);
  scanned_ = buffer_.size();
  if (end == 0 ? buffer_.size() > max_size_ : end > max_size_) {
    return State::too_large;
  }
  if (end == 0) {
    return State::need_more;
  }
  leftover_.assign(buffer_.begin() + static_cast<std::ptrdiff_t>(end), buffer_.end());
  buffer_.resize(end);
  return State::done;
}

}  // namespace hc::proto::http
