/// Credentials file, password resolution and the named-chain file syntax.
#include "app/credentials.hpp"

#include <algorithm>
#include <charconv>
#include <sys/stat.h>

#include "app/config_file.hpp"
#include "base/lines.hpp"

namespace hc::app {
namespace {

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r')) {
      ++i;
    }
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r') {
      ++i;
    }
    if (i > start) {
      words.push_back(line.substr(start, i - start));
    }
  }
  return words;
}

/// Tokens are never echoed: a misplaced one may be (part of) a password.
std::string unexpected_word(const std::string& where, std::string_view word, const char* expected) {
  if (!word.empty() && word.front() == '#') {
    return where + "a comment must be a line of its own ('#' first): elsewhere '#' is part of a " +
           "word, so that a password may hold one";
  }
  return where + "expected " + expected;
}

template <typename T>
bool parse_number(std::string_view text, T& out) {
  const auto* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, out);
  return ec == std::errc{} && ptr == end;
}

}  // namespace

std::string config_dir(const char* xdg_config_home, const char* home) {
  if (xdg_config_home != nullptr && xdg_config_home[0] == '/') {
    return std::string(xdg_config_home) + "/hopchain";
  }
  if (home != nullptr && home[0] != '\0') {
    return std::string(home) + "/.config/hopchain";
  }
  return {};
}

Result<std::vector<CredentialEntry>> parse_credentials(std::string_view text) {
  std::vector<CredentialEntry> out;
  // Tokens may span lines, as in .netrc. Comments are whole lines, as in the users file.
  std::vector<std::pair<std::string_view, std::size_t>> tokens;  // word, line
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::string_view line = take_line(text);
    if (is_comment_line(line)) {
      continue;
    }
    for (const auto word : split_words(line)) {
      tokens.emplace_back(word, line_no);
    }
  }
  for (std::size_t i = 0; i < tokens.size();) {
    const auto [keyword, line] = tokens[i];
    const std::string where = "line " + std::to_string(line) + ": ";
    if (keyword != "machine") {
      return failure(unexpected_word(where, keyword, "'machine'"));
    }
    CredentialEntry entry;
    bool has_login = false, has_password = false;
    ++i;
    if (i >= tokens.size()) {
      return failure(where + "'machine' without a host");
    }
    entry.machine = tokens[i++].first;
    while (i < tokens.size() && tokens[i].first != "machine") {
      const auto key = tokens[i].first;
      const std::string at = "line " + std::to_string(tokens[i].second) + ": ";
      if (key != "port" && key != "login" && key != "password") {
        return failure(unexpected_word(at, key, "'machine', 'port', 'login' or 'password'"));
      }
      if (i + 1 >= tokens.size()) {
        return failure(at + "'" + std::string(key) + "' without a value");
      }
      const auto value = tokens[i + 1].first;
      if (key == "port") {
        std::uint16_t port = 0;
        if (!parse_number(value, port) || port == 0) {
          return failure(at + "bad port");
        }
        entry.port = port;
      } else if (key == "login") {
        entry.login = value;
        has_login = true;
      } else {
        entry.password = value;
        has_password = true;
      }
      i += 2;
    }
    if (!has_login || !has_password) {
      return failure(where + "machine " + entry.machine + " needs both login and password");
    }
    out.push_back(std::move(entry));
  }
  return out;
}

bool needs_password(const proto::HopSpec& hop) {
  return hop.user && !hop.password && hop.protocol != proto::Protocol::socks4;
}

void fill_from_credentials(std::vector<proto::HopSpec>& hops,
                           const std::vector<CredentialEntry>& entries) {
  for (auto& hop : hops) {
    if (!needs_password(hop)) {
      continue;
    }
    for (const auto& e : entries) {
      if (e.machine == hop.server.host && e.login == *hop.user &&
          (!e.port || *e.port == hop.server.port)) {
        hop.password = e.password;
        break;
      }
    }
  }
}

void fill_from_environment(std::vector<proto::HopSpec>& hops, const char* env_password) {
  for (auto& hop : hops) {
    if (env_password != nullptr && needs_password(hop)) {
      hop.password = std::string(env_password);
    }
  }
}

std::string missing_password(const std::vector<proto::HopSpec>& hops,
                             const std::string& credentials_path, const std::string& netrc_path) {
  const auto hop = std::find_if(hops.begin(), hops.end(), needs_password);
  if (hop == hops.end()) {
    return {};
  }
  const std::string machine = "'machine " + hop->server.host;
  const std::string login = " login " + *hop->user + " password ...'";
  return "hop " + std::to_string(hop - hops.begin() + 1) + " " + hop->redacted() +
         " has a user but no password: add " + machine + " port " +
         std::to_string(hop->server.port) + login + " to " +
         (credentials_path.empty() ? std::string("the credentials file") : credentials_path) +
         ", or " + machine + login + " to " +
         (netrc_path.empty() ? std::string("~/.netrc") : netrc_path) + ", or set HOPCHAIN_PASSWORD";
}

Result<ChainFile> parse_chain_text(std::string_view text, proto::ServiceLookup services) {
  ChainFile result;
  // Directive lines become blank lines, so parse_chain_file still reports true line numbers.
  std::string urls;
  std::size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    const std::string_view line = take_line(text);
    const auto words = split_words(proto::strip_chain_comment(line));
    const std::string where = std::to_string(line_no) + ": ";
    if (!words.empty() && (words[0] == "strategy" || words[0] == "chain-len")) {
      if (words.size() != 2) {
        return failure(where + std::string(words[0]) + " takes one value");
      }
      if (words[0] == "strategy") {
        result.strategy = chain::parse_strategy(words[1]);
        if (!result.strategy) {
          return failure(where + "unknown strategy (strict, dynamic, random, round-robin)");
        }
      } else {
        std::size_t len = 0;
        if (!parse_number(words[1], len) || len == 0) {
          return failure(where + "chain-len must be a positive number");
        }
        result.chain_len = len;
      }
      urls += "\n";
      continue;
    }
    urls.append(line);
    urls += "\n";
  }
  auto parsed = proto::parse_chain_file(urls, services);
  if (parsed.ec) {
    return failure(std::to_string(parsed.error_line) + ": bad proxy URL: " + parsed.ec.message());
  }
  result.hops = std::move(parsed.hops);
  return result;
}

bool readable_by_others(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return false;
  }
  return (st.st_mode & (S_IRGRP | S_IROTH)) != 0;
}

}  // namespace hc::app
