// Group commit for creates, one batcher per IO thread (beside its pool). A
// create that arrives while another create of its thread is running waits;
// when that one is done, everything waiting goes as one INSERT: one round
// trip and one commit (one WAL flush) for all of them, as the SQLite writer
// does. Under load this is what lets durable commits (an fdatasync each) keep
// up. Used from its own thread only, so it needs no lock.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "storage/postgres/pool.hpp"
#include "storage/user_store.hpp"

namespace users::storage::postgres {

class CreateBatcher {
 public:
  explicit CreateBatcher(ConnectionPool& pool) : pool_(pool) {}

  // The new user's id; kDniTaken when the dni is taken (by a stored user or
  // an earlier create of the same batch), kBusy when too many creates wait.
  // `dni` and `name` must hold no NUL and outlive the call.
  boost::asio::awaitable<StoreResult<domain::UserId>> create(const std::string& dni, const std::string& name);

  // One create waiting in its own coroutine frame. Whoever runs the INSERT
  // sets `outcome` and cancels `wake`.
  struct Pending {
    const std::string* dni = nullptr;
    const std::string* name = nullptr;
    boost::asio::steady_timer* wake = nullptr;
    bool taken = false;  // in an INSERT that is running: must wait for it
    std::optional<StoreResult<domain::UserId>> outcome;
  };

 private:
  boost::asio::awaitable<void> run_front();
  boost::asio::awaitable<void> insert(const std::vector<Pending*>& batch);

  ConnectionPool& pool_;
  std::deque<Pending*> waiting_;
  bool running_ = false;
};

}  // namespace users::storage::postgres
