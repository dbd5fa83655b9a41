/// Command-line mistakes explained in two lines: what was wrong, then what to do. Under ssh a
/// ProxyCommand's stderr reads like ssh's own, so every line starts with "hopchain: ", and the
/// common slips (a missing or misspelt command, HOST:PORT as one argument, a command's option
/// put before the command) are named rather than left to CLI11's generic words.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace CLI {
class App;
class Error;
}  // namespace CLI

namespace hc::cli {

/// The two lines (each ending in a newline) for a CLI11 parse error of `app`, the top-level
/// hopchain App after a failed parse.
std::string explain_usage_error(const CLI::App& app, const CLI::Error& error);

/// The name among `candidates` closest to `word` by edit distance, if it is close enough to be
/// a slip (at most 2 edits, and fewer than the word's length); empty otherwise.
std::string closest_name(std::string_view word, const std::vector<std::string>& candidates);

/// `-c NAME` names no file: the chains that exist in `chains_dir`, sorted, comma-separated, or
/// empty when there is none.
std::string list_chains(const std::string& chains_dir);

}  // namespace hc::cli
