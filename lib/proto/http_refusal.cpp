#include "proto/http_refusal.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace hc::proto {
namespace {

constexpr std::size_t kMaxSummary = 160;

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r';
}

/// The body as lines of text: tags removed (a tag that closes a block ends a line), the common
/// entities decoded, anything else non-printable dropped.
std::vector<std::string> text_lines(std::string_view body) {
  std::vector<std::string> lines(1);
  for (std::size_t i = 0; i < body.size(); ++i) {
    const char c = body[i];
    if (c == '<') {
      const std::size_t end = body.find('>', i);
      if (end == std::string_view::npos) {
        break;
      }
      lines.emplace_back();  // <p>, <h1>, <br>, <title>: each starts a line of its own
      i = end;
    } else if (c == '&') {
      static constexpr std::pair<std::string_view, char> kEntities[] = {
          {"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&#39;", '\''}};
      const auto* entity =
          std::find_if(std::begin(kEntities), std::end(kEntities),
                       [&](const auto& e) { return body.substr(i).starts_with(e.first); });
      if (entity != std::end(kEntities)) {
        lines.back() += entity->second;
        i += entity->first.size() - 1;
      }
    } else if (c == '\n') {
      lines.emplace_back();
    } else if (is_space(c) || std::isprint(static_cast<unsigned char>(c))) {
      lines.back() += is_space(c) ? ' ' : c;
    }
  }
  return lines;
}

std::string collapsed(const std::string& line) {
  std::string out;
  for (const char c : line) {
    if (c != ' ' || (!out.empty() && out.back() != ' ')) {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') {
    out.pop_back();
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

/// "HTTP/1.1 500 Unable to connect" -> "unable to connect".
std::string reason_of(std::string_view status_line) {
  const std::size_t code = status_line.find(' ');
  const std::size_t reason =
      code == std::string_view::npos ? code : status_line.find(' ', code + 1);
  return reason == std::string_view::npos ? std::string() : lower(status_line.substr(reason + 1));
}

}  // namespace

std::string refusal_summary(std::span<const std::uint8_t> body, std::string_view status_line) {
  const std::string_view text(reinterpret_cast<const char*>(body.data()),
                              std::min(body.size(), kRefusalBodyLimit));
  const std::string reason = reason_of(status_line);
  for (const std::string& raw : text_lines(text)) {
    const std::string line = collapsed(raw);
    const std::string low = lower(line);
    // Markup leftovers and a title or heading that only repeats the status say nothing new.
    if (line.empty() || low.starts_with("<?") || low.starts_with("<!") ||
        (!reason.empty() && low.find(reason) != std::string::npos &&
         line.size() <= reason.size() + 4)) {
      continue;
    }
    return line.size() <= kMaxSummary ? line : line.substr(0, kMaxSummary - 3) + "...";
  }
  return {};
}

}  // namespace hc::proto
