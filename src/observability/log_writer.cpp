#include "observability/log_writer.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace users::observability {
namespace {

using Clock = std::chrono::steady_clock;

// What the process gives its last lines at exit when no flush deadline was set
// before (commands other than serve).
constexpr auto kExitFlushTimeout = std::chrono::seconds(5);
// A batch buffer that grew past this during a burst is given back afterwards.
constexpr std::size_t kKeptBufferBytes = 256U << 10U;

// A pipe (the usual stdout of a container) gets a description of its own with
// O_NONBLOCK, so that a reader that stops reading cannot block the writer past
// a deadline, while the pipe's other holders (the shell, the runtime) keep
// their blocking one. Files and terminals are written as they are.
int open_stdout() {
  struct stat status {};
  if (::fstat(STDOUT_FILENO, &status) == 0 && S_ISFIFO(status.st_mode)) {
    // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): open(2) is variadic
    const int fd = ::open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd >= 0) return fd;
  }
  return STDOUT_FILENO;
}

class LogWriter {
 public:
  LogWriter() : fd_(open_stdout()), thread_([this] { run(); }) {}
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;
  LogWriter(LogWriter&&) = delete;
  LogWriter& operator=(LogWriter&&) = delete;
  ~LogWriter() {
    flush(Clock::now() + kExitFlushTimeout);
    {
      const std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    thread_.join();
    if (fd_ != STDOUT_FILENO) ::close(fd_);
  }

  void configure(const LogQueueLimits& limits) {
    const std::lock_guard lock(mutex_);
    limits_ = limits;
  }

  void push(std::string_view line) {
    bool was_empty = false;
    {
      const std::lock_guard lock(mutex_);
      if (pending_lines_ + 1 > limits_.max_lines ||
          pending_.size() + in_flight_bytes_ + line.size() > limits_.max_bytes) {
        ++dropped_;
        return;
      }
      was_empty = pending_.empty();
      pending_ += line;
      ++pending_lines_;
      ++accepted_;
    }
    // One wake-up per batch: while the writer lingers or writes, later lines
    // only append (and a notify without a waiter costs no system call).
    if (was_empty) ready_.notify_one();
  }

  bool flush(Clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    const auto target = accepted_;
    const auto abandoned_before = abandoned_;
    // Deadlines only come closer: the exit's own flush cannot extend serve's.
    if (deadline < abandon_at_.load()) abandon_at_.store(deadline);
    flushing_ = true;
    ready_.notify_one();
    const bool done = written_.wait_until(lock, deadline, [&] { return finished_ >= target; });
    flushing_ = false;
    return done && abandoned_ == abandoned_before;
  }

  std::uint64_t dropped() {
    const std::lock_guard lock(mutex_);
    return dropped_;
  }

 private:
  void run() {
    std::string batch;
    std::unique_lock lock(mutex_);
    for (;;) {
      ready_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;
      if (!stopping_ && !flushing_) {
        const auto linger = limits_.linger;
        lock.unlock();
        std::this_thread::sleep_for(linger);
        lock.lock();
      }
      batch.swap(pending_);
      const auto lines = pending_lines_;
      pending_lines_ = 0;
      in_flight_bytes_ = batch.size();
      lock.unlock();
      const bool written = write_all(batch);
      batch.clear();
      if (batch.capacity() > kKeptBufferBytes) std::string().swap(batch);
      lock.lock();
      if (!written) {
        abandoned_ += lines;
        dropped_ += lines;
      }
      finished_ += lines;
      in_flight_bytes_ = 0;
      written_.notify_all();
    }
  }

  // False when the bytes cannot be delivered: the reader is gone, or it has
  // not read since the flush deadline.
  bool write_all(std::string_view bytes) const {
    while (!bytes.empty()) {
      const auto n = ::write(fd_, bytes.data(), bytes.size());
      if (n >= 0) {
        bytes.remove_prefix(static_cast<std::size_t>(n));
        continue;
      }
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) return false;
      if (!wait_until_writable()) return false;
    }
    return true;
  }

  bool wait_until_writable() const {
    for (;;) {
      const auto now = Clock::now();
      const auto abandon_at = abandon_at_.load();
      if (now >= abandon_at) return false;
      // Wakes at least every 100 ms to see a deadline set meanwhile.
      const auto wait = std::clamp(std::chrono::ceil<std::chrono::milliseconds>(abandon_at - now),
                                   std::chrono::milliseconds(1), std::chrono::milliseconds(100));
      pollfd descriptor{fd_, POLLOUT, 0};
      const int ready = ::poll(&descriptor, 1, static_cast<int>(wait.count()));
      if (ready > 0) return (descriptor.revents & POLLOUT) != 0;
      if (ready < 0 && errno != EINTR) return false;
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::condition_variable written_;
  LogQueueLimits limits_;
  std::string pending_;
  std::size_t pending_lines_ = 0;
  std::size_t in_flight_bytes_ = 0;
  std::uint64_t accepted_ = 0;
  std::uint64_t finished_ = 0;  // written or given up
  std::uint64_t abandoned_ = 0;
  std::uint64_t dropped_ = 0;
  bool flushing_ = false;
  bool stopping_ = false;
  std::atomic<Clock::time_point> abandon_at_{Clock::time_point::max()};
  int fd_;
  std::thread thread_;  // last: starts once the members above exist
};

LogWriter& writer() {
  static LogWriter instance;
  return instance;
}

}  // namespace

void configure_log_queue(const LogQueueLimits& limits) {
  writer().configure(limits);
}

void enqueue_log_line(std::string_view line) {
  writer().push(line);
}

bool flush_log_queue(std::chrono::steady_clock::time_point deadline) {
  return writer().flush(deadline);
}

std::uint64_t dropped_log_queue_lines() {
  return writer().dropped();
}

}  // namespace users::observability
