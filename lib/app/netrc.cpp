/// The netrc parser (curl's reading of the format) and its password lookup.
#include "app/netrc.hpp"

#include <algorithm>
#include <array>
#include <sys/stat.h>
#include <utility>

#include "app/config_file.hpp"
#include "app/credentials.hpp"
#include "base/lines.hpp"

namespace hc::app {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  const auto lower = [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return lower(x) == lower(y); });
}

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

/// Reads one token at `i` in `line`: bare up to a blank, or quoted with curl's escapes.
/// Returns false on an unterminated quote.
bool next_token(std::string_view line, std::size_t& i, std::string& token) {
  token.clear();
  if (line[i] != '"') {
    while (i < line.size() && !is_blank(line[i])) {
      token += line[i++];
    }
    return true;
  }
  for (++i; i < line.size(); ++i) {
    char c = line[i];
    if (c == '"') {
      ++i;
      return true;
    }
    if (c == '\\') {
      if (++i == line.size()) {
        return false;
      }
      c = line[i] == 'n' ? '\n' : line[i] == 'r' ? '\r' : line[i] == 't' ? '\t' : line[i];
    }
    token += c;
  }
  return false;
}

enum class Pending { none, machine, login, password, account, macdef };

/// The grammar: keywords, each but `default` followed by its value.
class NetrcGrammar {
 public:
  explicit NetrcGrammar(std::vector<NetrcEntry>& out) : out_(out), first_(out.size()) {}

  /// Takes one token of line `line_no`. Sets `macro` when a macdef's name was read.
  std::string take(std::string& token, std::size_t line_no, bool& macro) {
    const std::string where = "line " + std::to_string(line_no) + ": ";
    if (pending_ == Pending::none) {
      return keyword(token, line_no, where);
    }
    const Pending key = std::exchange(pending_, Pending::none);
    if (key == Pending::machine) {
      out_.push_back(NetrcEntry{token, false, {}, {}, false, false});
    } else if (key == Pending::macdef) {
      macro = true;
    } else if (key != Pending::account) {
      NetrcEntry& entry = out_.back();
      (key == Pending::login ? entry.login : entry.password).swap(token);
      (key == Pending::login ? entry.has_login : entry.has_password) = true;
    }
    return {};
  }

  /// Empty when no keyword waits for its value at the end of the file.
  std::string finish() const {
    if (pending_ == Pending::none) {
      return {};
    }
    return "line " + std::to_string(pending_line_) + ": '" + std::string(pending_name_) +
           "' without a value";
  }

 private:
  std::string keyword(std::string_view word, std::size_t line_no, const std::string& where) {
    static constexpr std::array<std::pair<std::string_view, Pending>, 5> kKeywords{{
        {"machine", Pending::machine},
        {"login", Pending::login},
        {"password", Pending::password},
        {"account", Pending::account},
        {"macdef", Pending::macdef},
    }};
    if (iequals(word, "default")) {
      out_.push_back(NetrcEntry{{}, true, {}, {}, false, false});
      return {};
    }
    const auto* found = std::find_if(kKeywords.begin(), kKeywords.end(),
                                     [&](const auto& k) { return iequals(word, k.first); });
    // The word is not echoed: after a missing keyword it may be a password.
    if (found == kKeywords.end()) {
      return where + "expected machine, default, login, password, account or macdef";
    }
    if (out_.size() == first_ &&
        (found->second == Pending::login || found->second == Pending::password)) {
      return where + "'" + std::string(found->first) + "' before any 'machine' or 'default'";
    }
    pending_ = found->second;
    pending_name_ = found->first;
    pending_line_ = line_no;
    return {};
  }

  std::vector<NetrcEntry>& out_;
  std::size_t first_;  ///< entries before this file's
  Pending pending_ = Pending::none;
  std::string_view pending_name_;
  std::size_t pending_line_ = 0;
};

}  // namespace

Result<std::vector<NetrcEntry>> parse_netrc(std::string_view text) {
  std::vector<NetrcEntry> out;
  NetrcGrammar grammar(out);
  std::string token;
  bool macro = false;  // inside a macdef body: skipped up to an empty line
  for (std::size_t line_no = 1; !text.empty(); ++line_no) {
    const std::string_view line = take_line(text);
    if (macro) {
      macro = !(line.empty() || line == "\r");
      continue;
    }
    for (std::size_t i = 0; i < line.size() && !macro;) {
      if (is_blank(line[i])) {
        ++i;
        continue;
      }
      if (line[i] == '#') {
        break;
      }
      if (!next_token(line, i, token)) {
        wipe(token);
        return failure("line " + std::to_string(line_no) +
                       ": a quoted token without its closing quote");
      }
      if (std::string error = grammar.take(token, line_no, macro); !error.empty()) {
        wipe(token);
        return failure(std::move(error));
      }
    }
  }
  wipe(token);
  if (std::string error = grammar.finish(); !error.empty()) {
    return failure(std::move(error));
  }
  return out;
}

const std::string* netrc_password(const std::vector<NetrcEntry>& entries, std::string_view host,
                                  std::string_view user) {
  const auto serves = [&](const NetrcEntry& e, bool by_default) {
    return e.is_default == by_default && (by_default || iequals(e.machine, host)) && e.has_login &&
           e.login == user && e.has_password;
  };
  for (const bool by_default : {false, true}) {
    const auto found = std::find_if(entries.begin(), entries.end(),
                                    [&](const NetrcEntry& e) { return serves(e, by_default); });
    if (found != entries.end()) {
      return &found->password;
    }
  }
  return nullptr;
}

void fill_from_netrc(std::vector<proto::HopSpec>& hops, const std::vector<NetrcEntry>& entries) {
  for (auto& hop : hops) {
    if (!needs_password(hop)) {
      continue;
    }
    if (const std::string* password = netrc_password(entries, hop.server.host, *hop.user)) {
      hop.password = *password;
    }
  }
}

bool netrc_too_open(unsigned mode) {
  return (mode & (S_IRGRP | S_IWGRP | S_IROTH | S_IWOTH)) != 0;
}

}  // namespace hc::app
