/// hopchain's files under the XDG cache directory ($XDG_CACHE_HOME/hopchain, default
/// ~/.cache/hopchain): what earlier runs learnt about hops. They are caches: a file that cannot be
/// read or written only costs what was learnt, never the run. Saving goes through one CacheWriter
/// thread, so the event loops never wait on mkdir, write or rename during a handshake.
#pragma once

#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace hc::chain {

/// $XDG_CACHE_HOME/hopchain/NAME, or ~/.cache/hopchain/NAME; empty if neither is known (only
/// absolute directories count).
std::string cache_path(std::string_view name);

/// Replaces `path` with `text` all at once (a private temporary file renamed over it, so
/// concurrent runs never see half a file), mode 0600, making missing directories with mode 0700.
/// False if it could not.
bool write_private_file(const std::string& path, std::string_view text);

/// Saves files on a thread of its own. Saves asked for while the thread is busy coalesce: only
/// the latest text of each path is written. Thread-safe.
class CacheWriter {
 public:
  CacheWriter();
  /// Writes whatever is still pending, then stops the thread.
  ~CacheWriter();
  CacheWriter(const CacheWriter&) = delete;
  CacheWriter& operator=(const CacheWriter&) = delete;

  /// Replaces `path` with `text` soon. Callers that save the same path from several threads
  /// must call this in the order their texts were made (e.g. under their own lock).
  void save(const std::string& path, std::string text);
  /// Returns once every save asked for so far is written (or failed).
  void flush();

 private:
  void run();

  std::mutex mutex_;
  std::condition_variable wake_;  ///< work pending, or stopping
  std::condition_variable idle_;  ///< pending_ emptied and nothing being written
  std::map<std::string, std::string> pending_;
  bool writing_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest is ready
};

}  // namespace hc::chain
